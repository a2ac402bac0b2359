package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/pii"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

const (
	stripeSecret   = "whsec_test_0123456789abcdef"
	stripeCustomer = "cus_Demo"
	stripeSub      = "sub_Demo"
	// A card number and personal data that Stripe's invoice objects carry and nothing may keep.
	stripeCardInPayload = "4242 4242 4242 4242"
	stripeCustomerName  = "Jane Caller"
	stripeCustomerEmail = "jane.caller@example.com"
)

// closureCall is one call the Stripe webhook made to the closures.
type closureCall struct {
	TenantID, Reason, Actor string
}

// stripeClosures records what the webhook asked of account closures. startErrs fail the first
// StartClosure calls, in order; reactivateErr fails every Reactivate.
type stripeClosures struct {
	mu            sync.Mutex
	starts        []closureCall
	reactivations []closureCall
	startErrs     []error
	reactivateErr error
}

func (f *stripeClosures) StartClosure(_ context.Context, tenantID, reason, actor string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.startErrs) > 0 {
		err := f.startErrs[0]
		f.startErrs = f.startErrs[1:]
		return err
	}
	f.starts = append(f.starts, closureCall{tenantID, reason, actor})
	return nil
}

func (f *stripeClosures) Reactivate(_ context.Context, tenantID, actor string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reactivateErr != nil {
		return f.reactivateErr
	}
	f.reactivations = append(f.reactivations, closureCall{TenantID: tenantID, Actor: actor})
	return nil
}

// The rest of the closure API is not the webhook's to call.
func (f *stripeClosures) DeleteNow(context.Context, string, string) error {
	return errors.New("the Stripe webhook must not delete")
}
func (f *stripeClosures) Hold(context.Context, string, string, string) error {
	return errors.New("the Stripe webhook must not hold")
}
func (f *stripeClosures) Release(context.Context, string, string) error {
	return errors.New("the Stripe webhook must not release")
}
func (f *stripeClosures) State(context.Context, string) (workflows.ClosureState, error) {
	return workflows.ClosureState{}, errors.New("the Stripe webhook must not query")
}

func (f *stripeClosures) calls() (starts, reactivations []closureCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]closureCall(nil), f.starts...), append([]closureCall(nil), f.reactivations...)
}

// stripeFixture is the ingress handler on a real database, with one tenant paying through
// stripeCustomer's active subscription.
type stripeFixture struct {
	t        *testing.T
	db       *store.Store
	handler  http.Handler
	closures *stripeClosures
	tenant   store.Tenant
	logs     *syncBuffer
}

func newStripeFixture(t *testing.T) *stripeFixture {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	tenant, err := db.CreateTenant(ctx, tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{businessPhone}, Timezone: "America/New_York", OwnerPhone: "+16145550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.UpsertBillingAccount(ctx, store.BillingAccount{TenantID: tenant.ID, CustomerID: stripeCustomer, SubscriptionID: stripeSub, SubscriptionStatus: "active"}); err != nil {
		t.Fatal(err)
	}
	closures := &stripeClosures{}
	logs := &syncBuffer{}
	cfg := config.Config{Compliance: config.Compliance{StripeWebhookSecret: stripeSecret}}
	h := New(Deps{Config: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), Store: db, Closures: closures})
	return &stripeFixture{t: t, db: db, handler: h, closures: closures, tenant: tenant, logs: logs}
}

// stripeEvent is a Stripe event as the webhook endpoint (pinned to the library's API version)
// receives it.
func stripeEvent(id string, typ stripe.EventType, created time.Time, object map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": created.Unix(),
		"type": string(typ), "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": object},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func subscriptionObject(sub, status string, cancelAtPeriodEnd bool) map[string]any {
	return map[string]any{
		"id": sub, "object": "subscription", "customer": stripeCustomer, "status": status,
		"cancel_at_period_end": cancelAtPeriodEnd, "metadata": map[string]string{"tenant_id": "ignored"},
	}
}

// invoiceObject is an invoice with everything Stripe puts in one, card digits included.
func invoiceObject(invoice, customer string, paid bool) map[string]any {
	amountPaid := int64(0)
	if paid {
		amountPaid = 2900
	}
	return map[string]any{
		"id": invoice, "object": "invoice", "customer": customer, "subscription": stripeSub,
		"amount_due": 2900, "amount_paid": amountPaid, "currency": "usd",
		"period_start": time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Unix(), "period_end": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix(),
		"customer_name": stripeCustomerName, "customer_email": stripeCustomerEmail, "customer_phone": callerPhone,
		"customer_address": map[string]any{"line1": "12 Elm Street", "city": "Columbus", "state": "OH"},
		"description":      "Paid with card " + stripeCardInPayload,
		"footer":           "card " + strings.ReplaceAll(stripeCardInPayload, " ", ""),
	}
}

func signStripe(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func (f *stripeFixture) post(payload []byte, signature string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/stripe/webhook", strings.NewReader(string(payload)))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// deliver posts payload signed as Stripe would, now, and requires the given status.
func (f *stripeFixture) deliver(payload []byte, want int) {
	f.t.Helper()
	if rec := f.post(payload, signStripe(payload, stripeSecret, time.Now())); rec.Code != want {
		f.t.Fatalf("status %d (%s), want %d", rec.Code, strings.TrimSpace(rec.Body.String()), want)
	}
}

func (f *stripeFixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (f *stripeFixture) account() store.BillingAccount {
	f.t.Helper()
	a, err := f.db.BillingAccount(context.Background(), f.tenant.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *stripeFixture) setTenantStatus(status string) {
	f.t.Helper()
	if _, err := f.db.Pool().Exec(context.Background(), `UPDATE control.tenants SET status = $2 WHERE id = $1`, f.tenant.ID, status); err != nil {
		f.t.Fatal(err)
	}
}

func TestStripeWebhookRefusesUnverifiedEvents(t *testing.T) {
	now := time.Now()
	deleted := stripeEvent("evt_Forged", stripe.EventTypeCustomerSubscriptionDeleted, now, subscriptionObject(stripeSub, "canceled", false))
	edited := []byte(strings.Replace(string(deleted), stripeSub, "sub_Other", 1))
	oldVersion := []byte(strings.Replace(string(deleted), stripe.APIVersion, "2020-08-27", 1))
	tests := []struct {
		name      string
		payload   []byte
		signature string
		reason    string
	}{
		{"missing signature", deleted, "", "missing Stripe-Signature"},
		{"malformed signature header", deleted, "v1", "malformed Stripe-Signature"},
		{"forged signature", deleted, fmt.Sprintf("t=%d,v1=%s", now.Unix(), strings.Repeat("ab", 32)), "invalid Stripe-Signature"},
		{"wrong secret", deleted, signStripe(deleted, "whsec_someone_else", now), "invalid Stripe-Signature"},
		{"stale timestamp", deleted, signStripe(deleted, stripeSecret, now.Add(-6*time.Minute)), "timestamp outside the tolerance"},
		{"edited body", edited, signStripe(deleted, stripeSecret, now), "invalid Stripe-Signature"},
		{"other API version", oldVersion, signStripe(oldVersion, stripeSecret, now), "API version 2020-08-27"},
		{"signed garbage", []byte("{not json"), signStripe([]byte("{not json"), stripeSecret, now), "malformed event"},
	}
	f := newStripeFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.post(tt.payload, tt.signature)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tt.reason) {
				t.Errorf("status %d %q, want 400 saying %q", rec.Code, rec.Body.String(), tt.reason)
			}
		})
	}
	starts, reactivations := f.closures.calls()
	if len(starts) != 0 || len(reactivations) != 0 {
		t.Errorf("unverified events started %v and reactivated %v", starts, reactivations)
	}
	if n := f.count(`SELECT count(*) FROM control.stripe_events`); n != 0 {
		t.Errorf("%d stripe event rows after unverified events", n)
	}
	if a := f.account(); a.SubscriptionID != stripeSub || a.SubscriptionStatus != "active" {
		t.Errorf("account changed by unverified events: %+v", a)
	}
	// The same event, properly signed, is accepted: the refusals above were about the signature.
	f.deliver(deleted, http.StatusOK)
	if starts, _ := f.closures.calls(); len(starts) != 1 {
		t.Errorf("the verified event started %d closures, want 1", len(starts))
	}
}

func TestStripeSubscriptionDeletedStartsClosureOnce(t *testing.T) {
	f := newStripeFixture(t)
	ev := stripeEvent("evt_Deleted1", stripe.EventTypeCustomerSubscriptionDeleted, time.Now(), subscriptionObject(stripeSub, "canceled", false))
	for range 3 {
		f.deliver(ev, http.StatusOK)
	}
	starts, reactivations := f.closures.calls()
	want := closureCall{TenantID: f.tenant.ID, Reason: workflows.ClosureReasonSubscriptionDeleted, Actor: "stripe:evt_Deleted1"}
	if len(starts) != 1 || starts[0] != want {
		t.Errorf("closures started %+v, want exactly %+v", starts, want)
	}
	if len(reactivations) != 0 {
		t.Errorf("reactivated %+v", reactivations)
	}
	if a := f.account(); a.SubscriptionStatus != "canceled" {
		t.Errorf("subscription status %q, want canceled", a.SubscriptionStatus)
	}
	if n := f.count(`SELECT count(*) FROM control.stripe_events WHERE id = 'evt_Deleted1' AND processed_at IS NOT NULL`); n != 1 {
		t.Errorf("%d processed rows for the event, want 1", n)
	}
}

func TestStripeSubscriptionUpdates(t *testing.T) {
	tests := []struct {
		name string
		// tenantStatus and previous are the state before the event.
		tenantStatus   string
		previousStatus string
		sub, status    string
		cancelAtEnd    bool
		typ            stripe.EventType
		wantReactivate bool
		wantStatus     string
	}{
		{"cancel at period end is only a schedule", "active", "active", stripeSub, "active", true, stripe.EventTypeCustomerSubscriptionUpdated, false, "active"},
		{"past due is recorded", "active", "active", stripeSub, "past_due", false, stripe.EventTypeCustomerSubscriptionUpdated, false, "past_due"},
		{"a new subscription reactivates a closing tenant", "closing", "canceled", "sub_New", "active", false, stripe.EventTypeCustomerSubscriptionCreated, true, "active"},
		{"a trial reactivates a closing tenant", "closing", "canceled", "sub_New", "trialing", false, stripe.EventTypeCustomerSubscriptionCreated, true, "trialing"},
		{"a paid past-due subscription reactivates a closing tenant", "closing", "past_due", stripeSub, "active", false, stripe.EventTypeCustomerSubscriptionUpdated, true, "active"},
		{"a new subscription right after a deletion ends the closure being started", "active", "canceled", "sub_New", "active", false, stripe.EventTypeCustomerSubscriptionCreated, true, "active"},
		{"a routine update does not undo a closure the tenant asked for", "closing", "active", stripeSub, "active", false, stripe.EventTypeCustomerSubscriptionUpdated, false, "active"},
		{"an incomplete subscription reactivates nobody", "closing", "canceled", "sub_New", "incomplete", false, stripe.EventTypeCustomerSubscriptionCreated, false, "incomplete"},
		{"an active tenant's activation needs no reactivation", "active", "incomplete", stripeSub, "active", false, stripe.EventTypeCustomerSubscriptionUpdated, false, "active"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStripeFixture(t)
			ctx := context.Background()
			if _, err := f.db.RecordSubscriptionStatus(ctx, store.SubscriptionEvent{
				CustomerID: stripeCustomer, SubscriptionID: stripeSub, Status: tt.previousStatus, At: time.Now().Add(-time.Hour),
			}); err != nil {
				t.Fatal(err)
			}
			f.setTenantStatus(tt.tenantStatus)
			id := fmt.Sprintf("evt_Update%d", i)
			f.deliver(stripeEvent(id, tt.typ, time.Now(), subscriptionObject(tt.sub, tt.status, tt.cancelAtEnd)), http.StatusOK)

			starts, reactivations := f.closures.calls()
			if len(starts) != 0 {
				t.Errorf("closure started %+v", starts)
			}
			var want []closureCall
			if tt.wantReactivate {
				want = []closureCall{{TenantID: f.tenant.ID, Actor: "stripe:" + id}}
			}
			if fmt.Sprint(reactivations) != fmt.Sprint(want) {
				t.Errorf("reactivations %+v, want %+v", reactivations, want)
			}
			if a := f.account(); a.SubscriptionID != tt.sub || a.SubscriptionStatus != tt.wantStatus {
				t.Errorf("account %s/%s, want %s/%s", a.SubscriptionID, a.SubscriptionStatus, tt.sub, tt.wantStatus)
			}
		})
	}
}

// A reactivation that finds no closure running (it ended, or never started) is not an error
// Stripe could fix by retrying: the status is still recorded.
func TestStripeReactivationWithoutClosure(t *testing.T) {
	f := newStripeFixture(t)
	f.closures.reactivateErr = lifecycle.ErrNoClosure
	f.setTenantStatus(store.TenantStatusClosing)
	f.deliver(stripeEvent("evt_Created1", stripe.EventTypeCustomerSubscriptionCreated, time.Now(), subscriptionObject("sub_New", "active", false)), http.StatusOK)
	if a := f.account(); a.SubscriptionID != "sub_New" || a.SubscriptionStatus != "active" {
		t.Errorf("account %+v, want sub_New active", a)
	}
	// A tenant left closing with nothing to end it needs an operator.
	warned := false
	for _, line := range strings.Split(f.logs.String(), "\n") {
		warned = warned || strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "no closure to end")
	}
	if !warned {
		t.Errorf("no warning about the closing tenant without a closure: %s", f.logs.String())
	}
}

// When handling fails (here the closure service), nothing is kept, so Stripe's retry does the
// work: the deletion is acted on exactly once in the end.
func TestStripeFailedHandlingIsRetriedByStripe(t *testing.T) {
	f := newStripeFixture(t)
	f.closures.startErrs = []error{errors.New("temporal unavailable")}
	ev := stripeEvent("evt_Deleted2", stripe.EventTypeCustomerSubscriptionDeleted, time.Now(), subscriptionObject(stripeSub, "canceled", false))

	rec := f.post(ev, signStripe(ev, stripeSecret, time.Now()))
	if rec.Code < 500 {
		t.Fatalf("status %d while closures fail, want 5xx so Stripe retries", rec.Code)
	}
	if n := f.count(`SELECT count(*) FROM control.stripe_events`); n != 0 {
		t.Errorf("%d event rows after a failed delivery, want 0", n)
	}
	if a := f.account(); a.SubscriptionStatus != "active" {
		t.Errorf("status %q recorded by a failed delivery, want it rolled back", a.SubscriptionStatus)
	}

	f.deliver(ev, http.StatusOK)
	f.deliver(ev, http.StatusOK)
	if starts, _ := f.closures.calls(); len(starts) != 1 {
		t.Errorf("closures started %+v, want exactly one", starts)
	}
	if a := f.account(); a.SubscriptionStatus != "canceled" {
		t.Errorf("status %q after the retry, want canceled", a.SubscriptionStatus)
	}
}

func TestStripeInvoicesBecomeBillingRecords(t *testing.T) {
	f := newStripeFixture(t)
	ctx := context.Background()
	paidAt := time.Now().Truncate(time.Second)
	paid := stripeEvent("evt_Paid1", stripe.EventTypeInvoicePaid, paidAt, invoiceObject("in_Paid", stripeCustomer, true))
	failed := stripeEvent("evt_Failed1", stripe.EventTypeInvoicePaymentFailed, paidAt, invoiceObject("in_Failed", stripeCustomer, false))
	for range 2 {
		f.deliver(paid, http.StatusOK)
		f.deliver(failed, http.StatusOK)
	}
	records, err := f.db.BillingRecords(ctx, f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.BillingRecord{
		"in_Paid":   {InvoiceID: "in_Paid", TenantID: f.tenant.ID, CustomerID: stripeCustomer, Status: store.InvoicePaid, AmountMinor: 2900, Currency: "usd"},
		"in_Failed": {InvoiceID: "in_Failed", TenantID: f.tenant.ID, CustomerID: stripeCustomer, Status: store.InvoicePaymentFailed, AmountMinor: 2900, Currency: "usd"},
	}
	if len(records) != len(want) {
		t.Fatalf("records %+v, want %d", records, len(want))
	}
	for _, r := range records {
		w := want[r.InvoiceID]
		if r.TenantID != w.TenantID || r.CustomerID != w.CustomerID || r.Status != w.Status || r.AmountMinor != w.AmountMinor || r.Currency != w.Currency {
			t.Errorf("record %+v, want %+v", r, w)
		}
		if !r.OccurredAt.Equal(paidAt) || r.PeriodStart.IsZero() || !r.PeriodEnd.After(r.PeriodStart) {
			t.Errorf("record %s: occurred %v, period %v–%v", r.InvoiceID, r.OccurredAt, r.PeriodStart, r.PeriodEnd)
		}
	}

	// The payload held a card number, a name, an email, a phone number and an address: none of it
	// is in any billing row, and none of it in the log.
	if found := cardNumbers(string(paid)); len(found) == 0 {
		t.Fatal("the card scan finds nothing in a payload holding a card number: it cannot be trusted")
	}
	for _, table := range []string{"billing_records", "billing_accounts", "stripe_events"} {
		for _, row := range tableRows(t, f.db, table) {
			if found := cardNumbers(row); len(found) > 0 {
				t.Errorf("control.%s holds card numbers %v in %q", table, found, row)
			}
			for _, personal := range []string{stripeCustomerName, stripeCustomerEmail, "5550123", "Elm Street"} {
				if strings.Contains(row, personal) {
					t.Errorf("control.%s holds %q", table, personal)
				}
			}
		}
	}
	logs := f.logs.String()
	for _, personal := range []string{stripeCustomerName, stripeCustomerEmail, "5550123", "4242"} {
		if strings.Contains(logs, personal) {
			t.Errorf("the log holds %q", personal)
		}
	}
}

func TestStripeUnknownCustomersAndEventTypesAreAcknowledged(t *testing.T) {
	f := newStripeFixture(t)
	f.deliver(stripeEvent("evt_Stranger1", stripe.EventTypeInvoicePaid, time.Now(), invoiceObject("in_Stranger", "cus_Stranger", true)), http.StatusOK)
	strangerSub := subscriptionObject("sub_Stranger", "canceled", false)
	strangerSub["customer"] = "cus_Stranger"
	f.deliver(stripeEvent("evt_Stranger2", stripe.EventTypeCustomerSubscriptionDeleted, time.Now(), strangerSub), http.StatusOK)
	f.deliver(stripeEvent("evt_Charge1", "charge.succeeded", time.Now(), map[string]any{"id": "ch_1", "object": "charge"}), http.StatusOK)

	if starts, _ := f.closures.calls(); len(starts) != 0 {
		t.Errorf("closures started for a stranger: %+v", starts)
	}
	if n := f.count(`SELECT count(*) FROM control.billing_records`); n != 0 {
		t.Errorf("%d billing records for a stranger", n)
	}
	// Unknown customers are remembered as handled; event types the webhook does not act on are
	// not recorded at all.
	if n := f.count(`SELECT count(*) FROM control.stripe_events`); n != 2 {
		t.Errorf("%d event rows, want the two stranger events", n)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "evt_Stranger1") || !strings.Contains(logs, "customer that pays for no tenant") {
		t.Errorf("no log line names the unknown customer's event: %s", logs)
	}
	if strings.Contains(logs, stripeCustomerName) || strings.Contains(logs, stripeCustomerEmail) {
		t.Errorf("the log holds the stranger's personal data")
	}
}

func TestStripeWebhookServedOnlyWithSecretAndClosures(t *testing.T) {
	f := newStripeFixture(t)
	tests := []struct {
		name     string
		secret   string
		closures ClosureAdmin
		served   bool
	}{
		{"secret and closures", stripeSecret, f.closures, true},
		{"no secret", "", f.closures, false},
		{"no closures", stripeSecret, nil, false},
	}
	payload := stripeEvent("evt_Route1", "charge.succeeded", time.Now(), map[string]any{"id": "ch_1"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Deps{
				Config: config.Config{Compliance: config.Compliance{StripeWebhookSecret: tt.secret}},
				Log:    slog.New(slog.NewJSONHandler(&syncBuffer{}, nil)), Store: f.db, Closures: tt.closures,
			})
			req := httptest.NewRequest(http.MethodPost, "/stripe/webhook", strings.NewReader(string(payload)))
			req.Header.Set("Stripe-Signature", signStripe(payload, stripeSecret, time.Now()))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if served := rec.Code == http.StatusOK; served != tt.served {
				t.Errorf("status %d, served %v, want %v", rec.Code, served, tt.served)
			}
		})
	}
}

func TestStripeWebhookRefusesOversizedBody(t *testing.T) {
	f := newStripeFixture(t)
	big := []byte(`{"id":"evt_Big","padding":"` + strings.Repeat("x", maxStripeBody) + `"}`)
	rec := f.post(big, signStripe(big, stripeSecret, time.Now()))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
	if n := f.count(`SELECT count(*) FROM control.stripe_events`); n != 0 {
		t.Errorf("%d event rows", n)
	}
}

// tableRows returns every row of a control table as text.
func tableRows(t *testing.T, db *store.Store, table string) []string {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), "SELECT t::text FROM control."+pgx.Identifier{table}.Sanitize()+" t")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var digitRun = regexp.MustCompile(`\d(?:[ -]?\d){12,18}`)

// cardNumbers finds card numbers in text: what the PII detector reports as cards, and, more
// broadly, any 13 to 19 digits (optionally separated by single spaces or dashes) that pass the
// Luhn check whatever their issuer prefix.
func cardNumbers(text string) []string {
	var found []string
	for _, f := range pii.Detect(text, pii.Options{}) {
		if f.Kind == pii.Card {
			found = append(found, f.Value)
		}
	}
	for _, m := range digitRun.FindAllString(text, -1) {
		digits := strings.NewReplacer(" ", "", "-", "").Replace(m)
		if luhn(digits) {
			found = append(found, m)
		}
	}
	return found
}

func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
