package ingress

import (
	"context"

	"github.com/ringback/ringback/workflows"
)

// ClosureControl starts and reactivates a tenant's account closure, as the Stripe webhook needs
// it. Both are idempotent: a closure already running is not started twice.
type ClosureControl interface {
	// StartClosure begins the retention period of a cancelled account. reason is one of the
	// workflows.ClosureReason… values; actor names who asked, for the audit log.
	StartClosure(ctx context.Context, tenantID, reason, actor string) error
	// Reactivate restores service to a closing tenant and ends its closure.
	Reactivate(ctx context.Context, tenantID, actor string) error
}

// ClosureAdmin is everything the closure API does (lifecycle.Closures). Signals to a tenant with
// no closure running fail with lifecycle.ErrNoClosure.
type ClosureAdmin interface {
	ClosureControl
	DeleteNow(ctx context.Context, tenantID, actor string) error
	Hold(ctx context.Context, tenantID, actor, reason string) error
	Release(ctx context.Context, tenantID, actor string) error
	State(ctx context.Context, tenantID string) (workflows.ClosureState, error)
}
