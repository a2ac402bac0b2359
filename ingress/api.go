package ingress

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// maxAPIBody caps admin API request bodies.
const maxAPIBody = 16 << 10

// tenantAdmin is the store surface the admin API needs.
type tenantAdmin interface {
	CreateTenant(ctx context.Context, spec tenantspec.Spec) (store.Tenant, error)
	Tenant(ctx context.Context, id string) (store.Tenant, error)
}

// adminAPI serves tenant management for operators holding the admin token.
type adminAPI struct {
	tokenHash [32]byte
	tenants   tenantAdmin
	log       *slog.Logger
}

func newAdminAPI(token string, tenants tenantAdmin, log *slog.Logger) *adminAPI {
	return &adminAPI{tokenHash: sha256.Sum256([]byte(token)), tenants: tenants, log: log}
}

// authorized compares hashes in constant time, so neither the token's content nor its length
// leaks through timing.
func (a *adminAPI) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback"`)
			writeJSONError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], a.tokenHash[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback", error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, "invalid bearer token")
			return
		}
		next(w, r)
	}
}

func (a *adminAPI) createTenant(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSONError(w, http.StatusUnsupportedMediaType, "content type must be application/json")
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	var spec tenantspec.Spec
	if err := dec.Decode(&spec); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		writeJSONError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	t, err := a.tenants.CreateTenant(r.Context(), spec)
	switch {
	case errors.Is(err, store.ErrNumberTaken):
		writeJSONError(w, http.StatusConflict, err.Error())
		return
	case err != nil && isValidationError(err):
		writeJSONError(w, http.StatusUnprocessableEntity, err.Error())
		return
	case err != nil:
		a.log.Error("create tenant failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not create the tenant")
		return
	}
	a.log.Info("tenant created", slog.String("tenant_id", t.ID))
	writeJSON(w, http.StatusCreated, t)
}

func (a *adminAPI) getTenant(w http.ResponseWriter, r *http.Request) {
	t, err := a.tenants.Tenant(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	}
	if err != nil {
		a.log.Error("load tenant failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not load the tenant")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// isValidationError tells input problems (tenantspec) from infrastructure failures.
func isValidationError(err error) bool {
	var ve *tenantspec.ValidationError
	return errors.As(err, &ve)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
