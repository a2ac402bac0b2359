package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// maxProfileBody caps a business profile: at its limits (30 services, 366 closures with reasons)
// it is far larger than the other admin API bodies.
const maxProfileBody = 256 << 10

// tenantStore is the store surface of one tenant's own API: its business profile, its webhook
// endpoint and its usage.
type tenantStore interface {
	authenticator
	auditAppender
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	TenantProfile(ctx context.Context, tenantID string) (tenantspec.Profile, error)
	SetTenantProfile(ctx context.Context, tenantID string, p tenantspec.Profile) (tenantspec.Profile, error)
	SetTenantWebhook(ctx context.Context, keys codec.Keys, tenantID, rawURL, secret string) (store.TenantWebhook, error)
	TenantWebhook(ctx context.Context, keys codec.Keys, tenantID string) (store.TenantWebhook, error)
	DeleteTenantWebhook(ctx context.Context, tenantID string) error
	Usage(ctx context.Context, tenantID string, from, to time.Time) (store.Usage, error)
}

// tenantAPI serves what a business runs for itself: its profile, its webhook endpoint, its usage
// and its escalations.
type tenantAPI struct {
	store tenantStore
	// keys seal webhook secrets under the tenant's data key.
	keys    codec.Keys
	signals EscalationSignaler
	log     *slog.Logger
	now     func() time.Time
}

func (a *tenantAPI) route(next authed) http.HandlerFunc { return authenticate(a.store, a.log, next) }

// canConfigureTenant is the rule for a tenant's settings and escalations: ops, and the
// tenant-admin of that tenant. Compliance reads tenants but does not run their business.
func canConfigureTenant(p access.Principal, tenantID string) error {
	switch {
	case p.Role == access.Ops:
		return nil
	case p.Role == access.TenantAdmin && p.TenantID == tenantID:
		return nil
	case p.Role == access.TenantAdmin:
		return fmt.Errorf("%w: a tenant-admin token reaches only its own tenant", access.ErrForbidden)
	}
	return fmt.Errorf("%w: role %s cannot change a tenant's settings", access.ErrForbidden, p.Role)
}

func (a *tenantAPI) getProfile(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := canConfigureTenant(p, id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	profile, err := a.store.TenantProfile(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	}
	if err != nil {
		a.log.Error("load business profile failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not load the business profile")
		return
	}
	// A backup phone is a person's number: its read is recorded, as the tenant profile's is.
	if profile.BackupPhone != "" {
		if err := recordAccess(r.Context(), a.store, id, "personal_data.read",
			map[string]any{"resource": "business_profile"}); err != nil {
			a.log.Error("audit personal_data.read failed", slog.String("error", err.Error()))
			writeJSONError(w, http.StatusServiceUnavailable, "cannot record this access right now")
			return
		}
	}
	writeJSON(w, http.StatusOK, profile)
}

func (a *tenantAPI) putProfile(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := canConfigureTenant(p, id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	// Strict decoding is what catches a misspelt day ("monday") that would otherwise be a day
	// the business silently loses.
	var profile tenantspec.Profile
	if !decodeJSONBodyUpTo(w, r, &profile, maxProfileBody) {
		return
	}
	saved, err := a.store.SetTenantProfile(r.Context(), id, profile)
	var invalid *tenantspec.ValidationError
	switch {
	case errors.As(err, &invalid):
		writeValidationError(w, invalid)
		return
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	case err != nil:
		a.log.Error("save business profile failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not save the business profile")
		return
	}
	a.log.Info("business profile saved", slog.String("tenant_id", id), slog.String("actor", p.Actor()))
	writeJSON(w, http.StatusOK, saved)
}

// writeValidationError answers 422 with every problem at once: "error" as everywhere else, and
// "problems" one by one for a form to place next to its fields.
func writeValidationError(w http.ResponseWriter, ve *tenantspec.ValidationError) {
	problems := make([]string, len(ve.Problems))
	for i, p := range ve.Problems {
		problems[i] = p.Error()
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": ve.Error(), "problems": problems})
}

// webhookRequest is the body of PUT /api/tenants/{id}/webhook.
type webhookRequest struct {
	URL string `json:"url"`
}

// webhookCreated carries the signing secret, which is shown only in this response.
type webhookCreated struct {
	URL       string    `json:"url"`
	Secret    string    `json:"secret"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// putWebhook sets the endpoint and always issues a new secret: setting it again is how a secret
// is rotated, and a secret chosen by the caller would be one more place it was written down.
func (a *tenantAPI) putWebhook(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := canConfigureTenant(p, id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	var req webhookRequest
	if !decodeJSONBody(w, r, &req) {
		return
	}
	if err := store.ValidateWebhookURL(req.URL); err != nil {
		writeJSONError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	// Checked first so that no data key is ever created for a tenant that does not exist.
	if _, ok := a.loadTenant(w, r, id); !ok {
		return
	}
	wh, err := a.store.SetTenantWebhook(r.Context(), a.keys, id, req.URL, "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	case errors.Is(err, codec.ErrKeyDestroyed):
		writeJSONError(w, http.StatusGone, "the tenant's data keys were destroyed")
		return
	case err != nil:
		a.log.Error("set webhook failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not set the webhook")
		return
	}
	// The URL is not logged: hook URLs often carry their own access token.
	a.log.Info("tenant webhook set", slog.String("tenant_id", id), slog.String("actor", p.Actor()))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, webhookCreated{URL: wh.URL, Secret: wh.Secret, CreatedAt: wh.CreatedAt, UpdatedAt: wh.UpdatedAt})
}

func (a *tenantAPI) getWebhook(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := canConfigureTenant(p, id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	wh, err := a.store.TenantWebhook(r.Context(), a.keys, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusNotFound, "no webhook is set for this tenant")
		return
	case errors.Is(err, codec.ErrKeyDestroyed):
		writeJSONError(w, http.StatusGone, "the tenant's data keys were destroyed")
		return
	case err != nil:
		a.log.Error("load webhook failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not load the webhook")
		return
	}
	writeJSON(w, http.StatusOK, wh) // store.TenantWebhook never encodes its secret
}

func (a *tenantAPI) deleteWebhook(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := canConfigureTenant(p, id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	err := a.store.DeleteTenantWebhook(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no webhook is set for this tenant")
		return
	}
	if err != nil {
		a.log.Error("delete webhook failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not delete the webhook")
		return
	}
	a.log.Info("tenant webhook deleted", slog.String("tenant_id", id), slog.String("actor", p.Actor()))
	w.WriteHeader(http.StatusNoContent)
}

// loadTenant loads a tenant, answering 404 (or the failure) itself when it cannot.
func (a *tenantAPI) loadTenant(w http.ResponseWriter, r *http.Request, id string) (store.Tenant, bool) {
	t, err := a.store.Tenant(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return store.Tenant{}, false
	}
	if err != nil {
		a.log.Error("load tenant failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not load the tenant")
		return store.Tenant{}, false
	}
	return t, true
}
