package ingress

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ringback/ringback/store"
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
	const valid = `{"name":"Acme Dental","numbers":["(614) 555-0142"],"timezone":"America/Chicago","owner_phone":"+16145550143"}`
	cases := []struct {
		name, token, contentType, body string
		status                         int
		reason                         string
	}{
		{"no token", "", "application/json", valid, 401, "missing bearer token"},
		{"wrong token", "nope", "application/json", valid, 401, "invalid bearer token"},
		{"form body", adminToken, "application/x-www-form-urlencoded", "name=x", 415, "application/json"},
		{"malformed", adminToken, "application/json", `{"name":`, 400, "malformed JSON"},
		{"unknown field", adminToken, "application/json", `{"nmae":"x"}`, 400, "unknown field"},
		{"invalid", adminToken, "application/json", `{"name":"","numbers":["12"],"timezone":"Nowhere","owner_phone":""}`, 422, "timezone"},
		{"taken number", adminToken, "application/json", `{"name":"Copycat","numbers":["` + businessPhone + `"],"timezone":"America/Chicago","owner_phone":"+16145550143"}`, 409, "already belongs"},
		{"too large", adminToken, "application/json", `{"name":"` + strings.Repeat("a", maxAPIBody) + `"}`, 413, "too large"},
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

	resp := h.api(http.MethodPost, "/api/tenants", adminToken, "application/json", valid)
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

	resp = h.api(http.MethodGet, "/api/tenants/"+created.ID, adminToken, "", "")
	var shown store.Tenant
	decodeJSON(t, resp, &shown)
	if resp.StatusCode != http.StatusOK || shown.Name != "Acme Dental" {
		t.Fatalf("show answered %d %+v", resp.StatusCode, shown)
	}
	if resp := h.api(http.MethodGet, "/api/tenants/zzzzzzzzzzzzzzzz", adminToken, "", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown tenant answered %d", resp.StatusCode)
	}
	if resp := h.api(http.MethodGet, "/api/tenants/"+created.ID, "", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated show answered %d", resp.StatusCode)
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
