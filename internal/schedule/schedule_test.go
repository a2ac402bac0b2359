package schedule_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST cases must not depend on the machine's zoneinfo

	"github.com/ringback/ringback/internal/schedule"
)

func load(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func span(t testing.TB, s string) schedule.Span {
	t.Helper()
	sp, err := schedule.ParseSpan(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func date(t testing.TB, s string) schedule.Date {
	t.Helper()
	d, err := schedule.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// shop is open Mon–Fri 09:00–17:00 and Sat 10:00–14:00 in New York, shut on Christmas.
func shop(t testing.TB) schedule.Calendar {
	t.Helper()
	var w schedule.Week
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday} {
		w[wd] = []schedule.Span{span(t, "09:00-17:00")}
	}
	w[time.Saturday] = []schedule.Span{span(t, "10:00-14:00")}
	return schedule.Calendar{
		Location:    load(t, "America/New_York"),
		Hours:       w,
		Closed:      map[schedule.Date]string{date(t, "2026-12-25"): "Christmas"},
		Step:        30 * time.Minute,
		Notice:      time.Hour,
		HorizonDays: 14,
	}
}

// ny returns a wall time in New York.
func ny(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, load(t, "America/New_York"))
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func starts(slots []schedule.Interval, loc *time.Location) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.Start.In(loc).Format("2006-01-02 15:04 MST")
	}
	return out
}

func TestParse(t *testing.T) {
	for _, ok := range []string{"09:00-17:00", "9:00-17:30", "00:00-24:00", "09:00 – 12:00"} {
		if _, err := schedule.ParseSpan(ok); err != nil {
			t.Errorf("ParseSpan(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "09:00", "17:00-09:00", "09:00-09:00", "24:30-25:00", "9-17", "09:60-10:00", "+9:00-10:00", "09:00-24:01"} {
		if _, err := schedule.ParseSpan(bad); err == nil {
			t.Errorf("ParseSpan(%q) accepted", bad)
		}
	}
	if got := span(t, "9:00-17:30").String(); got != "09:00-17:30" {
		t.Errorf("String = %q", got)
	}
	for _, bad := range []string{"2026-02-30", "2026-1-05", "tomorrow", ""} {
		if _, err := schedule.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	if d := date(t, "2026-12-31").AddDays(1); d.String() != "2027-01-01" || d.Weekday() != time.Friday {
		t.Errorf("AddDays = %v (%v)", d, d.Weekday())
	}
}

func TestValidateDay(t *testing.T) {
	cases := []struct {
		spans []string
		want  string
	}{
		{[]string{"09:00-12:00", "13:00-17:00"}, ""},
		{[]string{"13:00-17:00", "09:00-12:00"}, ""},
		{[]string{"09:00-12:00", "11:00-17:00"}, "09:00-12:00 overlaps 11:00-17:00"},
		{[]string{"09:00-12:00", "12:00-17:00"}, "write them as 09:00-17:00"},
	}
	for _, c := range cases {
		var spans []schedule.Span
		for _, s := range c.spans {
			spans = append(spans, span(t, s))
		}
		err := schedule.ValidateDay(spans)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("ValidateDay(%v) = %v, want %q", c.spans, err, c.want)
		}
	}
}

func TestSlotsOrdinaryDay(t *testing.T) {
	c := shop(t)
	c.HorizonDays = 1
	now := ny(t, "2026-11-20 10:05") // a Friday
	busy := []schedule.Interval{
		{Start: ny(t, "2026-11-20 13:00"), End: ny(t, "2026-11-20 14:00")},
		{Start: ny(t, "2026-11-20 15:10"), End: ny(t, "2026-11-20 15:20")}, // off the grid
	}
	got := starts(c.Slots(now, time.Hour, busy), c.Location)
	want := []string{
		// 10:05 plus an hour's notice: 11:30 is the first start; 15:30 starts after the 15:20 end of
		// an off-grid booking; 16:00 is the last that ends by 17:00.
		"2026-11-20 11:30 EST", "2026-11-20 12:00 EST", "2026-11-20 14:00 EST", "2026-11-20 15:30 EST", "2026-11-20 16:00 EST",
		"2026-11-21 10:00 EST", "2026-11-21 10:30 EST", "2026-11-21 11:00 EST", "2026-11-21 11:30 EST",
		"2026-11-21 12:00 EST", "2026-11-21 12:30 EST", "2026-11-21 13:00 EST",
	}
	if !slices.Equal(got, want) {
		t.Errorf("slots:\n got %v\nwant %v", got, want)
	}
}

func TestSlotsAcrossDST(t *testing.T) {
	nyc := load(t, "America/New_York")
	var allWeek schedule.Week
	for wd := range allWeek {
		allWeek[wd] = []schedule.Span{span(t, "09:00-10:00")}
	}
	var nights schedule.Week
	nights[time.Sunday] = []schedule.Span{span(t, "00:00-04:00")}
	cases := []struct {
		name   string
		hours  schedule.Week
		now    string
		length time.Duration
		want   []string
	}{
		{
			// Clocks go forward at 02:00 on Sunday 2026-03-08; 09:00 stays 09:00 on the wall.
			name: "spring forward, daytime hours", hours: allWeek, now: "2026-03-07 00:00", length: 30 * time.Minute,
			want: []string{"2026-03-07 09:00 EST", "2026-03-07 09:30 EST", "2026-03-08 09:00 EDT", "2026-03-08 09:30 EDT", "2026-03-09 09:00 EDT", "2026-03-09 09:30 EDT"},
		},
		{
			// 02:00 and 02:30 do not exist that night; 01:30 + 30 minutes ends at 03:00 EDT.
			name: "spring forward, night hours", hours: nights, now: "2026-03-07 00:00", length: 30 * time.Minute,
			want: []string{"2026-03-08 00:00 EST", "2026-03-08 00:30 EST", "2026-03-08 01:00 EST", "2026-03-08 01:30 EST", "2026-03-08 03:00 EDT", "2026-03-08 03:30 EDT"},
		},
		{
			name: "fall back, daytime hours", hours: allWeek, now: "2026-10-31 00:00", length: 30 * time.Minute,
			want: []string{"2026-10-31 09:00 EDT", "2026-10-31 09:30 EDT", "2026-11-01 09:00 EST", "2026-11-01 09:30 EST", "2026-11-02 09:00 EST", "2026-11-02 09:30 EST"},
		},
		{
			// The night of 2026-11-01 has five hours; each wall time is offered once.
			name: "fall back, night hours, 60 minutes", hours: nights, now: "2026-10-31 00:00", length: time.Hour,
			want: []string{"2026-11-01 00:00 EDT", "2026-11-01 00:30 EDT", "2026-11-01 01:00 EDT", "2026-11-01 01:30 EDT", "2026-11-01 02:00 EST", "2026-11-01 02:30 EST", "2026-11-01 03:00 EST"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := schedule.Calendar{Location: nyc, Hours: tc.hours, Step: 30 * time.Minute, HorizonDays: 2}
			got := c.Slots(ny(t, tc.now), tc.length, nil)
			if s := starts(got, nyc); !slices.Equal(s, tc.want) {
				t.Errorf("slots:\n got %v\nwant %v", s, tc.want)
			}
			for _, s := range got {
				if s.End.Sub(s.Start) != tc.length {
					t.Errorf("slot %v lasts %v", s.Start, s.End.Sub(s.Start))
				}
				if err := c.Check(s.Start, tc.length, ny(t, tc.now), nil); err != nil {
					t.Errorf("Check(%v) rejects an offered slot: %v", s.Start, err)
				}
			}
		})
	}
}

func TestSlotsSkipClosures(t *testing.T) {
	c := shop(t)
	c.HorizonDays = 2
	got := starts(c.Slots(ny(t, "2026-12-24 16:00"), 30*time.Minute, nil), c.Location)
	// Thu 24th: too soon (notice); Fri 25th: Christmas; Sat 26th: 10:00–14:00.
	if len(got) != 8 || got[0] != "2026-12-26 10:00 EST" || got[7] != "2026-12-26 13:30 EST" {
		t.Errorf("slots = %v", got)
	}
}

func TestCheck(t *testing.T) {
	now := ny(t, "2026-11-20 10:05") // a Friday
	booked := []schedule.Interval{{Start: ny(t, "2026-11-23 10:00"), End: ny(t, "2026-11-23 11:00")}}
	cases := []struct {
		name   string
		start  time.Time
		length time.Duration
		reason schedule.Reason
		text   []string
	}{
		{"free", ny(t, "2026-11-23 09:00"), time.Hour, "", nil},
		{"ends at closing", ny(t, "2026-11-23 16:00"), time.Hour, "", nil},
		{"past", ny(t, "2026-11-20 09:30"), time.Hour, schedule.ReasonPast, []string{"in the past", "it is now 10:05 on Fri 2026-11-20"}},
		{"too soon", ny(t, "2026-11-20 10:30"), time.Hour, schedule.ReasonTooSoon, []string{"1 hour's notice", "before 11:05 on Fri 2026-11-20"}},
		{"too far", ny(t, "2026-12-07 10:00"), time.Hour, schedule.ReasonTooFar, []string{"more than 14 days ahead", "up to Fri 2026-12-04"}},
		{"last day of horizon", ny(t, "2026-12-04 16:30"), 30 * time.Minute, "", nil},
		{"closed sunday", ny(t, "2026-11-29 10:00"), time.Hour, schedule.ReasonClosedDay, []string{"2026-11-29 is a Sunday; the business is closed on Sundays"}},
		{"closure", ny(t, "2026-12-25 10:00"), time.Hour, schedule.ReasonTooFar, nil},
		{"before opening", ny(t, "2026-11-23 08:00"), time.Hour, schedule.ReasonOutsideHours, []string{"08:00 is outside opening hours; on Mon 2026-11-23 the business is open 09:00–17:00"}},
		{"after closing", ny(t, "2026-11-23 17:00"), time.Hour, schedule.ReasonOutsideHours, nil},
		{"off grid", ny(t, "2026-11-23 10:15"), time.Hour, schedule.ReasonOffGrid, []string{"10:15 is not on the 30-minute grid", "nearest starts are 10:00 and 10:30"}},
		{"seconds", ny(t, "2026-11-23 09:00").Add(30 * time.Second), time.Hour, schedule.ReasonOffGrid, []string{"09:00:30 is not a whole minute"}},
		{"runs past closing", ny(t, "2026-11-23 16:30"), time.Hour, schedule.ReasonEndsAfterClose, []string{"would end at 17:30, after closing at 17:00", "latest start for it is 16:00"}},
		{"saturday runs past closing", ny(t, "2026-11-21 13:30"), 90 * time.Minute, schedule.ReasonEndsAfterClose, []string{"a 90-minute appointment", "latest start for it is 12:30"}},
		{"longer than the day", ny(t, "2026-11-21 10:00"), 5 * time.Hour, schedule.ReasonEndsAfterClose, []string{"does not fit in the 10:00–14:00 opening"}},
		{"taken", ny(t, "2026-11-23 10:00"), time.Hour, schedule.ReasonTaken, []string{"10:00 on Mon 2026-11-23 is already taken"}},
		{"overlaps the start of a booking", ny(t, "2026-11-23 09:30"), time.Hour, schedule.ReasonTaken, nil},
		{"overlaps the end of a booking", ny(t, "2026-11-23 10:30"), time.Hour, schedule.ReasonTaken, nil},
		{"touches a booking", ny(t, "2026-11-23 11:00"), time.Hour, "", nil},
		{"zero length", ny(t, "2026-11-23 11:00"), 0, schedule.ReasonInvalid, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := shop(t).Check(tc.start, tc.length, now, booked)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var se *schedule.SlotError
			if !errors.As(err, &se) {
				t.Fatalf("Check = %v, want a *SlotError", err)
			}
			if se.Reason != tc.reason {
				t.Errorf("reason = %s (%v), want %s", se.Reason, err, tc.reason)
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestCheckClosureAndDSTDay(t *testing.T) {
	c := shop(t)
	err := c.Check(ny(t, "2026-12-25 10:00"), time.Hour, ny(t, "2026-12-20 12:00"), nil)
	var se *schedule.SlotError
	if !errors.As(err, &se) || se.Reason != schedule.ReasonClosure || !strings.Contains(err.Error(), "closed on Fri 2026-12-25 (Christmas)") {
		t.Errorf("Christmas: %v", err)
	}
	// Monday after the spring change: 09:00 EDT is the opening, 09:00 EST (10:00 EDT) is not 09:00.
	now := ny(t, "2026-03-06 12:00")
	if err := c.Check(ny(t, "2026-03-09 09:00"), time.Hour, now, nil); err != nil {
		t.Errorf("09:00 EDT rejected: %v", err)
	}
	sameInstantAsLastWeek := time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC) // 09:00 EST, 10:00 EDT
	if err := c.Check(sameInstantAsLastWeek, time.Hour, now, nil); err != nil {
		t.Errorf("10:00 EDT rejected: %v", err)
	}
	if err := c.Check(time.Date(2026, 3, 9, 12, 30, 0, 0, time.UTC), time.Hour, now, nil); err == nil {
		t.Error("08:30 EDT accepted")
	}
}

func TestCheckAmbiguousHour(t *testing.T) {
	nyc := load(t, "America/New_York")
	var w schedule.Week
	w[time.Sunday] = []schedule.Span{span(t, "00:00-04:00")}
	c := schedule.Calendar{Location: nyc, Hours: w, Step: 30 * time.Minute, HorizonDays: 3}
	now := ny(t, "2026-10-30 00:00")
	first := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)  // 01:30 EDT
	second := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC) // 01:30 EST
	e1, e2 := c.Check(first, 30*time.Minute, now, nil), c.Check(second, 30*time.Minute, now, nil)
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("exactly one 01:30 should be bookable: %v / %v", e1, e2)
	}
	if err := errors.Join(e1, e2); !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("message: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	c := shop(t)
	if got, want := schedule.DescribeHours(c.Hours), "Mon–Fri 09:00–17:00, Sat 10:00–14:00; closed Sun"; got != want {
		t.Errorf("DescribeHours = %q, want %q", got, want)
	}
	var split schedule.Week
	split[time.Monday] = []schedule.Span{span(t, "13:00-17:00"), span(t, "09:00-12:00")}
	split[time.Wednesday] = []schedule.Span{span(t, "09:00-12:00"), span(t, "13:00-17:00")}
	if got, want := schedule.DescribeHours(split), "Mon 09:00–12:00 and 13:00–17:00, Wed 09:00–12:00 and 13:00–17:00; closed Tue, Thu–Sun"; got != want {
		t.Errorf("DescribeHours = %q, want %q", got, want)
	}
	if got := schedule.DescribeHours(schedule.Week{}); got != "closed every day" {
		t.Errorf("DescribeHours(empty) = %q", got)
	}
	c.Closed[date(t, "2026-12-24")] = ""
	c.Closed[date(t, "2027-01-30")] = "beyond the horizon"
	if got, want := c.UpcomingClosures(ny(t, "2026-12-20 12:00")), []string{"Thu 2026-12-24", "Fri 2026-12-25 (Christmas)"}; !slices.Equal(got, want) {
		t.Errorf("UpcomingClosures = %q, want %q", got, want)
	}
	if got := c.UpcomingClosures(ny(t, "2026-12-26 12:00")); len(got) != 0 {
		t.Errorf("UpcomingClosures after the closures = %q", got)
	}
}
