package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/store"
)

// tokenCmd issues, lists and revokes API tokens. It needs database access, which is what makes
// it the bootstrap path: the first ops token comes from here.
func tokenCmd(ctx context.Context, cfg config.Config, sub string, args []string, out io.Writer) error {
	switch sub {
	case "create":
		fs := newFlags("token create")
		role := fs.String("role", "", "ops, compliance or tenant-admin")
		tenant := fs.String("tenant", "", "the tenant a tenant-admin token belongs to")
		name := fs.String("name", "", "who or what holds the token")
		asJSON := fs.Bool("json", false, "print as JSON")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		r, err := access.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("%w: token create: --role: %v", errUsage, err)
		}
		db, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		token, t, err := db.CreateToken(ctx, store.NewAPIToken{Role: r, TenantID: *tenant, Name: *name})
		if errors.Is(err, store.ErrNotFound) {
			return errors.New("token create: --tenant: no such tenant")
		}
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(struct {
				Token string `json:"token"`
				store.APIToken
			}{token, t})
		}
		fmt.Fprintf(out, "token %s (%s) created. It is shown only this once:\n\n  %s\n\n", t.ID, t.Role, token)
		return nil
	case "list":
		fs := newFlags("token list")
		tenant := fs.String("tenant", "", "only this tenant's tokens")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		db, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		tokens, err := db.ListTokens(ctx, *tenant)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tTENANT\tNAME\tCREATED\tLAST USED\tREVOKED")
		for _, t := range tokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, dash(t.TenantID), t.Name,
				t.CreatedAt.UTC().Format("2006-01-02 15:04"), when(t.LastUsedAt), when(t.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		fs := newFlags("token revoke")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: token revoke: needs exactly one token ID", errUsage)
		}
		db, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.RevokeToken(ctx, fs.Arg(0)); errors.Is(err, store.ErrNotFound) {
			return errors.New("token revoke: no such token")
		} else if err != nil {
			return err
		}
		fmt.Fprintf(out, "token %s revoked\n", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, "token "+sub)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
