// Package closure holds the side effects of a tenant's account closure: marking it closing,
// closing its conversations, and, when the retention period ends, erasing it everywhere —
// database, keys, Temporal histories — re-scanning for anything left and certifying the result in
// the audit log.
package closure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/batch/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// Temporal is what the closure needs of the Temporal client: finding a tenant's executions,
// signalling its conversations, and deleting its histories.
type Temporal interface {
	ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	CountWorkflow(ctx context.Context, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	WorkflowService() workflowservice.WorkflowServiceClient
}

// Keys destroys a tenant's data keys: every payload sealed under them becomes unreadable.
type Keys interface {
	Destroy(ctx context.Context, scope string) error
}

// Closure carries the closure activities' dependencies.
type Closure struct {
	Store     *store.Store
	Keys      Keys
	Temporal  Temporal
	Namespace string
	Log       *slog.Logger
	// PollInterval is how often DeleteExecutions re-counts while the server deletes; zero means
	// one second.
	PollInterval time.Duration
}

// ErrTypeTenantNotFound marks a closure of a tenant that does not exist: nothing to retry.
const ErrTypeTenantNotFound = "TenantNotFound"

// SignalTenantClosing is the conversation workflow's signal to stop and close (workflows cannot
// be imported here; the workflow package names the same string).
const SignalTenantClosing = "tenant-closing"

// Audit actions of a closure's life, in the control log.
const (
	ActionClosureStarted    = "tenant.closure_started"
	ActionReactivated       = "tenant.reactivated"
	ActionDeleteNow         = "tenant.delete_now"
	ActionDeleteRefused     = "tenant.delete_now_refused"
	ActionLegalHold         = "tenant.legal_hold"
	ActionHoldReleased      = "tenant.legal_hold_released"
	ActionErasureStarted    = "tenant.erasure_started"
	ActionErasureIncomplete = "tenant.erasure_incomplete"
)

// BeginInput starts a closure.
type BeginInput struct {
	TenantID    string
	Reason      string
	RequestedBy string
	DeleteAt    time.Time
	// EventID makes the audit entry idempotent across retries (the workflow's ID and first run).
	EventID string
	At      time.Time
}

// BeginResult reports what the tenant looked like.
type BeginResult struct {
	// Changed is false when the tenant was closing already (a retried activity).
	Changed bool
}

// BeginClosure marks the tenant closing — from here its calls and texts start nothing — and records the
// closure in the audit log.
func (c *Closure) BeginClosure(ctx context.Context, in BeginInput) (BeginResult, error) {
	changed, err := c.Store.MarkTenantClosing(ctx, in.TenantID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return BeginResult{}, temporal.NewNonRetryableApplicationError("closure: tenant not found", ErrTypeTenantNotFound, nil)
	case errors.Is(err, store.ErrTenantNotActive):
		// Closing already: a second closure run after a reactivation raced, or a retry.
	case err != nil:
		return BeginResult{}, err
	}
	if err := c.RecordClosureEvent(ctx, RecordInput{
		TenantID: in.TenantID, Action: ActionClosureStarted, Actor: in.RequestedBy, EventID: in.EventID, At: in.At,
		Details: map[string]any{"reason": in.Reason, "delete_at": in.DeleteAt.UTC().Format(time.RFC3339)},
	}); err != nil {
		return BeginResult{}, err
	}
	return BeginResult{Changed: changed}, nil
}

// RecordInput is one event of a closure for the audit log.
type RecordInput struct {
	TenantID string
	Action   string
	Actor    string
	// EventID is unique per event within the closure (workflow ID, first run, sequence).
	EventID string
	At      time.Time
	Details map[string]any
}

// RecordClosureEvent appends a closure event to the control log, where an auditor reads a tenant's lifecycle
// whether or not the tenant still exists.
func (c *Closure) RecordClosureEvent(ctx context.Context, in RecordInput) error {
	fields := map[string]any{"tenant_id": in.TenantID}
	for k, v := range in.Details {
		fields[k] = v
	}
	payload, err := json.Marshal(fields)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("closure audit: "+err.Error(), "InvalidInput", nil)
	}
	actor := in.Actor
	if actor == "" {
		actor = "system"
	}
	_, err = c.Store.AppendAudit(ctx, store.AuditEvent{
		LogID: auditlog.ControlLog, EventID: in.Action + "/" + in.EventID, Actor: actor,
		Action: in.Action, OccurredAt: in.At, Payload: payload,
	})
	return err
}

// ReactivateTenant restores service to a closing tenant.
func (c *Closure) ReactivateTenant(ctx context.Context, in RecordInput) error {
	if _, err := c.Store.ReactivateTenant(ctx, in.TenantID); err != nil && !errors.Is(err, store.ErrTenantNotClosing) {
		if errors.Is(err, store.ErrNotFound) {
			return temporal.NewNonRetryableApplicationError("reactivate: tenant not found", ErrTypeTenantNotFound, nil)
		}
		return err
	}
	in.Action = ActionReactivated
	return c.RecordClosureEvent(ctx, in)
}

// tenantQuery selects a tenant's executions. The tenant ID is validated before it is quoted.
func tenantQuery(tenantID, extra string) (string, error) {
	if !tenantspec.ValidID(tenantID) {
		return "", temporal.NewNonRetryableApplicationError("invalid tenant id", "InvalidInput", nil)
	}
	q := fmt.Sprintf("TenantID = '%s'", tenantID)
	if extra != "" {
		q += " AND " + extra
	}
	return q, nil
}

// CloseTenantConversations signals every open conversation of the tenant to close without sending
// anything more. It returns how many it signalled.
func (c *Closure) CloseTenantConversations(ctx context.Context, tenantID string) (int, error) {
	q, err := tenantQuery(tenantID, "ExecutionStatus = 'Running' AND WorkflowType = 'Conversation'")
	if err != nil {
		return 0, err
	}
	signalled := 0
	var token []byte
	for {
		resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: c.Namespace, Query: q, PageSize: 500, NextPageToken: token,
		})
		if err != nil {
			return signalled, fmt.Errorf("list conversations: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			err := c.Temporal.SignalWorkflow(ctx, e.GetExecution().GetWorkflowId(), "", SignalTenantClosing, nil)
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				return signalled, fmt.Errorf("signal conversation: %w", err)
			}
			if err == nil {
				signalled++
			}
			activity.RecordHeartbeat(ctx, signalled)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return signalled, nil
		}
	}
}

// DropTenantSchema drops the tenant's schema: every contact, conversation, message, call, booking.
func (c *Closure) DropTenantSchema(ctx context.Context, tenantID string) (bool, error) {
	return c.Store.DropTenantSchema(ctx, tenantID)
}

// DestroyTenantKeys destroys the tenant's data keys, so any copy of its histories, wherever it
// survives, is unreadable.
func (c *Closure) DestroyTenantKeys(ctx context.Context, tenantID string) error {
	return c.Keys.Destroy(ctx, tenantID)
}

// DeleteExecutionsInput names a tenant and the batch job that deletes its executions.
type DeleteExecutionsInput struct {
	TenantID string
	// JobID is stable across retries, so a retried activity finds its batch instead of starting
	// another.
	JobID string
}

// DeleteExecutionsResult counts executions.
type DeleteExecutionsResult struct {
	// Found is how many executions carried the tenant when the batch started.
	Found int64
	// Left is how many the server still lists after the batch finished.
	Left int64
}

// DeleteTenantExecutions deletes every workflow execution of the tenant — conversations, consent
// replies, webhook deliveries, open or closed — with one batch operation, and waits until the
// server lists none. Running ones are terminated first by the server. Deletion is asynchronous
// behind the batch, so the count is polled past the batch's end for a grace period; a retried
// activity starts a fresh batch for whatever is still listed (an execution started after the
// batch read its list, say).
func (c *Closure) DeleteTenantExecutions(ctx context.Context, in DeleteExecutionsInput) (DeleteExecutionsResult, error) {
	q, err := tenantQuery(in.TenantID, "")
	if err != nil {
		return DeleteExecutionsResult{}, err
	}
	found, err := c.count(ctx, q)
	if err != nil {
		return DeleteExecutionsResult{}, err
	}
	res := DeleteExecutionsResult{Found: found}
	jobID := fmt.Sprintf("%s-%d", in.JobID, activity.GetInfo(ctx).Attempt)
	if found > 0 {
		if err := c.startDeletion(ctx, jobID, q); err != nil {
			return res, err
		}
	}
	interval := c.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	var doneAt time.Time
	for {
		left, err := c.count(ctx, q)
		if err != nil {
			return res, err
		}
		res.Left = left
		activity.RecordHeartbeat(ctx, left)
		if left == 0 {
			return res, nil
		}
		if doneAt.IsZero() {
			done, err := c.batchDone(ctx, jobID)
			if err != nil {
				return res, err
			}
			if done {
				doneAt = time.Now()
			}
		} else if time.Since(doneAt) > deletionGrace {
			return res, fmt.Errorf("batch deletion finished %s ago with %d executions still listed", deletionGrace, left)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// deletionGrace is how long the server may take, after its batch finished, to stop listing the
// executions it deleted.
const deletionGrace = 2 * time.Minute

// startDeletion starts the batch unless this attempt already did (a heartbeat timeout can cut an
// attempt short after the start went through).
func (c *Closure) startDeletion(ctx context.Context, jobID, query string) error {
	_, err := c.Temporal.WorkflowService().DescribeBatchOperation(ctx, &workflowservice.DescribeBatchOperationRequest{Namespace: c.Namespace, JobId: jobID})
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &nf):
		return fmt.Errorf("describe batch deletion: %w", err)
	}
	_, err = c.Temporal.WorkflowService().StartBatchOperation(ctx, &workflowservice.StartBatchOperationRequest{
		Namespace: c.Namespace, JobId: jobID, VisibilityQuery: query,
		Reason:    "tenant erased at the end of its account closure",
		Operation: &workflowservice.StartBatchOperationRequest_DeletionOperation{DeletionOperation: &batch.BatchOperationDeletion{Identity: "ringback-closure"}},
	})
	if err != nil {
		return fmt.Errorf("start batch deletion: %w", err)
	}
	return nil
}

func (c *Closure) count(ctx context.Context, q string) (int64, error) {
	resp, err := c.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.Namespace, Query: q})
	if err != nil {
		return 0, fmt.Errorf("count executions: %w", err)
	}
	return resp.GetCount(), nil
}

func (c *Closure) batchDone(ctx context.Context, jobID string) (bool, error) {
	resp, err := c.Temporal.WorkflowService().DescribeBatchOperation(ctx, &workflowservice.DescribeBatchOperationRequest{Namespace: c.Namespace, JobId: jobID})
	if err != nil {
		return false, fmt.Errorf("describe batch deletion: %w", err)
	}
	return resp.GetState() != enumspb.BATCH_OPERATION_STATE_RUNNING, nil
}

// PurgeTenantRows deletes the tenant's control rows but billing, data-subject request records and the
// audit log.
func (c *Closure) PurgeTenantRows(ctx context.Context, tenantID string) (map[string]int64, error) {
	return c.Store.PurgeTenantRows(ctx, tenantID)
}

// ScanResult is the proof of erasure: the database re-scan and what Temporal still lists.
type ScanResult struct {
	Database   store.TenantScan
	Executions int64
}

// Clean reports whether nothing of the tenant is left but what is kept on purpose.
func (r ScanResult) Clean() bool { return r.Database.Clean() && r.Executions == 0 }

// ScanTenant looks for anything left of the tenant in every store.
func (c *Closure) ScanTenant(ctx context.Context, tenantID string) (ScanResult, error) {
	db, err := c.Store.ScanTenant(ctx, tenantID)
	if err != nil {
		return ScanResult{}, err
	}
	q, err := tenantQuery(tenantID, "")
	if err != nil {
		return ScanResult{}, err
	}
	n, err := c.count(ctx, q)
	if err != nil {
		return ScanResult{}, err
	}
	return ScanResult{Database: db, Executions: n}, nil
}

// CertifyErasure writes the deletion certificate to the control log, with the head of the tenant's own
// audit log, which is kept.
func (c *Closure) CertifyErasure(ctx context.Context, cert store.DeletionCertificate) (CertifyResult, error) {
	head, err := c.Store.AuditLogHead(ctx, cert.TenantID)
	if err != nil {
		return CertifyResult{}, err
	}
	cert.TenantAuditLogHead = head
	r, err := c.Store.CertifyErasure(store.WithActor(ctx, "system"), cert)
	if err != nil {
		return CertifyResult{}, err
	}
	if c.Log != nil {
		c.Log.Info("tenant erased", slog.String("tenant_id", cert.TenantID), slog.Int64("audit_index", r.Index))
	}
	return CertifyResult{AuditIndex: r.Index}, nil
}

// CertifyResult says where the certificate sits in the control log.
type CertifyResult struct {
	AuditIndex int64
}
