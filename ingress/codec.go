package ingress

import (
	"log/slog"
	"net/http"

	"go.temporal.io/sdk/converter"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/auditlog"
)

// maxCodecBody caps a codec request: the Web UI sends a page of payloads at a time.
const maxCodecBody = 8 << 20

// codecEndpoint serves Temporal's remote codec protocol (POST …/encode, POST …/decode) so the Web
// UI and CLI can show decrypted payloads to holders of an ops token, and to nobody else. The token
// arrives as a bearer token (CLI: --codec-auth "Bearer …") or as a path segment, for the Web UI,
// whose codec setting is a bare URL kept in the operator's own browser.
type codecEndpoint struct {
	codec   http.Handler
	audit   auditAppender
	origins map[string]bool
	log     *slog.Logger
}

func newCodecEndpoint(pc converter.PayloadCodec, audit auditAppender, origins []string, log *slog.Logger) *codecEndpoint {
	e := &codecEndpoint{codec: converter.NewPayloadCodecHTTPHandler(pc), audit: audit, origins: map[string]bool{}, log: log}
	for _, o := range origins {
		e.origins[o] = true
	}
	return e
}

// cors answers for allowed origins only; a browser on any other page gets no CORS grant and so
// cannot read the response even with a stolen token in hand.
func (e *codecEndpoint) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser cross-origin request
	}
	if !e.origins[origin] {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
	return true
}

func (e *codecEndpoint) preflight(w http.ResponseWriter, r *http.Request) {
	if !e.cors(w, r) {
		writeJSONError(w, http.StatusForbidden, "origin not allowed")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// withCORS refuses foreign origins before any credential is looked at, and grants CORS to the
// UI's origin on every answer, errors included, so the UI can show them.
func (e *codecEndpoint) withCORS(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !e.cors(w, r) {
			writeJSONError(w, http.StatusForbidden, "origin not allowed")
			return
		}
		next(w, r)
	}
}

func (e *codecEndpoint) serve(w http.ResponseWriter, r *http.Request, p access.Principal) {
	if err := p.CanDecodePayloads(); err != nil {
		forbid(w, r, e.log, e.audit, p, err)
		return
	}
	op := r.PathValue("op")
	if op != "encode" && op != "decode" {
		writeJSONError(w, http.StatusNotFound, "codec operations are /encode and /decode")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCodecBody)
	// Decoded payloads are personal data; every look is recorded, and none happens unrecorded.
	if err := recordAccess(r.Context(), e.audit, auditlog.ControlLog, "personal_data.read",
		map[string]any{"resource": "workflow_payloads", "op": op, "namespace": r.Header.Get("X-Namespace")}); err != nil {
		e.log.Error("audit personal_data.read failed", slog.String("error", err.Error()))
		writeJSONError(w, http.StatusServiceUnavailable, "cannot record this access right now")
		return
	}
	e.log.Info("codec request", slog.String("op", op), slog.String("actor", p.Actor()),
		slog.String("namespace", r.Header.Get("X-Namespace")))
	e.codec.ServeHTTP(w, r)
}
