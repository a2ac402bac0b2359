// Package webhook delivers tenants' outbound webhooks (booking.created, conversation.escalated, …)
// signed under the Standard Webhooks scheme. One Deliver call is one HTTP attempt; Temporal's retry
// policy (RetryPolicy, ActivityOptions) supplies the backoff over up to three days. Every attempt
// sends the same webhook-id and the same body, so receivers can dedupe, with a fresh
// webhook-timestamp and signature, so receivers can reject replays.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/stdwebhook"
)

const (
	// MaxBodyBytes bounds the request body; the spec recommends staying well under 20 KB, so a
	// larger body is a bug on our side, not something to retry.
	MaxBodyBytes = 256 << 10
	// maxResponseBytes is read (and discarded) from a response so the connection can be reused.
	maxResponseBytes = 64 << 10
	userAgent        = "Ringback-Webhooks/1.0"
)

// Delivery is one event for one endpoint.
type Delivery struct {
	TenantID string
	URL      string
	// Secret is the endpoint's "whsec_…" signing secret.
	Secret string
	// ID is the deterministic event id, sent as webhook-id on every attempt; receivers dedupe on it.
	// It may not contain '.' (see stdwebhook.Sign).
	ID string
	// Type is the event type, e.g. "booking.created".
	Type string
	// Payload is the event's "data" object.
	Payload json.RawMessage
	// OccurredAt is when the event happened, the body's "timestamp"; attempts carry their own time
	// in webhook-timestamp.
	OccurredAt time.Time
}

// Result describes the successful attempt.
type Result struct {
	StatusCode int
	// Attempt is Temporal's attempt number (1 for the first), 0 outside an activity.
	Attempt int32
	// SignedAt is the webhook-timestamp the accepted attempt carried.
	SignedAt time.Time
}

// Deliverer is the webhook activity. Register a pointer to it with the worker.
type Deliverer struct {
	// HTTP is the client attempts go through; nil means a default one. Its Timeout is capped at
	// RequestTimeout, redirects are never followed, and unless AllowPrivate is set its Transport
	// (nil or an *http.Transport) is cloned with the SSRF guard and without any proxy.
	HTTP *http.Client
	// Now is the clock for webhook-timestamp; nil means time.Now.
	Now func() time.Time
	// AllowPrivate turns the SSRF guard off: http URLs and any address are allowed. For tests and
	// local development only.
	AllowPrivate bool

	timeout time.Duration // tests shorten RequestTimeout

	once      sync.Once
	client    *http.Client
	clientErr error
}

// Deliver makes one signed POST of d and classifies the answer: 2xx is success; 410 fails with
// the non-retryable ErrTypeGone; other 4xx (except 408, 409, 425, 429) with the non-retryable
// ErrTypeRejected; anything else (3xx, 5xx, 408, 409, 425, 429, network errors) with a retryable
// error. Errors and logs name the endpoint by scheme and host only: paths and queries can hold
// tokens, and no payload content is ever quoted.
func (d *Deliverer) Deliver(ctx context.Context, in Delivery) (Result, error) {
	target, err := d.checkURL(in.URL)
	if err != nil {
		return Result{}, err
	}
	dest := target.Scheme + "://" + target.Host
	body, err := buildBody(in)
	if err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s: %v", dest, err), ErrTypeInvalid, nil)
	}
	client, err := d.httpClient()
	if err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, nil)
	}

	signedAt := d.now()
	headers, err := stdwebhook.Headers(in.Secret, in.ID, signedAt, body)
	if err != nil {
		// stdwebhook's errors quote neither the secret nor the body.
		return Result{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s: sign: %v", dest, err), ErrTypeInvalid, nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s: build request", dest), ErrTypeInvalid, nil)
	}
	for k, v := range headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)

	var attempt int32
	log := func(string, ...any) {}
	if activity.IsActivity(ctx) {
		attempt = activity.GetInfo(ctx).Attempt
		log = activity.GetLogger(ctx).Info
	}
	fields := []any{"tenant_id", in.TenantID, "webhook_id", in.ID, "type", in.Type, "destination", dest, "attempt", attempt}

	resp, err := client.Do(req)
	if err != nil {
		err = transportError(ctx, dest, err)
		log("webhook attempt failed", append(fields, "error", err.Error())...)
		return Result{}, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	_ = resp.Body.Close()

	if err := classify(dest, resp.StatusCode); err != nil {
		log("webhook attempt refused", append(fields, "status", resp.StatusCode)...)
		return Result{}, err
	}
	log("webhook delivered", append(fields, "status", resp.StatusCode)...)
	return Result{StatusCode: resp.StatusCode, Attempt: attempt, SignedAt: signedAt.Truncate(time.Second)}, nil
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// checkURL parses the endpoint. Its errors name the scheme and host at most.
func (d *Deliverer) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, temporal.NewNonRetryableApplicationError("webhook: endpoint URL is not an absolute URL", ErrTypeInvalid, nil)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && d.AllowPrivate:
	default:
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook: endpoint scheme %q is not allowed, only https", u.Scheme), ErrTypeBlocked, nil)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// buildBody renders the Standard Webhooks envelope. It is a pure function of the delivery, so
// every attempt sends byte-identical bodies.
func buildBody(in Delivery) ([]byte, error) {
	if !validType(in.Type) {
		return nil, errors.New("event type must be dot-separated [A-Za-z0-9_] words")
	}
	if p := bytes.TrimSpace(in.Payload); len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return nil, errors.New("payload is not a JSON object")
	}
	if in.OccurredAt.IsZero() {
		return nil, errors.New("event time is missing")
	}
	env := struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{in.Type, in.OccurredAt.UTC().Format(time.RFC3339Nano), in.Payload}
	// json.Marshal compacts the payload and escapes <, > and & in it, as the JSON data converter
	// does on the way into history: the body depends on the payload's meaning, not its spelling.
	body, err := json.Marshal(env)
	if err != nil {
		return nil, errors.New("payload does not encode")
	}
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("body is %d bytes, over the %d limit", len(body), MaxBodyBytes)
	}
	return body, nil
}

func validType(t string) bool {
	if t == "" {
		return false
	}
	for _, word := range strings.Split(t, ".") {
		if word == "" {
			return false
		}
		for _, c := range word {
			if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// classify maps a response status to the attempt's outcome.
func classify(dest string, status int) error {
	switch {
	case status >= 200 && status <= 299:
		return nil
	case status == http.StatusGone:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s: 410 Gone, the endpoint asked to stop", dest), ErrTypeGone, nil, status)
	case status >= 400 && status <= 499 && !retryable4xx(status):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s: rejected with %d", dest, status), ErrTypeRejected, nil, status)
	default:
		return fmt.Errorf("webhook %s: status %d", dest, status)
	}
}

// retryable4xx are client errors that describe a moment, not the request: timeout, conflict,
// too early, rate limited.
func retryable4xx(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return false
}

// transportError reports a failed round trip without the request URL that *url.Error quotes.
func transportError(ctx context.Context, dest string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if errors.Is(err, errBlocked) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %s: %v", dest, err), ErrTypeBlocked, nil)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("webhook %s: %w", dest, ctxErr)
	}
	return fmt.Errorf("webhook %s: %w", dest, err)
}

func (d *Deliverer) httpClient() (*http.Client, error) {
	d.once.Do(func() { d.client, d.clientErr = d.buildClient() })
	return d.client, d.clientErr
}

func (d *Deliverer) buildClient() (*http.Client, error) {
	c := &http.Client{}
	if d.HTTP != nil {
		*c = *d.HTTP
	}
	timeout := d.timeout
	if timeout <= 0 {
		timeout = RequestTimeout
	}
	if c.Timeout <= 0 || c.Timeout > timeout {
		c.Timeout = timeout
	}
	// The spec advises against following redirects; a redirect is also a second, unvetted URL.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if d.AllowPrivate {
		return c, nil
	}

	var t *http.Transport
	switch rt := c.Transport.(type) {
	case nil:
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t = dt.Clone()
		} else {
			t = &http.Transport{ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 90 * time.Second}
		}
	case *http.Transport:
		t = rt.Clone()
	default:
		return nil, fmt.Errorf("webhook: the SSRF guard needs an *http.Transport, not %T", rt)
	}
	// Through a proxy the guard would vet the proxy's address, not the tenant's host.
	t.Proxy = nil
	t.OnProxyConnectResponse = nil
	// A custom TLS dialer would bypass DialContext, and with it the guard.
	t.DialTLSContext = nil
	t.DialTLS = nil //lint:ignore SA1019 cleared so a deprecated TLS dialer cannot bypass the guard
	t.DialContext = (&net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   guardControl,
	}).DialContext
	c.Transport = t
	return c, nil
}
