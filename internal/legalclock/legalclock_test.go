package legalclock

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// endOf is the last instant of a local date, as deadlines are expressed.
func endOf(loc *time.Location, y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 999_999_000, loc)
}

func clock(t *testing.T, r Regime, received time.Time) Clock {
	t.Helper()
	c, err := New(r, received, received.Location())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseRegime(t *testing.T) {
	tests := []struct {
		in      string
		want    Regime
		wantErr bool
	}{
		{"gdpr", GDPR, false},
		{"GDPR", GDPR, false},
		{" ccpa ", CCPA, false},
		{"CCPA", CCPA, false},
		{"lgpd", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseRegime(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRegime(%q) = %q, %v; want %q, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
		if tt.wantErr && !errors.Is(err, ErrUnknownRegime) {
			t.Errorf("ParseRegime(%q) error = %v, want ErrUnknownRegime", tt.in, err)
		}
	}
}

func TestNewRefusesIncompleteClocks(t *testing.T) {
	received := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	if _, err := New("lgpd", received, time.UTC); !errors.Is(err, ErrUnknownRegime) {
		t.Errorf("unknown regime: %v", err)
	}
	if _, err := New(GDPR, time.Time{}, time.UTC); err == nil {
		t.Error("zero receipt time accepted")
	}
	if _, err := New(GDPR, received, nil); err == nil {
		t.Error("nil zone accepted")
	}
	if c := (Clock{Regime: "lgpd", Received: received}); !c.Due().IsZero() || !c.ExtendedDue().IsZero() || c.Reminders() != nil || c.CanExtend(received) {
		t.Errorf("a clock of an unknown regime gave deadlines: %v", c)
	}
}

func TestDue(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	la := mustLoad(t, "America/Los_Angeles")
	tests := []struct {
		name         string
		regime       Regime
		received     time.Time
		due          time.Time
		extendedDue  time.Time
		extendNotice time.Time // the start of the due date: the first instant too late to extend
	}{
		{
			name: "GDPR 31 January ends on the last day of February", regime: GDPR,
			received:    time.Date(2026, 1, 31, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2026, 2, 28),
			extendedDue: endOf(ny, 2026, 4, 28), // two months from 28 February, not three from 31 January
		},
		{
			name: "GDPR 31 January in a leap year ends on 29 February", regime: GDPR,
			received:    time.Date(2028, 1, 31, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2028, 2, 29),
			extendedDue: endOf(ny, 2028, 4, 29),
		},
		{
			name: "GDPR 30 January ends on 28 February", regime: GDPR,
			received:    time.Date(2026, 1, 30, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2026, 2, 28),
			extendedDue: endOf(ny, 2026, 4, 28),
		},
		{
			name: "GDPR 29 January in a non-leap year ends on 28 February", regime: GDPR,
			received:    time.Date(2027, 1, 29, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2027, 2, 28),
			extendedDue: endOf(ny, 2027, 4, 28),
		},
		{
			name: "GDPR 29 January in a leap year ends on 29 February", regime: GDPR,
			received:    time.Date(2028, 1, 29, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2028, 2, 29),
			extendedDue: endOf(ny, 2028, 4, 29),
		},
		{
			name: "GDPR 29 February ends on 29 March", regime: GDPR,
			received:    time.Date(2028, 2, 29, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2028, 3, 29),
			extendedDue: endOf(ny, 2028, 5, 29),
		},
		{
			name: "GDPR 28 February of a non-leap year ends on 28 March", regime: GDPR,
			received:    time.Date(2027, 2, 28, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2027, 3, 28),
			extendedDue: endOf(ny, 2027, 5, 28),
		},
		{
			name: "GDPR 31 March ends on 30 April", regime: GDPR,
			received:    time.Date(2026, 3, 31, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2026, 4, 30),
			extendedDue: endOf(ny, 2026, 6, 30),
		},
		{
			name: "GDPR 31 December ends on 31 January of the next year", regime: GDPR,
			received:    time.Date(2026, 12, 31, 23, 30, 0, 0, ny),
			due:         endOf(ny, 2027, 1, 31),
			extendedDue: endOf(ny, 2027, 3, 31),
		},
		{
			name: "GDPR 30 November: extension runs into a short February", regime: GDPR,
			received:    time.Date(2026, 11, 30, 9, 0, 0, 0, ny),
			due:         endOf(ny, 2026, 12, 30),
			extendedDue: endOf(ny, 2027, 2, 28),
		},
		{
			name: "GDPR counts the local date, not UTC's", regime: GDPR,
			// 05:00 UTC on 1 April, still 31 March in Los Angeles.
			received:    time.Date(2026, 3, 31, 22, 0, 0, 0, la),
			due:         endOf(la, 2026, 4, 30),
			extendedDue: endOf(la, 2026, 6, 30),
		},
		{
			name: "CCPA 45 days across the end of daylight saving", regime: CCPA,
			received:    time.Date(2026, 10, 20, 15, 0, 0, 0, la), // PDT; PST from 1 November
			due:         endOf(la, 2026, 12, 3),                   // day 1 is 20 October
			extendedDue: endOf(la, 2027, 1, 17),                   // day 90
		},
		{
			name: "CCPA 45 days across the start of daylight saving", regime: CCPA,
			received:    time.Date(2026, 2, 20, 8, 0, 0, 0, ny), // EST; EDT from 8 March
			due:         endOf(ny, 2026, 4, 5),
			extendedDue: endOf(ny, 2026, 5, 20),
		},
		{
			name: "CCPA end of December into the next year", regime: CCPA,
			received:    time.Date(2026, 12, 31, 12, 0, 0, 0, ny),
			due:         endOf(ny, 2027, 2, 13),
			extendedDue: endOf(ny, 2027, 3, 30),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clock(t, tt.regime, tt.received)
			if got := c.Due(); !got.Equal(tt.due) {
				t.Errorf("Due = %v, want %v", got, tt.due)
			}
			if got := c.ExtendedDue(); !got.Equal(tt.extendedDue) {
				t.Errorf("ExtendedDue = %v, want %v", got, tt.extendedDue)
			}
			if got := c.Deadline(); !got.Equal(tt.due) {
				t.Errorf("Deadline before an extension = %v, want Due %v", got, tt.due)
			}
			// The deadline is the last instant of its local day: a microsecond later is the next day.
			loc := tt.received.Location()
			if next := c.Due().Add(time.Microsecond).In(loc); next.Hour() != 0 || next.Minute() != 0 || next.Day() == c.Due().In(loc).Day() {
				t.Errorf("Due + 1µs = %v, want midnight of the next day", next)
			}
		})
	}
}

// TestDayEndsWhereMidnightIsSkipped covers zones whose clocks jump over midnight: the day before
// the jump ends when the next day begins, which is at 01:00 local, not at a midnight that never
// happens.
func TestDayEndsWhereMidnightIsSkipped(t *testing.T) {
	tests := []struct {
		zone     string
		received time.Time // day 1 of a CCPA period whose day 45 is the eve of the jump
		lastDay  date
		nextDay  time.Time // where the following day starts
	}{
		{"America/Havana", time.Date(2026, 1, 22, 12, 0, 0, 0, time.UTC), date{2026, 3, 7}, time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)},
		{"Asia/Beirut", time.Date(2026, 2, 12, 12, 0, 0, 0, time.UTC), date{2026, 3, 28}, time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			c, err := New(CCPA, tt.received, loc)
			if err != nil {
				t.Fatal(err)
			}
			due := c.Due()
			if got := dateOf(due, loc); got != tt.lastDay {
				t.Errorf("Due %v falls on %v, want %v", due.In(loc), got, tt.lastDay)
			}
			if want := tt.nextDay.Add(-time.Microsecond); !due.Equal(want) {
				t.Errorf("Due = %v, want %v", due.UTC(), want.UTC())
			}
			if start := tt.lastDay.addDays(1).start(loc); !start.Equal(tt.nextDay) || dateOf(start, loc) != tt.lastDay.addDays(1) {
				t.Errorf("next day starts at %v, want %v", start.In(loc), tt.nextDay.In(loc))
			}
		})
	}
}

func TestAckDueCountsBusinessDays(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		name     string
		received time.Time
		want     time.Time
	}{
		// 2026-11-20 is a Friday. Thanksgiving (26 November) counts as a business day.
		{"Friday evening", time.Date(2026, 11, 20, 19, 30, 0, 0, ny), endOf(ny, 2026, 12, 4)},
		{"Saturday", time.Date(2026, 11, 21, 10, 0, 0, 0, ny), endOf(ny, 2026, 12, 4)},
		{"Sunday", time.Date(2026, 11, 22, 23, 59, 0, 0, ny), endOf(ny, 2026, 12, 4)},
		{"Monday morning", time.Date(2026, 11, 23, 0, 1, 0, 0, ny), endOf(ny, 2026, 12, 7)},
		{"Wednesday", time.Date(2026, 11, 25, 12, 0, 0, 0, ny), endOf(ny, 2026, 12, 9)},
		// Sunday in New York, Monday 02:00 in UTC: the local date decides.
		{"late Sunday local", time.Date(2026, 11, 22, 21, 0, 0, 0, ny), endOf(ny, 2026, 12, 4)},
		{"across the new year", time.Date(2026, 12, 24, 9, 0, 0, 0, ny), endOf(ny, 2027, 1, 7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []Regime{GDPR, CCPA} {
				if got := clock(t, r, tt.received).AckDue(); !got.Equal(tt.want) {
					t.Errorf("%s AckDue = %v, want %v", r, got, tt.want)
				}
			}
		})
	}
}

func TestExtension(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	// Due at the end of 28 February 2026; the notice must go out before 28 February begins.
	c := clock(t, GDPR, time.Date(2026, 1, 31, 9, 0, 0, 0, ny))
	tests := []struct {
		name   string
		notice time.Time
		ok     bool
	}{
		{"a week early", time.Date(2026, 2, 21, 9, 0, 0, 0, ny), true},
		{"the evening before the deadline day", time.Date(2026, 2, 27, 23, 59, 59, 0, ny), true},
		{"the first instant of the deadline day", time.Date(2026, 2, 28, 0, 0, 0, 0, ny), false},
		{"on the deadline day", time.Date(2026, 2, 28, 10, 0, 0, 0, ny), false},
		{"after the deadline", time.Date(2026, 3, 2, 10, 0, 0, 0, ny), false},
	}
	if got, want := c.ExtensionNoticeBy(), time.Date(2026, 2, 28, 0, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("ExtensionNoticeBy = %v, want %v", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.CanExtend(tt.notice); got != tt.ok {
				t.Errorf("CanExtend = %t, want %t", got, tt.ok)
			}
			ext, err := c.Extend(tt.notice)
			if tt.ok {
				if err != nil || !ext.Extended || !ext.Deadline().Equal(endOf(ny, 2026, 4, 28)) {
					t.Fatalf("Extend = %v, %v; want extended to 28 April", ext, err)
				}
				if _, err := ext.Extend(tt.notice); !errors.Is(err, ErrAlreadyExtended) {
					t.Errorf("second Extend: %v, want ErrAlreadyExtended", err)
				}
				if ext.CanExtend(tt.notice) {
					t.Error("CanExtend after the extension")
				}
				return
			}
			if !errors.Is(err, ErrExtensionTooLate) || ext.Extended || !ext.Deadline().Equal(c.Due()) {
				t.Errorf("Extend = %v, %v; want ErrExtensionTooLate and the clock unchanged", ext, err)
			}
		})
	}

	// CCPA: due at the end of 3 December 2026 (Los Angeles).
	la := mustLoad(t, "America/Los_Angeles")
	cc := clock(t, CCPA, time.Date(2026, 10, 20, 15, 0, 0, 0, la))
	if !cc.CanExtend(time.Date(2026, 12, 2, 18, 0, 0, 0, la)) {
		t.Error("CCPA: notice on the day before the deadline refused")
	}
	if cc.CanExtend(time.Date(2026, 12, 3, 8, 0, 0, 0, la)) {
		t.Error("CCPA: notice on the deadline day accepted")
	}
}

func TestPausedShiftsTheAnswerDeadlines(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	c := clock(t, GDPR, time.Date(2026, 1, 31, 9, 0, 0, 0, ny))
	held := c.Paused(72 * time.Hour).Paused(30 * time.Minute).Paused(-time.Hour)
	shift := 72*time.Hour + 30*time.Minute

	if held.Held != shift {
		t.Errorf("Held = %v, want %v (holds add up, a negative one is ignored)", held.Held, shift)
	}
	if c.Held != 0 {
		t.Errorf("Paused changed the original clock: %v", c.Held)
	}
	for _, tt := range []struct {
		name        string
		before, got time.Time
		shift       time.Duration
	}{
		{"Due", c.Due(), held.Due(), shift},
		{"ExtendedDue", c.ExtendedDue(), held.ExtendedDue(), shift},
		{"ExtensionNoticeBy", c.ExtensionNoticeBy(), held.ExtensionNoticeBy(), shift},
		{"AckDue", c.AckDue(), held.AckDue(), 0},
	} {
		if !tt.got.Equal(tt.before.Add(tt.shift)) {
			t.Errorf("%s after the hold = %v, want %v + %v", tt.name, tt.got, tt.before, tt.shift)
		}
	}
	// Due is 23:59:59 on 28 February; held 72.5 hours it is 00:29:59 on 4 March (2026 is not a
	// leap year), so the notice may still go out on 2 March and the reminders move to March.
	if want := time.Date(2026, 3, 4, 0, 29, 59, 999_999_000, ny); !held.Due().Equal(want) {
		t.Errorf("held Due = %v, want %v", held.Due(), want)
	}
	if !held.CanExtend(time.Date(2026, 3, 2, 12, 0, 0, 0, ny)) || c.CanExtend(time.Date(2026, 3, 2, 12, 0, 0, 0, ny)) {
		t.Error("the hold did not move the extension notice limit")
	}
	if r := held.Reminders(); len(r) != 3 || !r[2].At.Equal(time.Date(2026, 3, 3, 9, 0, 0, 0, ny)) {
		t.Errorf("reminders after the hold = %v, want the escalation at 09:00 on 3 March", r)
	}
}

func TestReminders(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	la := mustLoad(t, "America/Los_Angeles")
	gdpr := clock(t, GDPR, time.Date(2026, 1, 31, 9, 0, 0, 0, ny))
	extended, err := gdpr.Extend(time.Date(2026, 2, 10, 9, 0, 0, 0, ny))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    Clock
		want []Reminder
	}{
		{"GDPR due 28 February", gdpr, []Reminder{
			{Remind, 7, time.Date(2026, 2, 21, 9, 0, 0, 0, ny)},
			{Remind, 2, time.Date(2026, 2, 26, 9, 0, 0, 0, ny)},
			{Escalate, 1, time.Date(2026, 2, 27, 9, 0, 0, 0, ny)},
		}},
		{"GDPR extended to 28 April", extended, []Reminder{
			{Remind, 7, time.Date(2026, 4, 21, 9, 0, 0, 0, ny)},
			{Remind, 2, time.Date(2026, 4, 26, 9, 0, 0, 0, ny)},
			{Escalate, 1, time.Date(2026, 4, 27, 9, 0, 0, 0, ny)},
		}},
		// Due 3 December: the 7-day reminder is in PST, after the clocks changed on 1 November.
		{"CCPA across daylight saving", clock(t, CCPA, time.Date(2026, 10, 20, 15, 0, 0, 0, la)), []Reminder{
			{Remind, 7, time.Date(2026, 11, 26, 9, 0, 0, 0, la)},
			{Remind, 2, time.Date(2026, 12, 1, 9, 0, 0, 0, la)},
			{Escalate, 1, time.Date(2026, 12, 2, 9, 0, 0, 0, la)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.Reminders()
			if len(got) != len(tt.want) {
				t.Fatalf("Reminders = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].Kind != tt.want[i].Kind || got[i].DaysBefore != tt.want[i].DaysBefore || !got[i].At.Equal(tt.want[i].At) {
					t.Errorf("reminder %d = %+v, want %+v", i, got[i], tt.want[i])
				}
				if got[i].At.In(tt.c.Loc).Hour() != ReminderHour {
					t.Errorf("reminder %d at %v, want %02d:00 local", i, got[i].At.In(tt.c.Loc), ReminderHour)
				}
			}
		})
	}
}

func TestRemindersNeverPrecedeReceipt(t *testing.T) {
	// A clock whose deadline is close to receipt (here through a negative hold, which Paused
	// refuses, set directly) must not schedule reminders before the request existed.
	received := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	c := Clock{Regime: GDPR, Received: received, Loc: time.UTC, Held: -25 * 24 * time.Hour}
	got := c.Reminders()
	for _, r := range got {
		if r.At.Before(received) {
			t.Errorf("reminder %+v before receipt", r)
		}
	}
	if len(got) != 2 {
		t.Errorf("Reminders = %v, want the 2-day reminder and the escalation only", got)
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct {
		from date
		n    int
		want date
	}{
		{date{2026, 1, 31}, 1, date{2026, 2, 28}},
		{date{2028, 1, 31}, 1, date{2028, 2, 29}},
		{date{2026, 3, 31}, 1, date{2026, 4, 30}},
		{date{2026, 12, 31}, 1, date{2027, 1, 31}},
		{date{2026, 12, 15}, 2, date{2027, 2, 15}},
		{date{2026, 8, 31}, 6, date{2027, 2, 28}},
		{date{2026, 5, 31}, 12, date{2027, 5, 31}},
		{date{2028, 2, 29}, 12, date{2029, 2, 28}},
	}
	for _, tt := range tests {
		if got := tt.from.addMonths(tt.n); got != tt.want {
			t.Errorf("%v + %d months = %v, want %v", tt.from, tt.n, got, tt.want)
		}
	}
}

// TestClockJSON: a clock carried as JSON (a workflow's state) counts in the same zone afterwards.
func TestClockJSON(t *testing.T) {
	la := mustLoad(t, "America/Los_Angeles")
	c, err := New(CCPA, time.Date(2026, 10, 20, 22, 30, 0, 0, la), la)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.Extend(time.Date(2026, 11, 1, 9, 0, 0, 0, la)); err != nil {
		t.Fatal(err)
	}
	c = c.Paused(90 * time.Minute)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Clock
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Loc.String() != "America/Los_Angeles" || back.Regime != CCPA || back.Held != c.Held || !back.Extended ||
		!back.Received.Equal(c.Received) || !back.Deadline().Equal(c.Deadline()) || !back.AckDue().Equal(c.AckDue()) {
		t.Errorf("round trip: %s\n got %v\nwant %v", b, back, c)
	}
	if _, err := json.Marshal(Clock{Regime: GDPR, Received: c.Received, Loc: time.Local}); err == nil {
		t.Error("a clock in time.Local was encoded")
	}
	for _, bad := range []string{`{"zone":"Mars/Olympus"}`, `{"zone":"Local"}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("decoded %s", bad)
		}
	}
}
