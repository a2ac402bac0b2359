package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/closure"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// Names of the account-closure workflow's signals and query.
const (
	// SignalReactivate restores service and ends the closure.
	SignalReactivate = "reactivate"
	// SignalDeleteNow erases the tenant without waiting for the retention period to end.
	SignalDeleteNow = "delete-now"
	// SignalLegalHold pauses the retention clock: nothing is erased while a hold is on.
	SignalLegalHold = "legal-hold"
	// SignalReleaseHold restarts the clock where the hold stopped it.
	SignalReleaseHold = "release-hold"
	// QueryClosure returns the ClosureState.
	QueryClosure = "closure"
)

// Closure stages, shown in the Stage search attribute.
const (
	ClosureRetention   = "retention"
	ClosureLegalHold   = "legal_hold"
	ClosureErasing     = "erasing"
	ClosureErased      = "erased"
	ClosureReactivated = "reactivated"
)

// Closure reasons.
const (
	ClosureReasonSubscriptionDeleted = "subscription_deleted"
	ClosureReasonTenantRequest       = "tenant_request"
	ClosureReasonOps                 = "ops"
)

// ValidClosureReason reports whether r is one of the reasons above.
func ValidClosureReason(r string) bool {
	return r == ClosureReasonSubscriptionDeleted || r == ClosureReasonTenantRequest || r == ClosureReasonOps
}

// ClosureWorkflowID is the one closure a tenant can have at a time. Closures carry no TenantID
// search attribute: erasing the tenant deletes every execution that does, and the closure must
// outlive the erasure it performs.
func ClosureWorkflowID(tenantID string) string { return "closure/" + tenantID }

// ClosureInput starts an account closure.
type ClosureInput struct {
	TenantID    string
	Reason      string
	RequestedBy string
	// Retention is how long the data is kept for reactivation (config: 90 days by default).
	Retention time.Duration
}

// ClosureSignal is the payload of every closure signal: who asked, and why (holds).
type ClosureSignal struct {
	By     string
	Reason string
}

// ClosureState is what the closure query returns.
type ClosureState struct {
	TenantID  string
	Stage     string
	Reason    string
	StartedAt time.Time
	// DeleteAt is when the data will be erased, legal holds so far included.
	DeleteAt   time.Time
	OnHold     bool
	HoldReason string
	// HeldFor is the time spent on legal hold, which pushed DeleteAt back.
	HeldFor       time.Duration
	RemindersSent []string
	// Early is true when delete-now cut the retention period short.
	Early     bool
	ErasedAt  time.Time
	Scan      *closure.ScanResult
	AuditCert int64
}

// closureReminders are the notices before deletion, by how long before it they go out.
var closureReminders = []struct {
	before time.Duration
	step   string
}{{7 * 24 * time.Hour, "reminder-7d"}, {24 * time.Hour, "reminder-1d"}}

// closureScanAttempts bounds the erase-and-rescan rounds before a closure gives up and fails
// where ops will see it.
const closureScanAttempts = 3

var closureActs *closure.Closure

// AccountClosure keeps a cancelled account for its retention period, then erases it. Signals
// reactivate it, erase it early, or hold it for legal reasons.
func AccountClosure(ctx workflow.Context, in ClosureInput) (ClosureState, error) {
	if !tenantspec.ValidID(in.TenantID) || in.Retention <= 0 || !ValidClosureReason(in.Reason) {
		return ClosureState{}, temporal.NewNonRetryableApplicationError("closure: a tenant id, a reason and a retention period are required", "InvalidInput", nil)
	}
	c := &closureRun{in: in, sent: map[string]bool{}}
	return c.run(ctx)
}

type closureRun struct {
	in      ClosureInput
	state   ClosureState
	sent    map[string]bool
	events  int
	heldAt  time.Time
	runID   string
	signals struct {
		reactivate, deleteNow, hold, release workflow.ReceiveChannel
	}
}

func (c *closureRun) run(ctx workflow.Context) (ClosureState, error) {
	c.runID = firstRunID(ctx)
	now := workflow.Now(ctx)
	c.state = ClosureState{TenantID: c.in.TenantID, Stage: ClosureRetention, Reason: c.in.Reason, StartedAt: now, DeleteAt: now.Add(c.in.Retention)}
	if err := workflow.SetQueryHandler(ctx, QueryClosure, func() (ClosureState, error) { return c.state, nil }); err != nil {
		return c.state, err
	}
	c.signals.reactivate = workflow.GetSignalChannel(ctx, SignalReactivate)
	c.signals.deleteNow = workflow.GetSignalChannel(ctx, SignalDeleteNow)
	c.signals.hold = workflow.GetSignalChannel(ctx, SignalLegalHold)
	c.signals.release = workflow.GetSignalChannel(ctx, SignalReleaseHold)
	if err := c.setStage(ctx, ClosureRetention); err != nil {
		return c.state, err
	}

	actx := closureOptions(ctx)
	if err := workflow.ExecuteActivity(actx, closureActs.BeginClosure, closure.BeginInput{
		TenantID: c.in.TenantID, Reason: c.in.Reason, RequestedBy: c.in.RequestedBy, DeleteAt: c.state.DeleteAt,
		EventID: c.eventID(), At: now,
	}).Get(ctx, nil); err != nil {
		return c.state, err
	}
	if err := workflow.ExecuteActivity(actx, closureActs.CloseTenantConversations, c.in.TenantID).Get(ctx, nil); err != nil {
		return c.state, err
	}
	if err := c.notify(ctx, activities.NoticeClosureStarted, "notice-closure"); err != nil {
		return c.state, err
	}

	for {
		reactivate, err := c.waitForNextEvent(ctx)
		if err != nil {
			return c.state, err
		}
		if reactivate != nil {
			return c.reactivate(ctx, *reactivate)
		}
		if c.state.Early || (!c.state.OnHold && !workflow.Now(ctx).Before(c.state.DeleteAt)) {
			return c.erase(ctx)
		}
		if c.state.OnHold {
			continue
		}
		if err := c.sendDueReminder(ctx); err != nil {
			return c.state, err
		}
	}
}

// waitForNextEvent sleeps until the deletion date, the next reminder or a signal, and applies
// holds, releases and delete-now requests. It returns the reactivation, if one came.
func (c *closureRun) waitForNextEvent(ctx workflow.Context) (*ClosureSignal, error) {
	var reactivate *ClosureSignal
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(c.signals.reactivate, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(ctx, &s)
		reactivate = &s
	})
	var pending []func() error
	sel.AddReceive(c.signals.deleteNow, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(ctx, &s)
		pending = append(pending, func() error { return c.deleteNow(ctx, s) })
	})
	sel.AddReceive(c.signals.hold, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(ctx, &s)
		pending = append(pending, func() error { return c.hold(ctx, s) })
	})
	sel.AddReceive(c.signals.release, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(ctx, &s)
		pending = append(pending, func() error { return c.release(ctx, s) })
	})
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	if !c.state.OnHold {
		wake := c.nextWake(workflow.Now(ctx))
		sel.AddFuture(workflow.NewTimer(timerCtx, wake.Sub(workflow.Now(ctx))), func(workflow.Future) {})
	}
	sel.Select(ctx)
	// Everything else already delivered is applied in this round too, in arrival order per kind.
	for sel.HasPending() {
		sel.Select(ctx)
	}
	for _, apply := range pending {
		if err := apply(); err != nil {
			return nil, err
		}
	}
	return reactivate, nil
}

// nextWake is the deletion date or the next unsent reminder before it, whichever comes first.
func (c *closureRun) nextWake(now time.Time) time.Time {
	wake := c.state.DeleteAt
	for _, r := range closureReminders {
		at := c.state.DeleteAt.Add(-r.before)
		if !c.sent[r.step] && at.After(now) && at.Before(wake) {
			wake = at
		}
	}
	if wake.Before(now) {
		return now
	}
	return wake
}

// sendDueReminder sends the most recent reminder that has come due. An earlier one that was
// missed (a short retention period, a hold released late) is not sent as well: one notice with
// the right date is enough.
func (c *closureRun) sendDueReminder(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	due := ""
	for _, r := range closureReminders {
		if !c.sent[r.step] && !now.Before(c.state.DeleteAt.Add(-r.before)) {
			if due != "" {
				c.sent[due] = true
			}
			due = r.step
		}
	}
	if due == "" {
		return nil
	}
	c.sent[due] = true
	// A hold released moves the date; each reminder names the date it was sent for.
	step := fmt.Sprintf("%s-%d", due, c.state.DeleteAt.Unix())
	if err := c.notify(ctx, activities.NoticeDeletionSoon, step); err != nil {
		return err
	}
	c.state.RemindersSent = append(c.state.RemindersSent, due)
	return nil
}

func (c *closureRun) deleteNow(ctx workflow.Context, s ClosureSignal) error {
	if c.state.OnHold {
		// A legal hold outranks the tenant's wish to be forgotten early; the refusal is on record.
		return c.record(ctx, closure.ActionDeleteRefused, s.By, map[string]any{"why": "legal hold"})
	}
	c.state.Early = true
	return c.record(ctx, closure.ActionDeleteNow, s.By, nil)
}

func (c *closureRun) hold(ctx workflow.Context, s ClosureSignal) error {
	if !c.state.OnHold {
		c.state.OnHold, c.heldAt = true, workflow.Now(ctx)
		if err := c.setStage(ctx, ClosureLegalHold); err != nil {
			return err
		}
	}
	c.state.HoldReason = s.Reason
	return c.record(ctx, closure.ActionLegalHold, s.By, map[string]any{"reason": s.Reason})
}

func (c *closureRun) release(ctx workflow.Context, s ClosureSignal) error {
	if !c.state.OnHold {
		return nil
	}
	held := workflow.Now(ctx).Sub(c.heldAt)
	c.state.OnHold, c.state.HoldReason = false, ""
	c.state.HeldFor += held
	c.state.DeleteAt = c.state.DeleteAt.Add(held)
	if err := c.setStage(ctx, ClosureRetention); err != nil {
		return err
	}
	return c.record(ctx, closure.ActionHoldReleased, s.By, map[string]any{
		"held_seconds": int64(held / time.Second), "delete_at": c.state.DeleteAt.UTC().Format(time.RFC3339),
	})
}

func (c *closureRun) reactivate(ctx workflow.Context, s ClosureSignal) (ClosureState, error) {
	if err := workflow.ExecuteActivity(closureOptions(ctx), closureActs.ReactivateTenant, closure.RecordInput{
		TenantID: c.in.TenantID, Actor: s.By, EventID: c.eventID(), At: workflow.Now(ctx),
	}).Get(ctx, nil); err != nil {
		return c.state, err
	}
	if err := c.notify(ctx, activities.NoticeReactivated, "notice-reactivated"); err != nil {
		return c.state, err
	}
	return c.state, c.setStage(ctx, ClosureReactivated)
}

// erase removes the tenant from every store, re-scans, and certifies the result. Each step is
// idempotent, so a round that finds something left simply runs again.
func (c *closureRun) erase(ctx workflow.Context) (ClosureState, error) {
	if err := c.setStage(ctx, ClosureErasing); err != nil {
		return c.state, err
	}
	if err := c.record(ctx, closure.ActionErasureStarted, "system", map[string]any{"early": c.state.Early}); err != nil {
		return c.state, err
	}
	actx := closureOptions(ctx)
	cert := store.DeletionCertificate{
		TenantID: c.in.TenantID, Reason: c.in.Reason, RequestedBy: c.in.RequestedBy,
		ClosureStartedAt: c.state.StartedAt, Early: c.state.Early, RowsPurged: map[string]int64{},
	}
	var scan closure.ScanResult
	for attempt := 1; ; attempt++ {
		var existed bool
		if err := workflow.ExecuteActivity(actx, closureActs.DropTenantSchema, c.in.TenantID).Get(ctx, &existed); err != nil {
			return c.state, err
		}
		cert.SchemaDropped = cert.SchemaDropped || existed
		if err := workflow.ExecuteActivity(actx, closureActs.DestroyTenantKeys, c.in.TenantID).Get(ctx, nil); err != nil {
			return c.state, err
		}
		cert.KeysDestroyed = true
		var deleted closure.DeleteExecutionsResult
		if err := workflow.ExecuteActivity(deletionOptions(ctx), closureActs.DeleteTenantExecutions, closure.DeleteExecutionsInput{
			TenantID: c.in.TenantID, JobID: fmt.Sprintf("erase-%s-%s-%d", c.in.TenantID, c.runID, attempt),
		}).Get(ctx, &deleted); err != nil {
			return c.state, err
		}
		cert.ExecutionsDeleted += deleted.Found
		if attempt == 1 {
			// Told while the tenant row still exists: it holds the numbers the text goes from and to.
			if err := c.notify(ctx, activities.NoticeErased, "notice-erased"); err != nil {
				return c.state, err
			}
		}
		var purged map[string]int64
		if err := workflow.ExecuteActivity(actx, closureActs.PurgeTenantRows, c.in.TenantID).Get(ctx, &purged); err != nil {
			return c.state, err
		}
		for table, n := range purged {
			cert.RowsPurged[table] += n
		}
		if err := workflow.ExecuteActivity(actx, closureActs.ScanTenant, c.in.TenantID).Get(ctx, &scan); err != nil {
			return c.state, err
		}
		c.state.Scan = &scan
		if scan.Clean() {
			break
		}
		if attempt == closureScanAttempts {
			_ = c.record(ctx, closure.ActionErasureIncomplete, "system", map[string]any{"scan": scan})
			return c.state, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("erasure incomplete after %d rounds: the re-scan still finds data of the tenant", attempt), "ErasureIncomplete", nil)
		}
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return c.state, err
		}
	}
	c.state.ErasedAt = workflow.Now(ctx)
	cert.ErasedAt = c.state.ErasedAt
	cert.Scan = scan.Database
	cert.ExecutionsLeft = scan.Executions
	var res closure.CertifyResult
	if err := workflow.ExecuteActivity(actx, closureActs.CertifyErasure, cert).Get(ctx, &res); err != nil {
		return c.state, err
	}
	c.state.AuditCert = res.AuditIndex
	return c.state, c.setStage(ctx, ClosureErased)
}

// notify texts the owner. A notice the carrier refuses is logged and the closure goes on: the
// owner's phone must not be able to stop an erasure that is due.
func (c *closureRun) notify(ctx workflow.Context, kind, step string) error {
	err := workflow.ExecuteActivity(smsOptions(ctx), acts.NotifyOwner, activities.OwnerNoticeInput{
		TenantID: c.in.TenantID, Kind: kind, DeleteAt: c.state.DeleteAt, Step: step, FirstRunID: c.runID,
	}).Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		workflow.GetLogger(ctx).Warn("owner notice not sent", "notice", kind, "error_type", appErr.Type())
		return nil
	}
	return err
}

func (c *closureRun) record(ctx workflow.Context, action, by string, details map[string]any) error {
	return workflow.ExecuteActivity(closureOptions(ctx), closureActs.RecordClosureEvent, closure.RecordInput{
		TenantID: c.in.TenantID, Action: action, Actor: by, EventID: c.eventID(), At: workflow.Now(ctx), Details: details,
	}).Get(ctx, nil)
}

// eventID numbers the closure's audit entries, stable across replays and activity retries.
func (c *closureRun) eventID() string {
	c.events++
	return fmt.Sprintf("%s/%s/%d", ClosureWorkflowID(c.in.TenantID), c.runID, c.events)
}

func (c *closureRun) setStage(ctx workflow.Context, stage string) error {
	c.state.Stage = stage
	return workflow.UpsertTypedSearchAttributes(ctx, searchattr.Stage.ValueSet(stage), searchattr.DueAt.ValueSet(c.state.DeleteAt))
}

// closureOptions are for the closure's database and Temporal steps: retried until they succeed,
// because an erasure half done must be finished, not abandoned.
func closureOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute, NonRetryableErrorTypes: []string{"InvalidInput", closure.ErrTypeTenantNotFound}},
	})
}

// deletionOptions give the batch deletion of a large tenant's histories time to finish.
func deletionOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute},
	})
}
