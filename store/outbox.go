package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outbox statuses.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxEntry is the state of one outbound side effect.
type OutboxEntry struct {
	Status            string
	Attempts          int
	ProviderMessageID string
	// ClaimedAt is when the first attempt claimed the row: a provider-side record of the effect
	// cannot be older.
	ClaimedAt time.Time
}

// ClaimOutbox registers an attempt at the side effect identified by key and returns its state
// after the claim. A row already marked sent means the effect happened: the caller must not act.
func (s *Store) ClaimOutbox(ctx context.Context, key, tenantID, recipientHash string) (OutboxEntry, error) {
	var e OutboxEntry
	var provider *string
	err := s.pool.QueryRow(ctx, `
		INSERT INTO control.outbox (idempotency_key, tenant_id, channel, recipient_hash, status, attempts)
		VALUES ($1, $2, 'sms', $3, 'pending', 1)
		ON CONFLICT (idempotency_key) DO UPDATE
			SET attempts = control.outbox.attempts + CASE WHEN control.outbox.status = 'pending' THEN 1 ELSE 0 END,
			    updated_at = now()
		RETURNING status, attempts, provider_message_id, created_at`, key, tenantID, recipientHash).Scan(&e.Status, &e.Attempts, &provider, &e.ClaimedAt)
	if err != nil {
		return OutboxEntry{}, fmt.Errorf("claim outbox %s: %w", key, err)
	}
	if provider != nil {
		e.ProviderMessageID = *provider
	}
	return e, nil
}

// SentMessage is an outbound text the provider accepted.
type SentMessage struct {
	Key               string
	TenantID          string
	ConversationID    int64
	Body              string
	ProviderMessageID string
	SentAt            time.Time
}

// CompleteOutbox marks the side effect done and stores the message in the tenant's history, in
// one transaction so neither can exist without the other.
func (s *Store) CompleteOutbox(ctx context.Context, m SentMessage) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE control.outbox SET status = 'sent', provider_message_id = $2, failure = NULL, updated_at = now()
			WHERE idempotency_key = $1 AND status IN ('pending', 'sent')`, m.Key, m.ProviderMessageID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("no pending claim: %w", ErrNotFound)
		}
		if m.ConversationID == 0 {
			return nil // a consent reply outside any conversation: the outbox row is the record
		}
		return inTenantTx(ctx, tx, m.TenantID, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `
				INSERT INTO messages (conversation_id, direction, body, dedupe_key, provider_message_id, occurred_at)
				VALUES ($1, 'outbound', $2, $3, $4, $5)
				ON CONFLICT (dedupe_key) DO NOTHING`, m.ConversationID, m.Body, m.Key, m.ProviderMessageID, m.SentAt)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("complete outbox %s: %w", m.Key, err)
	}
	return nil
}

// FailOutbox records that the side effect will never happen, with a reason free of PII.
func (s *Store) FailOutbox(ctx context.Context, key, reason string) error {
	if _, err := s.pool.Exec(ctx, `
		UPDATE control.outbox SET status = 'failed', failure = $2, updated_at = now()
		WHERE idempotency_key = $1 AND status = 'pending'`, key, reason); err != nil {
		return fmt.Errorf("fail outbox %s: %w", key, err)
	}
	return nil
}

// SentTexts returns when the texts to a recipient that the provider accepted since the given
// instant were sent, oldest first. State rules cap how many automated texts one recipient may
// get in 24 hours, and every conversation and confirmation counts.
func (s *Store) SentTexts(ctx context.Context, tenantID, recipientHash string, since time.Time) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT updated_at FROM control.outbox
		WHERE tenant_id = $1 AND recipient_hash = $2 AND channel = 'sms' AND status = 'sent' AND updated_at >= $3
		ORDER BY updated_at`, tenantID, recipientHash, since)
	if err != nil {
		return nil, fmt.Errorf("sent texts: %w", err)
	}
	times, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("sent texts: %w", err)
	}
	return times, nil
}
