package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RecordEscalation records that a conversation was handed to a person and returns the
// escalation's ID. requestKey makes it idempotent: a retried activity gets the same row.
func (s *Store) RecordEscalation(ctx context.Context, tenantID string, conversationID int64, reason, requestKey string) (int64, error) {
	var id int64
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			INSERT INTO escalations (conversation_id, reason, request_key) VALUES ($1, $2, $3)
			ON CONFLICT (request_key) DO UPDATE SET request_key = escalations.request_key
			RETURNING id`, conversationID, reason, requestKey).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record escalation: %w", err)
	}
	return id, nil
}

// EscalationEvent is something that happened to an escalation after it was raised.
type EscalationEvent string

// Escalation events.
const (
	EscalationAcknowledged   EscalationEvent = "acknowledged"
	EscalationBackupNotified EscalationEvent = "backup_notified"
)

// MarkEscalation records when an escalation was acknowledged or passed to the backup contact.
// The first time is kept: a repeated mark changes nothing.
func (s *Store) MarkEscalation(ctx context.Context, tenantID string, id int64, event EscalationEvent, at time.Time) error {
	var sql string
	switch event {
	case EscalationAcknowledged:
		sql = `UPDATE escalations SET acknowledged_at = coalesce(acknowledged_at, $2) WHERE id = $1`
	case EscalationBackupNotified:
		sql = `UPDATE escalations SET notified_backup_at = coalesce(notified_backup_at, $2) WHERE id = $1`
	default:
		return fmt.Errorf("mark escalation: unknown event %q", event)
	}
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, id, at)
		if err == nil && tag.RowsAffected() == 0 {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("mark escalation %d: %w", id, err)
	}
	return nil
}
