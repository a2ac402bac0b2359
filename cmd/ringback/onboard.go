package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
)

// startOnboarding starts a tenant's billing (a Stripe customer and subscription) through
// Temporal, where it is retried until Stripe has answered.
func startOnboarding(ctx context.Context, cfg config.Config, t store.Tenant) error {
	conn, err := connect.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer conn.Close()
	o := &lifecycle.Onboarding{Temporal: conn.Temporal, TaskQueue: cfg.ComplianceTaskQueue, PriceID: cfg.Compliance.StripePriceID}
	return o.Start(ctx, t.ID, t.Name)
}

// tenantOnboardCmd starts (or finds) a tenant's billing onboarding: for a tenant created before
// billing was configured, or whose onboarding could not be started at creation.
func tenantOnboardCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlags("tenant onboard")
	tenant := fs.String("tenant", "", "the tenant's ID")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: tenant onboard: unexpected argument %q", errUsage, fs.Arg(0))
	case !tenantspec.ValidID(*tenant):
		return fmt.Errorf("%w: tenant onboard: --tenant must be a tenant ID", errUsage)
	case cfg.Compliance.StripeSecretKey == "":
		return errors.New("tenant onboard: billing is not configured (STRIPE_SECRET_KEY, STRIPE_PRICE_ID)")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	t, err := db.Tenant(ctx, *tenant)
	db.Close()
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenant onboard: no such tenant %s", *tenant)
	}
	if err != nil {
		return err
	}
	if err := startOnboarding(ctx, cfg, t); err != nil {
		return fmt.Errorf("tenant onboard: %w", err)
	}
	fmt.Fprintf(out, "onboarding started for %s\n", t.ID)
	return nil
}
