package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ringback/ringback/internal/backupfile"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
)

func TestBackupCommands(t *testing.T) {
	ctx := context.Background()
	f := newCLIFixture(t)
	key := bytes.Repeat([]byte{7}, backupfile.KeySize)
	dir := filepath.Join(t.TempDir(), "backups")
	f.env["RINGBACK_BACKUP_DIR"] = dir
	f.env["RINGBACK_BACKUP_KEY"] = base64.StdEncoding.EncodeToString(key)

	if out, err := f.run("backup", "list"); err != nil || !strings.Contains(out, "no backups in "+dir) {
		t.Fatalf("list before any backup: %v %q", err, out)
	}
	out, err := f.run("backup", "run")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`backup written: (\S+\.rbk)\n  \d+ bytes, sha256 [0-9a-f]{64}, key ` + backupfile.KeyID(key)).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("run printed %q", out)
	}
	file := m[1]
	if filepath.Dir(file) != dir {
		t.Fatalf("backup written to %s, want %s", file, dir)
	}
	if strings.Contains(out, f.env["DATABASE_URL"]) {
		t.Fatalf("run printed the database URL: %q", out)
	}

	out, err = f.run("backup", "list")
	if err != nil || !strings.Contains(out, filepath.Base(file)) || !strings.Contains(out, backupfile.KeyID(key)+" (current)") ||
		!strings.Contains(out, "older than 14 days") {
		t.Fatalf("list: %v\n%s", err, out)
	}

	// Restore overwrites, so it wants the target database's name repeated.
	fresh := testenv.Database(t)
	freshURL, _ := url.Parse(fresh)
	freshName := strings.TrimPrefix(freshURL.Path, "/")
	for _, args := range [][]string{
		{file, "--database-url", fresh},
		{file, "--database-url", fresh, "--confirm", "postgres"},
		{"--database-url", fresh, "--confirm", freshName},
		{file, "other-file", "--database-url", fresh, "--confirm", freshName},
	} {
		if _, err := f.run(append([]string{"backup", "restore"}, args...)...); !errors.Is(err, errUsage) {
			t.Errorf("restore %v: %v, want a usage error", args, err)
		}
	}
	if tables := countTables(t, fresh); tables != 0 {
		t.Fatalf("a refused restore created %d tables", tables)
	}
	// FILE after the flags, and named by its base name in the backup directory.
	out, err = f.run("backup", "restore", "--database-url", fresh, "--confirm", freshName, filepath.Base(file))
	if err != nil || !strings.Contains(out, "restored "+filepath.Base(file)+` into database "`+freshName+`"`) {
		t.Fatalf("restore: %v %q", err, out)
	}
	restored, err := store.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if tn, err := restored.Tenant(ctx, f.tenant); err != nil || tn.Name != "Settings Co" || tn.OwnerPhone != "+16145550100" {
		t.Fatalf("the restored database's tenant: %+v %v", tn, err)
	}

	// Another key can neither restore the backup nor claim it in the listing.
	f.env["RINGBACK_BACKUP_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, backupfile.KeySize))
	if _, err := f.run("backup", "restore", file, "--database-url", fresh, "--confirm", freshName); !errors.Is(err, backupfile.ErrWrongKey) ||
		!strings.Contains(err.Error(), backupfile.KeyID(key)) {
		t.Fatalf("restore with another key: %v", err)
	}
	if out, _ := f.run("backup", "list"); !strings.Contains(out, backupfile.KeyID(key)+" (another key)") {
		t.Fatalf("list under another key:\n%s", out)
	}

	// Dev without a configured key falls back to the published one, and says so.
	delete(f.env, "RINGBACK_BACKUP_KEY")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "run"}, &stdout, &stderr, config.FromMap(f.env)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "published development backup key") {
		t.Fatalf("no warning about the development key: %q", stderr.String())
	}
}

func countTables(t *testing.T, dbURL string) int {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBackupCommandsNeedTheirSettings(t *testing.T) {
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, backupfile.KeySize))
	file := filepath.Join(dir, "ringback-20261122T030000Z.rbk")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"run without a directory", map[string]string{"DATABASE_URL": "postgres://db/x", "RINGBACK_BACKUP_KEY": key}, []string{"run"}, "RINGBACK_BACKUP_DIR"},
		{"run without a key outside dev", map[string]string{"DATABASE_URL": "postgres://db/x", "RINGBACK_BACKUP_DIR": dir}, []string{"run"}, "RINGBACK_BACKUP_KEY"},
		{"run without a database", map[string]string{"RINGBACK_BACKUP_DIR": dir, "RINGBACK_BACKUP_KEY": key}, []string{"run"}, "DATABASE_URL"},
		{"list without a directory", map[string]string{}, []string{"list"}, "RINGBACK_BACKUP_DIR"},
		{"restore without a database", map[string]string{"RINGBACK_BACKUP_KEY": key}, []string{"restore", file, "--confirm", "x"}, "DATABASE_URL"},
		{"restore without a key", map[string]string{"DATABASE_URL": "postgres://db/x"}, []string{"restore", file, "--confirm", "x"}, "RINGBACK_BACKUP_KEY"},
		{"restore to a URL without a database", map[string]string{"RINGBACK_BACKUP_KEY": key}, []string{"restore", file, "--database-url", "postgres://u:secretpw@db:5432", "--confirm", ""}, "names no database"},
		{"restore of a file that is no backup", map[string]string{"RINGBACK_BACKUP_KEY": key}, []string{"restore", file, "--database-url", "postgres://u:secretpw@db:5432/x", "--confirm", "x"}, "not a Ringback backup"},
	} {
		err := run(context.Background(), append([]string{"backup"}, c.args...), &bytes.Buffer{}, &bytes.Buffer{}, config.FromMap(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %s", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
	}
}
