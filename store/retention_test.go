package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/tenantspec"
)

// TestBlankMessageBodiesKeepsTheRowsAndTheYoungText: text older than the tenant's retention is
// gone, the row stays; younger text and other tenants' text are untouched.
func TestBlankMessageBodiesKeepsTheRowsAndTheYoungText(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	a, b := createTenant(t, s, 1), createTenant(t, s, 2)
	p := tenantspec.DefaultProfile()
	p.MessageRetentionDays = 30
	if _, err := s.SetTenantProfile(ctx, a.ID, p); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tenant := range []string{a.ID, b.ID} {
		conv := openConv(t, s, tenant, callerA, "run-0")
		for i, age := range []int{40, 31, 29, 1} {
			if _, err := s.RecordInbound(ctx, InboundMessage{TenantID: tenant, ConversationID: conv, PhoneHash: hashOf(callerA),
				MessageSid: fmt.Sprintf("SM%032d", i), Body: fmt.Sprintf("said %d days ago", age), ReceivedAt: now.AddDate(0, 0, -age)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	prof, err := s.TenantProfile(ctx, a.ID)
	if err != nil || prof.MessageRetentionDays != 30 {
		t.Fatalf("profile retention %d (%v)", prof.MessageRetentionDays, err)
	}
	n, err := s.BlankMessageBodies(ctx, a.ID, now.AddDate(0, 0, -prof.MessageRetentionDays))
	if err != nil || n != 2 {
		t.Fatalf("blanked %d (%v), want the 40- and 31-day-old texts", n, err)
	}
	bodies := func(tenant string) []string {
		var out []string
		if err := s.InTenant(ctx, tenant, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT body FROM messages ORDER BY occurred_at`)
			if err != nil {
				return err
			}
			out, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := bodies(a.ID); fmt.Sprint(got) != fmt.Sprint([]string{"", "", "said 29 days ago", "said 1 days ago"}) {
		t.Fatalf("tenant a's messages %q", got)
	}
	if got := bodies(b.ID); len(got) != 4 || got[0] != "said 40 days ago" {
		t.Fatalf("another tenant's messages were touched: %q", got)
	}
	// Nothing older is left: a second sweep finds nothing to do.
	if n, err := s.BlankMessageBodies(ctx, a.ID, now.AddDate(0, 0, -30)); err != nil || n != 0 {
		t.Fatalf("second sweep blanked %d (%v)", n, err)
	}
}
