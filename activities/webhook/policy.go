package webhook

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The delivery schedule: the first retry 30 s after a failure, doubling up to one attempt an
// hour, for up to three days from the first attempt — the multi-day exponential schedule the
// Standard Webhooks spec recommends, left to Temporal's retry policy (which adds no jitter, but
// every event's schedule starts at its own time).
const (
	RetryInitialInterval    = 30 * time.Second
	RetryBackoffCoefficient = 2.0
	RetryMaximumInterval    = time.Hour
	// DeliveryWindow is the activity's ScheduleToClose timeout: after it, the event is dropped.
	DeliveryWindow = 72 * time.Hour
	// AttemptTimeout is the activity's StartToClose timeout; it leaves room above RequestTimeout.
	AttemptTimeout = 30 * time.Second
	// RequestTimeout bounds one HTTP attempt, connect to last byte read (the spec suggests 15–30 s).
	RequestTimeout = 15 * time.Second
)

// Error types Deliver marks non-retryable; workflows can branch on them.
const (
	// ErrTypeGone: the endpoint answered 410; the spec says to stop sending to it.
	ErrTypeGone = "WebhookGone"
	// ErrTypeRejected: any other 4xx but 408, 409, 425 and 429.
	ErrTypeRejected = "WebhookRejected"
	// ErrTypeBlocked: the URL is not https, or resolves to a loopback, private, link-local,
	// multicast or otherwise non-public address (SSRF guard).
	ErrTypeBlocked = "WebhookBlocked"
	// ErrTypeInvalid: the delivery itself cannot be sent (bad URL, secret, id or payload).
	ErrTypeInvalid = "WebhookInvalid"
)

// RetryPolicy is the one retry policy for webhook deliveries.
func RetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        RetryInitialInterval,
		BackoffCoefficient:     RetryBackoffCoefficient,
		MaximumInterval:        RetryMaximumInterval,
		MaximumAttempts:        0, // bounded by DeliveryWindow instead
		NonRetryableErrorTypes: []string{ErrTypeGone, ErrTypeRejected, ErrTypeBlocked, ErrTypeInvalid},
	}
}

// ActivityOptions are the options a workflow executes Deliverer.Deliver with.
func ActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		ScheduleToCloseTimeout: DeliveryWindow,
		StartToCloseTimeout:    AttemptTimeout,
		RetryPolicy:            RetryPolicy(),
	}
}
