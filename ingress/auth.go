package ingress

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/store"
)

// authenticator resolves API tokens.
type authenticator interface {
	Authenticate(ctx context.Context, token string) (access.Principal, error)
}

// authed is a handler that runs as an authenticated principal.
type authed func(w http.ResponseWriter, r *http.Request, p access.Principal)

// authenticate resolves the bearer token (or, for routes that take it there, the {token} path
// value) and runs next as its principal. Failures are 401 with a reason that never says whether
// the token exists.
func authenticate(auth authenticator, log *slog.Logger, next authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = strings.TrimSpace(bearer)
		}
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback"`)
			writeJSONError(w, http.StatusUnauthorized, "missing bearer token")
			return
		}
		p, err := auth.Authenticate(r.Context(), token)
		if errors.Is(err, store.ErrUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ringback", error="invalid_token"`)
			writeJSONError(w, http.StatusUnauthorized, "invalid or revoked token")
			return
		}
		if err != nil {
			log.Error("authenticate failed", slog.String("error", err.Error()))
			writeJSONError(w, http.StatusServiceUnavailable, "cannot check credentials right now")
			return
		}
		next(w, r.WithContext(store.WithActor(r.Context(), p.Actor())), p)
	}
}

// auditAppender writes security events.
type auditAppender interface {
	AppendAudit(ctx context.Context, ev store.AuditEvent) (store.AuditReceipt, error)
}

// recordAccess appends a security event for the request's principal. Callers treat a failure as
// a reason to refuse the request: a read of personal data that cannot be audited does not happen.
func recordAccess(ctx context.Context, a auditAppender, logID, action string, fields map[string]any) error {
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	payload, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	_, err = a.AppendAudit(ctx, store.AuditEvent{
		LogID: logID, EventID: action + "/" + hex.EncodeToString(id[:]), Actor: store.ActorFrom(ctx),
		Action: action, OccurredAt: time.Now().UTC(), Payload: payload,
	})
	return err
}

// forbid answers 403 with the rule that refused, and records who was refused what: a denial is a
// security event. The request path holds only opaque IDs.
func forbid(w http.ResponseWriter, r *http.Request, log *slog.Logger, a auditAppender, p access.Principal, err error) {
	log.Warn("forbidden", slog.String("actor", p.Actor()), slog.String("role", string(p.Role)),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("reason", err.Error()))
	if aerr := recordAccess(r.Context(), a, auditlog.ControlLog, "access.denied",
		map[string]any{"method": r.Method, "path": r.URL.Path, "role": string(p.Role)}); aerr != nil {
		log.Error("audit access.denied failed", slog.String("error", aerr.Error()))
	}
	writeJSONError(w, http.StatusForbidden, err.Error())
}
