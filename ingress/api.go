package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// maxAPIBody caps admin API request bodies.
const maxAPIBody = 16 << 10

// tenantAdmin is the store surface the admin API needs.
type tenantAdmin interface {
	authenticator
	auditAppender
	CreateTenant(ctx context.Context, spec tenantspec.Spec) (store.Tenant, error)
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	CreateToken(ctx context.Context, in store.NewAPIToken) (string, store.APIToken, error)
	ListTokens(ctx context.Context, tenantID string) ([]store.APIToken, error)
	RevokeToken(ctx context.Context, id string) error
}

// adminAPI serves tenant and token management to authenticated principals, by role.
type adminAPI struct {
	store      tenantAdmin
	log        *slog.Logger
	onboarding interface {
		Start(ctx context.Context, tenantID, name string) error
	}
}

func (a *adminAPI) route(next authed) http.HandlerFunc { return authenticate(a.store, a.log, next) }

func (a *adminAPI) createTenant(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if err := p.CanManageTenants(); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	var spec tenantspec.Spec
	if !decodeJSONBody(w, r, &spec) {
		return
	}
	t, err := a.store.CreateTenant(r.Context(), spec)
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
	a.log.Info("tenant created", slog.String("tenant_id", t.ID), slog.String("actor", p.Actor()))
	if a.onboarding == nil {
		writeJSON(w, http.StatusCreated, t)
		return
	}
	// Billing starts in its own workflow, retried there; the tenant exists either way, and a
	// start that failed here is repeated with `ringback tenant onboard`.
	billing := "started"
	if err := a.onboarding.Start(r.Context(), t.ID, t.Name); err != nil {
		a.log.Error("start onboarding failed", slog.String("tenant_id", t.ID), slog.String("error", err.Error()))
		billing = "not started: run ringback tenant onboard --tenant " + t.ID
	}
	writeJSON(w, http.StatusCreated, struct {
		store.Tenant
		Billing string `json:"billing"`
	}{t, billing})
}

func (a *adminAPI) getTenant(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanReadTenant(id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	t, err := a.store.Tenant(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such tenant")
		return
	}
	if err != nil {
		a.log.Error("load tenant failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not load the tenant")
		return
	}
	// The profile holds the owner's phone number: the read is recorded, in the tenant's own log,
	// before anything is shown.
	if err := recordAccess(r.Context(), a.store, t.ID, "personal_data.read",
		map[string]any{"resource": "tenant_profile"}); err != nil {
		a.log.Error("audit personal_data.read failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "cannot record this access right now")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// tokenRequest is the body of POST /api/tokens.
type tokenRequest struct {
	Role     access.Role `json:"role"`
	TenantID string      `json:"tenant_id,omitempty"`
	Name     string      `json:"name"`
}

// tokenCreated carries the token itself, which is never shown again.
type tokenCreated struct {
	Token string `json:"token"`
	store.APIToken
}

func (a *adminAPI) createToken(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if err := p.CanManageTenants(); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	var req tokenRequest
	if !decodeJSONBody(w, r, &req) {
		return
	}
	token, t, err := a.store.CreateToken(r.Context(), store.NewAPIToken{Role: req.Role, TenantID: req.TenantID, Name: req.Name})
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSONError(w, http.StatusUnprocessableEntity, "tenant_id: no such tenant")
		return
	case err != nil && strings.Contains(err.Error(), "create token:"):
		a.log.Error("create token failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not create the token")
		return
	case err != nil:
		writeJSONError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	a.log.Info("token created", slog.String("token_id", t.ID), slog.String("role", string(t.Role)), slog.String("actor", p.Actor()))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenCreated{Token: token, APIToken: t})
}

func (a *adminAPI) listTokens(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if err := p.CanManageTenants(); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	tokens, err := a.store.ListTokens(r.Context(), r.URL.Query().Get("tenant_id"))
	if err != nil {
		a.log.Error("list tokens failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not list tokens")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": tokens})
}

func (a *adminAPI) revokeToken(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if err := p.CanManageTenants(); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	err := a.store.RevokeToken(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeJSONError(w, http.StatusNotFound, "no such token")
		return
	}
	if err != nil {
		a.log.Error("revoke token failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not revoke the token")
		return
	}
	a.log.Info("token revoked", slog.String("token_id", r.PathValue("id")), slog.String("actor", p.Actor()))
	w.WriteHeader(http.StatusNoContent)
}

// decodeJSONBody reads a capped, strict JSON body, answering the error itself when it fails.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return decodeJSONBodyUpTo(w, r, v, maxAPIBody)
}

// decodeJSONBodyUpTo is decodeJSONBody for bodies that may be larger than maxAPIBody. The body
// must be JSON (by its media type), valid UTF-8 (the decoder would otherwise swap bad bytes for
// U+FFFD and keep going), one object with known fields and nothing after it. A refusal names the
// rule broken and the field, never a value: values may be phone numbers.
func decodeJSONBodyUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSONError(w, http.StatusUnsupportedMediaType, "content type must be application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body too large (limit %d bytes)", limit))
			return false
		}
		writeJSONError(w, http.StatusBadRequest, "could not read the body")
		return false
	}
	if !utf8.Valid(body) {
		writeJSONError(w, http.StatusBadRequest, "malformed JSON: the body is not valid UTF-8")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSONError(w, http.StatusBadRequest, "malformed JSON: "+describeJSONError(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeJSONError(w, http.StatusBadRequest, "malformed JSON: more after the object")
		return false
	}
	return true
}

// jsonFieldName is what a field name quoted back in a refusal may look like; anything else is
// not a field of ours, and is not repeated.
var jsonFieldName = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// describeJSONError says what is wrong with a body without repeating its values, which the
// standard library's messages do (a number that does not fit is quoted whole).
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var when *time.ParseError
	switch {
	case errors.As(err, &when):
		return "a time must be written as RFC 3339 (2026-01-02T15:04:05Z)"
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if jsonFieldName.MatchString(typ.Field) {
			return fmt.Sprintf("field %s must be %s", typ.Field, jsonKind(typ.Type))
		}
		return fmt.Sprintf("a value must be %s", jsonKind(typ.Type))
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends early"
	}
	// The decoder's remaining refusal, an unknown field, comes as a plain error with the name.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, err := strconv.Unquote(name); err == nil && jsonFieldName.MatchString(name) {
			return "unknown field " + strconv.Quote(name)
		}
		return "unknown field"
	}
	return "not a JSON object of the expected shape"
}

// jsonKind names the JSON kind a Go type is read from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
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
