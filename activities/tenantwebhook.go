package activities

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/activities/webhook"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/store"
)

// WebhookSender delivers one signed event (activities/webhook.Deliverer).
type WebhookSender interface {
	Deliver(ctx context.Context, d webhook.Delivery) (webhook.Result, error)
}

// TenantEvent is one event for a tenant's webhook endpoint.
type TenantEvent struct {
	TenantID string
	// ID is the event's stable identity (webhook-id): the same on every attempt, so the
	// receiver can drop repeats.
	ID         string
	Type       string
	OccurredAt time.Time
	Data       json.RawMessage
}

// Tenant webhook event types.
const (
	EventBookingCreated        = "booking.created"
	EventBookingCancelled      = "booking.cancelled"
	EventConversationEscalated = "conversation.escalated"
	EventConversationClosed    = "conversation.closed"
)

// DeliverTenantWebhook sends ev to the tenant's endpoint, signed with its secret. The endpoint
// and secret are read here on each attempt, so neither sits in workflow history and an owner who
// fixes a broken URL fixes the retries still pending. It reports false when the tenant has no
// endpoint.
func (a *Activities) DeliverTenantWebhook(ctx context.Context, ev TenantEvent) (bool, error) {
	if a.Webhooks == nil {
		return false, temporal.NewNonRetryableApplicationError("tenant webhooks: no sender configured", "Misconfigured", nil)
	}
	wh, err := a.Store.TenantWebhook(ctx, a.Keys, ev.TenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case errors.Is(err, codec.ErrKeyDestroyed):
		// The tenant was erased while the event waited: there is nobody left to tell.
		return false, nil
	case err != nil:
		return false, err
	}
	_, err = a.Webhooks.Deliver(ctx, webhook.Delivery{
		TenantID: ev.TenantID, URL: wh.URL, Secret: wh.Secret, ID: ev.ID, Type: ev.Type,
		Payload: ev.Data, OccurredAt: ev.OccurredAt,
	})
	return err == nil, err
}
