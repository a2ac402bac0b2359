// Package stdwebhook signs and verifies webhooks under the Standard Webhooks scheme
// (https://www.standardwebhooks.com/, symmetric "v1" signatures): the sender puts webhook-id,
// webhook-timestamp and webhook-signature headers on each POST, where the signature is
// base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")) and the key is the decoded whsec_ secret.
//
// Ringback signs its outbound webhooks with Sign or Headers; receivers, our tests and the e2e fake
// check them with Verify.
package stdwebhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names, as the spec spells them (http.Header canonicalizes them on Set and Get).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const (
	// SecretPrefix marks a serialized symmetric secret so it is recognizable wherever it is pasted.
	SecretPrefix = "whsec_"
	// MinSecretBytes and MaxSecretBytes bound the decoded key: the spec asks for at least 192 bits
	// and at most 512.
	MinSecretBytes = 24
	MaxSecretBytes = 64
	// DefaultTolerance is how far a webhook-timestamp may lie from the receiver's clock, either
	// way, when Verify is given no tolerance. Five minutes is what the reference libraries use.
	DefaultTolerance = 5 * time.Minute

	newSecretBytes = 32
	versionV1      = "v1"
)

// Errors returned by this package; test with errors.Is. None of them quote a secret, a signature
// or the body.
var (
	ErrInvalidSecret    = errors.New("stdwebhook: invalid secret")
	ErrInvalidID        = errors.New("stdwebhook: invalid message id")
	ErrMissingHeader    = errors.New("stdwebhook: missing header")
	ErrInvalidTimestamp = errors.New("stdwebhook: malformed timestamp")
	// ErrTimestamp is a well-formed timestamp outside the tolerance: a replay, or a skewed clock.
	ErrTimestamp = errors.New("stdwebhook: timestamp outside tolerance")
	// ErrInvalidSignature means no v1 signature in the header matches the message.
	ErrInvalidSignature = errors.New("stdwebhook: no matching signature")
)

// NewSecret returns a fresh secret, "whsec_" followed by the standard base64 of 32 bytes read
// from rand (crypto/rand.Reader in production).
func NewSecret(rand io.Reader) (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := io.ReadFull(rand, key); err != nil {
		return "", fmt.Errorf("stdwebhook: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret decodes a "whsec_<base64>" secret into the HMAC key. The prefix is required, so a
// secret of another scheme (whsk_, a bare token) is refused rather than silently misused.
func ParseSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: want the %s prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64", ErrInvalidSecret)
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrInvalidSecret, len(key), MinSecretBytes, MaxSecretBytes)
	}
	return key, nil
}

// Sign returns the webhook-signature header value "v1,<base64 signature>" for message id sent at
// ts with body. Only ts's whole seconds are signed, as the header carries seconds.
//
// The id may not contain '.' (the spec's guard: the signed content is dot-delimited, so a dot in
// the id would let one signature cover a different id/timestamp/body split) nor spaces or control
// characters, which cannot travel in a header.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := ParseSecret(secret)
	if err != nil {
		return "", err
	}
	if err := checkID(id); err != nil {
		return "", err
	}
	if ts.Unix() < 0 {
		return "", fmt.Errorf("%w: before the Unix epoch", ErrInvalidTimestamp)
	}
	return versionV1 + "," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

// Headers returns the three Standard Webhooks headers for a message: webhook-id,
// webhook-timestamp (ts in Unix seconds) and webhook-signature.
func Headers(secret, id string, ts time.Time, body []byte) (http.Header, error) {
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return nil, err
	}
	h := make(http.Header, 3)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}

// Verify checks a received webhook: body is the raw request body exactly as read (re-encoded JSON
// will not verify), h its headers. It accepts the message if its timestamp is within tolerance of
// now (DefaultTolerance when tolerance <= 0) and any of the space-separated v1 signatures matches;
// signatures of other versions (v1a, …) are skipped, which is how a sender rotating keys or schemes
// stays verifiable. Comparison is constant-time.
//
// Verify does not dedupe: receivers should remember webhook-id values they have processed, for at
// least the tolerance, to drop replays and retried deliveries.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id := h.Get(HeaderID)
	rawTS := h.Get(HeaderTimestamp)
	sigs := h.Values(HeaderSignature)
	switch {
	case id == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderID)
	case rawTS == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderTimestamp)
	case len(sigs) == 0 || strings.TrimSpace(strings.Join(sigs, "")) == "":
		return fmt.Errorf("%w: %s", ErrMissingHeader, HeaderSignature)
	}
	ts, err := parseTimestamp(rawTS)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sent := time.Unix(ts, 0)
	if now.Sub(sent) > tolerance {
		return fmt.Errorf("%w: too old", ErrTimestamp)
	}
	if sent.Sub(now) > tolerance {
		return fmt.Errorf("%w: too far in the future", ErrTimestamp)
	}

	want := mac(key, id, ts, body)
	matched := false
	// A header may be repeated; every value is a space-separated list of "<version>,<base64>".
	for _, v := range sigs {
		for _, field := range strings.Fields(v) {
			version, enc, ok := strings.Cut(field, ",")
			if !ok || version != versionV1 {
				continue
			}
			// Strict: a non-canonical encoding of the right bytes is not the signature sent.
			got, err := base64.StdEncoding.Strict().DecodeString(enc)
			if err != nil {
				continue
			}
			// Keep comparing after a match so the time taken does not depend on where it was.
			if hmac.Equal(got, want) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrInvalidSignature
	}
	return nil
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// parseTimestamp accepts only plain decimal Unix seconds: no sign, no spaces, no fraction, so
// that the value signed is the value sent.
func parseTimestamp(s string) (int64, error) {
	if len(s) > 18 {
		return 0, ErrInvalidTimestamp
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrInvalidTimestamp
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrInvalidTimestamp
	}
	return ts, nil
}

func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c == '.' {
			return fmt.Errorf("%w: contains '.'", ErrInvalidID)
		}
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: contains a space, control or non-ASCII byte", ErrInvalidID)
		}
	}
	return nil
}
