package store

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/testenv"
)

var subjectBenchMessages = flag.Int("subject-bench-messages", 1_000_000,
	"BenchmarkSubjectData: messages of other callers in the tenant, ten per conversation")

// BenchmarkSubjectData reads one caller with 1,000 messages out of a tenant holding
// -subject-bench-messages messages of other callers, with a contact, a conversation and a missed
// call per ten of them and consent events and delivery records to match. The target is 200 ms
// per read. Seeding a million messages takes a minute or two.
//
//	go test -run '^$' -bench SubjectData -benchtime 20x ./store/
func BenchmarkSubjectData(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, testenv.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	s.SetAuditSigner(testenv.AuditSigner(b))
	tn, err := s.CreateTenant(ctx, spec(60))
	if err != nil {
		b.Fatal(err)
	}
	sub := seedTenant(b, s, tn.ID, *subjectBenchMessages)
	logPlans(b, s, sub)

	b.ResetTimer()
	for b.Loop() {
		rec, err := s.SubjectData(ctx, sub)
		if err != nil {
			b.Fatal(err)
		}
		if len(rec.Messages) != 1000 || len(rec.Calls) != 10 || len(rec.ConsentEvents) != 1010 {
			b.Fatalf("read %d messages, %d calls, %d consent events", len(rec.Messages), len(rec.Calls), len(rec.ConsentEvents))
		}
	}
}

// seedTenant fills the tenant with n messages of other callers and returns the subject, who has
// 1,000 messages over ten conversations, ten calls, two bookings, 1,010 consent events and ten
// delivery records.
func seedTenant(tb testing.TB, s *Store, tenantID string, n int) Subject {
	tb.Helper()
	ctx := context.Background()
	sub := subjectOf(tenantID, callerA)
	args := pgx.NamedArgs{"tenant": tenantID, "callers": max(n/10, 1), "number": sub.PhoneE164, "hash": sub.PhoneHash}
	start := time.Now()
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
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
			 SELECT 'conv/' || i || '#' || m, @tenant, 'sms', encode(sha256(('other' || i)::bytea), 'hex'), 'sent'
			 FROM generate_series(1, @callers::int) i CROSS JOIN generate_series(1, 5) m`,
			`INSERT INTO control.consent_events (tenant_id, phone_hash, kind, source, source_id, occurred_at)
			 SELECT @tenant, @hash, 'implied_opt_in', 'inbound_sms', 'SM-subject-' || m, now() FROM generate_series(1, 1010) m`,
			`INSERT INTO control.outbox (idempotency_key, tenant_id, channel, recipient_hash, status)
			 SELECT 'conv/subject#' || m, @tenant, 'sms', @hash, 'sent' FROM generate_series(1, 10) m`,
		} {
			if _, err := tx.Exec(ctx, q, args); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("seed tenant: %v", err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d messages of others in %s", max(n/10, 1)*10, time.Since(start).Round(time.Second))
	return sub
}

// logPlans logs how the largest tables are read, with timings, for the report.
func logPlans(tb testing.TB, s *Store, sub Subject) {
	tb.Helper()
	ctx := context.Background()
	err := s.InTenant(ctx, sub.TenantID, func(tx pgx.Tx) error {
		args := sub.args()
		var contact int64
		if err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE phone_hash = @hash`, args).Scan(&contact); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE contact_id = $1`, contact)
		if err != nil {
			return err
		}
		convs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		args["contact"], args["conversations"] = contact, convs
		for name, sql := range map[string]string{"messages": subjectMessagesSQL, "calls": subjectCallsSQL,
			"consent events": subjectConsentSQL, "outbox": subjectOutboxSQL} {
			rows, err := tx.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+sql, args)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			tb.Logf("%s:\n%s", name, strings.Join(lines, "\n"))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
