package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/internal/backupfile"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
)

var (
	testKey  = bytes.Repeat([]byte{0x5a}, backupfile.KeySize)
	otherKey = bytes.Repeat([]byte{0xa5}, backupfile.KeySize)
	// scheduled is when the test backups are "scheduled": 03:00 UTC on 22 November 2026.
	scheduled = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
)

// urlPassword is put into database URLs to prove it reaches neither logs, errors nor the
// command line. The test server trusts local connections, so it is never checked.
const urlPassword = "hunter2-in-the-url"

// callers are the personal data seeded into the test database.
var callers = []struct{ phone, national, body string }{
	{"+16145550123", "(614) 555-0123", "Water is pouring through the kitchen ceiling, please come today"},
	{"+13125550188", "(312) 555-0188", "Can someone look at the furnace on Thursday morning?"},
	{"+12125550147", "(212) 555-0147", "The basement drain backs up whenever it rains"},
}

// withPassword adds urlPassword to a database URL.
func withPassword(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), urlPassword)
	return u.String()
}

// seededDatabase is a migrated database with one tenant whose callers left missed calls and texts,
// all stored through the store's own functions.
func seededDatabase(t *testing.T) (dbURL, tenantID string) {
	t.Helper()
	ctx := context.Background()
	dbURL = testenv.Database(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetAuditSigner(testenv.AuditSigner(t))
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tn, err := st.CreateTenant(ctx, tenantspec.Spec{
		Name: "Backup Plumbing", Numbers: []string{"+15005550006"}, Timezone: "America/New_York", OwnerPhone: "+16145550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	for i, c := range callers {
		sum := sha256.Sum256([]byte(c.phone))
		hash := hex.EncodeToString(sum[:])
		conv, err := st.OpenConversation(ctx, store.OpenConversation{
			TenantID: tn.ID, PhoneE164: c.phone, PhoneHash: hash, WorkflowID: "conv/" + tn.ID + "/" + hash[:16],
			FirstRunID: fmt.Sprintf("run-%d", i), Trigger: conversation.TriggerMissedCall, Stage: conversation.StageOpening,
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordMissedCall(ctx, store.MissedCall{TenantID: tn.ID, ConversationID: conv, PhoneHash: hash,
			CallSid: fmt.Sprintf("CA%032d", i), Status: "no-answer", OccurredAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordInbound(ctx, store.InboundMessage{TenantID: tn.ID, ConversationID: conv, PhoneHash: hash,
			MessageSid: fmt.Sprintf("SM%032d", i), Body: c.body, ReceivedAt: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	return dbURL, tn.ID
}

// tableContents returns every row of every table outside PostgreSQL's own schemas, as JSON, by
// schema-qualified table name.
func tableContents(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, table string
		err := r.Scan(&schema, &table)
		return pgx.Identifier{schema, table}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(tables))
	for _, id := range tables {
		var rowsJSON string
		if err := conn.QueryRow(ctx, `SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)::text), '[]')::text FROM `+
			id.Sanitize()+` x`).Scan(&rowsJSON); err != nil {
			t.Fatal(err)
		}
		out[id[0]+"."+id[1]] = rowsJSON
	}
	return out
}

func diffTables(t *testing.T, want, got map[string]string) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	for name, rows := range want {
		if got[name] != rows {
			t.Errorf("table %s differs:\nwant %.300s\ngot  %.300s", name, rows, got[name])
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected table %s", name)
		}
	}
}

func newBackups(t *testing.T, dbURL string, logs io.Writer) *Backups {
	t.Helper()
	return &Backups{
		DatabaseURL: withPassword(t, dbURL),
		Dir:         filepath.Join(t.TempDir(), "backups"),
		Key:         testKey,
		Keep:        14 * 24 * time.Hour,
		Logger:      slog.New(slog.NewTextHandler(logs, nil)),
	}
}

// TestBackupRestoreRoundTrip is P21's proof: a backup holds the tenant's callers, yet its file
// contains none of their numbers or texts in clear; restored into an empty database it gives back
// every row of every table.
func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dbURL, tenantID := seededDatabase(t)
	before := tableContents(t, dbURL)
	schema, _ := tenantspec.SchemaName(tenantID)
	for _, c := range callers {
		if !strings.Contains(before[schema+".contacts"], c.phone) || !strings.Contains(before[schema+".messages"], c.body) {
			t.Fatalf("the seeded database lacks %s's data: %v", c.national, before[schema+".contacts"])
		}
	}

	var logs bytes.Buffer
	b := newBackups(t, dbURL, &logs)
	res, err := b.TakeBackup(ctx, TakeBackupInput{ScheduledAt: scheduled})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(b.Dir, "ringback-20261122T030000Z.rbk"); res.File != want {
		t.Fatalf("file %s, want %s", res.File, want)
	}
	raw, err := os.ReadFile(res.File)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if res.Bytes != int64(len(raw)) || res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("result %+v does not describe the %d-byte file", res, len(raw))
	}
	for path, want := range map[string]os.FileMode{res.File: 0o600, b.Dir: 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}

	// The file holds the data: decrypted and turned back into SQL it shows every number and text.
	// Yet the file itself shows none of them, in any spelling.
	script := backupAsSQL(t, res.File)
	for _, c := range callers {
		if !strings.Contains(script, c.phone) || !strings.Contains(script, c.body) {
			t.Fatalf("the decrypted backup lacks %s's data", c.national)
		}
		digits := strings.TrimPrefix(c.phone, "+1")
		for _, needle := range []string{c.phone, c.phone[1:], digits, c.national, digits[:3] + "-" + digits[3:6] + "-" + digits[6:], c.body, c.body[:20]} {
			if bytes.Contains(raw, []byte(needle)) {
				t.Errorf("the backup file contains %q in clear", needle)
			}
		}
	}
	// pg_dump compresses table data but not the archive's table of contents, so the schema shows
	// in an unencrypted archive; not here.
	for _, needle := range []string{"PGDMP", "CREATE TABLE", "phone_e164", schema} {
		if bytes.Contains(raw, []byte(needle)) {
			t.Errorf("the backup file contains %q in clear", needle)
		}
	}
	if !bytes.HasPrefix(raw, []byte("RBBACKUP")) {
		t.Errorf("the file does not start with the backup header: %q", raw[:8])
	}

	for _, secret := range []string{urlPassword, dbURL, "6145550123", string(testKey)} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows %q: %s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "key_id="+backupfile.KeyID(testKey)) {
		t.Errorf("the log does not name the key's fingerprint: %s", logs.String())
	}

	// A retried activity for the same schedule rewrites the file instead of adding one.
	again, err := b.TakeBackup(ctx, TakeBackupInput{ScheduledAt: scheduled.Add(400 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if list, err := List(b.Dir); err != nil || len(list) != 1 || again.File != res.File || again.SHA256 == res.SHA256 {
		t.Fatalf("after a retry: %d backups (%v), file %s, digest changed %v", len(list), err, again.File, again.SHA256 != res.SHA256)
	}
	if entries, _ := os.ReadDir(b.Dir); len(entries) != 1 {
		t.Fatalf("the backup directory holds %d entries, want 1", len(entries))
	}

	// Restored into a new, empty database.
	fresh := testenv.Database(t)
	if err := Restore(ctx, again.File, testKey, withPassword(t, fresh)); err != nil {
		t.Fatal(err)
	}
	diffTables(t, before, tableContents(t, fresh))

	// Restored over the original after it changed: the backup's rows come back.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	messages := pgx.Identifier{schema, "messages"}.Sanitize()
	if _, err := conn.Exec(ctx, `UPDATE `+messages+` SET body = 'changed after the backup'`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := Restore(ctx, again.File, testKey, dbURL); err != nil {
		t.Fatal(err)
	}
	diffTables(t, before, tableContents(t, dbURL))
}

// backupAsSQL decrypts a backup and has pg_restore print it as an SQL script.
func backupAsSQL(t *testing.T, file string) string {
	t.Helper()
	pgRestore, err := findTool("pg_restore", "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plain, err := backupfile.NewReader(f, testKey)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pgRestore, "--file=-")
	cmd.Stdin = plain
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_restore --file=-: %v", err)
	}
	return string(out)
}

// headerLen finds where a backup's first chunk starts: the shortest prefix ReadHeader accepts.
func headerLen(t *testing.T, raw []byte) int {
	t.Helper()
	for n := range raw {
		if _, err := backupfile.ReadHeader(bytes.NewReader(raw[:n])); err == nil {
			return n
		}
	}
	t.Fatal("no header")
	return 0
}

// TestRestoreRefusesBadFiles: the wrong key, a cut or an altered file fail before the target
// database is touched.
func TestRestoreRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	dbURL, _ := seededDatabase(t)
	b := newBackups(t, dbURL, io.Discard)
	res, err := b.TakeBackup(ctx, TakeBackupInput{ScheduledAt: scheduled})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(res.File)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(raw)
	flipped[len(raw)/2] ^= 0x80
	target := testenv.Database(t)
	for _, c := range []struct {
		name string
		file string
		key  []byte
		want error
	}{
		{"wrong key", res.File, otherKey, backupfile.ErrWrongKey},
		{"cut short", write("short.rbk", raw[:len(raw)-100]), testKey, backupfile.ErrCorrupt},
		{"header only", write("header.rbk", raw[:headerLen(t, raw)]), testKey, backupfile.ErrTruncated},
		{"a flipped bit", write("flipped.rbk", flipped), testKey, backupfile.ErrCorrupt},
		{"not a backup", write("dump.sql", []byte("CREATE TABLE x ();")), testKey, backupfile.ErrNotBackup},
	} {
		err := Restore(ctx, c.file, c.key, withPassword(t, target))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), urlPassword) {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
	}
	if tables := tableContents(t, target); len(tables) != 0 {
		t.Fatalf("a refused restore created %d tables", len(tables))
	}
	if err := Restore(ctx, res.File, otherKey, target); err == nil || !strings.Contains(err.Error(), backupfile.KeyID(testKey)) {
		t.Fatalf("the wrong-key error does not say which key the file needs: %v", err)
	}
}

func TestTakeBackupFailures(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.Database(t)
	missing, _ := url.Parse(dbURL)
	missing.Path = "/rb_no_such_database"
	for _, c := range []struct {
		name         string
		edit         func(*Backups)
		in           TakeBackupInput
		retryable    bool
		wantInError  string
		wantSentinel error
	}{
		{"no pg_dump", func(b *Backups) { b.BinDir = t.TempDir() }, TakeBackupInput{ScheduledAt: scheduled}, false, "pg_dump", ErrToolMissing},
		{"no directory", func(b *Backups) { b.Dir = "" }, TakeBackupInput{ScheduledAt: scheduled}, false, "RINGBACK_BACKUP_DIR", nil},
		{"short key", func(b *Backups) { b.Key = testKey[:16] }, TakeBackupInput{ScheduledAt: scheduled}, false, "32 bytes", nil},
		{"no scheduled time", func(*Backups) {}, TakeBackupInput{}, false, "scheduled time", nil},
		{"database unreachable", func(b *Backups) { b.DatabaseURL = withPassword(t, missing.String()) }, TakeBackupInput{ScheduledAt: scheduled}, true, "rb_no_such_database", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBackups(t, dbURL, io.Discard)
			c.edit(b)
			_, err := b.TakeBackup(ctx, c.in)
			if err == nil {
				t.Fatal("no error")
			}
			var appErr *temporal.ApplicationError
			nonRetryable := errors.As(err, &appErr) && appErr.NonRetryable()
			if nonRetryable == c.retryable {
				t.Errorf("retryable = %v, want %v: %v", !nonRetryable, c.retryable, err)
			}
			if !strings.Contains(err.Error(), c.wantInError) {
				t.Errorf("error %q does not mention %q", err, c.wantInError)
			}
			if c.wantSentinel != nil && !errors.Is(err, c.wantSentinel) {
				t.Errorf("error %q is not %v", err, c.wantSentinel)
			}
			if strings.Contains(err.Error(), urlPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
			if entries, _ := os.ReadDir(b.Dir); len(entries) != 0 {
				t.Errorf("a failed backup left %d files behind", len(entries))
			}
		})
	}
}

// TestTakeBackupAsActivity runs the activity as the worker does, and sees it heartbeat.
func TestTakeBackupAsActivity(t *testing.T) {
	dbURL, _ := seededDatabase(t)
	b := newBackups(t, dbURL, io.Discard)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(b)
	var heartbeats int
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { heartbeats++ })
	v, err := env.ExecuteActivity(b.TakeBackup, TakeBackupInput{ScheduledAt: scheduled})
	if err != nil {
		t.Fatal(err)
	}
	var res BackupResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.File) != FileName(scheduled) || res.Bytes == 0 {
		t.Fatalf("result %+v", res)
	}
	if heartbeats == 0 {
		t.Fatal("the activity never heartbeat")
	}
}

func TestPruneBackups(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		name    string
		files   []time.Time
		removed []time.Time
	}{
		{
			name: "older than 14 days go",
			files: []time.Time{
				now.Add(-21 * day), now.Add(-14*day - time.Second), now.Add(-14 * day), now.Add(-day), now,
			},
			removed: []time.Time{now.Add(-21 * day), now.Add(-14*day - time.Second)},
		},
		{
			name:    "the newest stays however old",
			files:   []time.Time{now.Add(-60 * day), now.Add(-50 * day), now.Add(-40 * day)},
			removed: []time.Time{now.Add(-60 * day), now.Add(-50 * day)},
		},
		{name: "one old backup stays", files: []time.Time{now.Add(-400 * day)}},
		{name: "empty directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, at := range c.files {
				p := filepath.Join(dir, FileName(at))
				if err := os.WriteFile(p, []byte("backup"), 0o600); err != nil {
					t.Fatal(err)
				}
				// Modification times run backwards, so pruning by them would remove the wrong files.
				mtime := now.Add(-time.Duration(i) * 30 * day)
				if err := os.Chtimes(p, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
			others := []string{"notes.txt", "ringback-2026.rbk", "ringback-20250101T000000Z.rbk.bak"}
			for _, name := range others {
				if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			b := &Backups{Dir: dir, Keep: 14 * day, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			n, err := b.PruneBackups(context.Background(), PruneInput{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if n != len(c.removed) {
				t.Errorf("removed %d, want %d", n, len(c.removed))
			}
			for _, at := range c.files {
				_, err := os.Stat(filepath.Join(dir, FileName(at)))
				gone := errors.Is(err, os.ErrNotExist)
				if want := containsTime(c.removed, at); gone != want {
					t.Errorf("%s: removed %v, want %v", FileName(at), gone, want)
				}
			}
			for _, name := range others {
				if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
					t.Errorf("%s, not a backup, was touched: %v", name, err)
				}
			}
			if !strings.Contains(logs.String(), fmt.Sprintf("removed=%d", len(c.removed))) {
				t.Errorf("log: %s", logs.String())
			}
		})
	}
}

func containsTime(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

func TestPruneRemovesAbandonedTemporaryFiles(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	stale, fresh := filepath.Join(dir, ".ringback-111.rbk.tmp"), filepath.Join(dir, ".ringback-222.rbk.tmp")
	for p, mtime := range map[string]time.Time{stale: now.Add(-7 * time.Hour), fresh: now.Add(-time.Minute)} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	b := &Backups{Dir: dir, Keep: time.Hour, Logger: slog.New(slog.DiscardHandler)}
	if n, err := b.PruneBackups(context.Background(), PruneInput{Now: now}); err != nil || n != 0 {
		t.Fatalf("prune: %d, %v (temporary files are not backups)", n, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the abandoned temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a temporary file being written was removed: %v", err)
	}
}

func TestPruneUsesTheClockWhenNoTimeIsGiven(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{now.Add(-48 * time.Hour), now} {
		if err := os.WriteFile(filepath.Join(dir, FileName(at)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := &Backups{Dir: dir, Keep: 24 * time.Hour, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	if n, err := b.PruneBackups(context.Background(), PruneInput{}); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if _, err := (&Backups{Dir: dir}).PruneBackups(context.Background(), PruneInput{}); err == nil {
		t.Fatal("a zero keep period was accepted")
	}
}

func TestListReportsSizeAndKey(t *testing.T) {
	dir := t.TempDir()
	older, newer := scheduled.Add(-24*time.Hour), scheduled
	var sealed bytes.Buffer
	w, err := backupfile.NewWriter(&sealed, testKey)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("PGDMP"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Written newest first, listed oldest first.
	for at, data := range map[time.Time][]byte{newer: sealed.Bytes(), older: []byte("not a backup at all")} {
		if err := os.WriteFile(filepath.Join(dir, FileName(at)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []Backup{
		{Path: filepath.Join(dir, FileName(older)), TakenAt: older, Bytes: 19},
		{Path: filepath.Join(dir, FileName(newer)), TakenAt: newer, Bytes: int64(sealed.Len()), KeyID: backupfile.KeyID(testKey)},
	}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("list = %+v\nwant   %+v", list, want)
	}
	if list, err := List(filepath.Join(dir, "missing")); err != nil || len(list) != 0 {
		t.Fatalf("a missing directory: %v, %v", list, err)
	}
}
