package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/conversation"
)

// Consent event kinds, matching control.consent_events.kind.
const (
	ConsentImpliedOptIn = "implied_opt_in"
	ConsentOptOut       = "opt_out"
	ConsentOptIn        = "opt_in"
)

// ConsentChange is an opt-out or re-opt-in carried by a caller's message.
type ConsentChange struct {
	TenantID  string
	PhoneHash string
	// MessageSid is the inbound message that carried the keyword; it makes the change idempotent.
	MessageSid string
	At         time.Time
}

// ConsentResult says what a change did.
type ConsentResult struct {
	// Changed is false when the caller was already in the requested state, or when this message
	// had been recorded before (a retried webhook).
	Changed bool
}

// RecordOptOut suppresses all texts to the caller from this tenant, with a consent event and an
// audit entry, in one transaction.
func (s *Store) RecordOptOut(ctx context.Context, c ConsentChange) (ConsentResult, error) {
	var res ConsentResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, inserted, err := s.consentEventTx(ctx, tx, c.TenantID, c.PhoneHash, ConsentOptOut, "keyword", c.MessageSid, c.At)
		if err != nil || !inserted {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO control.suppressions (tenant_id, phone_hash, opted_out_at, source_event_id)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, phone_hash) DO NOTHING`, c.TenantID, c.PhoneHash, c.At, id)
		if err != nil {
			return fmt.Errorf("suppress: %w", err)
		}
		res.Changed = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return ConsentResult{}, fmt.Errorf("record opt-out: %w", err)
	}
	return res, nil
}

// RecordOptIn lifts the caller's suppression (START, UNSTOP, YES), with a consent event and an
// audit entry, in one transaction.
func (s *Store) RecordOptIn(ctx context.Context, c ConsentChange) (ConsentResult, error) {
	var res ConsentResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, inserted, err := s.consentEventTx(ctx, tx, c.TenantID, c.PhoneHash, ConsentOptIn, "keyword", c.MessageSid, c.At)
		if err != nil || !inserted {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM control.suppressions WHERE tenant_id = $1 AND phone_hash = $2`, c.TenantID, c.PhoneHash)
		if err != nil {
			return fmt.Errorf("lift suppression: %w", err)
		}
		res.Changed = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return ConsentResult{}, fmt.Errorf("record opt-in: %w", err)
	}
	return res, nil
}

// Suppressed reports whether the caller opted out of this tenant's texts.
func (s *Store) Suppressed(ctx context.Context, tenantID, phoneHash string) (bool, error) {
	var suppressed bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM control.suppressions WHERE tenant_id = $1 AND phone_hash = $2)`,
		tenantID, phoneHash).Scan(&suppressed)
	if err != nil {
		return false, fmt.Errorf("check suppression: %w", err)
	}
	return suppressed, nil
}

// SendBlock says what stops an automated text to a recipient: an opt-out, or a restriction or
// objection of processing (a data-subject request).
type SendBlock struct {
	Suppressed bool
	Restricted bool
}

// SendBlocks reads both in one round trip: it runs right before every provider call.
func (s *Store) SendBlocks(ctx context.Context, tenantID, phoneHash string) (SendBlock, error) {
	var b SendBlock
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM control.suppressions WHERE tenant_id = $1 AND phone_hash = $2),
		       EXISTS (SELECT 1 FROM control.processing_restrictions
		               WHERE tenant_id = $1 AND phone_hash = $2 AND lifted_at IS NULL)`,
		tenantID, phoneHash).Scan(&b.Suppressed, &b.Restricted)
	if err != nil {
		return SendBlock{}, fmt.Errorf("check suppression and restriction: %w", err)
	}
	return b, nil
}

// ConsentEvent is one row of the consent ledger.
type ConsentEvent struct {
	ID         int64
	Kind       string
	Source     string
	SourceID   string
	OccurredAt time.Time
}

// ConsentHistory returns the caller's consent events with this tenant, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, tenantID, phoneHash string) ([]ConsentEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, kind, source, source_id, occurred_at FROM control.consent_events
		WHERE tenant_id = $1 AND phone_hash = $2 ORDER BY occurred_at, id`, tenantID, phoneHash)
	if err != nil {
		return nil, fmt.Errorf("consent history: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ConsentEvent])
	if err != nil {
		return nil, fmt.Errorf("consent history: %w", err)
	}
	return out, nil
}

// recordImpliedConsent writes the implied opt-in that contacting the business constitutes (TCPA:
// the caller initiated contact). It never lifts a suppression: a caller who said STOP and then
// calls again is still not texted until they say START.
func (s *Store) recordImpliedConsent(ctx context.Context, tx pgx.Tx, tenantID, phoneHash string, source conversation.Trigger, sourceID string, at time.Time) error {
	_, _, err := s.consentEventTx(ctx, tx, tenantID, phoneHash, ConsentImpliedOptIn, string(source), sourceID, at)
	return err
}

// consentEventTx appends a consent event once per (tenant, source id, kind) and, when new, its
// audit entry in the tenant's log with the caller's HMAC as subject. It returns the event's ID.
func (s *Store) consentEventTx(ctx context.Context, tx pgx.Tx, tenantID, phoneHash, kind, source, sourceID string, at time.Time) (int64, bool, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO control.consent_events (tenant_id, phone_hash, kind, source, source_id, occurred_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, source_id, kind) DO NOTHING
		RETURNING id`, tenantID, phoneHash, kind, source, sourceID, at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("record consent: %w", err)
	}
	if _, err := s.AppendAuditTx(ctx, tx, AuditEvent{
		LogID: tenantID, EventID: "consent." + kind + "/" + sourceID, Actor: ActorFrom(ctx),
		Action: "consent." + kind, Subject: phoneHash, OccurredAt: at,
		Payload: details(map[string]any{"source": source, "source_id": sourceID, "consent_event_id": id}),
	}); err != nil {
		return 0, false, err
	}
	return id, true, nil
}
