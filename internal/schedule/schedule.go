// Package schedule answers when a business can take an appointment: which starts are free in its
// opening hours, and whether a requested start is one of them.
//
// Opening hours are wall-clock times in the business's zone, so a 09:00 opening is 09:00 local on
// a daylight-saving change day too; appointment lengths are elapsed time. Starts lie on a grid of
// Step minutes counted from each interval's opening time.
//
// The package is pure: it never reads the clock; now is an argument.
package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Clock is a time of day in minutes after local midnight, from 00:00 to 24:00.
type Clock int

// EndOfDay is 24:00, the only way to say an interval runs until midnight.
const EndOfDay Clock = 24 * 60

// ParseClock reads "HH:MM" or "H:MM", from 00:00 to 24:00.
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, fmt.Errorf("%q is not a time of day like 09:00", s)
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	c := Clock(hh*60 + mm)
	if hh > 24 || mm > 59 || c > EndOfDay {
		return 0, fmt.Errorf("%q is not a time of day between 00:00 and 24:00", s)
	}
	return c, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String returns the clock as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Span is one opening interval of a day, [Open, Close). Intervals do not cross midnight: a
// business open 22:00–02:00 has 22:00–24:00 on one day and 00:00–02:00 on the next.
type Span struct {
	Open, Close Clock
}

// ParseSpan reads "09:00-17:00" (an en dash is accepted too).
func ParseSpan(s string) (Span, error) {
	open, close, ok := strings.Cut(strings.ReplaceAll(s, "–", "-"), "-")
	if !ok {
		return Span{}, fmt.Errorf("%q is not an interval like 09:00-17:00", s)
	}
	o, err := ParseClock(strings.TrimSpace(open))
	if err != nil {
		return Span{}, err
	}
	c, err := ParseClock(strings.TrimSpace(close))
	if err != nil {
		return Span{}, err
	}
	sp := Span{Open: o, Close: c}
	if sp.Open >= sp.Close {
		return Span{}, fmt.Errorf("%s closes before it opens (intervals cannot cross midnight; split them at 24:00)", sp)
	}
	return sp, nil
}

// String returns the span as "09:00-17:00", the form ParseSpan reads.
func (s Span) String() string { return s.Open.String() + "-" + s.Close.String() }

func (s Span) text() string { return s.Open.String() + "–" + s.Close.String() }

// ValidateDay checks one day's intervals: each well-formed, none overlapping or touching another
// (touching intervals are one interval and must be written as one, so the start grid is not
// silently re-anchored).
func ValidateDay(spans []Span) error {
	var errs []error
	for _, s := range spans {
		if s.Open < 0 || s.Close > EndOfDay || s.Open >= s.Close {
			errs = append(errs, fmt.Errorf("%s is not an interval within one day", s))
		}
	}
	sorted := sortedSpans(spans)
	for i := 1; i < len(sorted); i++ {
		a, b := sorted[i-1], sorted[i]
		switch {
		case b.Open < a.Close:
			errs = append(errs, fmt.Errorf("%s overlaps %s", a, b))
		case b.Open == a.Close:
			errs = append(errs, fmt.Errorf("%s and %s touch; write them as %s", a, b, Span{a.Open, b.Close}))
		}
	}
	return errors.Join(errs...)
}

func sortedSpans(spans []Span) []Span {
	out := slices.Clone(spans)
	slices.SortFunc(out, func(a, b Span) int { return int(a.Open - b.Open) })
	return out
}

// Week holds each weekday's opening intervals, indexed by time.Weekday (Sunday is 0). A day
// without intervals is closed.
type Week [7][]Span

// Date is a calendar date in the business's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date like 2026-12-25", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String returns the date as "2006-01-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.noonUTC().Weekday() }

// AddDays returns the date n days after d.
func (d Date) AddDays(n int) Date { return DateOf(d.noonUTC().AddDate(0, 0, n)) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.noonUTC().Before(e.noonUTC()) }

func (d Date) noonUTC() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// at returns the instant at which the wall clock in loc shows c on d. A clock in a spring-forward
// gap comes out shifted forward (see time.Date); callers that need an existing wall time check
// with exists.
func (d Date) at(c Clock, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, int(c), 0, 0, loc)
}

// label is how a date is named in messages: "Fri 2026-11-20".
func (d Date) label() string { return d.Weekday().String()[:3] + " " + d.String() }

// Interval is a half-open span of time [Start, End).
type Interval struct {
	Start, End time.Time
}

// Overlaps reports whether i and j share an instant; intervals that merely touch do not.
func (i Interval) Overlaps(j Interval) bool { return i.Start.Before(j.End) && j.Start.Before(i.End) }
