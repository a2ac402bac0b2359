package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestBillingAccountUpsertAndLookup(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	a := createTenant(t, s, 1)
	b := createTenant(t, s, 2)

	if _, err := s.BillingAccount(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("account before creation: %v, want ErrNotFound", err)
	}
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: a.ID, CustomerID: "cus_A1"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.BillingAccountByCustomer(ctx, "cus_A1")
	if err != nil {
		t.Fatal(err)
	}
	if got.TenantID != a.ID || got.TenantStatus != TenantStatusActive || got.SubscriptionID != "" {
		t.Errorf("by customer = %+v, want tenant %s, active, no subscription", got, a.ID)
	}

	// The subscription joins the account; a later customer-only upsert keeps it, and the status
	// from creation does not overwrite what a webhook delivered since.
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: a.ID, CustomerID: "cus_A1", SubscriptionID: "sub_A1", SubscriptionStatus: "incomplete"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordSubscriptionStatus(ctx, SubscriptionEvent{CustomerID: "cus_A1", SubscriptionID: "sub_A1", Status: "active", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: a.ID, CustomerID: "cus_A1", SubscriptionID: "sub_A1", SubscriptionStatus: "incomplete"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: a.ID, CustomerID: "cus_A1"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.BillingAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomerID != "cus_A1" || got.SubscriptionID != "sub_A1" || got.SubscriptionStatus != "active" {
		t.Errorf("account = %+v, want cus_A1 / sub_A1 / active", got)
	}

	// One customer pays for one tenant.
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: b.ID, CustomerID: "cus_A1"}); err == nil {
		t.Error("a second tenant took the first tenant's Stripe customer")
	}
	if _, err := s.BillingAccountByCustomer(ctx, "cus_Unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown customer: %v, want ErrNotFound", err)
	}

	for _, bad := range []BillingAccount{
		{TenantID: "nope", CustomerID: "cus_A2"},
		{TenantID: b.ID, CustomerID: ""},
		{TenantID: b.ID, CustomerID: "cus_4111111111111111"},
		{TenantID: b.ID, CustomerID: "cus 1"},
		{TenantID: b.ID, CustomerID: "cus_B1", SubscriptionID: "sub-1"},
		{TenantID: b.ID, CustomerID: "cus_B1", SubscriptionStatus: "active"},
		{TenantID: b.ID, CustomerID: "cus_B1", SubscriptionID: "sub_B1", SubscriptionStatus: "Active!"},
	} {
		if err := s.UpsertBillingAccount(ctx, bad); err == nil {
			t.Errorf("UpsertBillingAccount(%+v) accepted", bad)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM control.billing_accounts WHERE tenant_id = $1`, b.ID); n != 0 {
		t.Errorf("%d rows for tenant b after only invalid upserts", n)
	}
}

func TestRecordSubscriptionStatusOrdering(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		sub, status string
		at          time.Time
		applied     bool
		// wantSub and wantStatus are the account afterwards.
		wantSub, wantStatus string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{"sub_1", "incomplete", t0, true, "sub_1", "incomplete"},
			{"sub_1", "active", t0.Add(time.Minute), true, "sub_1", "active"},
			{"sub_1", "canceled", t0.Add(time.Hour), true, "sub_1", "canceled"},
		}},
		{"an older event arrives late", []step{
			{"sub_1", "past_due", t0.Add(time.Hour), true, "sub_1", "past_due"},
			{"sub_1", "active", t0, false, "sub_1", "past_due"},
		}},
		{"an ended subscription is not revived by an update from the same second", []step{
			{"sub_1", "canceled", t0, true, "sub_1", "canceled"},
			{"sub_1", "active", t0, false, "sub_1", "canceled"},
		}},
		{"a new subscription replaces the old one", []step{
			{"sub_1", "canceled", t0, true, "sub_1", "canceled"},
			{"sub_2", "active", t0.Add(time.Hour), true, "sub_2", "active"},
		}},
		{"the end of a replaced subscription is ignored", []step{
			{"sub_2", "active", t0, true, "sub_2", "active"},
			{"sub_1", "canceled", t0.Add(time.Minute), false, "sub_2", "active"},
		}},
	}
	s := openStore(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := createTenant(t, s, 10+i)
			customer := fmt.Sprintf("cus_Order%d", i)
			if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: tn.ID, CustomerID: customer}); err != nil {
				t.Fatal(err)
			}
			for j, st := range tt.steps {
				c, err := s.RecordSubscriptionStatus(ctx, SubscriptionEvent{CustomerID: customer, SubscriptionID: st.sub, Status: st.status, At: st.at})
				if err != nil {
					t.Fatalf("step %d: %v", j, err)
				}
				if c.Applied != st.applied || c.TenantID != tn.ID || c.TenantStatus != TenantStatusActive {
					t.Errorf("step %d: %+v, want applied=%v for tenant %s (active)", j, c, st.applied, tn.ID)
				}
				acc, err := s.BillingAccount(ctx, tn.ID)
				if err != nil {
					t.Fatal(err)
				}
				if acc.SubscriptionID != st.wantSub || acc.SubscriptionStatus != st.wantStatus {
					t.Errorf("step %d: account has %s/%s, want %s/%s", j, acc.SubscriptionID, acc.SubscriptionStatus, st.wantSub, st.wantStatus)
				}
			}
		})
	}
	if _, err := s.RecordSubscriptionStatus(ctx, SubscriptionEvent{CustomerID: "cus_Nobody", SubscriptionID: "sub_1", Status: "active", At: t0}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown customer: %v, want ErrNotFound", err)
	}
}

func TestRecordInvoiceIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 1)
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	record := func(invoice, status string, amount int64, at time.Time) bool {
		t.Helper()
		changed, err := s.RecordInvoice(ctx, BillingRecord{
			InvoiceID: invoice, TenantID: tn.ID, CustomerID: "cus_A1", Status: status, AmountMinor: amount, Currency: "usd",
			PeriodStart: at.AddDate(0, -1, 0), PeriodEnd: at, OccurredAt: at,
		})
		if err != nil {
			t.Fatal(err)
		}
		return changed
	}
	steps := []struct {
		invoice, status string
		at              time.Time
		wantChanged     bool
	}{
		{"in_1", InvoicePaid, at, true},
		{"in_1", InvoicePaid, at, false},                          // a replay
		{"in_1", InvoicePaymentFailed, at.Add(-time.Hour), false}, // a failure reported after the payment
		{"in_2", InvoicePaymentFailed, at, true},
		{"in_2", InvoicePaymentFailed, at.Add(time.Hour), false}, // another failed attempt
		{"in_2", InvoicePaid, at.Add(48 * time.Hour), true},
	}
	for i, st := range steps {
		if got := record(st.invoice, st.status, 2900, st.at); got != st.wantChanged {
			t.Errorf("step %d (%s %s): changed = %v, want %v", i, st.invoice, st.status, got, st.wantChanged)
		}
	}
	records, err := s.BillingRecords(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 {
		t.Fatalf("%d records, want 2: %+v", len(records), records)
	}
	for _, r := range records {
		if r.Status != InvoicePaid || r.AmountMinor != 2900 || r.Currency != "usd" || r.PeriodEnd.IsZero() {
			t.Errorf("record %+v, want paid 2900 usd with a period", r)
		}
	}
	if !records[1].OccurredAt.Equal(at.Add(48 * time.Hour)) {
		t.Errorf("in_2 occurred at %v, want the payment's time", records[1].OccurredAt)
	}

	for _, bad := range []BillingRecord{
		{InvoiceID: "in_3", TenantID: tn.ID, CustomerID: "cus_A1", Status: "refunded", Currency: "usd", OccurredAt: at},
		{InvoiceID: "in_3", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, AmountMinor: 4111111111111111, Currency: "usd", OccurredAt: at},
		{InvoiceID: "in_3", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, AmountMinor: -1, Currency: "usd", OccurredAt: at},
		{InvoiceID: "in_3", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, Currency: "USD", OccurredAt: at},
		{InvoiceID: "in_4111111111111111", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, Currency: "usd", OccurredAt: at},
		{InvoiceID: "in_3", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, Currency: "usd"},
	} {
		if _, err := s.RecordInvoice(ctx, bad); err == nil {
			t.Errorf("RecordInvoice(%+v) accepted", bad)
		}
	}
}

func TestClaimStripeEventOnce(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)

	first, err := s.ClaimStripeEvent(ctx, "evt_Once", "invoice.paid")
	if err != nil || !first {
		t.Fatalf("first claim = %v, %v; want true", first, err)
	}
	again, err := s.ClaimStripeEvent(ctx, "evt_Once", "invoice.paid")
	if err != nil || again {
		t.Fatalf("second claim = %v, %v; want false", again, err)
	}
	if _, err := s.ClaimStripeEvent(ctx, "evt 1; DROP", "invoice.paid"); err == nil {
		t.Error("a malformed event id was claimed")
	}

	// Concurrent deliveries of one event: exactly one wins.
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimStripeEvent(ctx, "evt_Race", "customer.subscription.deleted")
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent claims won, want 1", wins.Load())
	}
}

func TestHandleStripeEventReleasesClaimOnFailure(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 1)
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: tn.ID, CustomerID: "cus_A1"}); err != nil {
		t.Fatal(err)
	}
	invoice := BillingRecord{InvoiceID: "in_1", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, AmountMinor: 100, Currency: "usd", OccurredAt: time.Now()}
	boom := errors.New("closure service unavailable")

	// The invoice is recorded, then the handler fails: neither the record nor the claim stays.
	claimed, err := s.HandleStripeEvent(ctx, "evt_1", "invoice.paid", func(tx StripeEventTx) error {
		if _, err := tx.RecordInvoice(ctx, invoice); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || claimed {
		t.Fatalf("failing handler: claimed=%v err=%v, want the handler's error", claimed, err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.stripe_events`); n != 0 {
		t.Errorf("%d event rows after a failed handler, want 0", n)
	}
	if n := count(t, s, `SELECT count(*) FROM control.billing_records`); n != 0 {
		t.Errorf("%d billing records after a failed handler, want 0", n)
	}

	// The redelivery is handled, once.
	calls := 0
	for i := range 3 {
		claimed, err := s.HandleStripeEvent(ctx, "evt_1", "invoice.paid", func(tx StripeEventTx) error {
			calls++
			_, err := tx.RecordInvoice(ctx, invoice)
			return err
		})
		if err != nil || claimed != (i == 0) {
			t.Fatalf("delivery %d: claimed=%v err=%v", i, claimed, err)
		}
	}
	if calls != 1 {
		t.Errorf("handler ran %d times over three deliveries, want 1", calls)
	}
	if n := count(t, s, `SELECT count(*) FROM control.stripe_events WHERE processed_at IS NOT NULL`); n != 1 {
		t.Errorf("%d processed event rows, want 1", n)
	}
	if n := count(t, s, `SELECT count(*) FROM control.billing_records`); n != 1 {
		t.Errorf("%d billing records, want 1", n)
	}
}

func TestPruneBillingRecords(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 1)
	now := time.Date(2033, 6, 1, 0, 0, 0, 0, time.UTC)
	cutoff := now.Add(-BillingRetention)
	for i, at := range []time.Time{
		cutoff.Add(-24 * time.Hour), // older than seven years
		cutoff.Add(-time.Second),    // just older
		cutoff.Add(time.Second),     // just inside
		now.Add(-24 * time.Hour),
	} {
		if _, err := s.RecordInvoice(ctx, BillingRecord{
			InvoiceID: fmt.Sprintf("in_%d", i), TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid,
			AmountMinor: 2900, Currency: "usd", OccurredAt: at,
		}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneBillingRecords(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("pruned %d, want 2", n)
	}
	left, err := s.BillingRecords(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].InvoiceID != "in_2" || left[1].InvoiceID != "in_3" {
		t.Errorf("left %+v, want in_2 and in_3", left)
	}
	if n, err := s.PruneBillingRecords(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second prune = %d, %v; want 0", n, err)
	}
	if _, err := s.PruneBillingRecords(ctx, time.Time{}); err == nil {
		t.Error("prune without a cut-off accepted")
	}
	// The sweep can find old rows without reading the table.
	if n := count(t, s, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'control' AND tablename = 'billing_records' AND indexdef LIKE '%(occurred_at)%'`); n != 1 {
		t.Errorf("%d indexes on billing_records (occurred_at), want 1", n)
	}
}

func TestBillingSurvivesTenantErasure(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 1)
	if err := s.UpsertBillingAccount(ctx, BillingAccount{TenantID: tn.ID, CustomerID: "cus_A1", SubscriptionID: "sub_A1", SubscriptionStatus: "active"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordInvoice(ctx, BillingRecord{InvoiceID: "in_1", TenantID: tn.ID, CustomerID: "cus_A1", Status: InvoicePaid, AmountMinor: 2900, Currency: "usd", OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `DELETE FROM control.tenants WHERE id = $1`, tn.ID); err != nil {
		t.Fatal(err)
	}
	acc, err := s.BillingAccountByCustomer(ctx, "cus_A1")
	if err != nil {
		t.Fatalf("billing account after the tenant's erasure: %v", err)
	}
	if acc.TenantID != tn.ID || acc.TenantStatus != "" {
		t.Errorf("account %+v, want tenant %s with no tenant status", acc, tn.ID)
	}
	if records, err := s.BillingRecords(ctx, tn.ID); err != nil || len(records) != 1 {
		t.Errorf("billing records after erasure = %v, %v; want 1", records, err)
	}
}

// panForms are the ways a card number could be written into a column (P20).
var panForms = []string{
	"4111111111111111", "4242424242424242", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005",
	"cus_4111111111111111", "sub_4111111111111111", "in_4111111111111111", "evt_4111111111111111",
	"cus_x4111111111111111x", "evt_4111_1111_1111_1111",
}

// TestBillingSchemaCannotHoldCardNumbers reviews every column of the billing tables: each must be
// listed here with a valid value, and every text or number column must refuse a card number in
// any form. A column added later without review fails the test.
func TestBillingSchemaCannotHoldCardNumbers(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	valid := map[string]map[string]any{
		"billing_accounts": {
			"tenant_id": "abcdefghijklmnop", "stripe_customer_id": "cus_A1", "stripe_subscription_id": "sub_A1",
			"subscription_status": "active", "status_at": time.Now(), "created_at": time.Now(), "updated_at": time.Now(),
		},
		"billing_records": {
			"id":                nil, // generated always: no value can be written
			"stripe_invoice_id": "in_A1", "tenant_id": "abcdefghijklmnop", "stripe_customer_id": "cus_A1",
			"status": "paid", "amount_minor": int64(2900), "currency": "usd", "period_start": time.Now(),
			"period_end": time.Now().Add(time.Hour), "occurred_at": time.Now(), "created_at": time.Now(),
		},
		"stripe_events": {
			"id": "evt_A1", "type": "invoice.paid", "received_at": time.Now(), "processed_at": time.Now(),
		},
	}
	rows, err := s.Pool().Query(ctx, `
		SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'control' AND table_name = ANY($1) ORDER BY table_name, ordinal_position`,
		[]string{"billing_accounts", "billing_records", "stripe_events"})
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ Table, Name, Type string }
	columns, err := pgx.CollectRows(rows, pgx.RowToStructByPos[column])
	if err != nil {
		t.Fatal(err)
	}
	if len(columns) == 0 {
		t.Fatal("no billing columns found")
	}
	insert := func(table string, values map[string]any) error {
		var names, params []string
		var args []any
		for name, v := range values {
			if v == nil {
				continue
			}
			names = append(names, pgx.Identifier{name}.Sanitize())
			args = append(args, v)
			params = append(params, fmt.Sprintf("$%d", len(args)))
		}
		sql := "INSERT INTO control." + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
		// Each attempt is rolled back, so the valid row never conflicts with the next one.
		return pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, sql, args...); err != nil {
				return err
			}
			return errRollback
		})
	}
	for table, values := range valid {
		if err := insert(table, values); !errors.Is(err, errRollback) {
			t.Fatalf("the valid %s row is refused: %v", table, err)
		}
	}
	for _, c := range columns {
		v, reviewed := valid[c.Table][c.Name]
		if !reviewed {
			t.Errorf("%s.%s (%s) is not reviewed for card data", c.Table, c.Name, c.Type)
			continue
		}
		var candidates []any
		switch c.Type {
		case "text":
			for _, pan := range panForms {
				candidates = append(candidates, pan)
			}
		case "bigint":
			if v == nil {
				continue
			}
			candidates = []any{int64(4111111111111111), int64(378282246310005)}
		case "timestamp with time zone":
			continue
		default:
			t.Errorf("%s.%s has type %s, which the review does not cover", c.Table, c.Name, c.Type)
			continue
		}
		for _, pan := range candidates {
			row := map[string]any{}
			for k, v := range valid[c.Table] {
				row[k] = v
			}
			row[c.Name] = pan
			err := insert(c.Table, row)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
				t.Errorf("%s.%s accepted %v (err %v), want a check violation", c.Table, c.Name, pan, err)
			}
		}
	}
}

var errRollback = errors.New("rollback")

func TestPruneStripeEventsKeepsThirtyDays(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	for _, id := range []string{"evt_Old1", "evt_New1"} {
		if _, err := s.ClaimStripeEvent(ctx, id, "invoice.paid"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE control.stripe_events SET received_at = now() - interval '40 days' WHERE id = 'evt_Old1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneStripeEvents(ctx, time.Now().Add(-24*time.Hour)); err == nil {
		t.Fatal("a one-day cut-off was accepted: a redelivery could be handled twice")
	}
	n, err := s.PruneStripeEvents(ctx, time.Now().Add(-StripeEventRetention))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want the 40-day-old event", n, err)
	}
	if isNew, err := s.ClaimStripeEvent(ctx, "evt_New1", "invoice.paid"); err != nil || isNew {
		t.Fatalf("the recent event was forgotten: new=%v err=%v", isNew, err)
	}
}
