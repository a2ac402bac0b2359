package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	openai "github.com/sashabaranov/go-openai"
)

// ErrUnavailable is wrapped by the error Complete returns when no endpoint answered.
var ErrUnavailable = errors.New("model unavailable")

// UnavailableError says why no endpoint answered. Its text names endpoint roles, HTTP status codes
// and reasons from a fixed list only: endpoints' error bodies can echo the request, so none of
// their text is kept, and the error can go into logs and workflow histories as it is.
type UnavailableError struct {
	Attempts []Attempt
	// NoFallback is set when the primary failed and no fallback is configured.
	NoFallback bool
	// cause is the caller's context error when the caller gave up first.
	cause error
}

func (e *UnavailableError) Error() string {
	parts := make([]string, 0, len(e.Attempts)+1)
	for _, a := range e.Attempts {
		parts = append(parts, a.String())
	}
	if e.NoFallback {
		parts = append(parts, "no fallback configured")
	}
	return ErrUnavailable.Error() + ": " + strings.Join(parts, "; ")
}

// Unwrap gives ErrUnavailable and, when the caller's context ended, its error.
func (e *UnavailableError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrUnavailable, e.cause}
	}
	return []error{ErrUnavailable}
}

// Rejected reports whether every endpoint asked refused the request itself: a bug in the request,
// a wrong key or model name, which retrying will not fix.
func (e *UnavailableError) Rejected() bool {
	for _, a := range e.Attempts {
		if !a.Rejected {
			return false
		}
	}
	return len(e.Attempts) > 0
}

// Attempt is one endpoint's failure.
type Attempt struct {
	Endpoint string // SourcePrimary or SourceFallback
	// Status is the HTTP status, 0 when none arrived or the status was 200 but the answer was not
	// usable.
	Status int
	Reason string
	// Rejected is set for a 4xx other than 408 and 429: the endpoint refused what we sent (a bad
	// request, a wrong key or model), so the bug or misconfiguration is ours.
	Rejected bool
}

func (a Attempt) String() string {
	if a.Status != 0 {
		return fmt.Sprintf("%s: status %d, %s", a.Endpoint, a.Status, a.Reason)
	}
	return a.Endpoint + ": " + a.Reason
}

// Reasons, the only words an Attempt uses.
const (
	reasonTimeout      = "timeout"
	reasonCanceled     = "canceled by caller"
	reasonRefused      = "connection refused"
	reasonReset        = "connection reset"
	reasonNetwork      = "connection failed"
	reasonServer       = "server error"
	reasonRateLimited  = "rate limited"
	reasonRejected     = "request rejected: our bug or configuration"
	reasonStatus       = "unexpected status"
	reasonUnusable     = "unusable response"
	reasonEmpty        = "empty reply"
	reasonTruncated    = "reply cut off at the length limit"
	reasonFiltered     = "reply withheld by content filter"
	reasonBadToolCall  = "invalid tool call"
	reasonTooLarge     = "response too large"
	reasonInvalidModel = "model not usable for chat: configuration"
)

// classify describes err from a request made with ectx, a context derived from the caller's ctx.
func classify(role string, err error, ctx, ectx context.Context) Attempt {
	a := Attempt{Endpoint: role}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		a.Status = apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		a.Status = reqErr.HTTPStatusCode
	}
	if a.Status != 0 {
		a.Reason, a.Rejected = statusReason(a.Status)
		return a
	}
	var netErr net.Error
	switch {
	case errors.Is(err, errResponseTooLarge):
		a.Reason = reasonTooLarge
	case ctx.Err() != nil:
		a.Reason = reasonCanceled
	case errors.Is(ectx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		a.Reason = reasonTimeout
	case errors.Is(err, openai.ErrChatCompletionInvalidModel):
		a.Reason, a.Rejected = reasonInvalidModel, true
	case errors.Is(err, syscall.ECONNREFUSED):
		a.Reason = reasonRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		a.Reason = reasonReset
	case netErr != nil:
		a.Reason = reasonNetwork
	default:
		// What remains is a body that did not decode as a chat completion.
		a.Reason = reasonUnusable
	}
	return a
}

func statusReason(status int) (reason string, rejected bool) {
	switch {
	case status == http.StatusRequestTimeout:
		return reasonTimeout, false
	case status == http.StatusTooManyRequests:
		return reasonRateLimited, false
	case status >= 500:
		return reasonServer, false
	case status >= 400:
		return reasonRejected, true
	default:
		return reasonStatus, false
	}
}

// maxResponseBytes bounds an answer's body. A chat completion for one SMS is a few kilobytes; a
// misbehaving server must not make the worker buffer more than this.
const maxResponseBytes = 1 << 20

var errResponseTooLarge = errors.New("response too large")

// cappedDoer is an http.Client whose response bodies fail after maxResponseBytes.
type cappedDoer struct{ client *http.Client }

func (d cappedDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxResponseBytes}
	return resp, nil
}

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
