package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultNotice is the least notice a booking needs when a business sets none: long enough that
// the owner sees it before the caller arrives.
const DefaultNotice = time.Hour

// Calendar is a business's bookable time: one calendar per business, so any two appointments
// that overlap conflict, whatever the service.
type Calendar struct {
	// Location is the business's zone; opening hours and closures are read in it.
	Location *time.Location
	Hours    Week
	// Closed maps dates on which the business is shut to a reason, which may be empty.
	Closed map[Date]string
	// Step is the spacing of starts from each interval's opening, in whole minutes.
	Step time.Duration
	// Notice is how long before its start an appointment must be booked.
	Notice time.Duration
	// HorizonDays is how far ahead bookings are taken: the last bookable date is today plus
	// HorizonDays, in the business's zone.
	HorizonDays int
}

// Reason says why a start cannot be booked, for callers that branch on it.
type Reason string

// Reasons reported in SlotError.Reason.
const (
	// ReasonInvalid: the request or the calendar is malformed (a programming or configuration
	// error, not something a caller can fix by choosing another time).
	ReasonInvalid Reason = "invalid"
	// ReasonPast: the start is before now.
	ReasonPast Reason = "past"
	// ReasonTooSoon: the start is in the future but within the notice period.
	ReasonTooSoon Reason = "too_soon"
	// ReasonTooFar: the start's date is beyond the booking horizon.
	ReasonTooFar Reason = "too_far"
	// ReasonClosure: the business is shut on that date (a holiday or other closure).
	ReasonClosure Reason = "closure"
	// ReasonClosedDay: the business has no opening hours on that weekday.
	ReasonClosedDay Reason = "closed_day"
	// ReasonOutsideHours: the start is outside that day's opening intervals.
	ReasonOutsideHours Reason = "outside_hours"
	// ReasonOffGrid: the start is inside opening hours but not on the start grid.
	ReasonOffGrid Reason = "off_grid"
	// ReasonEndsAfterClose: the appointment would run past the end of its opening interval.
	ReasonEndsAfterClose Reason = "ends_after_close"
	// ReasonTaken: the appointment would overlap one already booked.
	ReasonTaken Reason = "taken"
)

// SlotError says why a requested start cannot be booked. Its message is written for an AI model
// to read and correct itself by: it names the rule and, where it can, a start that would work.
// It names no other caller and no other booking.
type SlotError struct {
	Reason Reason
	msg    string
}

func (e *SlotError) Error() string { return e.msg }

func reject(r Reason, format string, args ...any) *SlotError {
	return &SlotError{Reason: r, msg: fmt.Sprintf(format, args...)}
}

// Slots returns the starts at which an appointment of the given length can be booked, from now
// to the end of the horizon, sorted and without repeats. Each slot's End is its Start plus
// length. A malformed calendar or a non-positive length gives no slots.
func (c Calendar) Slots(now time.Time, length time.Duration, busy []Interval) []Interval {
	p, err := c.prepare(length, busy)
	if err != nil {
		return nil
	}
	var out []Interval
	today := DateOf(now.In(p.loc))
	for d := today; !p.last(today).Before(d); d = d.AddDays(1) {
		if _, closed := c.Closed[d]; closed {
			continue
		}
		for _, sp := range p.hours[d.Weekday()] {
			for m := sp.Open; m < sp.Close; m += p.step {
				start := d.at(m, p.loc)
				if !exists(start, d, m) {
					continue // a wall time skipped when clocks go forward
				}
				if p.check(start, now) == nil {
					out = append(out, Interval{Start: start, End: start.Add(length)})
				}
			}
		}
	}
	return out
}

// Check reports whether an appointment of the given length can start at start: nil, or a
// *SlotError saying why not.
func (c Calendar) Check(start time.Time, length time.Duration, now time.Time, busy []Interval) error {
	p, err := c.prepare(length, busy)
	if err != nil {
		return err
	}
	if err := p.check(start, now); err != nil {
		return err
	}
	return nil
}

// prepared is a validated calendar with its hours sorted and the busy intervals merged, so that
// Slots can check many starts cheaply.
type prepared struct {
	Calendar
	loc    *time.Location
	step   Clock
	length time.Duration
	hours  Week
	busy   []Interval // sorted, disjoint
}

func (c Calendar) prepare(length time.Duration, busy []Interval) (*prepared, *SlotError) {
	p := &prepared{Calendar: c, loc: c.Location, length: length}
	if p.loc == nil {
		p.loc = time.UTC
	}
	switch {
	case length <= 0:
		return nil, reject(ReasonInvalid, "the appointment length must be positive")
	case c.Step < time.Minute || c.Step%time.Minute != 0 || c.Step > time.Duration(EndOfDay)*time.Minute:
		return nil, reject(ReasonInvalid, "the business's slot step must be a whole number of minutes")
	case c.Notice < 0 || c.HorizonDays < 0:
		return nil, reject(ReasonInvalid, "the business's booking notice and horizon must not be negative")
	}
	p.step = Clock(c.Step / time.Minute)
	for wd, spans := range c.Hours {
		if err := ValidateDay(spans); err != nil {
			return nil, reject(ReasonInvalid, "the business's %s hours are malformed: %v", time.Weekday(wd), err)
		}
		p.hours[wd] = sortedSpans(spans)
	}
	p.busy = merge(busy)
	return p, nil
}

// merge sorts intervals and joins those that overlap or touch, dropping empty ones.
func merge(in []Interval) []Interval {
	var out []Interval
	for _, iv := range in {
		if iv.End.After(iv.Start) {
			out = append(out, iv)
		}
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, iv := range out {
		if n := len(merged); n > 0 && !iv.Start.After(merged[n-1].End) {
			if iv.End.After(merged[n-1].End) {
				merged[n-1].End = iv.End
			}
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

func (p *prepared) last(today Date) Date { return today.AddDays(p.HorizonDays) }

// exists reports whether t is the wall time m on d, that is, whether time.Date did not have to
// shift it out of a daylight-saving gap.
func exists(t time.Time, d Date, m Clock) bool {
	return DateOf(t) == d && Clock(t.Hour()*60+t.Minute()) == m
}

// check applies every rule to one start, in the order a person would explain them: when it is,
// whether the business is open that day, whether it is a start, whether it fits, whether it is free.
func (p *prepared) check(start, now time.Time) *SlotError {
	local := start.In(p.loc)
	nowLocal := now.In(p.loc)
	d := DateOf(local)
	m := Clock(local.Hour()*60 + local.Minute())
	hhmm := local.Format("15:04")
	today := DateOf(nowLocal)

	if start.Before(now) {
		return reject(ReasonPast, "%s on %s is in the past; it is now %s on %s",
			hhmm, d.label(), nowLocal.Format("15:04"), today.label())
	}
	if earliest := now.Add(p.Notice); start.Before(earliest) {
		return reject(ReasonTooSoon, "%s on %s is too soon: appointments need at least %s notice, so nothing can start before %s on %s",
			hhmm, d.label(), noticeText(p.Notice), earliest.In(p.loc).Format("15:04"), DateOf(earliest.In(p.loc)).label())
	}
	if last := p.last(today); last.Before(d) {
		return reject(ReasonTooFar, "%s is more than %d days ahead; appointments can be booked up to %s",
			d.label(), p.HorizonDays, last.label())
	}
	if why, closed := p.Closed[d]; closed {
		if why = strings.TrimSpace(why); why != "" {
			return reject(ReasonClosure, "the business is closed on %s (%s)", d.label(), why)
		}
		return reject(ReasonClosure, "the business is closed on %s", d.label())
	}
	spans := p.hours[d.Weekday()]
	if len(spans) == 0 {
		return reject(ReasonClosedDay, "%s is a %s; the business is closed on %ss", d, d.Weekday(), d.Weekday())
	}
	i := slices.IndexFunc(spans, func(sp Span) bool { return sp.Open <= m && m < sp.Close })
	if i < 0 {
		return reject(ReasonOutsideHours, "%s is outside opening hours; on %s the business is open %s",
			hhmm, d.label(), spansText(spans))
	}
	sp := spans[i]
	if local.Second() != 0 || local.Nanosecond() != 0 {
		return reject(ReasonOffGrid, "%s is not a whole minute; starts are on the %d-minute grid from %s",
			local.Format("15:04:05"), p.step, sp.Open)
	}
	if off := (m - sp.Open) % p.step; off != 0 {
		before, after := m-off, m-off+p.step
		if after >= sp.Close {
			return reject(ReasonOffGrid, "%s is not on the %d-minute grid of start times from %s; the nearest start is %s",
				hhmm, p.step, sp.Open, before)
		}
		return reject(ReasonOffGrid, "%s is not on the %d-minute grid of start times from %s; the nearest starts are %s and %s",
			hhmm, p.step, sp.Open, before, after)
	}
	if !d.at(m, p.loc).Equal(start) {
		return reject(ReasonOffGrid, "%s on %s is ambiguous because the clocks go back that night; choose another time",
			local.Format("15:04 MST"), d.label())
	}
	end := start.Add(p.length)
	if closeAt := d.at(sp.Close, p.loc); end.After(closeAt) {
		msg := fmt.Sprintf("a %s appointment starting at %s would end at %s, after closing at %s",
			lengthText(p.length), hhmm, end.In(p.loc).Format("15:04"), sp.Close)
		if latest := sp.Close - Clock((p.length+time.Minute-1)/time.Minute); latest >= sp.Open {
			latest -= (latest - sp.Open) % p.step
			msg += fmt.Sprintf("; the latest start for it is %s", latest)
		} else {
			msg += fmt.Sprintf("; it does not fit in the %s opening", sp.text())
		}
		return reject(ReasonEndsAfterClose, "%s", msg)
	}
	if p.overlapsBusy(Interval{Start: start, End: end}) {
		return reject(ReasonTaken, "%s on %s is already taken; choose another time", hhmm, d.label())
	}
	return nil
}

func (p *prepared) overlapsBusy(iv Interval) bool {
	// busy is sorted and disjoint, so its ends are sorted too: find the first that ends after
	// iv starts; it is the only candidate.
	i, _ := slices.BinarySearchFunc(p.busy, iv.Start, func(b Interval, t time.Time) int {
		if b.End.After(t) {
			return 1
		}
		return -1
	})
	return i < len(p.busy) && p.busy[i].Start.Before(iv.End)
}

func spansText(spans []Span) string {
	parts := make([]string, len(spans))
	for i, sp := range spans {
		parts[i] = sp.text()
	}
	return strings.Join(parts, " and ")
}

func lengthText(d time.Duration) string {
	return fmt.Sprintf("%d-minute", int((d+time.Minute-1)/time.Minute))
}

func noticeText(d time.Duration) string {
	if d%time.Hour == 0 {
		if d == time.Hour {
			return "1 hour's"
		}
		return fmt.Sprintf("%d hours'", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes'", (d+time.Minute-1)/time.Minute)
}
