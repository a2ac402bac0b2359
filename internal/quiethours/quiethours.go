// Package quiethours decides when an automated text to a caller may be sent.
//
// Next returns the earliest instant at or after now at which a text is
// allowed, in the recipient's local time, and the reason for it.
//
// Rules applied, most permissive first; the strictest one that applies wins:
//
//   - TCPA, 47 CFR 64.1200(c)(1): no solicitation before 08:00 or after
//     21:00 at the called party's location. The window is [08:00, 21:00) and
//     a Policy can only narrow it, never widen it.
//   - Florida Telephone Solicitation Act, Fla. Stat. 501.059(8)(a):
//     08:00–20:00 and at most 3 messages per 24 hours on the same subject.
//   - Oklahoma Telephone Solicitation Act of 2022, 15 O.S. 775C.4:
//     08:00–20:00 and at most 3 messages per 24 hours.
//   - Maryland Stop the Spam Calls Act of 2023, Md. Code Com. Law 14-4504:
//     08:00–20:00.
//
// The recipient's location is inferred from the number: time zones from
// phonenumbers.GetTimezonesForNumber (per area code), states from the area
// code table in states.go. When an area code spans several zones, a time is
// allowed only if it is inside the window in every one of them. Toll-free,
// non-geographic and invalid numbers use the tenant's zone.
//
// Local windows are evaluated on the wall clock of each zone, one offset
// period at a time (time.Time.ZoneBounds), so daylight-saving gaps and
// overlaps never produce a nonexistent or doubled opening instant.
//
// The package is pure: it never reads the clock; now is an argument.
package quiethours

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Reasons reported in Decision.Reason.
const (
	// ReasonWithinWindow: sending is allowed now.
	ReasonWithinWindow = "within_window"
	// ReasonBeforeWindow: the window opens later on the same local date.
	ReasonBeforeWindow = "before_window"
	// ReasonAfterWindow: today's window has closed; wait for a later date.
	ReasonAfterWindow = "after_window"
	// ReasonStateDailyCap: a state's per-24-hour message cap is reached.
	ReasonStateDailyCap = "state_daily_cap"
	// ReasonNoOverlap: no instant is inside the window of every zone the
	// number may be in (searched one year ahead). Decision.At is the zero
	// time and the text must not be sent automatically.
	ReasonNoOverlap = "no_overlap_today"
)

// Values of Decision.Fallback, set when the tenant's zone was used.
const (
	// FallbackInvalidRecipient: the recipient is not a valid E.164 number.
	FallbackInvalidRecipient = "invalid_recipient"
	// FallbackNonGeographic: toll-free, unknown or too many zones.
	FallbackNonGeographic = "non_geographic"
)

// maxZones is the largest number of zones treated as a real location; more
// than this (toll-free numbers map to 40+) means the number says nothing
// about where the recipient is.
const maxZones = 6

// noOverlapHorizon bounds the search for an instant allowed in all zones.
const noOverlapHorizon = 366 * 24 * time.Hour

// Clock is a time of day, from 00:00 to 24:00.
type Clock struct {
	Hour, Minute int
}

// At returns the clock time h:m.
func At(h, m int) Clock { return Clock{Hour: h, Minute: m} }

// String formats c as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

func (c Clock) seconds() int64 { return int64(c.Hour)*3600 + int64(c.Minute)*60 }

func (c Clock) valid() bool {
	return c.Hour >= 0 && c.Minute >= 0 && c.Minute < 60 && c.seconds() <= 24*3600
}

// Federal window, TCPA 47 CFR 64.1200(c)(1).
var (
	federalStart = At(8, 0)
	federalEnd   = At(21, 0)
)

// Policy is the tenant's side of the decision.
type Policy struct {
	// TenantTimezone is an IANA zone name, used when the number does not
	// locate the recipient. Required.
	TenantTimezone string
	// Start and End bound the daily window [Start, End) in recipient-local
	// time. Zero values mean 08:00 and 21:00. They are clamped to the
	// federal and state windows: a Policy can narrow but never widen them.
	Start, End Clock
	// SentInLast24h holds the times of earlier automated texts to this
	// recipient. All are counted as the same subject.
	SentInLast24h []time.Time
}

// Decision is the answer of Next. It never contains the phone number.
type Decision struct {
	// At is the earliest allowed instant ≥ now; equal to now when Allowed.
	At time.Time
	// Allowed reports whether a text may be sent now.
	Allowed bool
	// Reason is one of the Reason constants.
	Reason string
	// Zones are the IANA zones whose windows were intersected, sorted.
	Zones []string
	// State is "FL", "OK", "MD" or "" when no stricter state rule applies.
	State string
	// Fallback is "" when the zones come from the number, otherwise one of
	// the Fallback constants (the tenant's zone was used).
	Fallback string
	// Start and End are the effective daily window in every zone.
	Start, End Clock
}

// Next returns the earliest instant at or after now at which an automated
// text to recipient (E.164) is allowed under p, and why. It returns an error
// only for an invalid Policy (unknown tenant zone, bad window) or when a
// zone cannot be loaded.
func Next(now time.Time, recipient string, p Policy) (Decision, error) {
	if p.TenantTimezone == "" {
		return Decision{}, errors.New("quiethours: tenant time zone is empty")
	}
	if _, err := loadLocation(p.TenantTimezone); err != nil {
		return Decision{}, fmt.Errorf("quiethours: tenant time zone: %w", err)
	}

	d := Decision{}
	zones, state, fallback := locate(recipient)
	if fallback != "" {
		zones = []string{p.TenantTimezone}
	}
	d.Zones, d.State, d.Fallback = zones, state, fallback

	start, end, err := window(p, state)
	if err != nil {
		return Decision{}, err
	}
	d.Start, d.End = start, end

	locs := make([]*time.Location, 0, len(zones))
	for _, z := range zones {
		loc, err := loadLocation(z)
		if err != nil {
			return Decision{}, fmt.Errorf("quiethours: zone of recipient: %w", err)
		}
		locs = append(locs, loc)
	}

	from := now
	capped := false
	if r, ok := stateRules[state]; ok && r.cap > 0 {
		if t, ok := capLiftsAt(now, p.SentInLast24h, r.cap); ok && t.After(now) {
			from, capped = t, true
		}
	}

	at, ok := earliest(from, locs, start, end)
	switch {
	case !ok:
		d.Reason = ReasonNoOverlap
		return d, nil
	case at.Equal(now):
		d.At, d.Allowed, d.Reason = now, true, ReasonWithinWindow
	case capped:
		d.At, d.Reason = at, ReasonStateDailyCap
	default:
		d.At, d.Reason = at, ReasonAfterWindow
		if sameLocalDate(now, at, locs[0]) {
			d.Reason = ReasonBeforeWindow
		}
	}
	return d, nil
}

// window returns the effective daily window: the policy's, narrowed to the
// federal one and to the state's.
func window(p Policy, state string) (Clock, Clock, error) {
	start, end := p.Start, p.End
	if end == (Clock{}) {
		end = federalEnd
	}
	if !start.valid() || !end.valid() {
		return Clock{}, Clock{}, fmt.Errorf("quiethours: invalid window %v–%v", start, end)
	}
	start = later(start, federalStart)
	end = earlier(end, federalEnd)
	if r, ok := stateRules[state]; ok {
		start = later(start, r.start)
		end = earlier(end, r.end)
	}
	if start.seconds() >= end.seconds() {
		return Clock{}, Clock{}, fmt.Errorf("quiethours: empty window %v–%v", start, end)
	}
	return start, end, nil
}

func later(a, b Clock) Clock {
	if a.seconds() >= b.seconds() {
		return a
	}
	return b
}

func earlier(a, b Clock) Clock {
	if a.seconds() <= b.seconds() {
		return a
	}
	return b
}

// locate returns the sorted zones and the state of a recipient, or a
// fallback reason when the number does not locate the recipient.
func locate(recipient string) (zones []string, state, fallback string) {
	if !strings.HasPrefix(recipient, "+") {
		return nil, "", FallbackInvalidRecipient
	}
	num, err := phonenumbers.Parse(recipient, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return nil, "", FallbackInvalidRecipient
	}
	if phonenumbers.GetNumberType(num) == phonenumbers.TOLL_FREE {
		return nil, "", FallbackNonGeographic
	}
	zs, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || len(zs) == 0 || len(zs) > maxZones || slices.Contains(zs, "Etc/Unknown") {
		return nil, "", FallbackNonGeographic
	}
	zones = slices.Clone(zs)
	if num.GetCountryCode() == 1 {
		nsn := phonenumbers.GetNationalSignificantNumber(num)
		if len(nsn) >= 3 {
			area := nsn[:3]
			zones = append(zones, extraZones[area]...)
			state = areaCodeState[area]
		}
	}
	sort.Strings(zones)
	return slices.Compact(zones), state, ""
}

// capLiftsAt returns the first instant at which fewer than limit of sent
// fall within the 24 hours before it, if the cap is reached at now. Times
// after now are counted too, to stay on the safe side of a skewed clock.
func capLiftsAt(now time.Time, sent []time.Time, limit int) (time.Time, bool) {
	var recent []time.Time
	for _, t := range sent {
		if t.After(now.Add(-24 * time.Hour)) {
			recent = append(recent, t)
		}
	}
	if len(recent) < limit {
		return time.Time{}, false
	}
	slices.SortFunc(recent, func(a, b time.Time) int { return a.Compare(b) })
	// At T, the texts counted are those after T-24h. Fewer than limit
	// remain once the (len-limit)th oldest has left the window.
	return recent[len(recent)-limit].Add(24 * time.Hour), true
}

// earliest returns the first instant ≥ from that is inside [start, end) on
// the wall clock of every loc.
func earliest(from time.Time, locs []*time.Location, start, end Clock) (time.Time, bool) {
	t := from
	for {
		if t.Sub(from) > noOverlapHorizon {
			return time.Time{}, false
		}
		moved := false
		for _, loc := range locs {
			n := nextOpen(t, loc, start, end)
			if n.After(t) {
				t, moved = n, true
			}
		}
		if !moved {
			return t, true
		}
	}
}

const day = 24 * 3600

// nextOpen returns the first instant ≥ t whose wall-clock time in loc is in
// [start, end). It walks the periods of constant UTC offset, so a window
// edge that falls in a daylight-saving gap opens at the transition, and one
// that falls in an overlap is reached on its first occurrence.
func nextOpen(t time.Time, loc *time.Location, start, end Clock) time.Time {
	s, e := start.seconds(), end.seconds()
	for range 1000 {
		lt := t.In(loc)
		_, off := lt.Zone()
		civil := t.Unix() + int64(off)
		d := floorDiv(civil, day)
		sec := civil - d*day
		var cand time.Time
		switch {
		case sec >= s && sec < e:
			return t
		case sec < s:
			cand = time.Unix(d*day+s-int64(off), 0)
		default:
			cand = time.Unix((d+1)*day+s-int64(off), 0)
		}
		_, periodEnd := lt.ZoneBounds()
		if periodEnd.IsZero() || cand.Before(periodEnd) {
			return cand.In(t.Location())
		}
		t = periodEnd
	}
	return t
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// sameLocalDate reports whether a and b fall on the same date in loc.
func sameLocalDate(a, b time.Time, loc *time.Location) bool {
	ay, am, ad := a.In(loc).Date()
	by, bm, bd := b.In(loc).Date()
	return ay == by && am == bm && ad == bd
}

var locations sync.Map // zone name → *time.Location

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
