package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/schedule"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// MaxSlotsOffered bounds the open times one availability lookup returns: enough for a model or
// the scripted flow to offer a choice, few enough to fit an SMS.
const MaxSlotsOffered = 6

// FindSlotsInput asks for open times for a service.
type FindSlotsInput struct {
	TenantID string
	Service  string
	// Date restricts the search to one day (its start in the business's zone); zero means the
	// next openings.
	Date time.Time
	// Now is the workflow's clock.
	Now time.Time
}

// FindSlots returns up to MaxSlotsOffered open starts for the service, in the business's zone.
func (a *Activities) FindSlots(ctx context.Context, in FindSlotsInput) ([]time.Time, error) {
	cal, svc, err := a.calendar(ctx, in.TenantID, in.Service)
	if err != nil {
		return nil, err
	}
	from, to := searchWindow(cal, in.Now)
	busy, err := a.Store.BusyIntervals(ctx, in.TenantID, from, to)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, slot := range cal.Slots(in.Now, svc.length(), busy) {
		if !in.Date.IsZero() && schedule.DateOf(slot.Start.In(cal.Location)) != schedule.DateOf(in.Date.In(cal.Location)) {
			continue
		}
		out = append(out, slot.Start.In(cal.Location))
		if len(out) == MaxSlotsOffered {
			break
		}
	}
	return out, nil
}

// BookInput books a slot the caller agreed to.
type BookInput struct {
	TenantID       string
	ConversationID int64
	PhoneHash      string
	Service        string
	Start          time.Time
	Name           string
	// RequestKey makes the booking idempotent: a retried activity returns the same booking.
	RequestKey string
	// Replaces is a booking of the caller's to move to Start (a reschedule), or 0.
	Replaces int64
	Now      time.Time
}

// BookingInfo is a booking as the conversation tells the caller and the tenant about it.
type BookingInfo struct {
	ID         int64
	Service    string
	Start, End time.Time
	Name       string
}

// BookResult is what became of a booking request.
type BookResult struct {
	Booked  bool
	Booking BookingInfo
	// Refusal says why nothing was booked, in words written for the model, which gets it as the
	// tool's result and can correct itself.
	Refusal string
	// Alternatives are other open times near the requested one, when it was refused.
	Alternatives []time.Time
}

// BookAppointment checks the requested start against the business's calendar and books it. Two
// callers racing for one slot are settled by the database's exclusion constraint: one gets the
// booking, the other a refusal with alternatives.
func (a *Activities) BookAppointment(ctx context.Context, in BookInput) (BookResult, error) {
	cal, svc, err := a.calendar(ctx, in.TenantID, in.Service)
	if err != nil {
		return BookResult{}, err
	}
	from, to := searchWindow(cal, in.Now)
	busy, err := a.Store.BusyIntervals(ctx, in.TenantID, from, to)
	if err != nil {
		return BookResult{}, err
	}
	refuse := func(reason string) (BookResult, error) {
		res := BookResult{Refusal: reason}
		for _, slot := range cal.Slots(in.Now, svc.length(), busy) {
			res.Alternatives = append(res.Alternatives, slot.Start.In(cal.Location))
		}
		res.Alternatives = nearest(res.Alternatives, in.Start, 3)
		return res, nil
	}
	// The caller's own booking does not stand in the way of moving it.
	own := busy[:0:0]
	var replaced *store.Booking
	if in.Replaces != 0 {
		upcoming, err := a.Store.UpcomingBookings(ctx, in.TenantID, in.PhoneHash, in.Now)
		if err != nil {
			return BookResult{}, err
		}
		for i := range upcoming {
			if upcoming[i].ID == in.Replaces {
				replaced = &upcoming[i]
			}
		}
		for _, b := range busy {
			if replaced == nil || !(b.Start.Equal(replaced.Start) && b.End.Equal(replaced.End)) {
				own = append(own, b)
			}
		}
		busy = own
	}
	if err := cal.Check(in.Start, svc.length(), in.Now, busy); err != nil {
		var slotErr *schedule.SlotError
		if errors.As(err, &slotErr) {
			return refuse(slotErr.Error())
		}
		return BookResult{}, err
	}
	want := store.Booking{
		TenantID: in.TenantID, ConversationID: in.ConversationID, PhoneHash: in.PhoneHash,
		Service: svc.Name, Start: in.Start, End: in.Start.Add(svc.length()), Name: in.Name, RequestKey: in.RequestKey,
	}
	var b store.Booking
	if replaced != nil {
		b, err = a.Store.RescheduleBooking(ctx, store.BookingChange{
			TenantID: in.TenantID, PhoneHash: in.PhoneHash, BookingID: replaced.ID, RequestKey: in.RequestKey,
		}, want.Start, want.End)
	} else {
		b, err = a.Store.Book(ctx, want)
	}
	switch {
	case errors.Is(err, store.ErrSlotTaken):
		// The calendar read above is from before the race this request lost: read it again, so
		// the time just taken is not offered back as an alternative.
		if busy, err = a.Store.BusyIntervals(ctx, in.TenantID, from, to); err != nil {
			return BookResult{}, err
		}
		return refuse("that time was just taken by someone else")
	case errors.Is(err, store.ErrRequestKeyReused), errors.Is(err, store.ErrBookingCancelled), errors.Is(err, store.ErrNotFound):
		return BookResult{}, temporal.NewNonRetryableApplicationError("book appointment: "+err.Error(), "InvalidInput", nil)
	case err != nil:
		return BookResult{}, err
	}
	return BookResult{Booked: true, Booking: bookingInfo(b, cal.Location)}, nil
}

// CancelInput cancels one of the caller's bookings.
type CancelInput struct {
	TenantID   string
	PhoneHash  string
	BookingID  int64
	RequestKey string
}

// CancelAppointment cancels the caller's booking; cancelling it again with the same key returns
// the same result.
func (a *Activities) CancelAppointment(ctx context.Context, in CancelInput) (BookingInfo, error) {
	b, err := a.Store.CancelBooking(ctx, store.BookingChange{TenantID: in.TenantID, PhoneHash: in.PhoneHash, BookingID: in.BookingID, RequestKey: in.RequestKey})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrBookingCancelled) {
		return BookingInfo{}, temporal.NewNonRetryableApplicationError("cancel appointment: "+err.Error(), ErrTypeBookingGone, nil)
	}
	if err != nil {
		return BookingInfo{}, err
	}
	return bookingInfo(b, time.UTC), nil
}

// ErrTypeBookingGone: the booking to change no longer exists or was already cancelled.
const ErrTypeBookingGone = "BookingGone"

func bookingInfo(b store.Booking, loc *time.Location) BookingInfo {
	return BookingInfo{ID: b.ID, Service: b.Service, Start: b.Start.In(loc), End: b.End.In(loc), Name: b.Name}
}

type service struct{ tenantspec.Service }

func (s service) length() time.Duration { return time.Duration(s.Minutes) * time.Minute }

// calendar loads the tenant's bookable calendar and the named service.
func (a *Activities) calendar(ctx context.Context, tenantID, serviceName string) (schedule.Calendar, service, error) {
	t, err := a.Store.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return schedule.Calendar{}, service{}, temporal.NewNonRetryableApplicationError("tenant not found", ErrTypeTenantNotFound, nil)
	}
	if err != nil {
		return schedule.Calendar{}, service{}, err
	}
	p, err := a.Store.TenantProfile(ctx, tenantID)
	if err != nil {
		return schedule.Calendar{}, service{}, err
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return schedule.Calendar{}, service{}, temporal.NewNonRetryableApplicationError("tenant time zone: "+err.Error(), "InvalidTenantProfile", nil)
	}
	cal, err := p.Calendar(loc)
	if err != nil {
		return schedule.Calendar{}, service{}, temporal.NewNonRetryableApplicationError(err.Error(), "InvalidTenantProfile", nil)
	}
	svc, ok := p.Service(serviceName)
	if !ok {
		// The workflow matched the name against the profile it loaded; the owner has since
		// removed the service.
		return schedule.Calendar{}, service{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("service %q is no longer offered", serviceName), ErrTypeUnknownService, nil)
	}
	return cal, service{svc}, nil
}

// ErrTypeUnknownService: the service asked for is not (or no longer) in the tenant's profile.
const ErrTypeUnknownService = "UnknownService"

// searchWindow bounds the bookings that can matter to a search from now: the calendar's
// horizon plus a day for the longest appointment to end.
func searchWindow(cal schedule.Calendar, now time.Time) (time.Time, time.Time) {
	return now.Add(-24 * time.Hour), now.AddDate(0, 0, cal.HorizonDays+2)
}

// nearest returns up to n of ts closest to want, in time order.
func nearest(ts []time.Time, want time.Time, n int) []time.Time {
	out := slices.Clone(ts)
	slices.SortStableFunc(out, func(a, b time.Time) int { return cmp.Compare(a.Sub(want).Abs(), b.Sub(want).Abs()) })
	out = out[:min(n, len(out))]
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}
