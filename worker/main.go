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

	sdkclient "go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/sms"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/temporalclient"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
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
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	signer, _, err := auditlog.NewSigner(cfg.AuditSigningKey)
	if err != nil {
		return err
	}
	db.SetAuditSigner(signer)
	if cfg.AuditSigningKeyIsDevDefault {
		log.Warn("DEV AUDIT KEY: audit checkpoints are signed with the published development key; set RINGBACK_AUDIT_SIGNING_KEY")
	}

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

	keys, err := keyring.New(cfg.MasterKey, db)
	if err != nil {
		return err
	}
	if cfg.MasterKeyIsDevDefault {
		log.Warn("DEV MASTER KEY: payloads are encrypted under the published development key; set RINGBACK_MASTER_KEY")
	}
	payloadCodec := codec.New(keys, workflows.KeyScope)
	opts, err := temporalclient.Options(log, payloadCodec)
	if err != nil {
		return err
	}
	tc, err := sdkclient.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
	}
	defer tc.Close()

	w := sdkworker.New(tc, cfg.TaskQueue, sdkworker.Options{})
	w.RegisterWorkflow(workflows.Conversation)
	w.RegisterWorkflow(workflows.ConsentReply)
	w.RegisterActivity(&activities.Activities{Store: db, SMS: sender})

	log.Info("worker running", slog.String("task_queue", cfg.TaskQueue), slog.String("temporal", opts.HostPort),
		slog.String("namespace", opts.Namespace), slog.Bool("sandbox", cfg.Sandbox()))
	// Run stops on the channel closing: in-flight activities get the worker's stop timeout to finish.
	stopCh := make(chan any)
	go func() { <-ctx.Done(); close(stopCh) }()
	if err := w.Run(stopCh); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}
