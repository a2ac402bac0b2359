package ingress

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// DSRControl files and steers data-subject requests (lifecycle.Requests).
type DSRControl interface {
	Start(ctx context.Context, actor string, in lifecycle.NewRequest) (store.DSRRequest, error)
	VerifyCode(ctx context.Context, requestID, number, code string) error
	Attest(ctx context.Context, requestID, number, actor, reason string) error
	Extend(ctx context.Context, requestID, actor, reason string) error
	Hold(ctx context.Context, requestID, actor, reason string) error
	Release(ctx context.Context, requestID, actor string) error
	State(ctx context.Context, requestID string) (workflows.DSRState, error)
}

type dsrStore interface {
	authenticator
	auditAppender
	DSR(ctx context.Context, id string) (store.DSRRequest, error)
	ListDSRs(ctx context.Context, f store.DSRFilter) ([]store.DSRRequest, error)
	OpenDSRExport(ctx context.Context, keys codec.Keys, token string, now time.Time) (store.DSRExport, error)
}

// dsrAPI serves data-subject requests: compliance staff (and a tenant's admin, for its own
// customers) file and follow them; the requester answers their code and downloads their export.
type dsrAPI struct {
	requests DSRControl
	store    dsrStore
	keys     codec.Keys
	log      *slog.Logger
	now      func() time.Time
}

func (a *dsrAPI) route(next authed) http.HandlerFunc { return authenticate(a.store, a.log, next) }

func (a *dsrAPI) start(w http.ResponseWriter, r *http.Request, p access.Principal) {
	var body struct {
		TenantID     string   `json:"tenant_id"`
		Kind         string   `json:"kind"`
		Regime       string   `json:"regime"`
		Phones       []string `json:"phones"`
		AttestReason string   `json:"attest_reason"`
		Correction   *struct {
			Name      string `json:"name"`
			BookingID int64  `json:"booking_id"`
		} `json:"correction"`
	}
	if !decodeJSONBody(w, r, &body) {
		return
	}
	if err := p.CanFileDSR(body.TenantID); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	// Vouching for a person's identity is compliance's call, not the business's.
	if body.AttestReason != "" {
		if err := p.CanManageDSR(); err != nil {
			forbid(w, r, a.log, a.store, p, err)
			return
		}
	}
	in := lifecycle.NewRequest{TenantID: body.TenantID, Kind: store.DSRKind(body.Kind), Phones: body.Phones, AttestReason: body.AttestReason}
	if body.Regime != "" {
		in.Regime = legalclock.Regime(body.Regime)
	}
	if body.Correction != nil {
		in.Correction = &store.Correction{Name: body.Correction.Name, BookingID: body.Correction.BookingID}
	}
	req, err := a.requests.Start(r.Context(), p.Actor(), in)
	switch {
	case errors.Is(err, lifecycle.ErrInvalid):
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	case err != nil && req.ID != "":
		// Recorded, but its workflow did not start: the record says so and the log has why.
		a.log.Error("request recorded, workflow not started", slog.String("request_id", req.ID), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "the request "+req.ID+" was recorded but could not be started; try again")
		return
	case err != nil:
		a.log.Error("file request failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "could not file the request; try again")
		return
	}
	a.log.Info("data-subject request filed", slog.String("request_id", req.ID), slog.String("tenant_id", req.TenantID),
		slog.String("kind", string(req.Kind)), slog.String("actor", p.Actor()))
	writeJSON(w, http.StatusAccepted, req)
}

func (a *dsrAPI) list(w http.ResponseWriter, r *http.Request, p access.Principal) {
	tenant := r.URL.Query().Get("tenant")
	if p.Role == access.TenantAdmin && tenant == "" {
		tenant = p.TenantID
	}
	if tenant != "" {
		if err := p.CanFileDSR(tenant); err != nil {
			forbid(w, r, a.log, a.store, p, err)
			return
		}
	} else if err := p.CanManageDSR(); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	reqs, err := a.store.ListDSRs(r.Context(), store.DSRFilter{TenantID: tenant})
	if err != nil {
		a.log.Error("list requests failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not list the requests")
		return
	}
	if reqs == nil {
		reqs = []store.DSRRequest{}
	}
	writeJSON(w, http.StatusOK, reqs)
}

// load fetches a request and checks p may see it.
func (a *dsrAPI) load(w http.ResponseWriter, r *http.Request, p access.Principal) (store.DSRRequest, bool) {
	req, err := a.store.DSR(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such request")
		return req, false
	}
	if err != nil {
		a.log.Error("load request failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not load the request")
		return req, false
	}
	if err := p.CanFileDSR(req.TenantID); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return req, false
	}
	return req, true
}

func (a *dsrAPI) get(w http.ResponseWriter, r *http.Request, p access.Principal) {
	req, ok := a.load(w, r, p)
	if !ok {
		return
	}
	out := struct {
		store.DSRRequest
		Workflow *workflows.DSRState `json:"workflow,omitempty"`
	}{DSRRequest: req}
	if st, err := a.requests.State(r.Context(), req.ID); err == nil {
		// Export tokens are for the requester and compliance's download; not listed here.
		for i := range st.Exports {
			st.Exports[i].Token, st.Exports[i].Link = "", ""
		}
		out.Workflow = &st
	}
	writeJSON(w, http.StatusOK, out)
}

// manage handles attest, extend, legal-hold and release-hold: compliance only.
func (a *dsrAPI) manage(action string) authed {
	return func(w http.ResponseWriter, r *http.Request, p access.Principal) {
		if err := p.CanManageDSR(); err != nil {
			forbid(w, r, a.log, a.store, p, err)
			return
		}
		req, ok := a.load(w, r, p)
		if !ok {
			return
		}
		var body struct {
			Phone  string `json:"phone"`
			Reason string `json:"reason"`
		}
		if action != "release-hold" && !decodeJSONBody(w, r, &body) {
			return
		}
		var err error
		switch action {
		case "attest":
			err = a.requests.Attest(r.Context(), req.ID, body.Phone, p.Actor(), body.Reason)
		case "extend":
			err = a.requests.Extend(r.Context(), req.ID, p.Actor(), body.Reason)
		case "legal-hold":
			err = a.requests.Hold(r.Context(), req.ID, p.Actor(), body.Reason)
		case "release-hold":
			err = a.requests.Release(r.Context(), req.ID, p.Actor())
		}
		switch {
		case errors.Is(err, lifecycle.ErrInvalid):
			writeJSONError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, lifecycle.ErrNoRequest):
			writeJSONError(w, http.StatusConflict, "the request is no longer open")
		case err != nil:
			a.log.Error("request signal failed", slog.String("request_id", req.ID), slog.String("error", err.Error()))
			writeJSONError(w, http.StatusServiceUnavailable, "could not reach the request; try again")
		default:
			writeJSON(w, http.StatusAccepted, map[string]string{"request_id": req.ID, "action": action})
		}
	}
}

// verify takes the requester's one-time code. It needs no token: the code is the credential, and
// the request allows five tries per number.
func (a *dsrAPI) verify(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Phone string `json:"phone"`
		Code  string `json:"code"`
	}
	if !decodeJSONBody(w, r, &body) {
		return
	}
	err := a.requests.VerifyCode(r.Context(), r.PathValue("id"), body.Phone, body.Code)
	switch {
	case errors.Is(err, lifecycle.ErrNoRequest):
		writeJSONError(w, http.StatusNotFound, "no open request with this id")
	case errors.Is(err, lifecycle.ErrCodeRefused):
		writeJSONError(w, http.StatusUnprocessableEntity, err.Error())
	case err != nil:
		a.log.Error("verify code failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "could not reach the request; try again")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"verified": "ok"})
	}
}

// download serves an export to whoever holds its link, once, until it expires; the download is a
// read of personal data and lands in the tenant's audit log.
func (a *dsrAPI) download(w http.ResponseWriter, r *http.Request) {
	// Opening marks the export downloaded and writes its audit entry in one transaction, under
	// this actor.
	exp, err := a.store.OpenDSRExport(store.WithActor(r.Context(), "export-link"), a.keys, r.PathValue("token"), a.now())
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such export, or its link has expired")
		return
	}
	if err != nil {
		a.log.Error("open export failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "could not open the export; try again")
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="ringback-data-`+exp.RequestID+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(exp.Data)
}
