package ingress

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"go.temporal.io/sdk/converter"
)

// maxCodecBody caps a codec request: the Web UI sends a page of payloads at a time.
const maxCodecBody = 8 << 20

// codecEndpoint serves Temporal's remote codec protocol (POST …/encode, POST …/decode) so the Web
// UI and CLI can show decrypted payloads to operators holding the ops token, and to nobody else.
// The token arrives as a bearer token (CLI: --codec-auth "Bearer …") or as a path segment, for
// the Web UI, whose codec setting is a bare URL kept in the operator's own browser.
type codecEndpoint struct {
	codec     http.Handler
	tokenHash [32]byte
	enabled   bool
	origins   map[string]bool
	log       *slog.Logger
}

func newCodecEndpoint(pc converter.PayloadCodec, opsToken string, origins []string, log *slog.Logger) *codecEndpoint {
	e := &codecEndpoint{codec: converter.NewPayloadCodecHTTPHandler(pc), enabled: opsToken != "",
		tokenHash: sha256.Sum256([]byte(opsToken)), origins: map[string]bool{}, log: log}
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

func (e *codecEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	if !e.enabled {
		writeJSONError(w, http.StatusNotFound, "codec endpoint disabled: set RINGBACK_OPS_TOKEN")
		return
	}
	if !e.cors(w, r) {
		writeJSONError(w, http.StatusForbidden, "origin not allowed")
		return
	}
	op := r.PathValue("op")
	if op != "encode" && op != "decode" {
		writeJSONError(w, http.StatusNotFound, "codec operations are /encode and /decode")
		return
	}
	token := r.PathValue("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = bearer
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ringback-codec"`)
		writeJSONError(w, http.StatusUnauthorized, "missing ops token")
		return
	}
	got := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(got[:], e.tokenHash[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ringback-codec", error="invalid_token"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid ops token")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCodecBody)
	e.log.Info("codec request", slog.String("op", op), slog.String("namespace", r.Header.Get("X-Namespace")))
	e.codec.ServeHTTP(w, r)
}
