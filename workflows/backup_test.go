package workflows

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/ringback/ringback/activities/backup"
	"github.com/ringback/ringback/internal/testenv"
)

// backupRecorder is what the mocked backup activities saw.
type backupRecorder struct {
	takes    []backup.TakeBackupInput
	attempts []int32
	prunes   []backup.PruneInput
	options  map[string]*activity.Info
	// failures lists what TakeBackup returns on successive attempts before it succeeds.
	failures []error
}

var backupStart = time.Date(2026, 11, 22, 3, 0, 7, 0, time.UTC)

func newBackupEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *backupRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(backupStart)
	env.RegisterWorkflow(DatabaseBackup)
	env.RegisterActivity(backups)
	rec := &backupRecorder{options: map[string]*activity.Info{}}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		rec.options[info.ActivityType.Name] = info
	})
	env.OnActivity(backups.TakeBackup, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in backup.TakeBackupInput) (backup.BackupResult, error) {
			rec.takes = append(rec.takes, in)
			rec.attempts = append(rec.attempts, activity.GetInfo(ctx).Attempt)
			if len(rec.failures) > 0 {
				err := rec.failures[0]
				rec.failures = rec.failures[1:]
				return backup.BackupResult{}, err
			}
			return backup.BackupResult{File: "/backups/" + backup.FileName(in.ScheduledAt), Bytes: 4096, SHA256: "ab12"}, nil
		})
	env.OnActivity(backups.PruneBackups, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in backup.PruneInput) (int, error) {
			rec.prunes = append(rec.prunes, in)
			return 2, nil
		})
	return env, rec
}

func backupResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) DatabaseBackupResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res DatabaseBackupResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDatabaseBackupUsesTheScheduledTime: started by a Schedule, the backup is named after the
// time it was scheduled for, not the moment the run happened to start; then it prunes.
func TestDatabaseBackupUsesTheScheduledTime(t *testing.T) {
	env, rec := newBackupEnv(t)
	slot := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(scheduledStartTime.ValueSet(slot))); err != nil {
		t.Fatal(err)
	}
	env.ExecuteWorkflow(DatabaseBackup, DatabaseBackupInput{})
	res := backupResult(t, env)

	if len(rec.takes) != 1 || !rec.takes[0].ScheduledAt.Equal(slot) {
		t.Fatalf("TakeBackup inputs = %+v, want one for %v", rec.takes, slot)
	}
	if res.Backup.File != "/backups/ringback-20261122T030000Z.rbk" || res.Pruned != 2 {
		t.Fatalf("result = %+v", res)
	}
	if len(rec.prunes) != 1 || rec.prunes[0].Now.Before(backupStart) {
		t.Fatalf("PruneBackups inputs = %+v, want one as of the workflow's clock", rec.prunes)
	}
}

// TestDatabaseBackupStartedByHand names the backup after the run's start.
func TestDatabaseBackupStartedByHand(t *testing.T) {
	env, rec := newBackupEnv(t)
	env.ExecuteWorkflow(DatabaseBackup, DatabaseBackupInput{})
	backupResult(t, env)
	if len(rec.takes) != 1 || !rec.takes[0].ScheduledAt.Equal(backupStart) {
		t.Fatalf("TakeBackup inputs = %+v, want one for %v", rec.takes, backupStart)
	}
}

// TestDatabaseBackupActivityOptions: the dump may run two hours, but must heartbeat every minute.
func TestDatabaseBackupActivityOptions(t *testing.T) {
	env, rec := newBackupEnv(t)
	env.ExecuteWorkflow(DatabaseBackup, DatabaseBackupInput{})
	backupResult(t, env)
	take, prune := rec.options["TakeBackup"], rec.options["PruneBackups"]
	if take == nil || prune == nil {
		t.Fatalf("activities started: %v", rec.options)
	}
	if take.StartToCloseTimeout != 2*time.Hour || take.HeartbeatTimeout != time.Minute {
		t.Errorf("TakeBackup: start-to-close %v, heartbeat %v", take.StartToCloseTimeout, take.HeartbeatTimeout)
	}
	if prune.StartToCloseTimeout != 5*time.Minute {
		t.Errorf("PruneBackups: start-to-close %v", prune.StartToCloseTimeout)
	}
}

// TestDatabaseBackupRetriesTheSameFile: a failed dump is retried with the same scheduled time, so
// the retry writes the same file.
func TestDatabaseBackupRetriesTheSameFile(t *testing.T) {
	env, rec := newBackupEnv(t)
	rec.failures = []error{errors.New("pg_dump failed: connection refused"), errors.New("pg_dump failed: connection refused")}
	env.ExecuteWorkflow(DatabaseBackup, DatabaseBackupInput{})
	backupResult(t, env)
	if len(rec.takes) != 3 || !rec.takes[0].ScheduledAt.Equal(rec.takes[2].ScheduledAt) {
		t.Fatalf("TakeBackup inputs = %+v, want three for one time", rec.takes)
	}
	if rec.attempts[2] != 3 {
		t.Fatalf("attempts = %v", rec.attempts)
	}
	if len(rec.prunes) != 1 {
		t.Fatalf("pruned %d times after the backup succeeded", len(rec.prunes))
	}
}

// TestDatabaseBackupFailureKeepsOldBackups: when the backup cannot be taken, nothing is pruned.
func TestDatabaseBackupFailureKeepsOldBackups(t *testing.T) {
	env, rec := newBackupEnv(t)
	rec.failures = []error{temporal.NewNonRetryableApplicationError("take backup", backup.ErrTypeMisconfigured, errors.New("no pg_dump"))}
	env.ExecuteWorkflow(DatabaseBackup, DatabaseBackupInput{})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := env.GetWorkflowError()
	var actErr *temporal.ActivityError
	var appErr *temporal.ApplicationError
	if !errors.As(err, &actErr) || !errors.As(actErr.Unwrap(), &appErr) || appErr.Type() != backup.ErrTypeMisconfigured ||
		!strings.Contains(err.Error(), "database backup") {
		t.Fatalf("workflow error = %v", err)
	}
	if len(rec.takes) != 1 {
		t.Fatalf("a non-retryable failure was retried: %d attempts", len(rec.takes))
	}
	if len(rec.prunes) != 0 {
		t.Fatal("backups were pruned after a failed backup")
	}
}

// TestDatabaseBackupFromARealSchedule runs the workflow from a Temporal Schedule on the dev
// server: the backup is named after the time the schedule recorded on the run
// (TemporalScheduledStartTime), which the workflow reads as a typed search attribute.
func TestDatabaseBackupFromARealSchedule(t *testing.T) {
	ctx := context.Background()
	dev := testenv.Temporal(t)
	c := dev.Client()
	const taskQueue = "backup-schedule-test"
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(DatabaseBackup)
	taken := make(chan backup.TakeBackupInput, 1)
	workflowIDs := make(chan string, 1)
	w.RegisterActivityWithOptions(func(ctx context.Context, in backup.TakeBackupInput) (backup.BackupResult, error) {
		taken <- in
		workflowIDs <- activity.GetInfo(ctx).WorkflowExecution.ID
		return backup.BackupResult{File: backup.FileName(in.ScheduledAt)}, nil
	}, activity.RegisterOptions{Name: "TakeBackup"})
	w.RegisterActivityWithOptions(func(context.Context, backup.PruneInput) (int, error) { return 0, nil },
		activity.RegisterOptions{Name: "PruneBackups"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	if _, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   BackupScheduleID,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
		Action: &client.ScheduleWorkflowAction{
			ID: BackupWorkflowID, Workflow: DatabaseBackup, Args: []any{DatabaseBackupInput{}}, TaskQueue: taskQueue,
		},
		TriggerImmediately: true,
	}); err != nil {
		t.Fatal(err)
	}
	var in backup.TakeBackupInput
	var workflowID string
	select {
	case in = <-taken:
		workflowID = <-workflowIDs
	case <-time.After(time.Minute):
		t.Fatal("the scheduled backup did not run within a minute")
	}
	var res DatabaseBackupResult
	if err := c.GetWorkflow(ctx, workflowID, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	var slot time.Time
	p := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["TemporalScheduledStartTime"]
	if err := converter.GetDefaultDataConverter().FromPayload(p, &slot); err != nil || slot.IsZero() {
		t.Fatalf("the run has no scheduled start time: %v", err)
	}
	if !in.ScheduledAt.Equal(slot) {
		t.Fatalf("backup scheduled at %v, the schedule says %v", in.ScheduledAt, slot)
	}
	if !strings.HasPrefix(workflowID, BackupWorkflowID+"-") || res.Backup.File != backup.FileName(slot) {
		t.Fatalf("workflow %s, result %+v", workflowID, res)
	}
}
