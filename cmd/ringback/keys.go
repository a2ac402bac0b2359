package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/keyring"
)

// keysCmd rotates or destroys a scope's data keys. Destruction is crypto-shredding: it cannot be
// undone, so it demands the tenant ID a second time.
func keysCmd(ctx context.Context, cfg config.Config, sub string, args []string, out io.Writer) error {
	fs := newFlags("keys " + sub)
	tenant := fs.String("tenant", "", "the tenant whose keys to act on")
	control := fs.Bool("control", false, "act on the control plane's key (rotate only)")
	confirm := fs.String("confirm", "", "destroy: repeat the tenant ID to confirm")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	scope := *tenant
	switch {
	case *control && *tenant != "":
		return fmt.Errorf("%w: keys %s: --tenant and --control exclude each other", errUsage, sub)
	case *control && sub == "destroy":
		return fmt.Errorf("%w: keys destroy: the control key is never destroyed", errUsage)
	case *control:
		scope = codec.ControlScope
	case !tenantspec.ValidID(*tenant):
		return fmt.Errorf("%w: keys %s: --tenant must be a tenant ID (or --control)", errUsage, sub)
	}
	if sub == "destroy" && *confirm != *tenant {
		return fmt.Errorf("%w: keys destroy: this makes every payload of the tenant's histories unreadable forever; repeat the tenant ID with --confirm", errUsage)
	}
	if cfg.MasterKey == nil {
		return errors.New("keys: RINGBACK_MASTER_KEY or RINGBACK_MASTER_KEY_FILE is not set")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	ring, err := keyring.New(cfg.MasterKey, db)
	if err != nil {
		return err
	}
	switch sub {
	case "rotate":
		k, err := ring.Rotate(ctx, scope)
		if err != nil {
			return fmt.Errorf("keys rotate: %w", err)
		}
		fmt.Fprintf(out, "new payloads of %s are now sealed under %s; older versions still decode\n", scope, k.ID)
	case "destroy":
		if err := ring.Destroy(ctx, scope); err != nil {
			return fmt.Errorf("keys destroy: %w", err)
		}
		fmt.Fprintf(out, "destroyed every data key of tenant %s: its payloads are unreadable from now on (other processes within %s)\n",
			scope, keyring.DefaultCacheTTL)
	}
	return nil
}
