package lifecycle

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/workflows"
)

// Onboarding starts a new tenant's billing: a Stripe customer and a subscription to PriceID.
type Onboarding struct {
	Temporal interface {
		ExecuteWorkflow(ctx context.Context, options sdkclient.StartWorkflowOptions, workflow any, args ...any) (sdkclient.WorkflowRun, error)
	}
	TaskQueue string
	PriceID   string
}

// Start begins onboarding once per tenant; a second start finds the first.
func (o *Onboarding) Start(ctx context.Context, tenantID, name string) error {
	if !tenantspec.ValidID(tenantID) {
		return fmt.Errorf("%w: not a tenant id", ErrInvalid)
	}
	_, err := o.Temporal.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{
		ID: workflows.OnboardingWorkflowID(tenantID), TaskQueue: o.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.TenantOnboarding, workflows.OnboardingInput{TenantID: tenantID, Name: name, PriceID: o.PriceID})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil // onboarded already
	}
	if err != nil {
		return fmt.Errorf("start onboarding: %w", err)
	}
	return nil
}
