package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/schedule"
)

// bookingFixture is a tenant with two callers who each have a conversation.
type bookingFixture struct {
	s            *Store
	tenant       string
	convA, convB int64
}

func newBookingFixture(t *testing.T) bookingFixture {
	t.Helper()
	s := openStore(t)
	tn := createTenant(t, s, 1)
	return bookingFixture{
		s: s, tenant: tn.ID,
		convA: openConv(t, s, tn.ID, callerA, "run-a"),
		convB: openConv(t, s, tn.ID, callerB, "run-b"),
	}
}

// slot is 10:00 on 2026-11-23 in New York plus h hours, lasting minutes.
func slot(h float64, minutes int) (time.Time, time.Time) {
	loc, _ := time.LoadLocation("America/New_York")
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, loc).Add(time.Duration(h * float64(time.Hour)))
	return start, start.Add(time.Duration(minutes) * time.Minute)
}

func (f bookingFixture) booking(caller string, conv int64, key string, h float64, minutes int) Booking {
	start, end := slot(h, minutes)
	return Booking{
		TenantID: f.tenant, ConversationID: conv, PhoneHash: hashOf(caller),
		Service: "Haircut", Start: start, End: end, Name: "Sam", RequestKey: key,
	}
}

func (f bookingFixture) book(t *testing.T, b Booking) Booking {
	t.Helper()
	got, err := f.s.Book(context.Background(), b)
	if err != nil {
		t.Fatalf("book %s: %v", b.RequestKey, err)
	}
	return got
}

func TestBookAndIdempotency(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	in := f.booking(callerA, f.convA, "conv/a/book-1", 0, 60)
	b := f.book(t, in)
	if b.ID == 0 || b.Status != BookingBooked || b.PhoneHash != hashOf(callerA) || b.ConversationID != f.convA ||
		b.Service != "Haircut" || b.Name != "Sam" || !b.Start.Equal(in.Start) || !b.End.Equal(in.End) || b.CreatedAt.IsZero() {
		t.Fatalf("booking = %+v", b)
	}

	// A retried activity gets the same row back.
	again := f.book(t, in)
	if again.ID != b.ID {
		t.Errorf("retry made booking %d, want %d", again.ID, b.ID)
	}
	if n := count(t, f.s, `SELECT count(*) FROM `+schemaOf(t, f.tenant)+`.bookings`); n != 1 {
		t.Errorf("%d bookings after a retry, want 1", n)
	}
	// The same key for another request is a bug, not a retry.
	other := in
	other.Start, other.End = slot(2, 60)
	if _, err := f.s.Book(ctx, other); !errors.Is(err, ErrRequestKeyReused) {
		t.Errorf("same key, other time: %v, want ErrRequestKeyReused", err)
	}

	// Without a conversation; unknown caller; bad input.
	noConv := f.booking(callerB, 0, "owner/1", 3, 30)
	if got := f.book(t, noConv); got.ConversationID != 0 {
		t.Errorf("booking without a conversation: %+v", got)
	}
	if _, err := f.s.Book(ctx, f.booking("+16145550999", 0, "k-unknown", 4, 30)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown caller: %v, want ErrNotFound", err)
	}
	bad := f.booking(callerA, f.convA, "k-bad", 4, 30)
	bad.End = bad.Start
	if _, err := f.s.Book(ctx, bad); err == nil {
		t.Error("empty range accepted")
	}
	bad = f.booking(callerA, f.convA, "", 4, 30)
	if _, err := f.s.Book(ctx, bad); err == nil {
		t.Error("empty request key accepted")
	}
}

func TestBookRefusesOverlaps(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	f.book(t, f.booking(callerA, f.convA, "a-1", 0, 60)) // 10:00–11:00

	for _, c := range []struct {
		name    string
		h       float64
		minutes int
		taken   bool
	}{
		{"same slot", 0, 60, true},
		{"starts inside", 0.5, 60, true},
		{"ends inside", -0.5, 60, true},
		{"contains it", -1, 180, true},
		{"inside it", 0.25, 15, true},
		{"ends as it starts", -1, 60, false},
		{"starts as it ends", 1, 30, false},
	} {
		_, err := f.s.Book(ctx, f.booking(callerB, f.convB, "b-"+c.name, c.h, c.minutes))
		if c.taken && !errors.Is(err, ErrSlotTaken) {
			t.Errorf("%s: %v, want ErrSlotTaken", c.name, err)
		}
		if !c.taken && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestConcurrentBookingsOfOneSlot is the double-booking guarantee: however many conversations book
// the same time at once, one wins and the rest are told the slot is taken.
func TestConcurrentBookingsOfOneSlot(t *testing.T) {
	for _, n := range []int{2, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newBookingFixture(t)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					// Half the requests overlap the slot without matching it exactly.
					h, minutes := 0.0, 60
					if i%2 == 1 {
						h, minutes = 0.5, 30
					}
					caller, conv := callerA, f.convA
					if i%3 == 0 {
						caller, conv = callerB, f.convB
					}
					<-start
					_, errs[i] = f.s.Book(context.Background(), f.booking(caller, conv, fmt.Sprintf("race-%d", i), h, minutes))
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for i, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, ErrSlotTaken):
					t.Errorf("request %d: %v, want nil or ErrSlotTaken", i, err)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d concurrent bookings succeeded, want exactly 1", won, n)
			}
			if got := count(t, f.s, `SELECT count(*) FROM `+schemaOf(t, f.tenant)+`.bookings`); got != 1 {
				t.Errorf("%d rows, want 1", got)
			}
		})
	}
}

// TestConcurrentRetriesOfOneBooking: an activity and its retry racing each other make one booking
// and both get it, rather than one of them being told its own slot is taken.
func TestConcurrentRetriesOfOneBooking(t *testing.T) {
	f := newBookingFixture(t)
	in := f.booking(callerA, f.convA, "conv/a/book-1", 0, 60)
	var wg sync.WaitGroup
	start := make(chan struct{})
	got := make([]Booking, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() {
			<-start
			got[i], errs[i] = f.s.Book(context.Background(), in)
		})
	}
	close(start)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].ID != got[0].ID {
			t.Errorf("attempt %d: booking %d, %v", i, got[i].ID, errs[i])
		}
	}
}

func TestCancelFreesTheSlot(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	b := f.book(t, f.booking(callerA, f.convA, "a-1", 0, 60))

	// Only the caller who booked can cancel; anyone else finds nothing.
	if _, err := f.s.CancelBooking(ctx, BookingChange{TenantID: f.tenant, PhoneHash: hashOf(callerB), BookingID: b.ID, RequestKey: "b-cancel"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another caller's cancel: %v, want ErrNotFound", err)
	}
	change := BookingChange{TenantID: f.tenant, PhoneHash: hashOf(callerA), BookingID: b.ID, RequestKey: "a-cancel"}
	c, err := f.s.CancelBooking(ctx, change)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != BookingCancelled || c.CancelledAt == nil || c.ID != b.ID {
		t.Errorf("cancelled = %+v", c)
	}
	if again, err := f.s.CancelBooking(ctx, change); err != nil || again.ID != b.ID {
		t.Errorf("retried cancel: %+v, %v", again, err)
	}
	change.RequestKey = "a-cancel-2"
	if _, err := f.s.CancelBooking(ctx, change); !errors.Is(err, ErrBookingCancelled) {
		t.Errorf("second cancel: %v, want ErrBookingCancelled", err)
	}
	if _, err := f.s.CancelBooking(ctx, BookingChange{TenantID: f.tenant, PhoneHash: hashOf(callerA), BookingID: 999, RequestKey: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown booking: %v", err)
	}

	// The time is free again; the original's retry still returns the cancelled original.
	nb := f.book(t, f.booking(callerB, f.convB, "b-1", 0, 60))
	if nb.ID == b.ID {
		t.Error("the new booking reused the cancelled one")
	}
	if orig := f.book(t, f.booking(callerA, f.convA, "a-1", 0, 60)); orig.ID != b.ID || orig.Status != BookingCancelled {
		t.Errorf("retry of the cancelled booking's request: %+v", orig)
	}
}

func TestRescheduleIsAtomic(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	a := f.book(t, f.booking(callerA, f.convA, "a-1", 0, 60))  // 10:00–11:00
	bb := f.book(t, f.booking(callerB, f.convB, "b-1", 2, 60)) // 12:00–13:00
	change := BookingChange{TenantID: f.tenant, PhoneHash: hashOf(callerA), BookingID: a.ID, RequestKey: "a-move"}

	// Onto caller B's time: refused, and A keeps its booking.
	start, end := slot(2.5, 60)
	if _, err := f.s.RescheduleBooking(ctx, change, start, end); !errors.Is(err, ErrSlotTaken) {
		t.Fatalf("reschedule onto a taken time: %v, want ErrSlotTaken", err)
	}
	up, err := f.s.UpcomingBookings(ctx, f.tenant, hashOf(callerA), at)
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != 1 || up[0].ID != a.ID || up[0].Status != BookingBooked {
		t.Fatalf("after a refused reschedule A has %+v, want the original booking", up)
	}

	// Half an hour later, overlapping its own old time: allowed.
	start, end = slot(0.5, 60)
	moved, err := f.s.RescheduleBooking(ctx, change, start, end)
	if err != nil {
		t.Fatal(err)
	}
	if moved.ID == a.ID || moved.Replaces != a.ID || !moved.Start.Equal(start) || moved.Service != a.Service || moved.Name != a.Name || moved.ConversationID != f.convA {
		t.Errorf("moved = %+v", moved)
	}
	if again, err := f.s.RescheduleBooking(ctx, change, start, end); err != nil || again.ID != moved.ID {
		t.Errorf("retried reschedule: %+v, %v", again, err)
	}
	up, _ = f.s.UpcomingBookings(ctx, f.tenant, hashOf(callerA), at)
	if len(up) != 1 || up[0].ID != moved.ID {
		t.Errorf("upcoming after reschedule: %+v", up)
	}
	// The old booking is cancelled, so it cannot be moved again; B's is not A's to move.
	change.RequestKey = "a-move-2"
	if _, err := f.s.RescheduleBooking(ctx, change, start.Add(3*time.Hour), end.Add(3*time.Hour)); !errors.Is(err, ErrBookingCancelled) {
		t.Errorf("moving the replaced booking: %v, want ErrBookingCancelled", err)
	}
	change.BookingID = bb.ID
	if _, err := f.s.RescheduleBooking(ctx, change, start.Add(3*time.Hour), end.Add(3*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("moving another caller's booking: %v, want ErrNotFound", err)
	}
}

func TestUpcomingAndBusy(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	later := f.book(t, f.booking(callerA, f.convA, "a-2", 3, 30))
	first := f.book(t, f.booking(callerA, f.convA, "a-1", 0, 60))
	f.book(t, f.booking(callerB, f.convB, "b-1", 1, 60))
	gone := f.book(t, f.booking(callerA, f.convA, "a-3", 5, 30))
	if _, err := f.s.CancelBooking(ctx, BookingChange{TenantID: f.tenant, PhoneHash: hashOf(callerA), BookingID: gone.ID, RequestKey: "c"}); err != nil {
		t.Fatal(err)
	}

	up, err := f.s.UpcomingBookings(ctx, f.tenant, hashOf(callerA), at)
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != 2 || up[0].ID != first.ID || up[1].ID != later.ID {
		t.Errorf("upcoming = %+v, want A's two live bookings, soonest first", up)
	}
	// A booking in progress is still upcoming; one that has ended is not.
	inProgress, _ := slot(0.5, 0)
	if up, _ := f.s.UpcomingBookings(ctx, f.tenant, hashOf(callerA), inProgress); len(up) != 2 {
		t.Errorf("upcoming during the first booking: %d", len(up))
	}
	afterFirst, _ := slot(1, 0)
	if up, _ := f.s.UpcomingBookings(ctx, f.tenant, hashOf(callerA), afterFirst); len(up) != 1 {
		t.Errorf("upcoming after the first booking: %d", len(up))
	}

	from, _ := slot(0.5, 0)
	to, _ := slot(3, 0)
	busy, err := f.s.BusyIntervals(ctx, f.tenant, from, to)
	if err != nil {
		t.Fatal(err)
	}
	s0, e0 := slot(0, 60)
	s1, e1 := slot(1, 60)
	want := []schedule.Interval{{Start: s0, End: e0}, {Start: s1, End: e1}}
	if len(busy) != len(want) {
		t.Fatalf("busy = %v, want %v", busy, want)
	}
	for i := range want {
		if !busy[i].Start.Equal(want[i].Start) || !busy[i].End.Equal(want[i].End) {
			t.Errorf("busy[%d] = %v, want %v", i, busy[i], want[i])
		}
	}
}

// TestBookingsAreIsolatedPerTenant: the same caller in two tenants has two contacts and two
// calendars; nothing booked in one is visible or busy in the other.
func TestBookingsAreIsolatedPerTenant(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	other := createTenant(t, f.s, 2)
	openConv(t, f.s, other.ID, callerA, "run-other")
	mine := f.book(t, f.booking(callerA, f.convA, "k", 0, 60))
	theirs := f.booking(callerA, 0, "k", 0, 60)
	theirs.TenantID = other.ID
	if got, err := f.s.Book(ctx, theirs); err != nil {
		t.Fatalf("same time and key in another tenant: %v", err)
	} else if got.TenantID != other.ID {
		t.Errorf("booking in %s reports tenant %s", other.ID, got.TenantID)
	}
	from, _ := slot(-24, 0)
	to, _ := slot(24, 0)
	for _, id := range []string{f.tenant, other.ID} {
		if busy, err := f.s.BusyIntervals(ctx, id, from, to); err != nil || len(busy) != 1 {
			t.Errorf("tenant %s busy = %v, %v; want its own booking only", id, busy, err)
		}
	}
	if _, err := f.s.CancelBooking(ctx, BookingChange{TenantID: other.ID, PhoneHash: hashOf(callerA), BookingID: mine.ID + 100, RequestKey: "c"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel of a booking ID from another tenant: %v", err)
	}
}

// TestBookingsReachTenantsCreatedBeforeThem: a tenant whose schema was migrated before
// 002_bookings (simulated by removing that migration's tables and rewinding tern's version) gets
// the tables, exclusion constraint included, from Migrate.
func TestBookingsReachTenantsCreatedBeforeThem(t *testing.T) {
	ctx := context.Background()
	f := newBookingFixture(t)
	schema := pgx.Identifier{schemaOf(t, f.tenant)}.Sanitize()
	if _, err := f.s.Pool().Exec(ctx, `DROP TABLE `+schema+`.bookings, `+schema+`.escalations; UPDATE `+schema+`.schema_version SET version = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Book(ctx, f.booking(callerA, f.convA, "k", 0, 60)); err == nil {
		t.Fatal("booking worked without the bookings table")
	}
	if _, err := f.s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if v := count(t, f.s, `SELECT version FROM `+schema+`.schema_version`); v < 2 {
		t.Errorf("tenant schema at version %d after Migrate", v)
	}
	f.book(t, f.booking(callerA, f.convA, "k", 0, 60))
	if _, err := f.s.Book(ctx, f.booking(callerB, f.convB, "k2", 0.5, 60)); !errors.Is(err, ErrSlotTaken) {
		t.Errorf("overlap after migrating an old tenant: %v, want ErrSlotTaken", err)
	}
	if n := count(t, f.s, `SELECT count(*) FROM `+schema+`.escalations`); n != 0 {
		t.Errorf("escalations: %d rows", n)
	}
}
