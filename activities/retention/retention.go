// Package retention holds the sweeps that keep the retention promises: audit payloads for a year,
// billing records for seven, data-subject request records for 24 months, message text for as
// long as each business chose.
package retention

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/store"
)

// Periods the sweeps keep records for.
const (
	// BillingRecords are kept 7 years (tax and accounting law; promise P14).
	BillingRecords = 7
	// DSRRecordMonths: CCPA regulations (11 CCR § 7101) keep request records 24 months.
	DSRRecordMonths = 24
)

// Retention carries the sweeps' dependencies.
type Retention struct {
	Store *store.Store
	Log   *slog.Logger
}

// SweepInput is the instant the sweep counts back from: the schedule's time, so a retried sweep
// cuts at the same place.
type SweepInput struct {
	Now time.Time
}

// PruneAuditPayloads drops the payloads of audit entries older than a year; hashes and
// checkpoints stay, so every log still verifies.
func (r *Retention) PruneAuditPayloads(ctx context.Context, in SweepInput) (int, error) {
	cutoff := auditlog.RetentionCutoff(in.Now)
	// The store refuses a cutoff younger than a year before its own clock; the schedule's time
	// can lead that clock by a little, so the later of the two never cuts short.
	if wall := auditlog.RetentionCutoff(time.Now()); cutoff.After(wall) {
		cutoff = wall
	}
	return r.Store.PruneAuditPayloads(ctx, cutoff)
}

// PruneBillingRecords deletes billing records older than seven years.
func (r *Retention) PruneBillingRecords(ctx context.Context, in SweepInput) (int, error) {
	return r.Store.PruneBillingRecords(ctx, in.Now.AddDate(-BillingRecords, 0, 0))
}

// PruneDSRRecords deletes data-subject request records closed more than 24 months ago.
func (r *Retention) PruneDSRRecords(ctx context.Context, in SweepInput) (int, error) {
	return r.Store.PruneDSRRecords(ctx, in.Now.AddDate(0, -DSRRecordMonths, 0))
}

// PruneStripeEvents forgets handled Stripe event ids after 30 days; redeliveries stop after 3.
func (r *Retention) PruneStripeEvents(ctx context.Context, in SweepInput) (int, error) {
	cutoff := in.Now.Add(-store.StripeEventRetention)
	if wall := time.Now().Add(-store.StripeEventRetention); cutoff.After(wall) {
		cutoff = wall
	}
	return r.Store.PruneStripeEvents(ctx, cutoff)
}

// BlankOldMessageBodies removes message text older than each tenant's retention
// (message_retention_days in its profile).
func (r *Retention) BlankOldMessageBodies(ctx context.Context, in SweepInput) (int64, error) {
	ids, err := r.Store.TenantIDs(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, id := range ids {
		p, err := r.Store.TenantProfile(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // erased since the list was read
		}
		if err != nil {
			return total, err
		}
		n, err := r.Store.BlankMessageBodies(ctx, id, in.Now.AddDate(0, 0, -p.MessageRetentionDays))
		if err != nil {
			return total, err
		}
		total += n
		activity.RecordHeartbeat(ctx, id)
		if n > 0 && r.Log != nil {
			r.Log.Info("message bodies past retention blanked", slog.String("tenant_id", id), slog.Int64("messages", n))
		}
	}
	return total, nil
}
