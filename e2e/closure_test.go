package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// closureStatus reads the closure through the CLI, as an operator would.
func (st *stack) closureStatus(t *testing.T) workflows.ClosureState {
	t.Helper()
	cmd := exec.Command(st.cli, "closure", "status", "--tenant", st.tenant.ID, "--json")
	cmd.Env = st.env
	out, err := cmd.Output() // stdout only: the development-key warnings go to stderr
	if err != nil {
		return workflows.ClosureState{}
	}
	var s workflows.ClosureState
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("closure status printed %q: %v", out, err)
	}
	return s
}

func (st *stack) textsTo(number string) []string {
	var out []string
	for _, m := range st.twilio.Texts() {
		if m.To == number {
			out = append(out, m.Body)
		}
	}
	return out
}

const e2eStripeSecret = "whsec_e2eclosure0123456789abcdef"

// retainedTables are the tables that keep rows about an erased tenant on purpose (the audit log,
// billing for 7 years, data-subject request records for 24 months), and the data-key tombstone.
var retainedTables = []string{
	"audit_logs", "audit_entries", "audit_hashes", "audit_checkpoints",
	"billing_accounts", "billing_records", "stripe_events", "dsr_requests", "dsr_identifiers", "data_keys",
}

// leftovers searches every row of every table in the database, as text, for any of needles,
// outside the retained tables: a scan that knows nothing of the code that erased.
func leftovers(t *testing.T, conn *pgx.Conn, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `
		SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	type table struct{ schema, name string }
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var tb table
		return tb, r.Scan(&tb.schema, &tb.name)
	})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, tb := range tables {
		if tb.schema == "control" && slices.Contains(retainedTables, tb.name) {
			continue
		}
		ident := pgx.Identifier{tb.schema, tb.name}.Sanitize()
		for _, needle := range needles {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+ident+` r WHERE r::text LIKE '%' || $1 || '%'`, needle).Scan(&n); err != nil {
				t.Fatalf("scan %s: %v", ident, err)
			}
			if n > 0 {
				found = append(found, fmt.Sprintf("%s: %d rows", ident, n))
			}
		}
	}
	return found
}

// TestClosureDeleteNowErasesTheTenant: a tenant with a conversation pays an invoice and then
// ends its subscription (signed Stripe events) and so closes its account; its
// conversation stops, new calls go unanswered, the owner is told the deletion date; delete-now
// erases it: afterwards no table outside billing and audit holds anything of it, its histories
// are gone, and audit verify passes and shows the deletion certificate.
func TestClosureDeleteNowErasesTheTenant(t *testing.T) {
	testenv.RequireIntegration(t)
	st := startStack(t, "RINGBACK_MODEL_URL=none", "STRIPE_WEBHOOK_SECRET="+e2eStripeSecret)
	const caller, owner, business = "+16145550188", "+16145550100", "+15005550006"
	ctx := context.Background()

	if out, err := run(t, st.cli, st.env, "simulate", "call", "--from", caller, "--to", business); err != nil {
		t.Fatalf("simulate call: %v\n%s", err, out)
	}
	eventually(t, "the first text", func() bool { return len(st.textsTo(caller)) == 1 })
	if out, err := run(t, st.cli, st.env, "simulate", "sms", "--from", caller, "--to", business, "--body", "Do you have time Friday?"); err != nil {
		t.Fatalf("simulate sms: %v\n%s", err, out)
	}
	eventually(t, "the reply", func() bool { return len(st.textsTo(caller)) == 2 })
	convID := st.conversationID(t, caller)

	// Stripe: the business paid an invoice, then its subscription ended. Both arrive signed; the
	// deletion is delivered three times, as Stripe may, and starts one closure.
	db, err := store.Open(ctx, st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const customer, subscription = "cus_E2eClosure01", "sub_E2eClosure01"
	if err := db.UpsertBillingAccount(ctx, store.BillingAccount{TenantID: st.tenant.ID, CustomerID: customer,
		SubscriptionID: subscription, SubscriptionStatus: "active"}); err != nil {
		t.Fatal(err)
	}
	postStripe := func(id, typ string, object map[string]any) int {
		t.Helper()
		payload, err := json.Marshal(map[string]any{
			"id": id, "object": "event", "api_version": stripe.APIVersion, "created": time.Now().Unix(),
			"type": typ, "livemode": false, "data": map[string]any{"object": object},
		})
		if err != nil {
			t.Fatal(err)
		}
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: e2eStripeSecret, Timestamp: time.Now()})
		req, err := http.NewRequest(http.MethodPost, st.base+"/stripe/webhook", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := postStripe("evt_E2eInvoicePaid", "invoice.paid", map[string]any{
		"id": "in_E2eClosure01", "object": "invoice", "customer": customer, "subscription": subscription,
		"amount_due": 2900, "amount_paid": 2900, "currency": "usd", "status": "paid",
	}); code != http.StatusOK {
		t.Fatalf("invoice.paid answered %d", code)
	}
	for range 3 {
		if code := postStripe("evt_E2eSubDeleted", "customer.subscription.deleted", map[string]any{
			"id": subscription, "object": "subscription", "customer": customer, "status": "canceled",
		}); code != http.StatusOK {
			t.Fatalf("customer.subscription.deleted answered %d", code)
		}
	}
	eventually(t, "the owner's closure notice", func() bool {
		return slices.ContainsFunc(st.textsTo(owner), func(b string) bool { return strings.Contains(b, "permanently deleted") })
	})
	state := st.closureStatus(t)
	if state.Stage != workflows.ClosureRetention || state.DeleteAt.Sub(state.StartedAt).Hours() != 90*24 ||
		state.Reason != workflows.ClosureReasonSubscriptionDeleted {
		t.Fatalf("closure = %+v, want 90 days of retention after the subscription ended", state)
	}

	tc, err := sdkclient.Dial(sdkclient.Options{HostPort: st.temporal, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	eventually(t, "the open conversation to close", func() bool {
		d, err := tc.DescribeWorkflowExecution(ctx, convID, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	})
	// A closing account answers nothing: the webhook returns without starting a conversation.
	if out, err := run(t, st.cli, st.env, "simulate", "call", "--from", caller, "--to", business); err != nil {
		t.Fatalf("simulate call while closing: %v\n%s", err, out)
	}

	if out, err := run(t, st.cli, st.env, "closure", "delete-now", "--tenant", st.tenant.ID, "--confirm", st.tenant.ID); err != nil {
		t.Fatalf("closure delete-now: %v\n%s", err, out)
	}
	// The server deletes histories behind a batch job and drops them from visibility some
	// seconds later (about 30 on the dev server); the closure waits for both.
	deadline := time.Now().Add(3 * time.Minute)
	for st.closureStatus(t).Stage != workflows.ClosureErased {
		if time.Now().After(deadline) {
			t.Fatalf("not erased within 3 minutes of delete-now: %+v", st.closureStatus(t))
		}
		time.Sleep(200 * time.Millisecond)
	}
	state = st.closureStatus(t)
	if !state.Early || state.Scan == nil || !state.Scan.Clean() {
		t.Fatalf("closure after delete-now = %+v", state)
	}
	if got := st.textsTo(caller); len(got) != 2 {
		t.Fatalf("the caller got %d texts, want the 2 from before the closure: %q", len(got), got)
	}
	if !slices.ContainsFunc(st.textsTo(owner), func(b string) bool { return strings.Contains(b, "has been permanently deleted") }) {
		t.Fatalf("the owner was not told of the erasure: %q", st.textsTo(owner))
	}

	// Nothing of the tenant or its caller in any table but the retained ones.
	conn, err := pgx.Connect(ctx, st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if found := leftovers(t, conn, st.tenant.ID, caller, strings.TrimPrefix(caller, "+1"), owner); len(found) > 0 {
		t.Fatalf("erased tenant still found in: %v", found)
	}
	var live int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM control.data_keys WHERE scope = $1 AND wrapped IS NOT NULL`, st.tenant.ID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("live data keys of the erased tenant: %d (%v)", live, err)
	}

	// Its histories are gone.
	_, err = tc.DescribeWorkflowExecution(ctx, convID, "")
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("the conversation's history is still there: %v", err)
	}
	count, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: "TenantID = '" + st.tenant.ID + "'"})
	if err != nil || count.GetCount() != 0 {
		t.Fatalf("executions of the erased tenant: %d (%v)", count.GetCount(), err)
	}

	// The audit log still verifies and carries the certificate.
	out, err := run(t, st.cli, st.env, "audit", "verify", "--all")
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	if !strings.Contains(out, "certificate: entry") || !strings.Contains(out, "tenant "+st.tenant.ID+" erased") || !strings.Contains(out, "re-scan: nothing left") {
		t.Fatalf("audit verify does not show the certificate:\n%s", out)
	}
	certs, err := db.DeletionCertificates(ctx)
	if err != nil || len(certs) != 1 {
		t.Fatalf("certificates %+v (%v)", certs, err)
	}
	// Billing is kept (seven years), and only billing.
	if recs, err := db.BillingRecords(ctx, st.tenant.ID); err != nil || len(recs) != 1 {
		t.Fatalf("billing records after the erasure: %+v (%v)", recs, err)
	}
	if c := certs[0].Certificate; c.RequestedBy != "stripe:evt_E2eSubDeleted" || c.Scan.Retained["billing_records"] != 1 {
		t.Fatalf("certificate %+v", c)
	}
	if c := certs[0].Certificate; c.TenantID != st.tenant.ID || !c.Early || !c.SchemaDropped || !c.KeysDestroyed || c.ExecutionsDeleted < 1 || c.RowsPurged["tenants"] != 1 {
		t.Fatalf("certificate %+v", c)
	}
}
