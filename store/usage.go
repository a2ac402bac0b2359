package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/tenantspec"
)

// Usage counts what happened for one tenant in a period, from the stored rows themselves: the
// numbers a business owner is billed and reported on are the ones anyone can recount.
type Usage struct {
	MissedCalls   int64 `json:"missed_calls"`
	Conversations int64 `json:"conversations"`
	// Bookings are new appointments; a reschedule is counted in BookingsRescheduled instead, and
	// the booking it replaced is not counted as cancelled.
	Bookings            int64 `json:"bookings"`
	BookingsRescheduled int64 `json:"bookings_rescheduled"`
	BookingsCancelled   int64 `json:"bookings_cancelled"`
	Escalations         int64 `json:"escalations"`
	OptOuts             int64 `json:"opt_outs"`
	MessagesInbound     int64 `json:"messages_inbound"`
	MessagesOutbound    int64 `json:"messages_outbound"`
}

// Usage counts the tenant's activity in [from, to): missed calls by when they rang, conversations
// by when they opened, bookings by when they were made or cancelled, escalations by when they were
// raised, opt-outs by when they were received and texts by when they were received or sent.
func (s *Store) Usage(ctx context.Context, tenantID string, from, to time.Time) (Usage, error) {
	if !tenantspec.ValidID(tenantID) {
		return Usage{}, ErrNotFound
	}
	if !to.After(from) {
		return Usage{}, errors.New("usage: the period must end after it starts")
	}
	var u Usage
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT
				(SELECT count(*) FROM calls WHERE occurred_at >= $1 AND occurred_at < $2),
				(SELECT count(*) FROM conversations WHERE opened_at >= $1 AND opened_at < $2),
				(SELECT count(*) FROM bookings WHERE created_at >= $1 AND created_at < $2 AND replaces IS NULL),
				(SELECT count(*) FROM bookings WHERE created_at >= $1 AND created_at < $2 AND replaces IS NOT NULL),
				(SELECT count(*) FROM bookings b WHERE b.cancelled_at >= $1 AND b.cancelled_at < $2
					AND NOT EXISTS (SELECT 1 FROM bookings r WHERE r.replaces = b.id)),
				(SELECT count(*) FROM escalations WHERE created_at >= $1 AND created_at < $2),
				(SELECT count(*) FROM control.consent_events
					WHERE tenant_id = $3 AND kind = $4 AND occurred_at >= $1 AND occurred_at < $2),
				(SELECT count(*) FROM messages WHERE direction = 'inbound' AND occurred_at >= $1 AND occurred_at < $2),
				(SELECT count(*) FROM messages WHERE direction = 'outbound' AND occurred_at >= $1 AND occurred_at < $2)`,
			from, to, tenantID, ConsentOptOut,
		).Scan(&u.MissedCalls, &u.Conversations, &u.Bookings, &u.BookingsRescheduled, &u.BookingsCancelled,
			&u.Escalations, &u.OptOuts, &u.MessagesInbound, &u.MessagesOutbound)
	})
	if err != nil {
		return Usage{}, fmt.Errorf("usage: %w", err)
	}
	return u, nil
}

// DefaultUsageDays is the period a usage report covers when none is asked for: the last 30 days,
// today included.
const DefaultUsageDays = 30

// dateLayout is how report periods are written: 2026-11-30.
const dateLayout = time.DateOnly

// UsageDays is a report period of whole days in the tenant's zone, From to To inclusive, and the
// instants [Start, End) that Usage counts.
type UsageDays struct {
	From, To   string // YYYY-MM-DD
	Start, End time.Time
}

// ParseUsageDays reads a report period from YYYY-MM-DD dates in loc, either of which may be
// empty: without to, the period ends today (at now); without from, it is DefaultUsageDays long.
// Errors name the field and read well as an answer to whoever typed it.
func ParseUsageDays(from, to string, loc *time.Location, now time.Time) (UsageDays, error) {
	parse := func(field, v string) (time.Time, error) {
		d, err := time.ParseInLocation(dateLayout, v, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %q is not a date (want YYYY-MM-DD)", field, v)
		}
		return d, nil
	}
	now = now.In(loc)
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if to != "" {
		d, err := parse("to", to)
		if err != nil {
			return UsageDays{}, err
		}
		last = d
	}
	first := last.AddDate(0, 0, -(DefaultUsageDays - 1))
	if from != "" {
		d, err := parse("from", from)
		if err != nil {
			return UsageDays{}, err
		}
		first = d
	}
	if first.After(last) {
		return UsageDays{}, fmt.Errorf("from: %s is after to (%s)", first.Format(dateLayout), last.Format(dateLayout))
	}
	// Midnight of the day after, not 24 hours later: a day in the tenant's zone can be 23 or 25
	// hours long.
	end := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, loc)
	return UsageDays{From: first.Format(dateLayout), To: last.Format(dateLayout), Start: first, End: end}, nil
}

// UsageReport is a tenant's usage over whole days of its zone, as the API and the CLI show it.
type UsageReport struct {
	TenantID string `json:"tenant_id"`
	Timezone string `json:"timezone"`
	From     string `json:"from"`
	To       string `json:"to"`
	Usage
}
