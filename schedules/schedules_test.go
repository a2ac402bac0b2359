package schedules

import (
	"context"
	"slices"
	"testing"
	"time"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/workflows"
)

func TestWantedFollowsTheConfiguration(t *testing.T) {
	cfg := config.Config{TaskQueue: "q", ComplianceTaskQueue: "q-compliance"}
	if got := Wanted(cfg); len(got) != 1 || got[0].ID != workflows.RetentionScheduleID || got[0].Every != 24*time.Hour {
		t.Fatalf("without backups: %+v", got)
	}
	cfg.Compliance.BackupDir, cfg.Compliance.BackupInterval = "/backups", 6*time.Hour
	got := Wanted(cfg)
	if len(got) != 2 || got[1].ID != workflows.BackupScheduleID || got[1].Every != 6*time.Hour || got[1].Action.TaskQueue != "q-compliance" ||
		got[0].Action.TaskQueue != "q-compliance" {
		t.Fatalf("with backups: %+v", got)
	}
}

// TestEnsureIsIdempotentAndAppliesChanges: every worker ensures the schedules at start-up; the
// second time finds them and brings a changed interval and task queue into effect instead of
// failing (schedules made when every workflow shared one queue move to the compliance queue).
func TestEnsureIsIdempotentAndAppliesChanges(t *testing.T) {
	ctx := context.Background()
	c := testenv.Temporal(t).Client()
	cfg := config.Config{TaskQueue: "schedules-test", ComplianceTaskQueue: "schedules-test"}
	cfg.Compliance.BackupDir, cfg.Compliance.BackupInterval = "/backups", 24*time.Hour
	if err := Ensure(ctx, c.ScheduleClient(), Wanted(cfg)); err != nil {
		t.Fatal(err)
	}
	cfg.Compliance.BackupInterval = 6 * time.Hour
	cfg.ComplianceTaskQueue = "schedules-test-compliance"
	if err := Ensure(ctx, c.ScheduleClient(), Wanted(cfg)); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	var ids []string
	iter, err := c.ScheduleClient().List(ctx, sdkclient.ScheduleListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{workflows.BackupScheduleID, workflows.RetentionScheduleID}) {
		t.Fatalf("schedules %v", ids)
	}
	d, err := c.ScheduleClient().GetHandle(ctx, workflows.BackupScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if iv := d.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != 6*time.Hour {
		t.Fatalf("backup interval after the update: %+v", iv)
	}
	if a, ok := d.Schedule.Action.(*sdkclient.ScheduleWorkflowAction); !ok || a.TaskQueue != "schedules-test-compliance" {
		t.Fatalf("backup action after the update: %+v", d.Schedule.Action)
	}
}
