package legalclock

import "time"

// date is a civil date: a day on a calendar, with no time and no zone. Periods are counted in
// dates and turned into instants only at the end, in the compliance team's zone.
type date struct {
	y int
	m time.Month
	d int
}

// dateOf is the calendar date of t as seen in loc.
func dateOf(t time.Time, loc *time.Location) date {
	y, m, d := t.In(loc).Date()
	return date{y, m, d}
}

// addDays counts n calendar days on from d. time.Date normalises the overflowing day; UTC has no
// daylight saving, so no day is 23 or 25 hours long.
func (d date) addDays(n int) date {
	y, m, dd := time.Date(d.y, d.m, d.d+n, 0, 0, 0, 0, time.UTC).Date()
	return date{y, m, dd}
}

// addMonths counts n calendar months on from d by the rule of Regulation (EEC, Euratom) No
// 1182/71, Art. 3(2)(c): a period in months ends on the day of the last month that has the same
// date as the day the period runs from, or, when that month has no such date, on its last day.
// So 31 January + 1 month is 28 February (29 in a leap year), 30 January + 1 month likewise, and
// 31 March + 1 month is 30 April. (time.Time.AddDate would overflow instead: 31 January + 1
// month = 3 March.)
func (d date) addMonths(n int) date {
	// Day 1 never overflows, so this only moves the month (and the year).
	y, m, _ := time.Date(d.y, d.m+time.Month(n), 1, 0, 0, 0, 0, time.UTC).Date()
	return date{y, m, min(d.d, daysIn(y, m))}
}

// daysIn is the number of days in month m of year y: day 0 of the next month is its last day.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC).Weekday()
}

// addBusinessDays counts n business days on from d, d itself not counted: the result is the nth
// Monday-to-Friday date after d. Saturdays and Sundays are skipped; holidays are not (see
// Clock.AckDue for why).
func (d date) addBusinessDays(n int) date {
	for n > 0 {
		d = d.addDays(1)
		if wd := d.weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return d
}

// start is the first instant of d in loc. That is usually midnight, but where the clock jumps
// over midnight (America/Havana and Asia/Beirut start daylight saving at 00:00) there is no
// 00:00 on that date and time.Date may answer with 23:00 of the day before; the day then began
// at the jump, which is where that instant's zone period ends.
func (d date) start(loc *time.Location) time.Time {
	t := time.Date(d.y, d.m, d.d, 0, 0, 0, 0, loc)
	if dateOf(t, loc) != d {
		_, end := t.ZoneBounds()
		t = end
	}
	return t
}

// end is the last instant of d in loc: one microsecond before the next date starts. Microseconds
// are PostgreSQL's resolution, so the instant survives a round trip through a timestamptz column
// unchanged and still falls on d.
func (d date) end(loc *time.Location) time.Time {
	return d.addDays(1).start(loc).Add(-time.Microsecond)
}

// at is the wall-clock time hh:00 on d in loc.
func (d date) at(hour int, loc *time.Location) time.Time {
	return time.Date(d.y, d.m, d.d, hour, 0, 0, 0, loc)
}
