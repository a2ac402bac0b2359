package ingress

import "context"

// ClosureControl starts and steers a tenant's account closure. Every method is idempotent: a
// closure already running is not started twice, a signal to one that has ended is not an error
// the caller can act on and is reported as ErrNoClosure.
type ClosureControl interface {
	// StartClosure begins the retention period of a cancelled account. reason is an enum
	// ("subscription_deleted", "tenant_request", "ops"); actor names who asked, for the audit log.
	StartClosure(ctx context.Context, tenantID, reason, actor string) error
	// Reactivate restores service to a closing tenant and ends its closure.
	Reactivate(ctx context.Context, tenantID, actor string) error
}
