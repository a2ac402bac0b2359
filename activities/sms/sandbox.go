package sms

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ringback/ringback/internal/phone"
)

// Sandbox stands in for Twilio when RINGBACK_ENV=dev has no Twilio account: every text is
// recorded in control.sandbox_messages and printed with the recipient masked. Nothing leaves
// the machine.
type Sandbox struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// NewSandbox returns a sandbox sender.
func NewSandbox(pool *pgxpool.Pool, log *slog.Logger) *Sandbox {
	return &Sandbox{pool: pool, log: log}
}

// Send records m once per idempotency key and returns a sandbox message ID.
func (s *Sandbox) Send(ctx context.Context, m Message) (string, error) {
	var id int64
	var inserted bool
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO control.sandbox_messages (tenant_id, idempotency_key, from_number, to_number, body)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (idempotency_key) DO NOTHING
			RETURNING id)
		SELECT id, true FROM ins
		UNION ALL
		SELECT id, false FROM control.sandbox_messages WHERE idempotency_key = $2
		LIMIT 1`, m.TenantID, m.IdempotencyKey, m.From, m.To, m.Body).Scan(&id, &inserted)
	if err != nil {
		return "", fmt.Errorf("sandbox sms: %w", err)
	}
	sid := fmt.Sprintf("SANDBOX%d", id)
	if inserted {
		s.log.Info("SANDBOX text (not sent to any phone)",
			slog.String("tenant_id", m.TenantID),
			slog.String("to", phone.Mask(m.To)),
			slog.String("message_id", sid),
			slog.String("body", m.Body))
	}
	return sid, nil
}
