package ingress

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/stdwebhook"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
)

// signalled is one signal the fake Temporal client received.
type signalled struct {
	WorkflowID, Name string
	Arg              any
}

// fakeTemporal is a Temporal client that records signals and answers them with err. It embeds
// the interface, so anything else it is asked panics: these routes must need nothing more.
type fakeTemporal struct {
	sdkclient.Client
	mu      sync.Mutex
	err     error
	signals []signalled
}

func (f *fakeTemporal) SignalWorkflow(_ context.Context, workflowID, _, signalName string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals = append(f.signals, signalled{workflowID, signalName, arg})
	return f.err
}

func (f *fakeTemporal) received() []signalled {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signalled(nil), f.signals...)
}

func (f *fakeTemporal) failWith(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// newTenantAPIHarness is the real handler on a real database, with a fake in place of Temporal:
// the tenant API and the escalation link only ever signal.
func newTenantAPIHarness(t *testing.T) (*harness, *fakeTemporal, []byte) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	tenant, err := db.CreateTenant(ctx, tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{businessPhone}, Timezone: "America/New_York", OwnerPhone: "+16145550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)), db)
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeTemporal{}
	ackKey := acktoken.DeriveKey([]byte(strings.Repeat("h", 32)))
	logs := &syncBuffer{}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := config.Config{PublicURL: srv.URL, TwilioAuthToken: authToken, TaskQueue: "unused", ConversationIdleTimeout: time.Hour}
	h := New(Deps{Config: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), Store: db, Temporal: fake, Keys: keys, AckKey: ackKey})
	srv.Config.Handler = h
	hh := &harness{t: t, srv: srv, db: db, keys: keys, tenant: tenant, logs: logs, cfg: cfg, handler: h}
	hh.opsToken = hh.token(access.Ops, "")
	return hh, fake, ackKey
}

// otherTenant creates a second business.
func (h *harness) otherTenant() store.Tenant {
	h.t.Helper()
	other, err := h.db.CreateTenant(context.Background(), tenantspec.Spec{
		Name: "Other Dental", Numbers: []string{"+15005550007"}, Timezone: "America/Chicago", OwnerPhone: "+16145550101",
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return other
}

// auditActions lists the actions of a log's entries, each with its actor.
func (h *harness) auditActions(logID, prefix string) []string {
	h.t.Helper()
	l, err := h.db.LoadAuditLog(context.Background(), logID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range l.Entries {
		if strings.HasPrefix(e.Action, prefix) {
			out = append(out, e.Action+" by "+e.Actor)
		}
	}
	return out
}

func TestBusinessProfileAPI(t *testing.T) {
	h, _, _ := newTenantAPIHarness(t)
	other := h.otherTenant()
	mine := h.token(access.TenantAdmin, h.tenant.ID)
	path := "/api/tenants/" + h.tenant.ID + "/profile"

	// A tenant that never saved one has the default profile.
	resp := h.api(http.MethodGet, path, mine, "", "")
	var got tenantspec.Profile
	decodeJSON(t, resp, &got)
	if resp.StatusCode != http.StatusOK || len(got.Services) != 1 || got.Services[0].Name != "Appointment" {
		t.Fatalf("default profile: %d %+v", resp.StatusCode, got)
	}

	const valid = `{"services":[{"name":" Drain cleaning ","minutes":60,"price_cents":12000}],
		"hours":{"mon":["13:00-17:00","09:00-12:00"],"sat":["10:00-14:00"]},
		"backup_phone":"(614) 555-0177","escalation_timeout_minutes":10}`
	cases := []struct {
		name, method, path, token, contentType, body string
		status                                       int
		reason                                       string
	}{
		{"no token", "GET", path, "", "", "", 401, "missing bearer token"},
		{"compliance cannot read", "GET", path, h.token(access.Compliance, ""), "", "", 403, "cannot change a tenant's settings"},
		{"compliance cannot write", "PUT", path, h.token(access.Compliance, ""), "application/json", valid, 403, "cannot change"},
		{"another tenant's admin", "GET", path, h.token(access.TenantAdmin, other.ID), "", "", 403, "only its own tenant"},
		{"another tenant's admin writing", "PUT", path, h.token(access.TenantAdmin, other.ID), "application/json", valid, 403, "only its own tenant"},
		{"form body", "PUT", path, mine, "application/x-www-form-urlencoded", "services=x", 415, "application/json"},
		{"misspelt day", "PUT", path, mine, "application/json", `{"services":[{"name":"X","minutes":30}],"hours":{"monday":["09:00-17:00"]}}`, 400, `unknown field \"monday\"`},
		{"malformed", "PUT", path, mine, "application/json", `{"services":`, 400, "malformed JSON"},
		{"unknown tenant", "PUT", "/api/tenants/zzzzzzzzzzzzzzzz/profile", h.opsToken, "application/json", valid, 404, "no such tenant"},
		{"unknown tenant read", "GET", "/api/tenants/zzzzzzzzzzzzzzzz/profile", h.opsToken, "", "", 404, "no such tenant"},
	}
	for _, c := range cases {
		resp := h.api(c.method, c.path, c.token, c.contentType, c.body)
		if body := bodyOf(resp); resp.StatusCode != c.status || !strings.Contains(body, c.reason) {
			t.Errorf("%s: got %d %s, want %d containing %q", c.name, resp.StatusCode, body, c.status, c.reason)
		}
	}

	// Every problem comes back at once.
	resp = h.api(http.MethodPut, path, mine, "application/json",
		`{"services":[],"hours":{"mon":["17:00-09:00"]},"tone":"a\nb","escalation_timeout_minutes":-1}`)
	var invalid struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	decodeJSON(t, resp, &invalid)
	if resp.StatusCode != http.StatusUnprocessableEntity || len(invalid.Problems) != 4 {
		t.Fatalf("invalid profile: %d %+v", resp.StatusCode, invalid)
	}
	for _, field := range []string{"services", "hours.mon", "tone", "escalation_timeout_minutes"} {
		if !strings.Contains(invalid.Error, field) {
			t.Errorf("the error does not name %s: %q", field, invalid.Error)
		}
	}

	// A valid profile comes back normalized, and is what a later read returns.
	resp = h.api(http.MethodPut, path, mine, "application/json", valid)
	var saved tenantspec.Profile
	decodeJSON(t, resp, &saved)
	if resp.StatusCode != http.StatusOK || saved.Services[0].Name != "Drain cleaning" || saved.Hours.Mon[0] != "09:00-12:00" ||
		saved.BackupPhone != "+16145550177" || saved.FollowUpAfterMinutes != tenantspec.DefaultFollowUpAfterMinutes {
		t.Fatalf("saved: %d %+v", resp.StatusCode, saved)
	}
	before := len(h.auditActions(h.tenant.ID, "personal_data.read"))
	resp = h.api(http.MethodGet, path, h.opsToken, "", "")
	decodeJSON(t, resp, &got)
	if resp.StatusCode != http.StatusOK || got.BackupPhone != "+16145550177" || got.EscalationTimeoutMinutes != 10 {
		t.Fatalf("read back: %d %+v", resp.StatusCode, got)
	}
	// The backup phone is personal data: its read is in the tenant's log, by the token that read it.
	if reads := h.auditActions(h.tenant.ID, "personal_data.read"); len(reads) != before+1 || !strings.HasSuffix(reads[len(reads)-1], "by token:"+strings.Split(h.opsToken, "_")[1]) {
		t.Fatalf("personal_data.read entries: %v", reads)
	}
	if updates := h.auditActions("control", "tenant.profile.updated"); len(updates) != 1 {
		t.Fatalf("profile updates audited: %v", updates)
	}
	if strings.Contains(h.logs.String(), "5550177") {
		t.Fatal("the backup phone is in the log")
	}
}

func TestWebhookSecretIsShownOnce(t *testing.T) {
	h, _, _ := newTenantAPIHarness(t)
	ctx := context.Background()
	mine := h.token(access.TenantAdmin, h.tenant.ID)
	path := "/api/tenants/" + h.tenant.ID + "/webhook"
	const hook = "https://hooks.example.com/ringback?token=abc123"

	if resp := h.api(http.MethodGet, path, mine, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("before any is set: %d", resp.StatusCode)
	}
	for _, bad := range []struct{ body, reason string }{
		{`{"url":"http://hooks.example.com/x"}`, "must use https"},
		{`{"url":"https://user:pw@hooks.example.com/x"}`, "user name or password"},
		{`{"url":"hooks.example.com"}`, "absolute"},
	} {
		if resp := h.api(http.MethodPut, path, mine, "application/json", bad.body); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bodyOf(resp), bad.reason) {
			t.Errorf("%s: %d", bad.body, resp.StatusCode)
		}
	}
	if resp := h.api(http.MethodPut, path, mine, "application/json", `{"url":"`+hook+`","secret":"whsec_x"}`); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a chosen secret: %d, want 400", resp.StatusCode)
	}
	if resp := h.api(http.MethodPut, path, h.token(access.Compliance, ""), "application/json", `{"url":"`+hook+`"}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("compliance set a webhook: %d", resp.StatusCode)
	}

	set := func() webhookCreated {
		t.Helper()
		resp := h.api(http.MethodPut, path, mine, "application/json", `{"url":"`+hook+`"}`)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("set: %d %s", resp.StatusCode, bodyOf(resp))
		}
		var c webhookCreated
		decodeJSON(t, resp, &c)
		if _, err := stdwebhook.ParseSecret(c.Secret); err != nil || c.URL != hook || c.CreatedAt.IsZero() {
			t.Fatalf("created = %+v (%v)", c, err)
		}
		return c
	}
	first := set()
	stored, err := h.db.TenantWebhook(ctx, h.keys, h.tenant.ID)
	if err != nil || stored.Secret != first.Secret {
		t.Fatalf("the stored secret differs from the one shown: %v", err)
	}

	// Reading shows the endpoint, never the secret.
	resp := h.api(http.MethodGet, path, h.opsToken, "", "")
	body := bodyOf(resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"url":"`+hook) || strings.Contains(body, "whsec_") || strings.Contains(body, "secret") {
		t.Fatalf("show: %d %s", resp.StatusCode, body)
	}

	// Setting it again rotates the secret and keeps the endpoint's creation time.
	second := set()
	if second.Secret == first.Secret || !second.CreatedAt.Equal(first.CreatedAt) || !second.UpdatedAt.After(first.UpdatedAt) {
		t.Fatalf("rotation: first %+v, second %+v", first, second)
	}

	// No data key appears for a tenant that does not exist.
	if resp := h.api(http.MethodPut, "/api/tenants/zzzzzzzzzzzzzzzz/webhook", h.opsToken, "application/json", `{"url":"`+hook+`"}`); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown tenant: %d", resp.StatusCode)
	}
	var keysForUnknown int
	if err := h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM control.data_keys WHERE scope = 'zzzzzzzzzzzzzzzz'`).Scan(&keysForUnknown); err != nil || keysForUnknown != 0 {
		t.Fatalf("data keys for an unknown tenant: %d %v", keysForUnknown, err)
	}

	if resp := h.api(http.MethodDelete, path, mine, "", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodDelete, path, mine, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second delete: %d", resp.StatusCode)
	}
	if got := h.auditActions("control", "tenant.webhook."); len(got) != 3 {
		t.Fatalf("webhook audit entries: %v", got)
	}
	for _, leaked := range []string{first.Secret, second.Secret, "abc123"} {
		if strings.Contains(h.logs.String(), leaked) {
			t.Fatalf("%q is in the log", leaked)
		}
	}
}

func TestUsageAPI(t *testing.T) {
	h, _, _ := newTenantAPIHarness(t)
	ctx := context.Background()
	other := h.otherTenant()
	hash := fmt.Sprintf("%x", sha256.Sum256([]byte(callerPhone)))
	conv, err := h.db.OpenConversation(ctx, store.OpenConversation{
		TenantID: h.tenant.ID, PhoneE164: callerPhone, PhoneHash: hash, WorkflowID: "conv/" + h.tenant.ID + "/" + hash[:16],
		FirstRunID: "run", Trigger: conversation.TriggerMissedCall, Stage: conversation.StageOpening,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.RecordMissedCall(ctx, store.MissedCall{TenantID: h.tenant.ID, ConversationID: conv, PhoneHash: hash,
		CallSid: sid("CA", 1), Status: "no-answer", OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	path := "/api/tenants/" + h.tenant.ID + "/usage"

	resp := h.api(http.MethodGet, path, h.token(access.TenantAdmin, h.tenant.ID), "", "")
	var report store.UsageReport
	decodeJSON(t, resp, &report)
	ny, _ := time.LoadLocation("America/New_York")
	today := time.Now().In(ny).Format(time.DateOnly)
	if resp.StatusCode != http.StatusOK || report.To != today || report.Timezone != "America/New_York" ||
		report.MissedCalls != 1 || report.Conversations != 1 {
		t.Fatalf("default usage: %d %+v", resp.StatusCode, report)
	}
	if from, _ := time.Parse(time.DateOnly, report.From); from.AddDate(0, 0, store.DefaultUsageDays-1).Format(time.DateOnly) != today {
		t.Errorf("default period %s to %s is not the last %d days", report.From, report.To, store.DefaultUsageDays)
	}
	raw := bodyOf(h.api(http.MethodGet, path, h.opsToken, "", ""))
	for _, field := range []string{"missed_calls", "conversations", "bookings", "bookings_cancelled", "escalations", "opt_outs", "messages_inbound", "messages_outbound"} {
		if !strings.Contains(raw, `"`+field+`":`) {
			t.Errorf("usage has no %s: %s", field, raw)
		}
	}

	resp = h.api(http.MethodGet, path+"?from=2020-01-01&to=2020-01-31", h.token(access.Compliance, ""), "", "")
	decodeJSON(t, resp, &report)
	if resp.StatusCode != http.StatusOK || report.MissedCalls != 0 || report.From != "2020-01-01" || report.To != "2020-01-31" {
		t.Fatalf("an earlier month: %d %+v", resp.StatusCode, report)
	}
	for _, c := range []struct {
		query  string
		status int
		reason string
	}{
		{"?from=2026-02-30", 400, `from: \"2026-02-30\" is not a date`},
		{"?to=yesterday", 400, "to: "},
		{"?from=2026-03-02&to=2026-03-01", 400, "is after to"},
	} {
		if resp := h.api(http.MethodGet, path+c.query, h.opsToken, "", ""); resp.StatusCode != c.status || !strings.Contains(bodyOf(resp), c.reason) {
			t.Errorf("%s: %d", c.query, resp.StatusCode)
		}
	}
	if resp := h.api(http.MethodGet, path, h.token(access.TenantAdmin, other.ID), "", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another tenant's admin: %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodGet, "/api/tenants/zzzzzzzzzzzzzzzz/usage", h.opsToken, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown tenant: %d", resp.StatusCode)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(raw), &m)
	if _, ok := m["Usage"]; ok {
		t.Errorf("the counts are nested instead of top-level: %s", raw)
	}
}
