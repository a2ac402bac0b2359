package sms

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/pii"
)

func maskedBody(body string) string {
	masked, _ := pii.Mask(body, pii.Options{})
	return masked
}

// Sandbox stands in for Twilio when RINGBACK_ENV=dev has no Twilio account: every text is
// recorded in control.sandbox_messages and printed with the recipient and any personal data in
// the body masked. Nothing leaves
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
	// DO UPDATE (a no-op) instead of DO NOTHING so the row is returned even when a concurrent send
	// of the same key committed it first; xmax = 0 only on a fresh insert.
	err := s.pool.QueryRow(ctx, `
		INSERT INTO control.sandbox_messages (tenant_id, idempotency_key, from_number, to_number, body)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
		RETURNING id, (xmax = 0)`, m.TenantID, m.IdempotencyKey, m.From, m.To, m.Body).Scan(&id, &inserted)
	if err != nil {
		return "", fmt.Errorf("sandbox sms: %w", err)
	}
	sid := fmt.Sprintf("SANDBOX%d", id)
	if inserted {
		s.log.Info("SANDBOX text (not sent to any phone)",
			slog.String("tenant_id", m.TenantID),
			slog.String("to", phone.Mask(m.To)),
			slog.String("message_id", sid),
			// The body is masked too: an AI reply can quote numbers, emails or cards.
			slog.String("body", maskedBody(m.Body)))
	}
	return sid, nil
}
