package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/activities/retention"
)

func TestRetentionSweepRunsEverySweepFromOneInstant(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterActivity(sweeps)
	// The sweeps run concurrently, so their mocks do too.
	var mu sync.Mutex
	var seen []time.Time
	record := func(in retention.SweepInput) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, in.Now)
	}
	env.OnActivity(sweeps.PruneAuditPayloads, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in retention.SweepInput) (int, error) { record(in); return 3, nil })
	// A failing sweep must not hold the others back; it fails the run so ops see it.
	env.OnActivity(sweeps.PruneBillingRecords, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in retention.SweepInput) (int, error) {
			record(in)
			return 0, errors.New("database unavailable")
		})
	env.OnActivity(sweeps.PruneDSRRecords, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in retention.SweepInput) (int, error) { record(in); return 2, nil })
	env.OnActivity(sweeps.BlankOldMessageBodies, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in retention.SweepInput) (int64, error) { record(in); return 40, nil })
	env.OnActivity(sweeps.PruneStripeEvents, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in retention.SweepInput) (int, error) { record(in); return 7, nil })
	env.ExecuteWorkflow(RetentionSweep, RetentionSweepInput{})
	if env.GetWorkflowError() == nil {
		t.Fatal("a failed sweep must fail the run")
	}
	// Billing is retried until its attempts run out; every other sweep ran once.
	distinct := map[time.Time]bool{}
	for _, at := range seen {
		distinct[at] = true
	}
	if len(distinct) != 1 || !distinct[start] {
		t.Fatalf("sweeps counted back from %v, want the run's start %v for all", seen, start)
	}
	if len(seen) < 5 {
		t.Fatalf("only %d sweeps ran", len(seen))
	}
}
