package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// auditVerifyCmd checks audit logs against their signed checkpoints. It prints one line per log
// and fails if any log does not verify, so it can gate a cron job or a compliance report.
//
// By default it checks the signatures that carry weight (the latest checkpoint's, and those of
// checkpoints whose statement is false); --all-signatures checks every stored one as well, an
// Ed25519 verification per entry, about ten times the rest of the work. --checkpoint adds
// checkpoints kept outside the database, such as receipts, which catch entries cut from the end
// together with their checkpoints.
func auditVerifyCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlags("audit verify")
	tenant := fs.String("tenant", "", "verify this tenant's log (default: the control log)")
	all := fs.Bool("all", false, "verify every log")
	allSigs := fs.Bool("all-signatures", false, "also check the signature of every stored checkpoint")
	var keys, external multiFlag
	fs.Var(&keys, "key", "verifier key to check checkpoints with, repeatable (default: derived from RINGBACK_AUDIT_SIGNING_KEY)")
	fs.Var(&external, "checkpoint", "file holding a signed checkpoint kept outside the database, repeatable; its log is the one it names")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: audit verify: unexpected argument %q", errUsage, fs.Arg(0))
	case *all && *tenant != "":
		return fmt.Errorf("%w: audit verify: --tenant and --all exclude each other", errUsage)
	case *tenant != "" && !tenantspec.ValidID(*tenant):
		return fmt.Errorf("%w: audit verify: --tenant is not a tenant ID", errUsage)
	}
	verifiers, err := auditVerifiers(cfg, keys)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	kept, err := readCheckpoints(external)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	logs := []string{auditlog.ControlLog}
	switch {
	case *tenant != "":
		logs = []string{*tenant}
	case *all:
		if logs, err = db.AuditLogIDs(ctx); err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		// A log that a kept checkpoint names is verified even when nothing of it is left.
		for _, id := range slices.Sorted(maps.Keys(kept)) {
			if !slices.Contains(logs, id) {
				logs = append(logs, id)
			}
		}
		if len(logs) == 0 {
			fmt.Fprintln(out, "ok: no audit logs yet")
			return nil
		}
	}
	for id := range kept {
		if !slices.Contains(logs, id) {
			return fmt.Errorf("%w: audit verify: a --checkpoint is for log %s, which is not being verified", errUsage, id)
		}
	}
	failed := 0
	for _, id := range logs {
		r, err := db.VerifyAuditWith(ctx, id, verifiers, auditlog.VerifyOptions{AllSignatures: *allSigs, External: kept[id]})
		if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		if p, bad := r.First(); bad {
			failed++
			fmt.Fprintf(out, "FAIL: %s: %s\n", id, p)
			continue
		}
		fmt.Fprintf(out, "ok: %s %d entries, checkpoint %d %s (%d of %d checkpoint signatures checked)\n",
			id, r.Entries, r.Checkpoint.Size, r.Checkpoint.Root, r.Signatures, r.Checkpoints)
		if id == auditlog.ControlLog {
			if err := printCertificates(ctx, db, out); err != nil {
				return fmt.Errorf("audit verify: %w", err)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("audit verify: %d of %d log(s) failed verification", failed, len(logs))
	}
	return nil
}

// readCheckpoints reads signed checkpoint files and groups them by the log they name. Their
// signatures are checked by verification, not here.
func readCheckpoints(files []string) (map[string][][]byte, error) {
	kept := map[string][][]byte{}
	for _, name := range files {
		msg, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--checkpoint: %w", err)
		}
		c, err := auditlog.ReadCheckpoint(msg)
		if err != nil {
			return nil, fmt.Errorf("--checkpoint %s: %w", name, err)
		}
		kept[c.LogID] = append(kept[c.LogID], msg)
	}
	return kept, nil
}

// auditVerifiers prefers verifier keys given on the command line, so an auditor can check the
// logs without holding the signing key.
func auditVerifiers(cfg config.Config, keys []string) (note.Verifiers, error) {
	if len(keys) > 0 {
		return auditlog.NewVerifiers(keys...)
	}
	if cfg.AuditSigningKey == "" {
		return nil, errors.New("set RINGBACK_AUDIT_SIGNING_KEY or pass --key with the verifier key")
	}
	_, vkey, err := auditlog.NewSigner(cfg.AuditSigningKey)
	if err != nil {
		return nil, fmt.Errorf("RINGBACK_AUDIT_SIGNING_KEY: %w", err)
	}
	return auditlog.NewVerifiers(vkey)
}

// auditKeygenCmd prints a new checkpoint signing key and its verifier key.
func auditKeygenCmd(args []string, out io.Writer) error {
	fs := newFlags("audit keygen")
	name := fs.String("name", auditlog.DefaultKeyName, "key name shown in every checkpoint signature")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: audit keygen: unexpected argument %q", errUsage, fs.Arg(0))
	}
	skey, vkey, err := auditlog.GenerateKey(*name)
	if err != nil {
		return fmt.Errorf("audit keygen: %w", err)
	}
	// GenerateKey does not check the name; a key that cannot sign must not be printed.
	if _, _, err := auditlog.NewSigner(skey); err != nil {
		return fmt.Errorf("%w: audit keygen: --name must be non-empty, without spaces or '+'", errUsage)
	}
	fmt.Fprintf(out, "# Secret: give it to the worker and starter only.\nRINGBACK_AUDIT_SIGNING_KEY=%s\n", skey)
	fmt.Fprintf(out, "# Public: verifies checkpoints (ringback audit verify --key ...).\n%s\n", vkey)
	return nil
}

// printCertificates lists the deletion certificates of a verified control log: the proof, for
// each erased tenant, of what was removed and that the re-scan found nothing left.
func printCertificates(ctx context.Context, db *store.Store, out io.Writer) error {
	certs, err := db.DeletionCertificates(ctx)
	if err != nil {
		return err
	}
	for _, c := range certs {
		if c.Pruned {
			fmt.Fprintf(out, "  certificate: entry %d (payload past retention; its hash is verified above)\n", c.Index)
			continue
		}
		cert := c.Certificate
		clean := "nothing left"
		if !cert.Scan.Clean() || cert.ExecutionsLeft > 0 {
			clean = "NOT CLEAN"
		}
		var kept []string
		for _, table := range slices.Sorted(maps.Keys(cert.Scan.Retained)) {
			kept = append(kept, fmt.Sprintf("%s=%d", table, cert.Scan.Retained[table]))
		}
		fmt.Fprintf(out, "  certificate: entry %d: tenant %s erased %s (%s, requested by %s); schema dropped %t, keys destroyed %t, %d executions deleted; re-scan: %s; kept: %s\n",
			c.Index, cert.TenantID, cert.ErasedAt.UTC().Format(time.RFC3339), cert.Reason, cert.RequestedBy,
			cert.SchemaDropped, cert.KeysDestroyed, cert.ExecutionsDeleted, clean, strings.Join(append(kept, "audit log"), ", "))
	}
	return nil
}
