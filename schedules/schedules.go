// Package schedules keeps Ringback's Temporal Schedules — the daily retention sweep and the
// database backups — as the configuration says, idempotently: every worker ensures them at
// start-up, creating what is missing and bringing what exists up to date.
package schedules

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/workflows"
)

// Schedule is one schedule as Ringback wants it.
type Schedule struct {
	ID     string
	Every  time.Duration
	Action *sdkclient.ScheduleWorkflowAction
}

// Wanted lists the schedules the configuration asks for: the retention sweep always, backups when
// a backup directory is set.
func Wanted(cfg config.Config) []Schedule {
	out := []Schedule{{
		ID: workflows.RetentionScheduleID, Every: 24 * time.Hour,
		Action: &sdkclient.ScheduleWorkflowAction{
			ID: workflows.RetentionWorkflowID, Workflow: workflows.RetentionSweep,
			Args: []any{workflows.RetentionSweepInput{}}, TaskQueue: cfg.ComplianceTaskQueue,
		},
	}}
	if cfg.Compliance.BackupDir != "" {
		out = append(out, Schedule{
			ID: workflows.BackupScheduleID, Every: cfg.Compliance.BackupInterval,
			Action: &sdkclient.ScheduleWorkflowAction{
				ID: workflows.BackupWorkflowID, Workflow: workflows.DatabaseBackup,
				Args: []any{workflows.DatabaseBackupInput{}}, TaskQueue: cfg.ComplianceTaskQueue,
			},
		})
	}
	return out
}

// Ensure creates each schedule, or updates it when it exists, so a changed interval or task queue
// takes effect on the next start-up. Runs that would overlap are skipped: a sweep or a backup still
// running when the next is due has the work in hand.
func Ensure(ctx context.Context, c sdkclient.ScheduleClient, want []Schedule) error {
	for _, s := range want {
		spec := sdkclient.ScheduleSpec{Intervals: []sdkclient.ScheduleIntervalSpec{{Every: s.Every}}}
		_, err := c.Create(ctx, sdkclient.ScheduleOptions{
			ID: s.ID, Spec: spec, Action: s.Action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
			CatchupWindow: 24 * time.Hour,
		})
		if err == nil {
			continue
		}
		if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return fmt.Errorf("create schedule %s: %w", s.ID, err)
		}
		err = c.GetHandle(ctx, s.ID).Update(ctx, sdkclient.ScheduleUpdateOptions{
			DoUpdate: func(in sdkclient.ScheduleUpdateInput) (*sdkclient.ScheduleUpdate, error) {
				sched := in.Description.Schedule
				sched.Spec = &spec
				sched.Action = s.Action
				if sched.Policy == nil {
					sched.Policy = &sdkclient.SchedulePolicies{}
				}
				sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
				return &sdkclient.ScheduleUpdate{Schedule: &sched}, nil
			},
		})
		if err != nil {
			return fmt.Errorf("update schedule %s: %w", s.ID, err)
		}
	}
	return nil
}
