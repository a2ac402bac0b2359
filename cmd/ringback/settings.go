package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
)

// maxProfileFile bounds a profile file; a profile at every limit is far smaller.
const maxProfileFile = 1 << 20

// action splits "show --tenant X" into the action and its flags.
func action(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// tenantFlag parses a command's flags, of which --tenant is required.
func tenantFlag(name string, args []string, more func(*flag.FlagSet)) (string, error) {
	fs := newFlags(name)
	tenant := fs.String("tenant", "", "the tenant's ID")
	if more != nil {
		more(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("%w: %s: unexpected argument %q", errUsage, name, fs.Arg(0))
	}
	if !tenantspec.ValidID(*tenant) {
		return "", fmt.Errorf("%w: %s: --tenant must be a tenant ID", errUsage, name)
	}
	return *tenant, nil
}

// tenantProfileCmd shows or replaces a tenant's business profile. show prints JSON that set
// accepts, so editing a profile is show, edit, set.
func tenantProfileCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	act, args := action(args)
	var file string
	var tenant string
	var err error
	switch act {
	case "show":
		tenant, err = tenantFlag("tenant profile show", args, nil)
	case "set":
		tenant, err = tenantFlag("tenant profile set", args, func(fs *flag.FlagSet) {
			fs.StringVar(&file, "file", "", "the profile as JSON; - reads standard input")
		})
		if err == nil && file == "" {
			err = fmt.Errorf("%w: tenant profile set: --file is required (- for standard input)", errUsage)
		}
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, strings.TrimSpace("tenant profile "+act))
	}
	if err != nil {
		return err
	}
	var profile tenantspec.Profile
	if act == "set" {
		// Read and checked before connecting: a typo is reported without touching the database.
		if profile, err = readProfile(file); err != nil {
			return fmt.Errorf("tenant profile set: %w", err)
		}
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if act == "show" {
		profile, err = db.TenantProfile(ctx, tenant)
	} else {
		profile, err = db.SetTenantProfile(ctx, tenant, profile)
	}
	var invalid *tenantspec.ValidationError
	switch {
	case errors.As(err, &invalid):
		return fmt.Errorf("tenant profile set: invalid profile:\n  %s", strings.ReplaceAll(invalid.Error(), "\n", "\n  "))
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("tenant profile %s: no such tenant", act)
	case err != nil:
		return fmt.Errorf("tenant profile %s: %w", act, err)
	}
	if act == "set" {
		fmt.Fprintf(out, "saved the business profile of tenant %s:\n", tenant)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(profile)
}

// readProfile decodes a profile strictly: an unknown or misspelt field is an error, not a setting
// silently dropped.
func readProfile(file string) (tenantspec.Profile, error) {
	var r io.Reader = stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return tenantspec.Profile{}, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxProfileFile+1))
	if err != nil {
		return tenantspec.Profile{}, err
	}
	if len(raw) > maxProfileFile {
		return tenantspec.Profile{}, fmt.Errorf("%s: larger than %d bytes", file, maxProfileFile)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p tenantspec.Profile
	if err := dec.Decode(&p); err != nil {
		return tenantspec.Profile{}, fmt.Errorf("%s: %w", file, err)
	}
	if dec.More() {
		return tenantspec.Profile{}, fmt.Errorf("%s: more than one JSON value", file)
	}
	return p, nil
}

// tenantWebhookCmd sets, shows or deletes a tenant's webhook endpoint. set always issues a new
// signing secret (setting again rotates it) and prints it once; nothing prints it again.
func tenantWebhookCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	act, args := action(args)
	var rawURL string
	var tenant string
	var err error
	switch act {
	case "set":
		tenant, err = tenantFlag("tenant webhook set", args, func(fs *flag.FlagSet) {
			fs.StringVar(&rawURL, "url", "", "the https endpoint that receives the tenant's events")
		})
		if err == nil {
			if verr := store.ValidateWebhookURL(rawURL); verr != nil {
				err = fmt.Errorf("%w: tenant webhook set: --url: %v", errUsage, verr)
			}
		}
	case "show", "delete":
		tenant, err = tenantFlag("tenant webhook "+act, args, nil)
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, strings.TrimSpace("tenant webhook "+act))
	}
	if err != nil {
		return err
	}
	if act != "delete" && cfg.MasterKey == nil {
		return errors.New("tenant webhook: RINGBACK_MASTER_KEY or RINGBACK_MASTER_KEY_FILE is not set (the secret is sealed under the tenant's data key)")
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if act == "delete" {
		err := db.DeleteTenantWebhook(ctx, tenant)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("tenant webhook delete: tenant %s has no webhook", tenant)
		}
		if err != nil {
			return fmt.Errorf("tenant webhook delete: %w", err)
		}
		fmt.Fprintf(out, "deleted the webhook of tenant %s\n", tenant)
		return nil
	}
	ring, err := keyring.New(cfg.MasterKey, db)
	if err != nil {
		return err
	}
	if act == "show" {
		wh, err := db.TenantWebhook(ctx, ring, tenant)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("tenant webhook show: tenant %s has no webhook", tenant)
		case errors.Is(err, codec.ErrKeyDestroyed):
			return fmt.Errorf("tenant webhook show: the data keys of tenant %s were destroyed", tenant)
		case err != nil:
			return fmt.Errorf("tenant webhook show: %w", err)
		}
		fmt.Fprintf(out, "webhook of tenant %s\n  url:      %s\n  created:  %s\n  updated:  %s\n",
			tenant, wh.URL, wh.CreatedAt.UTC().Format("2006-01-02 15:04"), wh.UpdatedAt.UTC().Format("2006-01-02 15:04"))
		return nil
	}
	// A data key is created on first use: make sure the tenant exists before that happens.
	if _, err := db.Tenant(ctx, tenant); errors.Is(err, store.ErrNotFound) {
		return errors.New("tenant webhook set: no such tenant")
	} else if err != nil {
		return err
	}
	wh, err := db.SetTenantWebhook(ctx, ring, tenant, rawURL, "")
	if err != nil {
		return fmt.Errorf("tenant webhook set: %w", err)
	}
	fmt.Fprintf(out, "webhook of tenant %s set to %s.\nIts signing secret is shown only this once:\n\n  %s\n\n", tenant, wh.URL, wh.Secret)
	return nil
}
