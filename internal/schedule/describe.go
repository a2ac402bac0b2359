package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// mondayFirst is the order in which people read a week.
var mondayFirst = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// DescribeHours renders opening hours as short text for a prompt or a text message:
// "Mon–Fri 09:00–17:00, Sat 10:00–14:00; closed Sun". Consecutive days with the same hours are
// grouped.
func DescribeHours(w Week) string {
	type run struct {
		first, last time.Weekday
		spans       []Span
	}
	var runs []run
	for _, wd := range mondayFirst {
		spans := sortedSpans(w[wd])
		if n := len(runs); n > 0 && slices.Equal(runs[n-1].spans, spans) {
			runs[n-1].last = wd
			continue
		}
		runs = append(runs, run{first: wd, last: wd, spans: spans})
	}
	var open, closed []string
	for _, r := range runs {
		days := r.first.String()[:3]
		if r.last != r.first {
			days += "–" + r.last.String()[:3]
		}
		if len(r.spans) == 0 {
			closed = append(closed, days)
			continue
		}
		open = append(open, days+" "+spansText(r.spans))
	}
	switch {
	case len(open) == 0:
		return "closed every day"
	case len(closed) == 0:
		return strings.Join(open, ", ")
	}
	return strings.Join(open, ", ") + "; closed " + strings.Join(closed, ", ")
}

// UpcomingClosures lists the closures from today to the end of the horizon, soonest first, as
// short text for a prompt: "Thu 2026-12-24", "Fri 2026-12-25 (Christmas)".
func (c Calendar) UpcomingClosures(now time.Time) []string {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	today := DateOf(now.In(loc))
	last := today.AddDays(max(c.HorizonDays, 0))
	var dates []Date
	for d := range c.Closed {
		if !d.Before(today) && !last.Before(d) {
			dates = append(dates, d)
		}
	}
	slices.SortFunc(dates, func(a, b Date) int { return a.noonUTC().Compare(b.noonUTC()) })
	var out []string
	for _, d := range dates {
		text := d.label()
		if why := strings.TrimSpace(c.Closed[d]); why != "" {
			text += fmt.Sprintf(" (%s)", why)
		}
		out = append(out, text)
	}
	return out
}
