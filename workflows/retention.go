package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities/retention"
)

// RetentionScheduleID is the Temporal Schedule that runs RetentionSweep every day;
// RetentionWorkflowID is the workflow ID its runs use (the schedule appends the time).
const (
	RetentionScheduleID = "retention"
	RetentionWorkflowID = "retention"
)

var sweeps *retention.Retention

// RetentionSweepInput is empty: the periods are the promises', the instant is the schedule's.
type RetentionSweepInput struct{}

// RetentionSweepResult counts what one sweep removed.
type RetentionSweepResult struct {
	AuditPayloads  int
	BillingRecords int
	DSRRecords     int
	MessageBodies  int64
	StripeEvents   int
}

// RetentionSweep removes what has outlived its retention period: audit payloads after a year
// (P13; the hashes stay and the logs still verify), billing records after seven years (P14),
// data-subject request records after 24 months, message text after each business's chosen
// retention, and the ids of handled Stripe events after 30 days. Each sweep runs on its own: one failing does not hold the others back.
func RetentionSweep(ctx workflow.Context, _ RetentionSweepInput) (RetentionSweepResult, error) {
	now, scheduled := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime)
	if !scheduled {
		now = workflow.Now(ctx)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 30 * time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Minute, MaximumAttempts: 10},
	})
	in := retention.SweepInput{Now: now}
	var res RetentionSweepResult
	futures := []struct {
		f   workflow.Future
		dst any
	}{
		{workflow.ExecuteActivity(actx, sweeps.PruneAuditPayloads, in), &res.AuditPayloads},
		{workflow.ExecuteActivity(actx, sweeps.PruneBillingRecords, in), &res.BillingRecords},
		{workflow.ExecuteActivity(actx, sweeps.PruneDSRRecords, in), &res.DSRRecords},
		{workflow.ExecuteActivity(actx, sweeps.BlankOldMessageBodies, in), &res.MessageBodies},
		{workflow.ExecuteActivity(actx, sweeps.PruneStripeEvents, in), &res.StripeEvents},
	}
	var firstErr error
	for _, f := range futures {
		if err := f.f.Get(ctx, f.dst); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return res, firstErr
}
