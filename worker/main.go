// Command worker runs Ringback's workflows and activities: config, clients, worker, register, run.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // tenant time zones must resolve in minimal container images

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/backup"
	"github.com/ringback/ringback/activities/billing"
	"github.com/ringback/ringback/activities/closure"
	"github.com/ringback/ringback/activities/dsr"
	"github.com/ringback/ringback/activities/incident"
	"github.com/ringback/ringback/activities/model"
	"github.com/ringback/ringback/activities/retention"
	"github.com/ringback/ringback/activities/sms"
	"github.com/ringback/ringback/activities/webhook"
	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/schedules"
	"github.com/ringback/ringback/workflows"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, log); err != nil {
		log.Error("worker stopped", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context, lookup config.Lookup, log *slog.Logger) error {
	cfg, err := config.Load(lookup, config.Worker)
	if err != nil {
		return err
	}
	conn, err := connect.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	db := conn.Store

	var sender sms.Sender
	if cfg.Sandbox() {
		log.Warn("SANDBOX MODE: no TWILIO_ACCOUNT_SID, texts are recorded in control.sandbox_messages and printed here, never sent")
		sender = sms.NewSandbox(db.Pool(), log)
	} else {
		sender, err = sms.NewTwilio(sms.TwilioOptions{
			AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, APIURL: cfg.TwilioAPIURL,
		})
		if err != nil {
			return err
		}
	}

	hasher, err := phone.NewHasher(cfg.PhoneHashKey)
	if err != nil {
		return err
	}
	acts := &activities.Activities{
		Store: db, SMS: sender, IgnoreQuietHours: cfg.IgnoreQuietHours,
		Hasher: hasher, AckKey: acktoken.DeriveKey(cfg.PhoneHashKey), PublicURL: cfg.PublicURL,
		Webhooks: &webhook.Deliverer{AllowPrivate: cfg.WebhookAllowPrivate}, Keys: conn.Keys,
	}
	if cfg.ModelDisabled {
		log.Warn("no model configured (RINGBACK_MODEL_URL=none): the scripted flow answers every text")
	} else {
		primary := model.Endpoint{BaseURL: cfg.Model.BaseURL, APIKey: cfg.Model.APIKey, Model: cfg.Model.Model, Timeout: cfg.Model.Timeout}
		var fallback *model.Endpoint
		if f := cfg.FallbackModel; f != nil {
			fallback = &model.Endpoint{BaseURL: f.BaseURL, APIKey: f.APIKey, Model: f.Model, Timeout: f.Timeout}
		}
		client, err := model.New(primary, fallback, nil)
		if err != nil {
			return err
		}
		client.Logger = log
		acts.Model = client
	}

	// Process-wide, and read when the first worker starts.
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	w := sdkworker.New(conn.Temporal, cfg.TaskQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskExecutionSize:  cfg.WorkerConcurrency,
		MaxConcurrentLocalActivityExecutionSize: cfg.WorkerConcurrency,
		// Separate pollers for the sticky and the normal queue. With the default mixed pollers,
		// a wake-up of thousands of conversations at 08:00 starves the normal queue: cached
		// conversations' tasks flood the sticky queue, the ones not taken within its 5 s move to
		// the normal queue, and every poller keeps long-polling the now empty sticky queue on the
		// strength of its last backlog report, for up to a minute at a time.
		WorkflowTaskPollerBehavior: workflowPollers(cfg.WorkerConcurrency),
	})
	w.RegisterWorkflow(workflows.Conversation)
	w.RegisterWorkflow(workflows.ConsentReply)
	w.RegisterWorkflow(workflows.TenantWebhook)
	w.RegisterActivity(acts)

	// Compliance work polls a queue of its own with the SDK's default task slots, apart from
	// the conversations (see config.ComplianceTaskQueue): while a text is in flight its
	// conversation holds a workflow task slot, so a provider that hangs can hold every slot on
	// the conversation queue for as long as it hangs.
	cw := sdkworker.New(conn.Temporal, cfg.ComplianceTaskQueue, sdkworker.Options{})
	cw.RegisterActivity(acts)
	complianceActivities := []any{
		&closure.Closure{Store: db, Keys: conn.Keys, Temporal: conn.Temporal, Namespace: conn.Namespace, Log: log},
		&retention.Retention{Store: db, Log: log},
		&incident.Incidents{
			Store: db, Texts: acts, Hasher: hasher, CompliancePhone: cfg.Compliance.CompliancePhone, PlatformNumber: cfg.Compliance.PlatformNumber,
		},
		&dsr.Requests{
			Store: db, Keys: conn.Keys, Hasher: hasher, Texts: acts, Temporal: conn.Temporal, Namespace: conn.Namespace,
			PublicURL: cfg.PublicURL, CompliancePhone: cfg.Compliance.CompliancePhone, PlatformNumber: cfg.Compliance.PlatformNumber, Log: log,
		},
		&backup.Backups{
			DatabaseURL: cfg.DatabaseURL, Dir: cfg.Compliance.BackupDir, Key: cfg.Compliance.BackupKey,
			Keep: cfg.Compliance.BackupKeep, Logger: log,
		},
	}
	complianceWorkflows := []any{workflows.AccountClosure, workflows.RetentionSweep, workflows.DatabaseBackup,
		workflows.SecurityIncident, workflows.DataSubjectRequest}
	if cfg.Compliance.BackupDir == "" {
		log.Warn("no RINGBACK_BACKUP_DIR: scheduled database backups are off")
	} else if cfg.Compliance.BackupKeyIsDevDefault {
		log.Warn("DEV BACKUP KEY: backups are encrypted under the published development key; set RINGBACK_BACKUP_KEY")
	}
	if cc := cfg.Compliance; cc.StripeSecretKey != "" {
		api, err := billing.NewClient(billing.ClientOptions{SecretKey: cc.StripeSecretKey, APIURL: cc.StripeAPIURL})
		if err != nil {
			return err
		}
		complianceWorkflows = append(complianceWorkflows, workflows.TenantOnboarding)
		complianceActivities = append(complianceActivities, &billing.Billing{Stripe: api, Accounts: db})
	}
	// The conversation worker runs them too: requests and closures started while every workflow
	// shared one queue stay there until they end (a closure lasts 90 days).
	for _, r := range []sdkworker.Registry{cw, w} {
		for _, wf := range complianceWorkflows {
			r.RegisterWorkflow(wf)
		}
		for _, a := range complianceActivities {
			r.RegisterActivity(a)
		}
	}
	if err := schedules.Ensure(ctx, conn.Temporal.ScheduleClient(), schedules.Wanted(cfg)); err != nil {
		return err
	}

	if err := cw.Start(); err != nil {
		return fmt.Errorf("compliance worker: %w", err)
	}
	defer cw.Stop()
	log.Info("worker running", slog.String("task_queue", cfg.TaskQueue), slog.String("compliance_task_queue", cfg.ComplianceTaskQueue),
		slog.Bool("sandbox", cfg.Sandbox()))
	// Run stops on the channel closing: in-flight activities get the worker's stop timeout to finish.
	stopCh := make(chan any)
	go func() { <-ctx.Done(); close(stopCh) }()
	if err := w.Run(stopCh); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

// workflowPollers polls the sticky and the normal queue separately, each kind scaling between a
// floor and a ceiling. Both bounds matter at 08:00, when thousands of conversations wake at once:
//
//   - While conversations sleep every poll comes back empty, and the autoscaler lowers each kind
//     to its minimum, the SDK's default of one. The conversations evicted from the cache then all
//     wake on the normal queue, and it grows a kind only when the server asks for more polls and
//     ingestion rose by 10% over its last period. The floor keeps several normal polls open.
//   - The cached conversations' burst on the sticky queue drives its polls to the SDK's ceiling
//     of 100. Every poll holds one of the worker's task slots while it long-polls, and the sticky
//     queue is empty again within seconds, so the sticky polls held 63 of 64 slots for minutes.
//     The normal queue's backlog (7,811 tasks) was dispatched through the one slot left, at about
//     7 texts/s. The ceiling leaves most slots to the normal queue and to running tasks.
func workflowPollers(taskSlots int) sdkworker.PollerBehavior {
	ceiling := max(1, taskSlots/4)
	floor := min(8, ceiling)
	return sdkworker.NewPollerBehaviorAutoscaling(sdkworker.PollerBehaviorAutoscalingOptions{
		InitialNumberOfPollers: floor,
		MinimumNumberOfPollers: floor,
		MaximumNumberOfPollers: ceiling,
	})
}
