package agent

import (
	"fmt"
	"strings"
)

// Business is what the assistant knows about the business it texts for. It is the whole of the
// assistant's knowledge: anything not here, it must not say.
type Business struct {
	Name string
	// Tone describes how replies should sound ("warm and casual"); empty means friendly and
	// professional.
	Tone string
	// Timezone is the IANA zone the business keeps its hours in ("America/New_York").
	Timezone string
	Services []Service
	// HoursText is the opening hours as the business wants them said, e.g.
	// "Mon–Fri 09:00–17:00; closed Sat, Sun". The schedule package enforces hours; this is only
	// what the assistant may tell callers.
	HoursText string
	// Closures are days the business is closed, as it wants them said ("Dec 25 (Christmas)").
	Closures []string
}

// Service is one thing a caller can book.
type Service struct {
	Name    string
	Minutes int
	// PriceCents is the price in cents; 0 means the price is given on request.
	PriceCents  int
	Description string
}

// Bounds on tenant-supplied text, in characters. The prompt goes to a small local model with a
// modest context, and every one of these lines is repeated on every turn.
const (
	maxBusinessNameLen = 80
	maxToneLen         = 100
	maxServiceNameLen  = 80
	maxDescriptionLen  = 200
	maxHoursLen        = 300
	maxClosureLen      = 100
	maxServices        = 30
	maxClosures        = 20
)

// FindService returns the business's service that name refers to, matched the way a caller or a
// model writes it: ignoring case, accents, punctuation, spacing and plural endings ("haircuts",
// "Men's haircut" for "Mens Haircut"), and allowing one typing slip in a name of five letters or
// more when that leaves only one candidate. The returned Service is the business's own, with its
// canonical name.
func (b Business) FindService(name string) (Service, bool) {
	key := serviceKey(name)
	if key == "" {
		return Service{}, false
	}
	services := b.services()
	for _, s := range services {
		if serviceKey(s.Name) == key {
			return s, true
		}
	}
	if len(key) < 5 {
		return Service{}, false
	}
	var found []Service
	for _, s := range services {
		if k := serviceKey(s.Name); len(k) >= 5 && withinOneEdit(k, key) {
			found = append(found, s)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Service{}, false
}

// services returns the services the assistant may talk about: those with a name, at most
// maxServices of them.
func (b Business) services() []Service {
	var out []Service
	for _, s := range b.Services {
		if strings.TrimSpace(s.Name) == "" {
			continue
		}
		out = append(out, s)
		if len(out) == maxServices {
			break
		}
	}
	return out
}

// serviceNames lists the services' names for a message to the model or a caller.
func (b Business) serviceNames() string {
	var names []string
	for _, s := range b.services() {
		names = append(names, oneLine(s.Name, maxServiceNameLen))
	}
	return strings.Join(names, ", ")
}

// serviceKey is the form of a service name that matching compares: folded words, each made
// singular, joined without spaces so "hair cut" and "haircut" meet, with "and" and "&" dropped.
func serviceKey(name string) string {
	var b strings.Builder
	for _, w := range words(fold(name)) {
		if w == "and" || w == "y" || w == "the" || w == "a" || w == "an" {
			continue
		}
		b.WriteString(singular(w))
	}
	return b.String()
}

// withinOneEdit reports whether a and b differ by at most one inserted, deleted, replaced or
// swapped-adjacent character.
func withinOneEdit(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	switch len(rb) - len(ra) {
	case 0:
		diff := -1
		for i := range ra {
			if ra[i] != rb[i] {
				if diff >= 0 {
					// A second difference is allowed only as the swap of two neighbours.
					return diff == i-1 && ra[diff] == rb[i] && ra[i] == rb[diff] && string(ra[i+1:]) == string(rb[i+1:])
				}
				diff = i
			}
		}
		return true
	case 1:
		i := 0
		for i < len(ra) && ra[i] == rb[i] {
			i++
		}
		return string(ra[i:]) == string(rb[i+1:])
	}
	return false
}

// price says a service's price as the business would: "$35", "$35.50", or "price on request".
func price(cents int) string {
	if cents <= 0 {
		return "price on request"
	}
	if cents%100 == 0 {
		return fmt.Sprintf("$%d", cents/100)
	}
	return fmt.Sprintf("$%d.%02d", cents/100, cents%100)
}

// duration says a service's length: "30 min", "1 h 30 min".
func duration(minutes int) string {
	switch h, m := minutes/60, minutes%60; {
	case minutes <= 0:
		return ""
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	default:
		return fmt.Sprintf("%d h %d min", h, m)
	}
}
