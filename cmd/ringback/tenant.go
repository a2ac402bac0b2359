package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set")
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	// Commands that change access or read personal data append to the audit log.
	if cfg.AuditSigningKey != "" {
		signer, _, err := auditlog.NewSigner(cfg.AuditSigningKey)
		if err != nil {
			db.Close()
			return nil, err
		}
		db.SetAuditSigner(signer)
	}
	return db, nil
}

// cliActor names the person running the CLI in audit entries: their login on this machine.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli:unknown"
}

func migrateCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if err := parseFlags(newFlags("migrate"), args); err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "migrated: control schema and %d tenant schema(s) are up to date\n", n)
	return nil
}

func tenantCreateCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlags("tenant create")
	var spec tenantspec.Spec
	var numbers multiFlag
	var asJSON bool
	fs.StringVar(&spec.Name, "name", "", "business name, quoted in texts")
	fs.Var(&numbers, "number", "a Twilio number of the business (repeatable)")
	fs.StringVar(&spec.Timezone, "timezone", "", "IANA time zone of the business")
	fs.StringVar(&spec.OwnerPhone, "owner-phone", "", "the owner's mobile number, for escalations")
	fs.StringVar(&spec.GreetingText, "greeting", "", "first text after a missed call; must contain {business}")
	fs.BoolVar(&asJSON, "json", false, "print the tenant as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: tenant create: unexpected argument %q", errUsage, fs.Arg(0))
	}
	spec.Numbers = numbers
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.CreateTenant(ctx, spec)
	if err != nil {
		var ve *tenantspec.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("tenant create: invalid input:\n  %s", strings.ReplaceAll(ve.Error(), "\n", "\n  "))
		}
		return fmt.Errorf("tenant create: %w", err)
	}
	if cfg.Compliance.StripeSecretKey != "" {
		if err := startOnboarding(ctx, cfg, t); err != nil {
			return fmt.Errorf("tenant create: tenant %s was created but its billing was not started (%w); run `ringback tenant onboard --tenant %s`", t.ID, err, t.ID)
		}
	}
	return printTenant(out, t, asJSON)
}

func tenantShowCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlags("tenant show")
	asJSON := fs.Bool("json", false, "print the tenant as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: tenant show: needs exactly one tenant ID", errUsage)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.Tenant(ctx, fs.Arg(0))
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("tenant show: no such tenant")
	}
	if err != nil {
		return err
	}
	return printTenant(out, t, *asJSON)
}

func printTenant(out io.Writer, t store.Tenant, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(t)
	}
	fmt.Fprintf(out, "tenant %s\n  name:      %s\n  numbers:   %s\n  timezone:  %s\n  status:    %s\n  greeting:  %s\n",
		t.ID, t.Name, strings.Join(t.Numbers, ", "), t.Timezone, t.Status, t.GreetingText)
	return nil
}
