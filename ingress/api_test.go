package ingress

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func (h *harness) api(method, path, token, contentType, body string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return h.do(req)
}

func TestAdminAPICreatesAndShowsTenants(t *testing.T) {
	h := newHarness(t)
	ops := h.opsToken
	const valid = `{"name":"Acme Dental","numbers":["(614) 555-0142"],"timezone":"America/Chicago","owner_phone":"+16145550143"}`
	cases := []struct {
		name, token, contentType, body string
		status                         int
		reason                         string
	}{
		{"no token", "", "application/json", valid, 401, "missing bearer token"},
		{"wrong token", "nope", "application/json", valid, 401, "invalid or revoked token"},
		{"well-formed unknown token", "rbt_aaaaaaaaaaaa_" + strings.Repeat("a", 52), "application/json", valid, 401, "invalid or revoked token"},
		{"compliance cannot create", h.token(access.Compliance, ""), "application/json", valid, 403, "cannot manage tenants"},
		{"tenant-admin cannot create", h.token(access.TenantAdmin, h.tenant.ID), "application/json", valid, 403, "cannot manage tenants"},
		{"form body", ops, "application/x-www-form-urlencoded", "name=x", 415, "application/json"},
		{"malformed", ops, "application/json", `{"name":`, 400, "malformed JSON"},
		{"unknown field", ops, "application/json", `{"nmae":"x"}`, 400, "unknown field"},
		{"invalid", ops, "application/json", `{"name":"","numbers":["12"],"timezone":"Nowhere","owner_phone":""}`, 422, "timezone"},
		{"taken number", ops, "application/json", `{"name":"Copycat","numbers":["` + businessPhone + `"],"timezone":"America/Chicago","owner_phone":"+16145550143"}`, 409, "already belongs"},
		{"too large", ops, "application/json", `{"name":"` + strings.Repeat("a", maxAPIBody) + `"}`, 413, "too large"},
	}
	for _, c := range cases {
		resp := h.api(http.MethodPost, "/api/tenants", c.token, c.contentType, c.body)
		body := bodyOf(resp)
		if resp.StatusCode != c.status || !strings.Contains(body, c.reason) {
			t.Errorf("%s: got %d %s, want %d containing %q", c.name, resp.StatusCode, body, c.status, c.reason)
		}
		if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}

	resp := h.api(http.MethodPost, "/api/tenants", ops, "application/json", valid)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create answered %d %s", resp.StatusCode, bodyOf(resp))
	}
	var created store.Tenant
	decodeJSON(t, resp, &created)
	if created.ID == "" || created.Numbers[0] != "+16145550142" || created.Status != "active" {
		t.Fatalf("created = %+v", created)
	}
	// The new number routes to the new tenant at once.
	ref, err := h.db.TenantByNumber(context.Background(), "+16145550142")
	if err != nil || ref.ID != created.ID {
		t.Fatalf("TenantByNumber = %+v, %v", ref, err)
	}

	resp = h.api(http.MethodGet, "/api/tenants/"+created.ID, ops, "", "")
	var shown store.Tenant
	decodeJSON(t, resp, &shown)
	if resp.StatusCode != http.StatusOK || shown.Name != "Acme Dental" {
		t.Fatalf("show answered %d %+v", resp.StatusCode, shown)
	}
	if resp := h.api(http.MethodGet, "/api/tenants/zzzzzzzzzzzzzzzz", ops, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown tenant answered %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodGet, "/api/tenants/"+created.ID, "", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated show answered %d", resp.StatusCode)
	}
}

// TestTenantAdminReachesOnlyItsOwnTenant is privacy promise P11 and P22 at the API.
func TestTenantAdminReachesOnlyItsOwnTenant(t *testing.T) {
	h := newHarness(t)
	other, err := h.db.CreateTenant(context.Background(), tenantspec.Spec{Name: "Other Dental", Numbers: []string{"+15005550007"}, Timezone: "America/Chicago", OwnerPhone: "+16145550101"})
	if err != nil {
		t.Fatal(err)
	}
	mine := h.token(access.TenantAdmin, h.tenant.ID)
	if resp := h.api(http.MethodGet, "/api/tenants/"+h.tenant.ID, mine, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("own tenant: %d %s", resp.StatusCode, bodyOf(resp))
	}
	resp := h.api(http.MethodGet, "/api/tenants/"+other.ID, mine, "", "")
	if body := bodyOf(resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "own tenant") || strings.Contains(body, "Other Dental") {
		t.Fatalf("other tenant: %d %s", resp.StatusCode, body)
	}
	// Asking for a tenant that does not exist reveals nothing more than asking for another's.
	if resp := h.api(http.MethodGet, "/api/tenants/zzzzzzzzzzzzzzzz", mine, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unknown tenant as tenant-admin: %d", resp.StatusCode)
	}
	comp := h.token(access.Compliance, "")
	if resp := h.api(http.MethodGet, "/api/tenants/"+other.ID, comp, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("compliance reading a tenant: %d", resp.StatusCode)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `"msg":"forbidden"`) {
		t.Fatal("the refusal was not logged")
	}
}

func TestTokensAreShownOnceAndRevocable(t *testing.T) {
	h := newHarness(t)
	resp := h.api(http.MethodPost, "/api/tokens", h.opsToken, "application/json", `{"role":"tenant-admin","tenant_id":"`+h.tenant.ID+`","name":"front desk"}`)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create token: %d %s", resp.StatusCode, bodyOf(resp))
	}
	var created struct {
		Token string `json:"token"`
		ID    string `json:"id"`
		Role  string `json:"role"`
	}
	decodeJSON(t, resp, &created)
	if !strings.HasPrefix(created.Token, "rbt_"+created.ID+"_") || created.Role != "tenant-admin" {
		t.Fatalf("created = %+v", created)
	}
	// Only a hash is stored: the secret appears nowhere in the table.
	var stored []byte
	if err := h.db.Pool().QueryRow(context.Background(), `SELECT secret_hash FROM control.api_tokens WHERE id = $1`, created.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), created.Token[len("rbt_"+created.ID+"_"):]) {
		t.Fatal("token secret stored in the clear")
	}
	list := h.api(http.MethodGet, "/api/tokens", h.opsToken, "", "")
	if body := bodyOf(list); list.StatusCode != http.StatusOK || !strings.Contains(body, created.ID) || strings.Contains(body, created.Token) {
		t.Fatalf("list: %d %s", list.StatusCode, body)
	}
	if resp := h.api(http.MethodGet, "/api/tenants/"+h.tenant.ID, created.Token, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("new token before revocation: %d", resp.StatusCode)
	}
	bad := []struct{ body, reason string }{
		{`{"role":"root","name":"x"}`, "unknown role"},
		{`{"role":"tenant-admin","name":"x"}`, "needs a tenant"},
		{`{"role":"ops","tenant_id":"` + h.tenant.ID + `","name":"x"}`, "only a tenant-admin"},
		{`{"role":"tenant-admin","tenant_id":"zzzzzzzzzzzzzzzz","name":"x"}`, "no such tenant"},
		{`{"role":"ops","name":""}`, "token name"},
	}
	for _, b := range bad {
		resp := h.api(http.MethodPost, "/api/tokens", h.opsToken, "application/json", b.body)
		if body := bodyOf(resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, b.reason) {
			t.Errorf("%s: %d %s", b.body, resp.StatusCode, body)
		}
	}
	if resp := h.api(http.MethodPost, "/api/tokens", created.Token, "application/json", `{"role":"ops","name":"escalate"}`); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("tenant-admin minted a token: %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodDelete, "/api/tokens/"+created.ID, h.opsToken, "", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", resp.StatusCode, bodyOf(resp))
	}
	if resp := h.api(http.MethodGet, "/api/tenants/"+h.tenant.ID, created.Token, "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token still works: %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodDelete, "/api/tokens/aaaaaaaaaaaa", h.opsToken, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", resp.StatusCode)
	}
	if strings.Contains(h.logs.String(), created.Token) {
		t.Fatal("a token was logged")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	if resp := h.api(http.MethodGet, "/healthz", "", "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	resp := h.api(http.MethodGet, "/readyz", "", "", "")
	if body := bodyOf(resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"postgres":"ok"`) || !strings.Contains(body, `"temporal":"ok"`) {
		t.Fatalf("readyz %d %s", resp.StatusCode, body)
	}
	// With the database gone the starter is alive but not ready.
	h.db.Close()
	resp = h.api(http.MethodGet, "/readyz", "", "", "")
	if body := bodyOf(resp); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"postgres":"unavailable"`) {
		t.Fatalf("readyz without postgres: %d %s", resp.StatusCode, body)
	}
	if resp := h.api(http.MethodGet, "/healthz", "", "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz without postgres: %d", resp.StatusCode)
	}
}

// TestSecurityEventsAreAudited is privacy promises P05 and P22: issuing and revoking tokens,
// creating tenants, every read of personal data and every refusal land in the audit log with the
// actor, and the logs still verify.
func TestSecurityEventsAreAudited(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	resp := h.api(http.MethodPost, "/api/tokens", h.opsToken, "application/json", `{"role":"tenant-admin","tenant_id":"`+h.tenant.ID+`","name":"desk"}`)
	var created struct{ Token, ID string }
	decodeJSON(t, resp, &created)
	if resp := h.api(http.MethodGet, "/api/tenants/"+h.tenant.ID, created.Token, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodGet, "/api/tokens", created.Token, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("denied: %d", resp.StatusCode)
	}
	body, _ := protojson.Marshal(&commonpb.Payloads{})
	if resp := h.codecRequest("/codec/decode", "Bearer "+h.opsToken, "", body); resp.StatusCode != http.StatusOK {
		t.Fatalf("codec: %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodDelete, "/api/tokens/"+created.ID, h.opsToken, "", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}

	opsID := strings.Split(h.opsToken, "_")[1]
	actions := func(logID string) map[string]string {
		l, err := h.db.LoadAuditLog(ctx, logID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range l.Entries {
			out[e.Action] += e.Actor + " "
		}
		return out
	}
	control := actions(auditlog.ControlLog)
	for action, actor := range map[string]string{
		"tenant.created":     "system",
		"token.created":      "token:" + opsID,
		"token.revoked":      "token:" + opsID,
		"access.denied":      "token:" + created.ID,
		"personal_data.read": "token:" + opsID, // the codec decode
	} {
		if !strings.Contains(control[action], actor) {
			t.Errorf("control log: %s by %s missing (have %v)", action, actor, control)
		}
	}
	if tenant := actions(h.tenant.ID); !strings.Contains(tenant["personal_data.read"], "token:"+created.ID) {
		t.Errorf("tenant log lacks the profile read: %v", tenant)
	}
	_, vkey, err := auditlog.NewSigner(config.DevAuditSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	verifiers, err := auditlog.NewVerifiers(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, logID := range []string{auditlog.ControlLog, h.tenant.ID} {
		r, err := h.db.VerifyAudit(ctx, logID, verifiers)
		if err != nil || !r.OK() {
			first, _ := r.First()
			t.Fatalf("%s does not verify: %v %v", logID, err, first)
		}
	}
}
