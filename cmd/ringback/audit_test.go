package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
)

func TestAuditKeygenPrintsAUsableKeyPair(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "keygen", "--name", "acme-audit"}, &out, &bytes.Buffer{}, config.FromMap(nil)); err != nil {
		t.Fatal(err)
	}
	var skey, vkey string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		switch {
		case strings.HasPrefix(line, "RINGBACK_AUDIT_SIGNING_KEY="):
			skey = strings.TrimPrefix(line, "RINGBACK_AUDIT_SIGNING_KEY=")
		case strings.HasPrefix(line, "acme-audit+"):
			vkey = line
		}
	}
	_, derived, err := auditlog.NewSigner(skey)
	if err != nil || derived != vkey {
		t.Fatalf("keygen printed\n%s\nderived verifier key %q, %v", out.String(), derived, err)
	}
	for _, bad := range []string{"", "two words", "a+b"} {
		err := run(context.Background(), []string{"audit", "keygen", "--name", bad}, &out, &bytes.Buffer{}, config.FromMap(nil))
		if !errors.Is(err, errUsage) {
			t.Errorf("--name %q: %v, want a usage error", bad, err)
		}
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.Database(t)
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := auditlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuditSigner(signer)
	env := config.FromMap(map[string]string{"DATABASE_URL": dbURL, "RINGBACK_AUDIT_SIGNING_KEY": skey})
	verify := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"audit", "verify"}, args...), &out, &bytes.Buffer{}, env)
		return out.String(), err
	}

	if out, err := verify("--all"); err != nil || out != "ok: no audit logs yet\n" {
		t.Fatalf("no logs: %q, %v", out, err)
	}
	tenant := tenantspec.NewID()
	for i := range 3 {
		for _, log := range []string{auditlog.ControlLog, tenant} {
			if _, err := db.AppendAudit(ctx, store.AuditEvent{
				LogID:      log,
				EventID:    fmt.Sprintf("tenant.created/%d", i),
				Actor:      "ops:alex",
				Action:     "tenant.created",
				OccurredAt: time.Date(2026, 5, 1, 12, i, 0, 0, time.UTC),
				Payload:    json.RawMessage(`{"via":"cli"}`),
			}); err != nil {
				t.Fatal(err)
			}
		}
	}

	out, err := verify()
	if err != nil || !strings.HasPrefix(out, "ok: control 3 entries, checkpoint 3 ") {
		t.Fatalf("control log: %q, %v", out, err)
	}
	// An auditor needs only the public key.
	pub := config.FromMap(map[string]string{"DATABASE_URL": dbURL})
	var pubOut bytes.Buffer
	if err := run(ctx, []string{"audit", "verify", "--tenant", tenant, "--key", vkey}, &pubOut, &bytes.Buffer{}, pub); err != nil ||
		!strings.HasPrefix(pubOut.String(), "ok: "+tenant+" 3 entries, checkpoint 3 ") {
		t.Fatalf("with the verifier key: %q, %v", pubOut.String(), err)
	}
	if err := run(ctx, []string{"audit", "verify"}, &pubOut, &bytes.Buffer{}, pub); err == nil || !strings.Contains(err.Error(), "RINGBACK_AUDIT_SIGNING_KEY") {
		t.Fatalf("without any key: %v", err)
	}

	// Tampering with the tenant's log fails it, and only it.
	err = pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE control.audit_entries SET actor = 'ops:nobody' WHERE log_id = $1 AND idx = 1`, tenant)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err = verify("--all")
	wantFail := "FAIL: " + tenant + ": entry 1 (tenant.created/1): actor differs from the record\n"
	if err == nil || !strings.Contains(out, wantFail) || !strings.HasPrefix(out, "ok: control 3 entries") {
		t.Fatalf("--all after tampering: %q, %v", out, err)
	}
	if out, err := verify("--tenant", tenant); err == nil || out != wantFail {
		t.Fatalf("--tenant after tampering: %q, %v", out, err)
	}
	// A different key fails every checkpoint.
	_, otherVkey, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if out, err := verify("--key", otherVkey); err == nil || !strings.HasPrefix(out, "FAIL: control: ") {
		t.Fatalf("wrong key: %q, %v", out, err)
	}

	for _, args := range [][]string{{"--tenant", tenant, "--all"}, {"--tenant", "+16145550123"}, {"extra"}, {"--bogus"}} {
		_, err := verify(args...)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		} else if strings.Contains(err.Error(), "6145550123") {
			t.Errorf("%v: error repeats the argument: %v", args, err)
		}
	}
}

// TestAuditVerifySignatureOptions covers --checkpoint (a checkpoint kept outside the database
// catches a tail cut off together with its checkpoints) and --all-signatures (which also checks
// signatures on stored checkpoints that state the truth).
func TestAuditVerifySignatureOptions(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.Database(t)
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	skey, _, err := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := auditlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuditSigner(signer)
	env := config.FromMap(map[string]string{"DATABASE_URL": dbURL, "RINGBACK_AUDIT_SIGNING_KEY": skey})
	verify := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"audit", "verify"}, args...), &out, &bytes.Buffer{}, env)
		return out.String(), err
	}
	tamper := func(sql string, args ...any) {
		t.Helper()
		err := pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	tenant := tenantspec.NewID()
	var last store.AuditReceipt
	for i := range 5 {
		last, err = db.AppendAudit(ctx, store.AuditEvent{
			LogID: tenant, EventID: fmt.Sprintf("consent/%d", i), Actor: "system", Action: "consent.opt_out",
			OccurredAt: time.Date(2026, 5, 1, 12, i, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	receipt := filepath.Join(t.TempDir(), "receipt")
	if err := os.WriteFile(receipt, last.Checkpoint, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := verify("--tenant", tenant, "--checkpoint", receipt); err != nil ||
		out != fmt.Sprintf("ok: %s 5 entries, checkpoint 5 %s (2 of 6 checkpoint signatures checked)\n", tenant, last.TreeRoot) {
		t.Fatalf("with the receipt: %q, %v", out, err)
	}
	// A receipt for a log that is not being verified is a mistake.
	if _, err := verify("--checkpoint", receipt); !errors.Is(err, errUsage) {
		t.Fatalf("receipt for another log: %v", err)
	}

	// Re-sign a true checkpoint with another key: only --all-signatures looks.
	otherKey, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	other, _, _ := auditlog.NewSigner(otherKey)
	var second string
	if err := db.Pool().QueryRow(ctx, `SELECT note FROM control.audit_checkpoints WHERE log_id = $1 AND size = 2`, tenant).Scan(&second); err != nil {
		t.Fatal(err)
	}
	c2, _ := auditlog.ReadCheckpoint([]byte(second))
	resigned2, _ := auditlog.SignCheckpoint(c2, other)
	tamper(`UPDATE control.audit_checkpoints SET note = $2 WHERE log_id = $1 AND size = 2`, tenant, string(resigned2))
	if out, err := verify("--tenant", tenant); err != nil || !strings.HasPrefix(out, "ok: "+tenant+" 5 entries") {
		t.Fatalf("default after re-signing checkpoint 2: %q, %v", out, err)
	}
	if out, err := verify("--tenant", tenant, "--all-signatures"); err == nil ||
		!strings.HasPrefix(out, "FAIL: "+tenant+": checkpoint 2: signed only by unknown keys") {
		t.Fatalf("--all-signatures after re-signing checkpoint 2: %q, %v", out, err)
	}

	// Cut the last two entries with their tree hashes and checkpoints: consistent, unless
	// someone kept a checkpoint.
	tamper(`UPDATE control.audit_checkpoints SET note = $2 WHERE log_id = $1 AND size = 2`, tenant, second)
	tamper(`DELETE FROM control.audit_entries WHERE log_id = $1 AND idx >= 3`, tenant)
	tamper(`DELETE FROM control.audit_hashes WHERE log_id = $1 AND idx >= $2`, tenant, tlog.StoredHashCount(3))
	tamper(`DELETE FROM control.audit_checkpoints WHERE log_id = $1 AND size > 3`, tenant)
	if out, err := verify("--tenant", tenant); err != nil || !strings.HasPrefix(out, "ok: "+tenant+" 3 entries") {
		t.Fatalf("cut tail without the receipt: %q, %v", out, err)
	}
	if out, err := verify("--all", "--checkpoint", receipt); err == nil ||
		!strings.Contains(out, "FAIL: "+tenant+": entry 3 (?): missing: signed checkpoint 5 covers entries up to 4\n") {
		t.Fatalf("cut tail with the receipt: %q, %v", out, err)
	}
}
