package ingress

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// EscalationSignaler delivers an acknowledgement to a conversation; a Temporal client is one.
type EscalationSignaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// ErrConversationEnded is returned for an acknowledgement whose conversation is no longer running.
var ErrConversationEnded = errors.New("the conversation has ended")

// Who acknowledged, as the conversation and the audit log are told.
const (
	AckByLink     = "link"     // the link in the escalation text
	AckByOperator = "operator" // the admin API or the CLI
)

// ConversationTenant returns the tenant a conversation workflow ID (conv/<tenant>/<caller HMAC>)
// belongs to, and false for anything else.
func ConversationTenant(workflowID string) (string, bool) {
	rest, ok := strings.CutPrefix(workflowID, "conv/")
	if !ok {
		return "", false
	}
	tenant, caller, ok := strings.Cut(rest, "/")
	if !ok || !tenantspec.ValidID(tenant) || caller == "" || strings.Contains(caller, "/") {
		return "", false
	}
	return tenant, true
}

// AcknowledgeEscalation tells a conversation that a person has taken its escalation over. It is
// recorded first, in the tenant's audit log with the context's actor, so an acknowledgement that
// cannot be recorded is not made; audit is the store. It returns ErrConversationEnded when the
// workflow is no longer running.
func AcknowledgeEscalation(ctx context.Context, signals EscalationSignaler, audit auditAppender, workflowID string, escalationID int64, by string) error {
	tenantID, ok := ConversationTenant(workflowID)
	if !ok {
		return fmt.Errorf("acknowledge: %q is not a conversation's workflow ID", workflowID)
	}
	if escalationID <= 0 {
		return errors.New("acknowledge: the escalation ID must be positive")
	}
	if err := recordAccess(ctx, audit, tenantID, "escalation.acknowledge", map[string]any{
		"workflow_id": workflowID, "escalation_id": escalationID, "by": by,
	}); err != nil {
		return fmt.Errorf("acknowledge: audit: %w", err)
	}
	err := signals.SignalWorkflow(ctx, workflowID, "", workflows.SignalAcknowledge,
		workflows.Acknowledgement{EscalationID: escalationID, By: by})
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return ErrConversationEnded
	}
	if err != nil {
		return fmt.Errorf("acknowledge: signal the conversation: %w", err)
	}
	return nil
}

// ackRequest is the body of POST /api/conversations/ack.
type ackRequest struct {
	TenantID     string `json:"tenant_id"`
	WorkflowID   string `json:"workflow_id"`
	EscalationID int64  `json:"escalation_id"`
}

// acknowledge is the operator's way to take an escalation over, for when the link is not at hand.
func (a *tenantAPI) acknowledge(w http.ResponseWriter, r *http.Request, p access.Principal) {
	var req ackRequest
	if !decodeJSONBody(w, r, &req) {
		return
	}
	if err := canConfigureTenant(p, req.TenantID); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	if tenant, ok := ConversationTenant(req.WorkflowID); !ok || tenant != req.TenantID {
		writeJSONError(w, http.StatusUnprocessableEntity, "workflow_id: not a conversation of this tenant")
		return
	}
	if req.EscalationID <= 0 {
		writeJSONError(w, http.StatusUnprocessableEntity, "escalation_id: must be a positive number")
		return
	}
	// The acknowledgement is recorded in the tenant's own log, so the tenant must exist.
	if _, ok := a.loadTenant(w, r, req.TenantID); !ok {
		return
	}
	err := AcknowledgeEscalation(r.Context(), a.signals, a.store, req.WorkflowID, req.EscalationID, AckByOperator)
	if errors.Is(err, ErrConversationEnded) {
		writeJSONError(w, http.StatusNotFound, "no running conversation with this workflow_id: it has ended or never existed")
		return
	}
	if err != nil {
		a.log.Error("acknowledge failed", slog.String("workflow_id", req.WorkflowID), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "could not acknowledge right now")
		return
	}
	a.log.Info("escalation acknowledged", slog.String("workflow_id", req.WorkflowID),
		slog.Int64("escalation_id", req.EscalationID), slog.String("actor", p.Actor()))
	writeJSON(w, http.StatusAccepted, map[string]any{"workflow_id": req.WorkflowID, "escalation_id": req.EscalationID, "by": AckByOperator})
}

// ackLinkActor names the link in audit entries: whoever holds the text it was sent in.
const ackLinkActor = "escalation-link"

// ackLink serves the link in an escalation text. GET only shows a page, because messaging apps
// fetch links to preview them; the owner's tap on the page's button is the POST that acts. The
// signed token is the only credential, so every failure to verify it looks the same.
type ackLink struct {
	key     []byte
	now     func() time.Time
	tenants interface {
		Tenant(ctx context.Context, id string) (store.Tenant, error)
	}
	audit   auditAppender
	signals EscalationSignaler
	log     *slog.Logger
}

// verified checks the token and finds the business, answering the page itself when it cannot.
func (l *ackLink) verified(w http.ResponseWriter, r *http.Request) (acktoken.Claim, store.Tenant, bool) {
	claim, err := acktoken.Verify(l.key, r.PathValue("token"), l.now())
	tenantID, ok := ConversationTenant(claim.WorkflowID)
	if err != nil || !ok {
		writeAckPage(w, http.StatusNotFound, pageNotFound)
		return acktoken.Claim{}, store.Tenant{}, false
	}
	t, err := l.tenants.Tenant(r.Context(), tenantID)
	if errors.Is(err, store.ErrNotFound) {
		writeAckPage(w, http.StatusNotFound, pageNotFound)
		return acktoken.Claim{}, store.Tenant{}, false
	}
	if err != nil {
		l.log.Error("escalation link: load tenant failed", slog.String("error", err.Error()))
		writeAckPage(w, http.StatusServiceUnavailable, pageUnavailable)
		return acktoken.Claim{}, store.Tenant{}, false
	}
	return claim, t, true
}

func (l *ackLink) show(w http.ResponseWriter, r *http.Request) {
	if _, t, ok := l.verified(w, r); ok {
		writeAckPage(w, http.StatusOK, ackPage{
			Title:   "A caller is waiting",
			Message: "A caller is waiting for a person at " + t.Name + ".",
			Form:    true,
		})
	}
}

func (l *ackLink) take(w http.ResponseWriter, r *http.Request) {
	claim, t, ok := l.verified(w, r)
	if !ok {
		return
	}
	ctx := store.WithActor(r.Context(), ackLinkActor)
	err := AcknowledgeEscalation(ctx, l.signals, l.audit, claim.WorkflowID, claim.EscalationID, AckByLink)
	switch {
	case errors.Is(err, ErrConversationEnded):
		writeAckPage(w, http.StatusGone, pageEnded)
	case err != nil:
		l.log.Error("escalation link: acknowledge failed", slog.String("workflow_id", claim.WorkflowID), slog.String("error", err.Error()))
		writeAckPage(w, http.StatusServiceUnavailable, pageUnavailable)
	default:
		l.log.Info("escalation acknowledged", slog.String("workflow_id", claim.WorkflowID),
			slog.Int64("escalation_id", claim.EscalationID), slog.String("actor", ackLinkActor))
		writeAckPage(w, http.StatusOK, ackPage{
			Title:   "It’s yours",
			Message: "Thanks. Ringback knows a person at " + t.Name + " is taking this conversation.",
		})
	}
}

// ackPage is what the link's pages say. They carry no caller data and load nothing from
// elsewhere.
type ackPage struct {
	Title, Message string
	Form           bool
}

var (
	pageNotFound    = ackPage{Title: "Link not found", Message: "This link is not valid, or it has expired."}
	pageEnded       = ackPage{Title: "This conversation has ended", Message: "There is nothing left to take over."}
	pageUnavailable = ackPage{Title: "Please try again", Message: "Ringback could not record this right now. Try again in a minute."}
)

var ackTemplate = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1f2328}
button{font:inherit;font-size:1.2rem;padding:.8rem 1.6rem;border:0;border-radius:.5rem;background:#1a7f37;color:#fff}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Form}}<form method="post"><button type="submit">I’m taking it</button></form>{{end}}
</body>
</html>
`))

// writeAckPage renders a page that no one else may frame, cache, index or be told the URL of: the
// URL is the credential.
func writeAckPage(w http.ResponseWriter, status int, page ackPage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Robots-Tag", "noindex")
	w.WriteHeader(status)
	_ = ackTemplate.Execute(w, page)
}
