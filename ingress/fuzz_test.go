package ingress

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/twilio/twilio-go/client"

	"github.com/ringback/ringback/internal/twiliosig"
	"github.com/ringback/ringback/store"
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

// claimRecorder stands in for the store behind the Stripe webhook: it notes each event handed to
// it and reports it already handled, so that only the gate in front of it is exercised.
type claimRecorder struct{ claimed []string }

func (c *claimRecorder) HandleStripeEvent(_ context.Context, eventID, _ string, _ func(store.StripeEventTx) error) (bool, error) {
	c.claimed = append(c.claimed, eventID)
	return false, nil
}

// FuzzStripeWebhook drives the Stripe webhook's gate (size, Stripe-Signature, its timestamp, the
// event's syntax, API version and id) with arbitrary payloads and headers. An event may reach
// the store only when its signature is valid for the payload; every other answer is a 4xx whose
// reason does not echo the payload; nothing panics. With resign set the payload is signed
// correctly, age seconds ago, so the accepting path is explored too.
func FuzzStripeWebhook(f *testing.F) {
	const secret = "whsec_fuzz_0123456789abcdef"
	event := func(id, typ, version string, object string) string {
		return fmt.Sprintf(`{"id":%q,"object":"event","api_version":%q,"created":1790000000,"type":%q,"data":{"object":%s}}`, id, version, typ, object)
	}
	invoice := `{"id":"in_1","object":"invoice","customer":"cus_1","currency":"usd","amount_paid":2900}`
	sub := `{"id":"sub_1","object":"subscription","customer":"cus_1","status":"active"}`
	for _, seed := range []struct {
		payload, header string
		resign          bool
		age             int64
	}{
		{event("evt_1", "invoice.paid", stripe.APIVersion, invoice), "", true, 0},
		{event("evt_2", "customer.subscription.deleted", stripe.APIVersion, sub), "", true, 10},
		{event("evt_3", "customer.created", stripe.APIVersion, `{}`), "", true, 0},
		{event("evt_4", "invoice.paid", "2020-08-27", invoice), "", true, 0},
		{event("evt_5", "invoice.paid", stripe.APIVersion, invoice), "", true, 3600},
		{event("evt_6", "invoice.paid", stripe.APIVersion, invoice), "t=1,v1=00", false, 0},
		{event("", "invoice.paid", stripe.APIVersion, invoice), "", true, 0},
		{event("evt_7';DROP TABLE control.billing_records;--", "invoice.paid", stripe.APIVersion, invoice), "", true, 0},
		{event("evt_8", "invoice.paid", stripe.APIVersion, `"not an object"`), "", true, 0},
		{`{"id":`, "", true, 0},
		{"", "", true, 0},
		{"\xff\xfe\x00", "", true, 0},
		{`{"id":"evt_9","type":"invoice.paid","data":null}`, "", true, 0},
		{strings.Repeat(" ", 1<<20+1), "", true, 0},
		{event("evt_10", "invoice.paid", stripe.APIVersion, invoice), "t=notanumber,v1=", false, 0},
	} {
		f.Add(seed.payload, seed.header, seed.resign, seed.age)
	}
	f.Fuzz(func(t *testing.T, payload, header string, resign bool, age int64) {
		claims := &claimRecorder{}
		h := &stripeWebhook{secret: secret, events: claims, closures: &stripeClosures{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if resign {
			header = webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
				Payload: []byte(payload), Secret: secret, Timestamp: time.Now().Add(-time.Duration(age%100_000) * time.Second),
			}).Header
		}
		req := httptest.NewRequest(http.MethodPost, "/stripe/webhook", strings.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("Stripe-Signature", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if len(claims.claimed) > 0 {
			if err := webhook.ValidatePayload([]byte(payload), header, secret); err != nil {
				t.Fatalf("an event reached the store without a valid signature: %v", err)
			}
			if !store.ValidStripeEventID(claims.claimed[0]) {
				t.Fatalf("an event with an invalid id reached the store")
			}
		}
		if rec.Code == http.StatusOK {
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("refused with status %d, want a 4xx", rec.Code)
		}
		// A refusal names the rule broken, never the payload's content.
		if len(payload) >= 12 && strings.Contains(rec.Body.String(), payload) {
			t.Fatalf("refusal %q echoes the payload", rec.Body.String())
		}
		// The one exception: a validly signed event's API version is named, so that whoever
		// reads the refusal in Stripe's dashboard sees which version the endpoint sends. Only
		// the holder of the secret can put a value there.
		var signedVersion string
		if webhook.ValidatePayload([]byte(payload), header, secret) == nil {
			var ev struct {
				APIVersion string `json:"api_version"`
			}
			_ = json.Unmarshal([]byte(payload), &ev)
			signedVersion = ev.APIVersion
		}
		for _, quoted := range regexp.MustCompile(`"([^"]{12,})"`).FindAllStringSubmatch(payload, -1) {
			if quoted[1] != stripe.APIVersion && quoted[1] != signedVersion && strings.Contains(rec.Body.String(), quoted[1]) {
				t.Fatalf("refusal %q echoes %q from the payload", rec.Body.String(), quoted[1])
			}
		}
	})
}
