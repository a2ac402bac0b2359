package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// closureCmd starts, shows and steers a tenant's account closure. It talks to Temporal directly,
// as ops do; every step is recorded in the audit log by the workflow, with the operator's login.
func closureCmd(ctx context.Context, cfg config.Config, sub string, args []string, out, stderr io.Writer) error {
	fs := newFlags("closure " + sub)
	tenant := fs.String("tenant", "", "the tenant's ID")
	reason := fs.String("reason", "", "why (legal holds; required for hold)")
	confirm := fs.String("confirm", "", "the tenant's ID again (delete-now: deletion cannot be undone)")
	asJSON := fs.Bool("json", false, "print the closure as JSON (status)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: closure %s: unexpected argument %q", errUsage, sub, fs.Arg(0))
	case !tenantspec.ValidID(*tenant):
		return fmt.Errorf("%w: closure %s: --tenant must be a tenant ID", errUsage, sub)
	case sub == "delete-now" && *confirm != *tenant:
		return fmt.Errorf("%w: closure delete-now: --confirm must repeat the tenant ID; deletion cannot be undone", errUsage)
	case sub == "hold" && *reason == "":
		return fmt.Errorf("%w: closure hold: --reason is required", errUsage)
	case cfg.DatabaseURL == "":
		return errors.New("DATABASE_URL is not set")
	case cfg.MasterKey == nil:
		return errors.New("closure: RINGBACK_MASTER_KEY or RINGBACK_MASTER_KEY_FILE is not set")
	}
	conn, err := connect.Open(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer conn.Close()
	closures := &lifecycle.Closures{Temporal: conn.Temporal, TaskQueue: cfg.ComplianceTaskQueue, Retention: cfg.Compliance.ClosureRetention}
	actor := store.ActorFrom(ctx)

	if sub == "start" {
		t, err := conn.Store.Tenant(ctx, *tenant)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("closure start: no such tenant %s", *tenant)
		}
		if err != nil {
			return err
		}
		if t.Status != store.TenantStatusActive {
			return fmt.Errorf("closure start: tenant %s is already closing", *tenant)
		}
	}
	switch sub {
	case "start":
		err = closures.StartClosure(ctx, *tenant, workflows.ClosureReasonOps, actor)
	case "reactivate":
		err = closures.Reactivate(ctx, *tenant, actor)
	case "delete-now":
		if st, serr := closures.State(ctx, *tenant); serr == nil && st.OnHold {
			return fmt.Errorf("closure delete-now: tenant %s is on legal hold (%s); release the hold first", *tenant, st.HoldReason)
		}
		err = closures.DeleteNow(ctx, *tenant, actor)
	case "hold":
		err = closures.Hold(ctx, *tenant, actor, *reason)
	case "release":
		err = closures.Release(ctx, *tenant, actor)
	case "status":
		st, err := closures.State(ctx, *tenant)
		if err != nil {
			return fmt.Errorf("closure status: %w", err)
		}
		return printClosure(out, st, *asJSON)
	}
	if err != nil {
		return fmt.Errorf("closure %s: %w", sub, err)
	}
	switch sub {
	case "start":
		fmt.Fprintf(out, "closure started: %s (data kept %d days, then erased)\n", workflows.ClosureWorkflowID(*tenant), int(cfg.Compliance.ClosureRetention/(24*time.Hour)))
	default:
		fmt.Fprintf(out, "%s sent to %s\n", sub, workflows.ClosureWorkflowID(*tenant))
	}
	return nil
}

func printClosure(out io.Writer, st workflows.ClosureState, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	fmt.Fprintf(out, "tenant:     %s\nstage:      %s\nreason:     %s\nstarted:    %s\ndelete at:  %s\n",
		st.TenantID, st.Stage, st.Reason, st.StartedAt.UTC().Format(time.RFC3339), st.DeleteAt.UTC().Format(time.RFC3339))
	if st.OnHold {
		fmt.Fprintf(out, "legal hold: %s\n", st.HoldReason)
	}
	if st.HeldFor > 0 {
		fmt.Fprintf(out, "held for:   %s\n", st.HeldFor)
	}
	if !st.ErasedAt.IsZero() {
		fmt.Fprintf(out, "erased:     %s (certificate: control audit log entry %d)\n", st.ErasedAt.UTC().Format(time.RFC3339), st.AuditCert)
	}
	return nil
}
