// Package lifecycle starts and steers the workflows of a tenant's account lifecycle — its closure,
// with reactivation, early deletion and legal holds — the same way for the admin API, the Stripe
// webhook and the CLI.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/workflows"
)

// ErrNoClosure is returned when a tenant has no closure running to signal or query.
var ErrNoClosure = errors.New("no account closure is running for this tenant")

// ErrInvalid is wrapped by refusals of malformed requests.
var ErrInvalid = errors.New("invalid request")

// Temporal is the part of the client the closures use.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options sdkclient.StartWorkflowOptions, workflow any, args ...any) (sdkclient.WorkflowRun, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// Closures starts and signals account closures.
type Closures struct {
	Temporal  Temporal
	TaskQueue string
	// Retention is how long a closing account is kept (RINGBACK_CLOSURE_RETENTION_DAYS).
	Retention time.Duration
}

// StartClosure begins a tenant's closure. A closure already running is left as it is; one that
// ended (the tenant was reactivated) may be followed by a new one.
func (c *Closures) StartClosure(ctx context.Context, tenantID, reason, actor string) error {
	if !tenantspec.ValidID(tenantID) {
		return fmt.Errorf("%w: not a tenant id", ErrInvalid)
	}
	if !workflows.ValidClosureReason(reason) {
		return fmt.Errorf("%w: unknown closure reason", ErrInvalid)
	}
	_, err := c.Temporal.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{
		ID: workflows.ClosureWorkflowID(tenantID), TaskQueue: c.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.AccountClosure, workflows.ClosureInput{
		TenantID: tenantID, Reason: reason, RequestedBy: actor, Retention: c.Retention,
	})
	if err != nil {
		return fmt.Errorf("start account closure: %w", err)
	}
	return nil
}

// Reactivate restores service and ends the closure.
func (c *Closures) Reactivate(ctx context.Context, tenantID, actor string) error {
	return c.signal(ctx, tenantID, workflows.SignalReactivate, workflows.ClosureSignal{By: actor})
}

// DeleteNow erases the tenant without waiting for the retention period to end. A closure on legal
// hold records the request and refuses it.
func (c *Closures) DeleteNow(ctx context.Context, tenantID, actor string) error {
	return c.signal(ctx, tenantID, workflows.SignalDeleteNow, workflows.ClosureSignal{By: actor})
}

// Hold pauses the closure's clock for a legal reason; nothing is erased until it is released.
func (c *Closures) Hold(ctx context.Context, tenantID, actor, reason string) error {
	if reason == "" || len(reason) > 200 {
		return fmt.Errorf("%w: a legal hold needs a reason of at most 200 characters", ErrInvalid)
	}
	return c.signal(ctx, tenantID, workflows.SignalLegalHold, workflows.ClosureSignal{By: actor, Reason: reason})
}

// Release ends a legal hold; the clock goes on where it stopped.
func (c *Closures) Release(ctx context.Context, tenantID, actor string) error {
	return c.signal(ctx, tenantID, workflows.SignalReleaseHold, workflows.ClosureSignal{By: actor})
}

// State returns the closure's state, running or finished.
func (c *Closures) State(ctx context.Context, tenantID string) (workflows.ClosureState, error) {
	if !tenantspec.ValidID(tenantID) {
		return workflows.ClosureState{}, fmt.Errorf("%w: not a tenant id", ErrInvalid)
	}
	v, err := c.Temporal.QueryWorkflow(ctx, workflows.ClosureWorkflowID(tenantID), "", workflows.QueryClosure)
	if isNotFound(err) {
		return workflows.ClosureState{}, ErrNoClosure
	}
	if err != nil {
		return workflows.ClosureState{}, fmt.Errorf("query account closure: %w", err)
	}
	var st workflows.ClosureState
	if err := v.Get(&st); err != nil {
		return workflows.ClosureState{}, fmt.Errorf("query account closure: %w", err)
	}
	return st, nil
}

func (c *Closures) signal(ctx context.Context, tenantID, name string, arg workflows.ClosureSignal) error {
	if !tenantspec.ValidID(tenantID) {
		return fmt.Errorf("%w: not a tenant id", ErrInvalid)
	}
	err := c.Temporal.SignalWorkflow(ctx, workflows.ClosureWorkflowID(tenantID), "", name, arg)
	if isNotFound(err) {
		return ErrNoClosure
	}
	if err != nil {
		return fmt.Errorf("signal account closure: %w", err)
	}
	return nil
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
