package storetest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/store"
)

// Busy tenant shape: what SeedBusyTenant gives the subject, for callers to check reads against.
const (
	SubjectConversations = 10
	SubjectMessages      = 1_000 // a hundred per conversation
	SubjectCalls         = 10
	SubjectBookings      = 2
	SubjectConsentEvents = 1_010
	SubjectOutbox        = 10
)

// SeedBusyTenant fills a tenant with others messages of other callers (ten per conversation,
// with a contact and a missed call each, six consent events and five delivery records per
// caller) and gives sub the history the Subject* constants describe. It is the shape of the
// data-subject and erasure benchmarks: one caller's record found among a million messages. The
// others' hashes are SHA-256 of "other<i>", unrelated to any phone hash key.
func SeedBusyTenant(ctx context.Context, s *store.Store, sub store.Subject, others int) error {
	args := pgx.NamedArgs{"tenant": sub.TenantID, "callers": max(others/10, 1), "number": sub.PhoneE164, "hash": sub.PhoneHash}
	err := s.InTenant(ctx, sub.TenantID, func(tx pgx.Tx) error {
		for _, q := range []string{
			// Other callers: one contact, conversation and call each, ten messages per conversation.
			`INSERT INTO contacts (phone_e164, phone_hash)
			 SELECT '+1' || (2000000000 + i)::text, encode(sha256(('other' || i)::bytea), 'hex')
			 FROM generate_series(1, @callers::int) i`,
			`INSERT INTO conversations (contact_id, workflow_id, first_run_id, trigger, stage, opened_at)
			 SELECT id, 'conv/' || id, 'run', 'missed_call', 'closed', now() - make_interval(mins => id::int) FROM contacts`,
			`INSERT INTO calls (call_sid, contact_id, conversation_id, status, occurred_at)
			 SELECT 'CA' || id, contact_id, id, 'no-answer', opened_at FROM conversations`,
			`INSERT INTO messages (conversation_id, direction, body, dedupe_key, occurred_at)
			 SELECT c.id, CASE WHEN m % 2 = 0 THEN 'inbound' ELSE 'outbound' END, 'message ' || m, 'SM' || c.id || '-' || m,
			        c.opened_at + make_interval(secs => m)
			 FROM conversations c CROSS JOIN generate_series(1, 10) m`,
			// The subject: ten conversations of a hundred messages, a call each, two bookings.
			`INSERT INTO contacts (phone_e164, phone_hash) VALUES (@number, @hash)`,
			`INSERT INTO conversations (contact_id, workflow_id, first_run_id, trigger, stage, opened_at)
			 SELECT c.id, 'conv/subject', 'run-' || r, 'missed_call', 'closed', now() - make_interval(days => r)
			 FROM contacts c CROSS JOIN generate_series(1, 10) r WHERE c.phone_hash = @hash`,
			`INSERT INTO calls (call_sid, contact_id, conversation_id, status, occurred_at)
			 SELECT 'CA-subject-' || v.id, v.contact_id, v.id, 'busy', v.opened_at
			 FROM conversations v JOIN contacts c ON c.id = v.contact_id WHERE c.phone_hash = @hash`,
			`INSERT INTO messages (conversation_id, direction, body, dedupe_key, occurred_at)
			 SELECT v.id, 'inbound', 'subject message ' || m, 'SM-subject-' || v.id || '-' || m, v.opened_at + make_interval(secs => m)
			 FROM conversations v JOIN contacts c ON c.id = v.contact_id CROSS JOIN generate_series(1, 100) m
			 WHERE c.phone_hash = @hash`,
			`INSERT INTO bookings (contact_id, service, during, name, request_key)
			 SELECT c.id, 'Haircut', tstzrange(now() + make_interval(days => d), now() + make_interval(days => d, hours => 1)),
			        'Sam', 'subject-booking-' || d
			 FROM contacts c CROSS JOIN generate_series(1, 2) d WHERE c.phone_hash = @hash`,
			// Control rows to match: a consent event per call and inbound text and a delivery
			// record per outbound text, for everyone.
			`INSERT INTO control.consent_events (tenant_id, phone_hash, kind, source, source_id, occurred_at)
			 SELECT @tenant, encode(sha256(('other' || i)::bytea), 'hex'), 'implied_opt_in', 'inbound_sms', 'SM' || i || '-' || m, now()
			 FROM generate_series(1, @callers::int) i CROSS JOIN generate_series(1, 6) m`,
			`INSERT INTO control.outbox (idempotency_key, tenant_id, channel, recipient_hash, status)
			 SELECT 'conv/' || @tenant || '/' || i || '#' || m, @tenant, 'sms', encode(sha256(('other' || i)::bytea), 'hex'), 'sent'
			 FROM generate_series(1, @callers::int) i CROSS JOIN generate_series(1, 5) m`,
			`INSERT INTO control.consent_events (tenant_id, phone_hash, kind, source, source_id, occurred_at)
			 SELECT @tenant, @hash, 'implied_opt_in', 'inbound_sms', 'SM-subject-' || m, now() FROM generate_series(1, 1010) m`,
			`INSERT INTO control.outbox (idempotency_key, tenant_id, channel, recipient_hash, status)
			 SELECT 'conv/' || @tenant || '/subject#' || m, @tenant, 'sms', @hash, 'sent' FROM generate_series(1, 10) m`,
		} {
			if _, err := tx.Exec(ctx, q, args); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed tenant: %w", err)
	}
	// Plans are chosen from statistics; without them a freshly filled table is read as empty.
	if _, err := s.Pool().Exec(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
