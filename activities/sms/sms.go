// Package sms delivers text messages: through Twilio's REST API in production, or into the
// sandbox table in development when no Twilio account is configured.
package sms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is one outbound text.
type Message struct {
	TenantID string
	From     string // E.164, the tenant's number the caller called
	To       string // E.164
	Body     string
	// IdempotencyKey identifies the send across retries (workflow ID + step).
	IdempotencyKey string
}

// PermanentError is a rejection that retrying cannot fix (invalid or unsubscribed recipient,
// bad sender). Its text carries provider codes only, never numbers or bodies.
type PermanentError struct {
	Status int
	Code   int
	Reason string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("sms rejected: %s (http %d, provider code %d)", e.Reason, e.Status, e.Code)
}

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Sender sends one message and returns the provider's message ID.
type Sender interface {
	Send(ctx context.Context, m Message) (providerMessageID string, err error)
}

// Finder is a Sender that can tell whether an earlier attempt at a message reached the provider.
// The outbox cannot: a crash between the provider accepting a text and the outbox recording it
// leaves the row pending, and a blind retry would text the caller twice.
type Finder interface {
	// Find returns the provider's ID for m if a message like it was accepted since the first
	// attempt began.
	Find(ctx context.Context, m Message, since time.Time) (providerMessageID string, found bool, err error)
}
