package stdwebhook

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The published vector from the spec's reference libraries (standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go TestWebhookSign; the JavaScript and Python suites use the same one).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorUnix      = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(vectorUnix, 0)

func TestSignMatchesPublishedVector(t *testing.T) {
	got, err := Sign(vectorSecret, vectorID, vectorTime, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Fatalf("Sign = %q, want %q", got, vectorSignature)
	}
	// Sub-second precision is not signed: the header carries whole seconds.
	got, _ = Sign(vectorSecret, vectorID, vectorTime.Add(999*time.Millisecond), []byte(vectorBody))
	if got != vectorSignature {
		t.Fatalf("Sign with fractional second = %q, want %q", got, vectorSignature)
	}
}

func TestVerifyPublishedVector(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderID, vectorID)
	h.Set(HeaderTimestamp, strconv.Itoa(vectorUnix))
	h.Set(HeaderSignature, vectorSignature)
	if err := Verify(vectorSecret, h, []byte(vectorBody), vectorTime.Add(time.Minute), 0); err != nil {
		t.Fatalf("Verify(vector) = %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	s, err := NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, SecretPrefix) {
		t.Fatalf("secret %q lacks prefix", s)
	}
	key, err := ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret(NewSecret()) = %v", err)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		t.Fatalf("key length %d", len(key))
	}
	other, _ := NewSecret(rand.Reader)
	if other == s {
		t.Fatal("two secrets are equal")
	}
	// Deterministic for a deterministic reader.
	fixed := bytes.Repeat([]byte{7}, 64)
	a, _ := NewSecret(bytes.NewReader(fixed))
	b, _ := NewSecret(bytes.NewReader(fixed))
	if a != b {
		t.Fatal("same randomness, different secrets")
	}
	if _, err := NewSecret(bytes.NewReader([]byte{1, 2, 3})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reader: err = %v", err)
	}
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, n)) }
	tests := []struct {
		name    string
		secret  string
		wantLen int // 0: error
	}{
		{"vector", vectorSecret, 24},
		{"24 bytes", SecretPrefix + b64(24), 24},
		{"64 bytes", SecretPrefix + b64(64), 64},
		{"23 bytes", SecretPrefix + b64(23), 0},
		{"65 bytes", SecretPrefix + b64(65), 0},
		{"no prefix", strings.TrimPrefix(vectorSecret, SecretPrefix), 0},
		{"asymmetric prefix", "whsk_" + b64(32), 0},
		{"not base64", SecretPrefix + "!!!!" + b64(30), 0},
		{"unpadded", SecretPrefix + strings.TrimRight(b64(32), "="), 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseSecret(tt.secret)
			if tt.wantLen == 0 {
				if !errors.Is(err, ErrInvalidSecret) {
					t.Fatalf("err = %v, want ErrInvalidSecret", err)
				}
				if tt.secret != "" && strings.Contains(err.Error(), strings.TrimPrefix(tt.secret, SecretPrefix)) {
					t.Fatal("error quotes the secret")
				}
				return
			}
			if err != nil || len(key) != tt.wantLen {
				t.Fatalf("len %d, err %v; want %d", len(key), err, tt.wantLen)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		id     string
		ts     time.Time
		want   error
	}{
		{"bad secret", "whsec_short", vectorID, vectorTime, ErrInvalidSecret},
		{"empty id", vectorSecret, "", vectorTime, ErrInvalidID},
		{"dot in id", vectorSecret, "evt.1", vectorTime, ErrInvalidID},
		{"space in id", vectorSecret, "evt 1", vectorTime, ErrInvalidID},
		{"newline in id", vectorSecret, "evt\n1", vectorTime, ErrInvalidID},
		{"non-ASCII id", vectorSecret, "évt", vectorTime, ErrInvalidID},
		{"before epoch", vectorSecret, vectorID, time.Unix(-1, 0), ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(tt.secret, tt.id, tt.ts, []byte("{}")); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, err := Headers(tt.secret, tt.id, tt.ts, []byte("{}")); !errors.Is(err, tt.want) {
				t.Fatalf("Headers err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	h, err := Headers(vectorSecret, vectorID, vectorTime, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if h.Get(HeaderID) != vectorID || h.Get(HeaderTimestamp) != "1614265330" || h.Get(HeaderSignature) != vectorSignature {
		t.Fatalf("headers = %v", h)
	}
	if len(h) != 3 {
		t.Fatalf("want exactly three headers, got %v", h)
	}
}

func TestVerify(t *testing.T) {
	secret := SecretPrefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	otherSecret := SecretPrefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{43}, 32))
	body := []byte(`{"type":"booking.created","timestamp":"2026-03-01T10:00:00Z","data":{"id":"b_1"}}`)
	id := "evt_booking_created_b_1"
	sent := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	valid, err := Sign(secret, id, sent, body)
	if err != nil {
		t.Fatal(err)
	}
	fromOther, _ := Sign(otherSecret, id, sent, body)
	sigOnly := strings.TrimPrefix(valid, "v1,")

	tests := []struct {
		name      string
		mutate    func(h http.Header)
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil: accepted
	}{
		{name: "valid", now: sent},
		{name: "valid, clock a little ahead", now: sent.Add(4 * time.Minute)},
		{name: "valid, clock a little behind", now: sent.Add(-4 * time.Minute)},
		{name: "exactly at tolerance", now: sent.Add(DefaultTolerance)},
		{name: "too old", now: sent.Add(DefaultTolerance + time.Second), want: ErrTimestamp},
		{name: "too new", now: sent.Add(-DefaultTolerance - time.Second), want: ErrTimestamp},
		{name: "custom tolerance allows", now: sent.Add(time.Hour), tolerance: 2 * time.Hour},
		{name: "custom tolerance rejects", now: sent.Add(2 * time.Minute), tolerance: time.Minute, want: ErrTimestamp},
		{name: "tampered body", now: sent, body: append(bytes.Clone(body), ' '), want: ErrInvalidSignature},
		{name: "tampered id", now: sent, mutate: func(h http.Header) { h.Set(HeaderID, id+"x") }, want: ErrInvalidSignature},
		{name: "tampered timestamp", now: sent, mutate: func(h http.Header) { h.Set(HeaderTimestamp, strconv.FormatInt(sent.Unix()+1, 10)) }, want: ErrInvalidSignature},
		{name: "wrong secret", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, fromOther) }, want: ErrInvalidSignature},
		{name: "several signatures, one valid (key rotation)", now: sent, mutate: func(h http.Header) {
			h.Set(HeaderSignature, fromOther+" v1a,"+sigOnly+" "+valid+" v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
		}},
		{name: "extra whitespace between signatures", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, "  "+fromOther+"   "+valid+" ") }},
		{name: "repeated header", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, fromOther); h.Add(HeaderSignature, valid) }},
		{name: "right bytes, wrong version", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, "v2,"+sigOnly) }, want: ErrInvalidSignature},
		{name: "no version", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, sigOnly) }, want: ErrInvalidSignature},
		{name: "truncated signature", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, valid[:len(valid)-4]) }, want: ErrInvalidSignature},
		{name: "garbage signature", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, "v1,%%%") }, want: ErrInvalidSignature},
		{name: "missing id", now: sent, mutate: func(h http.Header) { h.Del(HeaderID) }, want: ErrMissingHeader},
		{name: "missing timestamp", now: sent, mutate: func(h http.Header) { h.Del(HeaderTimestamp) }, want: ErrMissingHeader},
		{name: "missing signature", now: sent, mutate: func(h http.Header) { h.Del(HeaderSignature) }, want: ErrMissingHeader},
		{name: "blank signature", now: sent, mutate: func(h http.Header) { h.Set(HeaderSignature, "   ") }, want: ErrMissingHeader},
		{name: "fractional timestamp", now: sent, mutate: func(h http.Header) { h.Set(HeaderTimestamp, h.Get(HeaderTimestamp)+".5") }, want: ErrInvalidTimestamp},
		{name: "signed timestamp", now: sent, mutate: func(h http.Header) { h.Set(HeaderTimestamp, "+"+h.Get(HeaderTimestamp)) }, want: ErrInvalidTimestamp},
		{name: "milliseconds timestamp", now: sent, mutate: func(h http.Header) { h.Set(HeaderTimestamp, strconv.FormatInt(sent.UnixMilli(), 10)) }, want: ErrTimestamp},
		{name: "huge timestamp", now: sent, mutate: func(h http.Header) { h.Set(HeaderTimestamp, strings.Repeat("9", 40)) }, want: ErrInvalidTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Headers(secret, id, sent, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.mutate != nil {
				tt.mutate(h)
			}
			b := body
			if tt.body != nil {
				b = tt.body
			}
			err = Verify(secret, h, b, tt.now, tt.tolerance)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), sigOnly) || strings.Contains(err.Error(), string(body)) {
				t.Fatalf("error %q quotes the signature or body", err)
			}
		})
	}
}

func TestVerifyRejectsBadSecret(t *testing.T) {
	h, _ := Headers(vectorSecret, vectorID, vectorTime, []byte(vectorBody))
	if err := Verify("whsec_", h, []byte(vectorBody), vectorTime, 0); !errors.Is(err, ErrInvalidSecret) {
		t.Fatalf("err = %v", err)
	}
}

// The fuzz target feeds arbitrary header values and bodies to Verify. Beyond not panicking, an
// accepted message must carry the signature Sign would produce for it.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, "1614265330", vectorSignature, []byte(vectorBody))
	f.Add(vectorID, "1614265330", "v1a,abc "+vectorSignature+" v1,", []byte(vectorBody))
	f.Add("a.b", "0", "v1,", []byte{})
	f.Add("", "", "", []byte(nil))
	f.Add("x", "99999999999999999999", "v1,====", []byte("\x00"))
	now := vectorTime.Add(time.Minute)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		err := Verify(vectorSecret, h, body, now, 0)
		if err == nil {
			unix, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil {
				t.Fatalf("accepted unparsable timestamp %q", ts)
			}
			key, _ := ParseSecret(vectorSecret)
			want := "v1," + base64.StdEncoding.EncodeToString(mac(key, id, unix, body))
			if !strings.Contains(sig, want) {
				t.Fatalf("accepted %q without the correct signature %q", sig, want)
			}
			return
		}
		known := []error{ErrMissingHeader, ErrInvalidTimestamp, ErrTimestamp, ErrInvalidSignature}
		for _, k := range known {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("untyped error %v", err)
	})
}
