package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities/backup"
)

// BackupScheduleID is the ID of the Temporal Schedule that starts DatabaseBackup every backup
// interval. BackupWorkflowID is the workflow ID its action uses; the schedule appends the
// scheduled time to it, so each run has its own ID and none holds personal data.
const (
	BackupScheduleID = "backup"
	BackupWorkflowID = "backup"
)

// Activity timeouts of a backup. A dump of a large database can take a long time, but it writes
// all the while, so a stalled or dead worker is noticed by its missing heartbeats within a minute
// rather than at the end of the two hours.
const (
	backupStartToClose = 2 * time.Hour
	backupHeartbeat    = time.Minute
	pruneStartToClose  = 5 * time.Minute
)

// scheduledStartTime is the search attribute a Temporal Schedule sets on every workflow it starts:
// the time the action was scheduled for, which is the same on every retry of the run.
var scheduledStartTime = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// backups references the backup activity methods; it is never dereferenced.
var backups *backup.Backups

// DatabaseBackupInput starts a backup run. It is empty: what to back up and where is the worker's
// configuration.
type DatabaseBackupInput struct{}

// DatabaseBackupResult is what one run did.
type DatabaseBackupResult struct {
	Backup backup.BackupResult
	// Pruned counts the expired backups removed after this one was taken.
	Pruned int
}

// DatabaseBackup takes one encrypted backup and then prunes the expired ones (P21). Pruning
// follows only a successful backup, so a database that cannot be backed up never loses the old
// backups it still has. The backup is named after the schedule's time when a Schedule started the
// run, and after the run's start otherwise (a manual start).
func DatabaseBackup(ctx workflow.Context, _ DatabaseBackupInput) (DatabaseBackupResult, error) {
	at, scheduled := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime)
	if !scheduled {
		at = workflow.Now(ctx)
	}
	var res DatabaseBackupResult
	take := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: backupStartToClose,
		HeartbeatTimeout:    backupHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Minute,
			BackoffCoefficient: 2,
			MaximumInterval:    15 * time.Minute,
			MaximumAttempts:    5,
		},
	})
	if err := workflow.ExecuteActivity(take, backups.TakeBackup, backup.TakeBackupInput{ScheduledAt: at}).Get(ctx, &res.Backup); err != nil {
		return res, fmt.Errorf("database backup: %w", err)
	}
	prune := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: pruneStartToClose,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    10 * time.Second,
			BackoffCoefficient: 2,
			MaximumAttempts:    5,
		},
	})
	if err := workflow.ExecuteActivity(prune, backups.PruneBackups, backup.PruneInput{Now: workflow.Now(ctx)}).Get(ctx, &res.Pruned); err != nil {
		return res, fmt.Errorf("prune backups: %w", err)
	}
	workflow.GetLogger(ctx).Info("database backup done", "file", res.Backup.File, "bytes", res.Backup.Bytes, "pruned", res.Pruned)
	return res, nil
}
