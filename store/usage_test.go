package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestUsageCountsStoredRowsInsideThePeriod(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	a, b := createTenant(t, s, 1), createTenant(t, s, 2)
	ny, _ := time.LoadLocation("America/New_York")
	period, err := ParseUsageDays("2026-11-01", "2026-11-30", ny, at)
	if err != nil {
		t.Fatal(err)
	}
	// Each kind of row is stored at five instants around the period's edges; three are inside.
	// PostgreSQL keeps microseconds, so a microsecond is the smallest step outside.
	points := []time.Time{
		period.Start.Add(-time.Microsecond), // the day before, last instant: out
		period.Start,                        // first instant: in
		period.Start.Add(10 * 24 * time.Hour),
		period.End.Add(-time.Microsecond), // last instant of the last day: in
		period.End,                        // the day after: out
	}
	setTime := func(table, column string, id int64, v time.Time) {
		t.Helper()
		// Tables and columns are this test's own literals; tenant rows are reached through InTenant.
		if err := s.InTenant(ctx, a.ID, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE `+table+` SET `+column+` = $2 WHERE id = $1`, id, v)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	conv := openConv(t, s, a.ID, callerA, "run-0")
	setTime("conversations", "opened_at", conv, points[2])
	for i, p := range points {
		id := openConv(t, s, a.ID, callerB, fmt.Sprintf("run-%d", i))
		setTime("conversations", "opened_at", id, p)
		if _, err := s.RecordMissedCall(ctx, MissedCall{TenantID: a.ID, ConversationID: conv, PhoneHash: hashOf(callerA),
			CallSid: fmt.Sprintf("CA%032d", i), Status: "no-answer", OccurredAt: p}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordInbound(ctx, InboundMessage{TenantID: a.ID, ConversationID: conv, PhoneHash: hashOf(callerA),
			MessageSid: fmt.Sprintf("SM%032d", i), Body: "hello", ReceivedAt: p}); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("conv/%s/x#text-%d", a.ID, i)
		if _, err := s.ClaimOutbox(ctx, key, a.ID, hashOf(callerA)); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteOutbox(ctx, SentMessage{Key: key, TenantID: a.ID, ConversationID: conv, Body: "hi", ProviderMessageID: fmt.Sprintf("SM%032d", 100+i), SentAt: p}); err != nil {
			t.Fatal(err)
		}
		esc, err := s.RecordEscalation(ctx, a.ID, conv, "asked for a person", fmt.Sprintf("esc-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		setTime("escalations", "created_at", esc, p)
		if _, err := s.RecordOptOut(ctx, ConsentChange{TenantID: a.ID, PhoneHash: hashOf(fmt.Sprintf("+1614555020%d", i)),
			MessageSid: fmt.Sprintf("SM%032d", 200+i), At: p}); err != nil {
			t.Fatal(err)
		}
		start, end := slot(float64(i), 30)
		bk, err := s.Book(ctx, Booking{TenantID: a.ID, ConversationID: conv, PhoneHash: hashOf(callerA), Service: "Haircut",
			Start: start, End: end, Name: "Sam", RequestKey: fmt.Sprintf("book-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		setTime("bookings", "created_at", bk.ID, p)
		if _, err := s.CancelBooking(ctx, BookingChange{TenantID: a.ID, PhoneHash: hashOf(callerA), BookingID: bk.ID, RequestKey: fmt.Sprintf("cancel-%d", i)}); err != nil {
			t.Fatal(err)
		}
		setTime("bookings", "cancelled_at", bk.ID, p)
	}
	// A booking made and then rescheduled inside the period: one booking, one reschedule, and the
	// replaced booking's cancellation is part of the reschedule, not a cancellation.
	start, end := slot(10, 30)
	moved, err := s.Book(ctx, Booking{TenantID: a.ID, ConversationID: conv, PhoneHash: hashOf(callerA), Service: "Haircut",
		Start: start, End: end, Name: "Sam", RequestKey: "book-moved"})
	if err != nil {
		t.Fatal(err)
	}
	start, end = slot(12, 30)
	replacement, err := s.RescheduleBooking(ctx, BookingChange{TenantID: a.ID, PhoneHash: hashOf(callerA), BookingID: moved.ID, RequestKey: "move"}, start, end)
	if err != nil {
		t.Fatal(err)
	}
	setTime("bookings", "created_at", moved.ID, points[2])
	setTime("bookings", "cancelled_at", moved.ID, points[2])
	setTime("bookings", "created_at", replacement.ID, points[2])

	// Another tenant's rows, inside the period, count for that tenant only.
	other := openConv(t, s, b.ID, callerA, "run-b")
	if _, err := s.RecordMissedCall(ctx, MissedCall{TenantID: b.ID, ConversationID: other, PhoneHash: hashOf(callerA),
		CallSid: fmt.Sprintf("CA%032d", 99), Status: "busy", OccurredAt: points[2]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordOptOut(ctx, ConsentChange{TenantID: b.ID, PhoneHash: hashOf(callerA), MessageSid: "SM-b-stop", At: points[2]}); err != nil {
		t.Fatal(err)
	}

	got, err := s.Usage(ctx, a.ID, period.Start, period.End)
	if err != nil {
		t.Fatal(err)
	}
	want := Usage{
		MissedCalls: 3, Conversations: 3 + 1, // and the one every row above belongs to
		Bookings: 3 + 1, BookingsRescheduled: 1, BookingsCancelled: 3,
		Escalations: 3, OptOuts: 3, MessagesInbound: 3, MessagesOutbound: 3,
	}
	if got != want {
		t.Errorf("usage of tenant A:\n got %+v\nwant %+v", got, want)
	}

	gotB, err := s.Usage(ctx, b.ID, period.Start, period.End)
	if err != nil {
		t.Fatal(err)
	}
	if gotB.MissedCalls != 1 || gotB.OptOuts != 1 || gotB.MessagesInbound != 0 || gotB.Bookings != 0 {
		t.Errorf("usage of tenant B = %+v", gotB)
	}

	// One day: only what happened on it.
	first, err := ParseUsageDays("2026-11-01", "2026-11-01", ny, at)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.Usage(ctx, a.ID, first.Start, first.End); err != nil || u.MissedCalls != 1 || u.MessagesOutbound != 1 {
		t.Errorf("usage of 2026-11-01 = %+v, %v", u, err)
	}
	if _, err := s.Usage(ctx, "zzzzzzzzzzzzzzzz", period.Start, period.End); err == nil {
		t.Error("usage of an unknown tenant succeeded")
	}
	if _, err := s.Usage(ctx, a.ID, period.End, period.Start); err == nil {
		t.Error("usage of a backwards period succeeded")
	}
}

func TestParseUsageDays(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// 01:30 UTC on 2026-11-20 is still the 19th in New York.
	now := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, ny) }
	cases := []struct {
		name, from, to string
		want           UsageDays
		err            string
	}{
		{"default: the last 30 days, today included", "", "", UsageDays{"2026-10-21", "2026-11-19", day(2026, 10, 21), day(2026, 11, 20)}, ""},
		{"from only: until today", "2026-11-01", "", UsageDays{"2026-11-01", "2026-11-19", day(2026, 11, 1), day(2026, 11, 20)}, ""},
		{"to only: 30 days up to it", "", "2026-09-30", UsageDays{"2026-09-01", "2026-09-30", day(2026, 9, 1), day(2026, 10, 1)}, ""},
		{"one day, 25 hours long (DST ends)", "2026-11-01", "2026-11-01", UsageDays{"2026-11-01", "2026-11-01", day(2026, 11, 1), day(2026, 11, 2)}, ""},
		{"from after to", "2026-11-02", "2026-11-01", UsageDays{}, "from: 2026-11-02 is after to (2026-11-01)"},
		{"bad from", "2026-13-01", "", UsageDays{}, `from: "2026-13-01" is not a date`},
		{"bad to", "", "30/11/2026", UsageDays{}, `to: "30/11/2026" is not a date`},
	}
	for _, c := range cases {
		got, err := ParseUsageDays(c.from, c.to, ny, now)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || got.From != c.want.From || got.To != c.want.To || !got.Start.Equal(c.want.Start) || !got.End.Equal(c.want.End) {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	if d, _ := ParseUsageDays("2026-11-01", "2026-11-01", ny, now); d.End.Sub(d.Start) != 25*time.Hour {
		t.Errorf("2026-11-01 in New York lasts %s, want 25h", d.End.Sub(d.Start))
	}
}
