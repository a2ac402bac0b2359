package agent

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxScanBytes bounds how much of one message the parsers read. Twilio delivers at most 1600
// characters per SMS; the bound keeps the work on hostile input small and predictable.
const maxScanBytes = 4096

// clip cuts s to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// fold prepares text for matching: compatibility forms become plain letters (fullwidth "Ｈｅｌｐ"),
// accents and other combining marks go ("mañana" → "manana", so a caller who skips accents matches
// too), apostrophes go ("don't" → "dont", "I'm" → "im"), invisible format characters and invalid
// UTF-8 go, and everything is lowercased. It is for matching only; nothing folded is ever shown.
func fold(s string) string {
	s = norm.NFKD.String(clip(s, maxScanBytes))
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018' || r == '`' || r == '\u00b4' || r == '\u02bc':
		case r == utf8.RuneError:
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// words splits folded text into runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}

// oneLine makes tenant-supplied text safe to place on one line of the prompt or a reply: control
// and format characters are dropped, whitespace (line breaks included) collapses to single spaces,
// and the result is cut to max runes. A line break inside a service description could otherwise
// start what looks like a new rule in the system prompt.
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r):
			continue
		}
		if n >= max {
			break
		}
		if space {
			if n+1 >= max {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// runes counts the characters of s as a phone shows them.
func runes(s string) int { return utf8.RuneCountInString(s) }

// singular strips a plural ending so "haircuts" matches "haircut" and "manicures" matches
// "manicure". It is deliberately crude: it only has to make the two spellings of one service
// meet, never to be good English.
func singular(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "sses")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}
