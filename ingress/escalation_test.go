package ingress

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/workflows"
)

func signAck(t *testing.T, key []byte, workflowID string, escalationID int64, issued time.Time) string {
	t.Helper()
	tok, err := acktoken.Sign(key, acktoken.Claim{WorkflowID: workflowID, EscalationID: escalationID, IssuedAt: issued})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestEscalationLinkAcknowledgesOnlyOnPost(t *testing.T) {
	h, fake, key := newTenantAPIHarness(t)
	workflowID := "conv/" + h.tenant.ID + "/0123456789abcdef"
	link := "/ack/" + signAck(t, key, workflowID, 7, time.Now())

	// Opening the link, as a messaging app does to preview it, only shows the page.
	for range 2 {
		resp := h.api(http.MethodGet, link, "", "", "")
		body := bodyOf(resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "A caller is waiting for a person at Demo Plumbing.") ||
			!strings.Contains(body, `<form method="post">`) || !strings.Contains(body, "I’m taking it") {
			t.Fatalf("GET: %d %s", resp.StatusCode, body)
		}
		for _, leak := range []string{workflowID, "0123456789abcdef", callerPhone, "src=", "href=", "http"} {
			if strings.Contains(body, leak) {
				t.Errorf("the page contains %q", leak)
			}
		}
		for header, want := range map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		} {
			if got := resp.Header.Get(header); got != want {
				t.Errorf("%s = %q, want %q", header, got, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
	}
	if got := fake.received(); len(got) != 0 {
		t.Fatalf("GET signalled: %+v", got)
	}
	if got := h.auditActions(h.tenant.ID, "escalation."); len(got) != 0 {
		t.Fatalf("GET was audited as an acknowledgement: %v", got)
	}

	// The button's POST signals once per request, and each is in the tenant's log.
	want := signalled{WorkflowID: workflowID, Name: workflows.SignalAcknowledge, Arg: workflows.Acknowledgement{EscalationID: 7, By: "link"}}
	for i := 1; i <= 2; i++ {
		resp := h.api(http.MethodPost, link, "", "", "")
		if body := bodyOf(resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "a person at Demo Plumbing is taking this conversation") {
			t.Fatalf("POST %d: %d %s", i, resp.StatusCode, body)
		}
		got := fake.received()
		if len(got) != i || got[i-1] != want {
			t.Fatalf("after POST %d the signals are %+v, want %d of %+v", i, got, i, want)
		}
		if audited := h.auditActions(h.tenant.ID, "escalation."); len(audited) != i || audited[i-1] != "escalation.acknowledge by escalation-link" {
			t.Fatalf("after POST %d the audit entries are %v", i, audited)
		}
	}

	// A conversation that has ended says so.
	fake.failWith(serviceerror.NewNotFound("workflow execution already completed"))
	if resp := h.api(http.MethodPost, link, "", "", ""); resp.StatusCode != http.StatusGone || !strings.Contains(bodyOf(resp), "This conversation has ended") {
		t.Fatalf("ended conversation: %d", resp.StatusCode)
	}
	fake.failWith(errors.New("frontend unavailable"))
	if resp := h.api(http.MethodPost, link, "", "", ""); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(bodyOf(resp), "Try again") {
		t.Fatalf("Temporal down: %d", resp.StatusCode)
	}
	if strings.Contains(h.logs.String(), link) {
		t.Fatal("the link's token is in the log")
	}
}

func TestForgedAndExpiredEscalationLinksAreNotFound(t *testing.T) {
	h, fake, key := newTenantAPIHarness(t)
	workflowID := "conv/" + h.tenant.ID + "/0123456789abcdef"
	valid := signAck(t, key, workflowID, 7, time.Now())
	body, sig, _ := strings.Cut(valid, ".")
	otherBody, _, _ := strings.Cut(signAck(t, key, "conv/"+h.tenant.ID+"/fedcba9876543210", 7, time.Now()), ".")
	tokens := map[string]string{
		"another key":            signAck(t, []byte(strings.Repeat("x", 32)), workflowID, 7, time.Now()),
		"a body under another's": otherBody + "." + sig,
		"a cut signature":        body + "." + sig[:8],
		"expired":                signAck(t, key, workflowID, 7, time.Now().Add(-acktoken.Validity-time.Minute)),
		"garbage":                "not-a-token",
		"an unknown tenant":      signAck(t, key, "conv/zzzzzzzzzzzzzzzz/0123456789abcdef", 7, time.Now()),
		"not a conversation":     signAck(t, key, "closure/"+h.tenant.ID, 7, time.Now()),
		"the phone-hash key":     signAck(t, []byte(strings.Repeat("h", 32)), workflowID, 7, time.Now()),
	}
	var first string
	for name, tok := range tokens {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			resp := h.api(method, "/ack/"+tok, "", "", "")
			page := bodyOf(resp)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d", method, name, resp.StatusCode)
			}
			// One page for every failure: it says nothing about why.
			if first == "" {
				first = page
			} else if page != first {
				t.Errorf("%s %s: a page of its own:\n%s", method, name, page)
			}
		}
	}
	if got := fake.received(); len(got) != 0 {
		t.Fatalf("a bad link signalled: %+v", got)
	}
	if got := h.auditActions(h.tenant.ID, "escalation."); len(got) != 0 {
		t.Fatalf("a bad link was audited as an acknowledgement: %v", got)
	}
}

func TestAcknowledgeAPI(t *testing.T) {
	h, fake, _ := newTenantAPIHarness(t)
	other := h.otherTenant()
	workflowID := "conv/" + h.tenant.ID + "/0123456789abcdef"
	req := func(tenant, workflow string, escalation int) string {
		return fmt.Sprintf(`{"tenant_id":%q,"workflow_id":%q,"escalation_id":%d}`, tenant, workflow, escalation)
	}
	mine := h.token(access.TenantAdmin, h.tenant.ID)
	cases := []struct {
		name, token, body string
		status            int
		reason            string
	}{
		{"no token", "", req(h.tenant.ID, workflowID, 3), 401, "missing bearer token"},
		{"compliance", h.token(access.Compliance, ""), req(h.tenant.ID, workflowID, 3), 403, "cannot change"},
		{"another tenant's admin", h.token(access.TenantAdmin, other.ID), req(h.tenant.ID, workflowID, 3), 403, "only its own tenant"},
		{"another tenant's conversation", mine, req(h.tenant.ID, "conv/"+other.ID+"/0123456789abcdef", 3), 422, "not a conversation of this tenant"},
		{"not a conversation", h.opsToken, req(h.tenant.ID, "dsr/123", 3), 422, "not a conversation of this tenant"},
		{"no escalation", mine, req(h.tenant.ID, workflowID, 0), 422, "escalation_id"},
		{"unknown tenant", h.opsToken, req("zzzzzzzzzzzzzzzz", "conv/zzzzzzzzzzzzzzzz/0123456789abcdef", 3), 404, "no such tenant"},
		{"unknown field", mine, `{"tenant_id":"` + h.tenant.ID + `","workflow":"x"}`, 400, "unknown field"},
	}
	for _, c := range cases {
		resp := h.api(http.MethodPost, "/api/conversations/ack", c.token, "application/json", c.body)
		if body := bodyOf(resp); resp.StatusCode != c.status || !strings.Contains(body, c.reason) {
			t.Errorf("%s: got %d %s, want %d containing %q", c.name, resp.StatusCode, body, c.status, c.reason)
		}
	}
	if got := fake.received(); len(got) != 0 {
		t.Fatalf("refused requests signalled: %+v", got)
	}

	for i, tok := range []string{h.opsToken, mine} {
		resp := h.api(http.MethodPost, "/api/conversations/ack", tok, "application/json", req(h.tenant.ID, workflowID, 3))
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("acknowledge %d: %d %s", i, resp.StatusCode, bodyOf(resp))
		}
	}
	want := signalled{WorkflowID: workflowID, Name: workflows.SignalAcknowledge, Arg: workflows.Acknowledgement{EscalationID: 3, By: "operator"}}
	if got := fake.received(); len(got) != 2 || got[0] != want || got[1] != want {
		t.Fatalf("signals = %+v", got)
	}
	audited := h.auditActions(h.tenant.ID, "escalation.")
	if len(audited) != 2 || !strings.HasPrefix(audited[0], "escalation.acknowledge by token:") || audited[0] == audited[1] {
		t.Fatalf("audit entries = %v", audited)
	}

	fake.failWith(serviceerror.NewNotFound("workflow not found"))
	if resp := h.api(http.MethodPost, "/api/conversations/ack", mine, "application/json", req(h.tenant.ID, workflowID, 3)); resp.StatusCode != http.StatusNotFound || !strings.Contains(bodyOf(resp), "has ended") {
		t.Fatalf("ended conversation: %d", resp.StatusCode)
	}
}
