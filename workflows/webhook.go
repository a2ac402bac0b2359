package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/webhook"
)

// TenantWebhookWorkflowID keys a delivery by its event, so an event is started once however
// often the conversation that raised it replays.
func TenantWebhookWorkflowID(tenantID, eventID string) string {
	return "webhook/" + tenantID + "/" + eventID
}

// TenantWebhook delivers one event to the tenant's endpoint, retrying with backoff for up to
// three days. The event's ID stays the same on every attempt, so a receiver that saw it once can
// drop the repeats; each attempt is signed afresh.
func TenantWebhook(ctx workflow.Context, ev activities.TenantEvent) (bool, error) {
	if ev.TenantID == "" || ev.ID == "" || ev.Type == "" || strings.Contains(ev.ID, ".") {
		return false, fmt.Errorf("tenant webhook: incomplete event")
	}
	var delivered bool
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, webhook.ActivityOptions()), acts.DeliverTenantWebhook, ev).Get(ctx, &delivered)
	return delivered, err
}
