package ingress

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/ringback/ringback/internal/twiliosig"
)

// FuzzSignedWebhook drives the gate every Twilio webhook passes (content type, size, form syntax,
// signature) with arbitrary bodies, content types, signatures and query strings. The handler
// behind it must run exactly when the signature binds the parsed form to the URL, every refusal
// must be a 4xx with a reason that does not echo the body's values, and nothing may panic. With
// resign set the fuzzer's body is signed correctly, so the accepting path is explored as well as
// the refusing ones.
func FuzzSignedWebhook(f *testing.F) {
	const token = "fuzz-auth-token"
	const public = "https://ringback.example"
	form := "AccountSid=AC0123&CallSid=CA0123&CallStatus=no-answer&From=%2B16145550123&To=%2B16145550100"
	for _, seed := range []struct {
		body, ctype, sig, query string
		resign                  bool
	}{
		{form, "application/x-www-form-urlencoded", "", "", true},
		{form, "application/x-www-form-urlencoded; charset=utf-8", "", "?a=b", true},
		{form, "application/x-www-form-urlencoded", "bm90IGEgc2lnbmF0dXJl", "", false},
		{form, "application/json", "", "", true},
		{"", "application/x-www-form-urlencoded", "", "", true},
		{"From=1&From=2", "application/x-www-form-urlencoded", "", "", true},
		{"Body=%ZZ", "application/x-www-form-urlencoded", "", "", true},
		{"Body=%FF%FE%00&From=%2B4420", "application/x-www-form-urlencoded", "", "", true},
		{strings.Repeat("a=1&", 300), "application/x-www-form-urlencoded", "", "", true},
		{"Body=" + strings.Repeat("x", 70_000), "application/x-www-form-urlencoded", "", "", true},
		{"Body=';DROP TABLE control.tenants;--", "application/x-www-form-urlencoded", "", "", true},
		{form, "multipart/form-data; boundary=x", "", "", true},
		{form, "", "", "", true},
	} {
		f.Add(seed.body, seed.ctype, seed.sig, seed.query, seed.resign)
	}
	in := &twilioIngress{
		publicURL: public,
		validator: client.NewRequestValidator(token),
		log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.Fuzz(func(t *testing.T, body, ctype, sig, query string, resign bool) {
		// Only queries a client can put on the wire: the gate is not where URLs are parsed.
		path := "/twilio/voice/status" + query
		if u, err := url.ParseRequestURI(path); err != nil || strings.ContainsAny(query, " #") || (query != "" && query[0] != '?') || u.RequestURI() != path {
			query, path = "", "/twilio/voice/status"
		}
		var got map[string]string
		h := in.signed(func(w http.ResponseWriter, _ *http.Request, form map[string]string) error {
			got = form
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
		// Sign what the gate will parse, when it parses; a body it refuses stays unsigned. A
		// bodySHA256 query parameter asks for Twilio's JSON-body scheme, which this form signer
		// does not produce.
		signedByUs := false
		if resign && !strings.Contains(query, "bodySHA256") {
			if parsed, err := readForm(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))); err == nil {
				sig, signedByUs = twiliosig.Sign(token, public+path, parsed), true
			}
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if sig != "" {
			req.Header.Set("X-Twilio-Signature", sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if got != nil {
			if rec.Code != http.StatusNoContent {
				t.Fatalf("handler ran but the answer is %d", rec.Code)
			}
			if want := twiliosig.Sign(token, public+path, got); want != sig {
				t.Fatalf("handler ran for a form the signature does not bind: signed %q, got %q", want, sig)
			}
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("refused with status %d, want a 4xx", rec.Code)
		}
		if signedByUs && strings.Contains(rec.Body.String(), "invalid X-Twilio-Signature") {
			t.Fatalf("a correctly signed form was refused as badly signed")
		}
		// A refusal names the rule broken, never a parameter's value.
		for _, kv := range strings.Split(body, "&") {
			if _, v, ok := strings.Cut(kv, "="); ok && len(v) >= 12 && strings.Contains(rec.Body.String(), v) {
				t.Fatalf("refusal %q echoes a value from the body", rec.Body.String())
			}
		}
	})
}
