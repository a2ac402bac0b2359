package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ringback/ringback/internal/schedule"
)

var (
	// ErrSlotTaken is returned when a booking would overlap one already booked: the exclusion
	// constraint on bookings refused it, so this holds even for two bookings made at once.
	ErrSlotTaken = errors.New("that time is already booked")
	// ErrBookingCancelled is returned for a change to a booking that is already cancelled.
	ErrBookingCancelled = errors.New("booking is already cancelled")
	// ErrRequestKeyReused is returned when an idempotency key that already made one booking or
	// cancellation is presented with a different request.
	ErrRequestKeyReused = errors.New("request key already used for a different request")
)

// Booking statuses.
const (
	BookingBooked    = "booked"
	BookingCancelled = "cancelled"
)

// Limits on booking text, matching the table's checks.
const (
	MaxBookingServiceLen = 80
	MaxBookingNameLen    = 100
	MaxRequestKeyLen     = 200
)

// Booking is an appointment in a tenant's calendar, [Start, End).
type Booking struct {
	ID             int64
	TenantID       string
	ConversationID int64 // 0: not booked from a conversation
	PhoneHash      string
	Service        string
	Start, End     time.Time
	// Name is the caller's name as they gave it, for the owner.
	Name   string
	Status string
	// RequestKey is the idempotency key of the request that made the booking.
	RequestKey string
	// Replaces is the booking this one replaced when it was rescheduled, or 0.
	Replaces    int64
	CreatedAt   time.Time
	CancelledAt *time.Time
}

// bookingColumns selects a Booking, in scanBooking's order, from bookings b joined to contacts c.
const bookingColumns = `b.id, coalesce(b.conversation_id, 0), c.phone_hash, b.service, lower(b.during), upper(b.during),
	b.name, b.status, b.request_key, coalesce(b.replaces, 0), b.created_at, b.cancelled_at`

func scanBooking(row pgx.Row, tenantID string) (Booking, error) {
	b := Booking{TenantID: tenantID}
	err := row.Scan(&b.ID, &b.ConversationID, &b.PhoneHash, &b.Service, &b.Start, &b.End,
		&b.Name, &b.Status, &b.RequestKey, &b.Replaces, &b.CreatedAt, &b.CancelledAt)
	return b, err
}

func checkRequestKey(key string) error {
	if key == "" || len(key) > MaxRequestKeyLen {
		return fmt.Errorf("request key: 1 to %d bytes", MaxRequestKeyLen)
	}
	return nil
}

func checkRange(start, end time.Time) error {
	if start.IsZero() || !end.After(start) {
		return errors.New("booking: the end must be after the start")
	}
	return nil
}

// Book puts an appointment in the tenant's calendar for the caller whose contact has in.PhoneHash
// (the conversation created it). It returns ErrSlotTaken when the time overlaps a booked
// appointment. A repeated RequestKey returns the booking that key made, whatever its status now,
// so a retried activity never fails on its own slot or books twice; the same key with a different
// caller, service or time is ErrRequestKeyReused. Schedule rules (opening hours, the grid,
// notice) are the caller's to check with internal/schedule first; the store guarantees only that
// bookings never overlap.
func (s *Store) Book(ctx context.Context, in Booking) (Booking, error) {
	in.Service = strings.TrimSpace(in.Service)
	in.Name = strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(in.Service); n == 0 || n > MaxBookingServiceLen {
		return Booking{}, fmt.Errorf("booking service: 1 to %d characters", MaxBookingServiceLen)
	}
	if utf8.RuneCountInString(in.Name) > MaxBookingNameLen || strings.ContainsAny(in.Name, "\r\n") {
		return Booking{}, fmt.Errorf("booking name: one line of at most %d characters", MaxBookingNameLen)
	}
	if err := checkRange(in.Start, in.End); err != nil {
		return Booking{}, err
	}
	if err := checkRequestKey(in.RequestKey); err != nil {
		return Booking{}, err
	}
	var out Booking
	err := s.InTenant(ctx, in.TenantID, func(tx pgx.Tx) error {
		prev, found, err := bookingByKey(ctx, tx, in.TenantID, in.RequestKey)
		if err != nil || found {
			out = prev
			return err
		}
		var contactID int64
		err = tx.QueryRow(ctx, `SELECT id FROM contacts WHERE phone_hash = $1`, in.PhoneHash).Scan(&contactID)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("contact: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		var conv *int64
		if in.ConversationID != 0 {
			conv = &in.ConversationID
		}
		out, err = scanBooking(tx.QueryRow(ctx, `
			WITH b AS (
				INSERT INTO bookings (contact_id, conversation_id, service, during, name, request_key)
				VALUES ($1, $2, $3, tstzrange($4, $5, '[)'), $6, $7)
				RETURNING *)
			SELECT `+bookingColumns+` FROM b JOIN contacts c ON c.id = b.contact_id`,
			contactID, conv, in.Service, in.Start, in.End, in.Name, in.RequestKey), in.TenantID)
		return err
	})
	if err != nil {
		return s.afterFailedBooking(ctx, in, err, "book")
	}
	if !sameBooking(out, in.PhoneHash, in.Service, in.Start, in.End) {
		return Booking{}, ErrRequestKeyReused
	}
	return out, nil
}

// afterFailedBooking interprets a failed insert. Two attempts with the same key that race each
// other fail on the key or, as both claim the same time, on the exclusion constraint; either way
// the winner's row, looked up once the failed transaction is gone, is the answer.
func (s *Store) afterFailedBooking(ctx context.Context, in Booking, err error, op string) (Booking, error) {
	taken := isExclusionViolation(err)
	if taken || isUniqueViolation(err, "bookings_request_key_key") {
		var prev Booking
		var found bool
		lookupErr := s.InTenant(ctx, in.TenantID, func(tx pgx.Tx) error {
			var err error
			prev, found, err = bookingByKey(ctx, tx, in.TenantID, in.RequestKey)
			return err
		})
		switch {
		case lookupErr != nil:
			return Booking{}, fmt.Errorf("%s: %w", op, lookupErr)
		case found && in.Replaces != 0 && prev.Replaces != in.Replaces:
			return Booking{}, ErrRequestKeyReused
		case found && !sameBooking(prev, in.PhoneHash, in.Service, in.Start, in.End):
			return Booking{}, ErrRequestKeyReused
		case found:
			return prev, nil
		case taken:
			return Booking{}, ErrSlotTaken
		}
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBookingCancelled) || errors.Is(err, ErrRequestKeyReused) {
		return Booking{}, err
	}
	return Booking{}, fmt.Errorf("%s: %w", op, err)
}

// sameBooking reports whether b is what a request for this caller, service and time would have
// made. Times are compared at PostgreSQL's microsecond precision. An empty service matches any
// (a reschedule keeps the original's).
func sameBooking(b Booking, phoneHash, service string, start, end time.Time) bool {
	return b.PhoneHash == phoneHash && (service == "" || strings.EqualFold(b.Service, service)) &&
		b.Start.Equal(start.Truncate(time.Microsecond)) && b.End.Equal(end.Truncate(time.Microsecond))
}

func bookingByKey(ctx context.Context, tx pgx.Tx, tenantID, key string) (Booking, bool, error) {
	b, err := scanBooking(tx.QueryRow(ctx, `
		SELECT `+bookingColumns+` FROM bookings b JOIN contacts c ON c.id = b.contact_id
		WHERE b.request_key = $1`, key), tenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Booking{}, false, nil
	}
	if err != nil {
		return Booking{}, false, fmt.Errorf("look up booking by request key: %w", err)
	}
	return b, true, nil
}

// lockCallersBooking loads one of the caller's bookings for update. A booking that belongs to
// another caller is ErrNotFound, like one that does not exist: a model that names a wrong ID
// learns nothing and changes nothing.
func lockCallersBooking(ctx context.Context, tx pgx.Tx, tenantID, phoneHash string, id int64) (Booking, error) {
	b, err := scanBooking(tx.QueryRow(ctx, `
		SELECT `+bookingColumns+` FROM bookings b JOIN contacts c ON c.id = b.contact_id
		WHERE b.id = $1 AND c.phone_hash = $2
		FOR UPDATE OF b`, id, phoneHash), tenantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Booking{}, fmt.Errorf("booking %d: %w", id, ErrNotFound)
	}
	return b, err
}

// BookingChange names one of a caller's bookings and the idempotency key of the change.
type BookingChange struct {
	TenantID string
	// PhoneHash is the caller asking; only their own bookings can be changed.
	PhoneHash  string
	BookingID  int64
	RequestKey string
}

// CancelBooking cancels one of the caller's bookings and frees its time. Repeating it with the
// same RequestKey returns the cancelled booking; cancelling a booking that some other request
// cancelled is ErrBookingCancelled; a booking that is not the caller's is ErrNotFound.
func (s *Store) CancelBooking(ctx context.Context, c BookingChange) (Booking, error) {
	if err := checkRequestKey(c.RequestKey); err != nil {
		return Booking{}, err
	}
	var out Booking
	err := s.InTenant(ctx, c.TenantID, func(tx pgx.Tx) error {
		b, err := lockCallersBooking(ctx, tx, c.TenantID, c.PhoneHash, c.BookingID)
		if err != nil {
			return err
		}
		if b.Status == BookingCancelled {
			var key *string
			if err := tx.QueryRow(ctx, `SELECT cancel_key FROM bookings WHERE id = $1`, b.ID).Scan(&key); err != nil {
				return err
			}
			if key != nil && *key == c.RequestKey {
				out = b
				return nil
			}
			return ErrBookingCancelled
		}
		out, err = cancelTx(ctx, tx, b, c.RequestKey)
		return err
	})
	if isUniqueViolation(err, "bookings_cancel_key_key") {
		return Booking{}, ErrRequestKeyReused
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBookingCancelled) {
		return Booking{}, err
	}
	if err != nil {
		return Booking{}, fmt.Errorf("cancel booking: %w", err)
	}
	return out, nil
}

func cancelTx(ctx context.Context, tx pgx.Tx, b Booking, key string) (Booking, error) {
	err := tx.QueryRow(ctx, `
		UPDATE bookings SET status = 'cancelled', cancelled_at = now(), cancel_key = $2
		WHERE id = $1 RETURNING status, cancelled_at`, b.ID, key).Scan(&b.Status, &b.CancelledAt)
	return b, err
}

// RescheduleBooking moves one of the caller's bookings to [start, end) in one transaction: the
// old booking is cancelled and a new one, with the same service and name and Replaces set, is
// booked. If the new time is taken (ErrSlotTaken) nothing changes. The new time may overlap the
// old one. Repeating it with the same RequestKey returns the new booking.
func (s *Store) RescheduleBooking(ctx context.Context, c BookingChange, start, end time.Time) (Booking, error) {
	if err := checkRange(start, end); err != nil {
		return Booking{}, err
	}
	if err := checkRequestKey(c.RequestKey); err != nil {
		return Booking{}, err
	}
	var out Booking
	err := s.InTenant(ctx, c.TenantID, func(tx pgx.Tx) error {
		old, err := lockCallersBooking(ctx, tx, c.TenantID, c.PhoneHash, c.BookingID)
		if err != nil {
			return err
		}
		// Looked up only under the lock: a retry racing this one has committed by now, and a
		// READ COMMITTED statement started after the lock sees it.
		prev, found, err := bookingByKey(ctx, tx, c.TenantID, c.RequestKey)
		if err != nil {
			return err
		}
		if found {
			if prev.Replaces != c.BookingID {
				return ErrRequestKeyReused
			}
			out = prev
			return nil
		}
		if old.Status == BookingCancelled {
			return ErrBookingCancelled
		}
		if _, err := cancelTx(ctx, tx, old, c.RequestKey); err != nil {
			return err
		}
		out, err = scanBooking(tx.QueryRow(ctx, `
			WITH b AS (
				INSERT INTO bookings (contact_id, conversation_id, service, during, name, request_key, replaces)
				SELECT contact_id, conversation_id, service, tstzrange($2, $3, '[)'), name, $4, id
				FROM bookings WHERE id = $1
				RETURNING *)
			SELECT `+bookingColumns+` FROM b JOIN contacts c ON c.id = b.contact_id`,
			old.ID, start, end, c.RequestKey), c.TenantID)
		return err
	})
	if err != nil {
		if isUniqueViolation(err, "bookings_cancel_key_key") {
			return Booking{}, ErrRequestKeyReused
		}
		return s.afterFailedBooking(ctx, Booking{
			TenantID: c.TenantID, PhoneHash: c.PhoneHash, Start: start, End: end, RequestKey: c.RequestKey, Replaces: c.BookingID,
		}, err, "reschedule booking")
	}
	if !sameBooking(out, c.PhoneHash, "", start, end) {
		return Booking{}, ErrRequestKeyReused
	}
	return out, nil
}

// UpcomingBookings returns the caller's booked appointments that have not ended by now, soonest
// first.
func (s *Store) UpcomingBookings(ctx context.Context, tenantID, phoneHash string, now time.Time) ([]Booking, error) {
	var out []Booking
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+bookingColumns+` FROM bookings b JOIN contacts c ON c.id = b.contact_id
			WHERE c.phone_hash = $1 AND b.status = 'booked' AND upper(b.during) > $2
			ORDER BY lower(b.during), b.id`, phoneHash, now)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Booking, error) { return scanBooking(row, tenantID) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upcoming bookings: %w", err)
	}
	return out, nil
}

// BusyIntervals returns the booked appointments that overlap [from, to), sorted by start, for
// schedule.Calendar. They name no caller.
func (s *Store) BusyIntervals(ctx context.Context, tenantID string, from, to time.Time) ([]schedule.Interval, error) {
	var out []schedule.Interval
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT lower(during), upper(during) FROM bookings
			WHERE status = 'booked' AND during && tstzrange($1, $2, '[)')
			ORDER BY lower(during)`, from, to)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[schedule.Interval])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("busy intervals: %w", err)
	}
	return out, nil
}

// isExclusionViolation reports SQLSTATE 23P01: a row conflicted with an exclusion constraint.
func isExclusionViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23P01"
}
