package ingress

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// closureAPI serves a tenant's account closure: start it, see it, reactivate, delete early, hold.
type closureAPI struct {
	closures ClosureAdmin
	tenants  interface {
		authenticator
		auditAppender
		Tenant(ctx context.Context, id string) (store.Tenant, error)
	}
	log *slog.Logger
}

func (a *closureAPI) route(next authed) http.HandlerFunc { return authenticate(a.tenants, a.log, next) }

// closureView is the closure as the API shows it.
type closureView struct {
	TenantID      string     `json:"tenant_id"`
	WorkflowID    string     `json:"workflow_id"`
	Stage         string     `json:"stage"`
	Reason        string     `json:"reason"`
	StartedAt     time.Time  `json:"started_at"`
	DeleteAt      time.Time  `json:"delete_at"`
	OnHold        bool       `json:"on_hold"`
	HoldReason    string     `json:"hold_reason,omitempty"`
	HeldSeconds   int64      `json:"held_seconds"`
	RemindersSent []string   `json:"reminders_sent"`
	Early         bool       `json:"early"`
	ErasedAt      *time.Time `json:"erased_at,omitempty"`
	Certificate   *int64     `json:"audit_certificate_index,omitempty"`
}

func viewClosure(st workflows.ClosureState) closureView {
	v := closureView{
		TenantID: st.TenantID, WorkflowID: workflows.ClosureWorkflowID(st.TenantID), Stage: st.Stage, Reason: st.Reason,
		StartedAt: st.StartedAt, DeleteAt: st.DeleteAt, OnHold: st.OnHold, HoldReason: st.HoldReason,
		HeldSeconds: int64(st.HeldFor / time.Second), RemindersSent: st.RemindersSent, Early: st.Early,
	}
	if v.RemindersSent == nil {
		v.RemindersSent = []string{}
	}
	if !st.ErasedAt.IsZero() {
		v.ErasedAt = &st.ErasedAt
		v.Certificate = &st.AuditCert
	}
	return v
}

// start begins the tenant's closure: the tenant-admin's own request, or ops'.
func (a *closureAPI) start(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanCloseTenant(id); err != nil {
		forbid(w, r, a.log, a.tenants, p, err)
		return
	}
	t, err := a.tenants.Tenant(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	}
	if err != nil {
		a.fail(w, "load tenant", id, err)
		return
	}
	if t.Status != store.TenantStatusActive {
		writeJSONError(w, http.StatusConflict, "the account is already closing")
		return
	}
	reason := workflows.ClosureReasonTenantRequest
	if p.Role == access.Ops {
		reason = workflows.ClosureReasonOps
	}
	if err := a.closures.StartClosure(r.Context(), id, reason, p.Actor()); err != nil {
		a.fail(w, "start closure", id, err)
		return
	}
	a.log.Info("account closure started", slog.String("tenant_id", id), slog.String("actor", p.Actor()), slog.String("reason", reason))
	writeJSON(w, http.StatusAccepted, map[string]string{"tenant_id": id, "workflow_id": workflows.ClosureWorkflowID(id), "reason": reason})
}

func (a *closureAPI) get(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanReadTenant(id); err != nil {
		forbid(w, r, a.log, a.tenants, p, err)
		return
	}
	st, err := a.closures.State(r.Context(), id)
	if err != nil {
		a.signalFailed(w, id, err)
		return
	}
	writeJSON(w, http.StatusOK, viewClosure(st))
}

// deleteNow erases the tenant without waiting. The body must name the tenant again: an early,
// irreversible deletion is not something a mistyped URL should trigger.
func (a *closureAPI) deleteNow(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanCloseTenant(id); err != nil {
		forbid(w, r, a.log, a.tenants, p, err)
		return
	}
	var body struct {
		ConfirmTenantID string `json:"confirm_tenant_id"`
	}
	if !decodeJSONBody(w, r, &body) {
		return
	}
	if body.ConfirmTenantID != id {
		writeJSONError(w, http.StatusBadRequest, "confirm_tenant_id must repeat the tenant id: deletion cannot be undone")
		return
	}
	if st, err := a.closures.State(r.Context(), id); err == nil && st.OnHold {
		writeJSONError(w, http.StatusConflict, "the account is on legal hold: nothing is deleted until the hold is released")
		return
	}
	a.signal(w, r, id, "delete-now", a.closures.DeleteNow(r.Context(), id, p.Actor()))
}

func (a *closureAPI) reactivate(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanReactivateTenant(); err != nil {
		forbid(w, r, a.log, a.tenants, p, err)
		return
	}
	a.signal(w, r, id, "reactivate", a.closures.Reactivate(r.Context(), id, p.Actor()))
}

func (a *closureAPI) hold(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanHoldTenant(); err != nil {
		forbid(w, r, a.log, a.tenants, p, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if !decodeJSONBody(w, r, &body) {
		return
	}
	a.signal(w, r, id, "legal-hold", a.closures.Hold(r.Context(), id, p.Actor(), body.Reason))
}

func (a *closureAPI) release(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanHoldTenant(); err != nil {
		forbid(w, r, a.log, a.tenants, p, err)
		return
	}
	a.signal(w, r, id, "release-hold", a.closures.Release(r.Context(), id, p.Actor()))
}

// signal answers 202 for a delivered signal: the workflow records and applies it.
func (a *closureAPI) signal(w http.ResponseWriter, r *http.Request, id, what string, err error) {
	if err != nil {
		a.signalFailed(w, id, err)
		return
	}
	a.log.Info("account closure signalled", slog.String("tenant_id", id), slog.String("signal", what))
	writeJSON(w, http.StatusAccepted, map[string]string{"tenant_id": id, "signal": what})
}

func (a *closureAPI) signalFailed(w http.ResponseWriter, id string, err error) {
	switch {
	case errors.Is(err, lifecycle.ErrNoClosure):
		writeJSONError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, lifecycle.ErrInvalid):
		writeJSONError(w, http.StatusBadRequest, err.Error())
	default:
		a.fail(w, "closure", id, err)
	}
}

func (a *closureAPI) fail(w http.ResponseWriter, what, id string, err error) {
	a.log.Error(what+" failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
	writeJSONError(w, http.StatusServiceUnavailable, "could not reach the workflow service; try again")
}
