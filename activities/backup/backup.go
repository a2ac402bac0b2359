// Package backup takes, prunes and restores encrypted backups of Ringback's database (P21).
//
// A backup is `pg_dump --format=custom` streamed straight into an AES-256-GCM backupfile, so the
// dump never touches the disk in clear. Files are named after the time the backup was scheduled
// for (ringback-20261122T030000Z.rbk): a retried activity rewrites the same file instead of adding
// a second one, and pruning goes by that name, not by a modification time that a copy or a restore
// of the backup directory would reset.
//
// Backups is registered with the worker as an activity struct; Restore and List are plain
// functions for the CLI.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/backupfile"
)

// ErrTypeMisconfigured is the non-retryable error type of a backup that cannot succeed until an
// operator acts: no directory, no key, no pg_dump.
const ErrTypeMisconfigured = "BackupMisconfigured"

const (
	filePrefix = "ringback-"
	fileSuffix = ".rbk"
	nameLayout = "20060102T150405Z"
	// tempPattern names a backup being written; List and PruneBackups never take it for a backup.
	tempPattern = ".ringback-*.rbk.tmp"
	// abandonedAfter is when a temporary file nobody writes to any more is a leftover of a crashed
	// attempt: well past the two hours an attempt may run, during which it writes continuously.
	abandonedAfter = 6 * time.Hour
	// heartbeatEvery is well inside the workflow's one-minute heartbeat timeout.
	heartbeatEvery = 15 * time.Second
	// lockWaitTimeout bounds how long pg_dump waits for its table locks behind a long migration
	// before failing (and being retried) instead of hanging until the activity times out.
	lockWaitTimeout = "15min"
)

// FileName is the name of the backup scheduled for t.
func FileName(t time.Time) string { return filePrefix + t.UTC().Format(nameLayout) + fileSuffix }

// ParseFileName returns the time a backup file's name says it was scheduled for.
func ParseFileName(name string) (time.Time, bool) {
	stamp, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return time.Time{}, false
	}
	if stamp, ok = strings.CutSuffix(stamp, fileSuffix); !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(nameLayout, stamp)
	if err != nil || FileName(t) != name {
		return time.Time{}, false
	}
	return t, true
}

// Backups takes and prunes backups. Register a pointer to it with the worker; its exported
// methods are the activities.
type Backups struct {
	// DatabaseURL is the database to dump. It may hold a password, so it is never logged.
	DatabaseURL string
	// Dir holds the backups; it is created (mode 0700) if missing.
	Dir string
	// Key encrypts backups (32 bytes). It is never logged; its fingerprint is.
	Key []byte
	// Keep is how long a backup is kept; PruneBackups removes older ones, never the newest.
	Keep time.Duration
	// BinDir is where pg_dump lives; empty means PATH, then `pg_config --bindir`, then the
	// newest /usr/lib/postgresql/*/bin.
	BinDir string
	// Now is the clock for pruning without a given time; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per backup and prune; nil means slog.Default().
	Logger *slog.Logger
}

func (b *Backups) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Backups) logger() *slog.Logger {
	if b.Logger != nil {
		return b.Logger
	}
	return slog.Default()
}

// misconfigured marks err as one no retry can fix.
func misconfigured(op string, err error) error {
	return temporal.NewNonRetryableApplicationError(op, ErrTypeMisconfigured, err)
}

// TakeBackupInput asks for one backup.
type TakeBackupInput struct {
	// ScheduledAt names the file; a retry with the same time overwrites the same file.
	ScheduledAt time.Time
}

// BackupResult describes a backup written.
type BackupResult struct {
	// File is the backup's path.
	File string
	// Bytes is the size of the encrypted file.
	Bytes int64
	// SHA256 is the hex digest of the encrypted file, to check a copy kept elsewhere against.
	SHA256 string
}

// TakeBackup dumps the database into an encrypted file in Dir. The file appears under its final
// name only once complete and synced, so a crash mid-dump never leaves a file that looks like a
// backup.
func (b *Backups) TakeBackup(ctx context.Context, in TakeBackupInput) (BackupResult, error) {
	if in.ScheduledAt.IsZero() {
		return BackupResult{}, misconfigured("take backup", errors.New("no scheduled time to name the file after"))
	}
	switch {
	case b.Dir == "":
		return BackupResult{}, misconfigured("take backup", errors.New("no backup directory (RINGBACK_BACKUP_DIR)"))
	case len(b.Key) != backupfile.KeySize:
		return BackupResult{}, misconfigured("take backup", fmt.Errorf("the backup key must be %d bytes (RINGBACK_BACKUP_KEY)", backupfile.KeySize))
	case b.DatabaseURL == "":
		return BackupResult{}, misconfigured("take backup", errors.New("no database URL"))
	}
	pgDump, err := findTool("pg_dump", b.BinDir)
	if err != nil {
		return BackupResult{}, misconfigured("take backup", err)
	}
	dsn, env, err := toolConnection(b.DatabaseURL)
	if err != nil {
		return BackupResult{}, misconfigured("take backup", err)
	}
	if err := os.MkdirAll(b.Dir, 0o700); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	started := time.Now()
	final := filepath.Join(b.Dir, FileName(in.ScheduledAt))
	tmp, err := os.CreateTemp(b.Dir, tempPattern) // mode 0600
	if err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	digest := sha256.New()
	out := &countingWriter{w: io.MultiWriter(tmp, digest)}
	stopHeartbeat := heartbeat(ctx, out)
	defer stopHeartbeat()
	enc, err := backupfile.NewWriter(out, b.Key)
	if err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	cmd := toolCommand(exec.CommandContext(ctx, pgDump,
		"--format=custom", "--no-password", "--lock-wait-timeout="+lockWaitTimeout, "--dbname="+dsn), "ringback-backup", env)
	if err := runDump(ctx, cmd, enc); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	if err := enc.Close(); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	committed = true
	// The rename is durable only once the directory is synced.
	if err := syncDir(b.Dir); err != nil {
		return BackupResult{}, fmt.Errorf("take backup: %w", err)
	}
	res := BackupResult{File: final, Bytes: out.count(), SHA256: hex.EncodeToString(digest.Sum(nil))}
	b.logger().Info("backup taken", "file", filepath.Base(final), "bytes", res.Bytes, "sha256", res.SHA256,
		"key_id", backupfile.KeyID(b.Key), "duration", time.Since(started).Round(time.Millisecond))
	return res, nil
}

// runDump runs pg_dump with its stdout streamed into dst.
func runDump(ctx context.Context, cmd *exec.Cmd, dst io.Writer) error {
	var stderr stderrTail
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pg_dump: %w", err)
	}
	// io.Copy reports a failed write (a full disk) as such; then pg_dump is stopped rather than
	// left blocked on a pipe nobody reads.
	_, copyErr := io.Copy(dst, stdout)
	if copyErr != nil {
		_ = cmd.Process.Kill()
	}
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("pg_dump interrupted: %w", ctx.Err())
	case copyErr != nil:
		return fmt.Errorf("write backup: %w", copyErr)
	case waitErr != nil:
		return fmt.Errorf("pg_dump failed (%v): %s", waitErr, stderr.message("pg_dump"))
	}
	return nil
}

// heartbeat reports progress (encrypted bytes written) while a backup runs, so a worker that died
// mid-dump is noticed within the heartbeat timeout instead of the two-hour attempt timeout.
// Outside an activity (the CLI) it does nothing.
func heartbeat(ctx context.Context, progress *countingWriter) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	activity.RecordHeartbeat(ctx, int64(0))
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, progress.count())
			}
		}
	}()
	return func() { close(done); <-finished }
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// PruneInput asks for a prune as of Now.
type PruneInput struct {
	// Now is the workflow's clock; zero means the activity's.
	Now time.Time
}

// PruneBackups removes the backups scheduled more than Keep before in.Now, going by their names,
// and never the newest backup, however old: an expired backup is better than none while new ones
// keep failing. It also removes temporary files that crashed attempts left behind. It returns how
// many backups it removed.
func (b *Backups) PruneBackups(ctx context.Context, in PruneInput) (int, error) {
	if b.Keep <= 0 {
		return 0, misconfigured("prune backups", errors.New("the keep period must be positive"))
	}
	if b.Dir == "" {
		return 0, misconfigured("prune backups", errors.New("no backup directory (RINGBACK_BACKUP_DIR)"))
	}
	now := in.Now
	if now.IsZero() {
		now = b.now()
	}
	found, err := scan(b.Dir)
	if err != nil {
		return 0, fmt.Errorf("prune backups: %w", err)
	}
	cutoff := now.Add(-b.Keep)
	removed := 0
	for i, f := range found.backups {
		if i == len(found.backups)-1 || !f.TakenAt.Before(cutoff) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("prune backups: %w", err)
		}
		removed++
	}
	leftovers := 0
	for _, tmp := range found.temps {
		if fi, err := os.Stat(tmp); err == nil && now.Sub(fi.ModTime()) > abandonedAfter {
			if os.Remove(tmp) == nil {
				leftovers++
			}
		}
	}
	b.logger().Info("backups pruned", "removed", removed, "kept", len(found.backups)-removed,
		"leftovers_removed", leftovers, "keep", b.Keep.String())
	return removed, nil
}

// Backup is one backup file in a directory.
type Backup struct {
	Path    string
	TakenAt time.Time
	Bytes   int64
	// KeyID is the fingerprint of the key the backup needs (backupfile.KeyID); empty when its
	// header cannot be read.
	KeyID string
}

// dirContents is what scan found: backups oldest first, and temporary files.
type dirContents struct {
	backups []Backup
	temps   []string
}

// scan lists a backup directory by file name alone. A directory that does not exist holds no
// backups.
func scan(dir string) (dirContents, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return dirContents{}, nil
	}
	if err != nil {
		return dirContents{}, err
	}
	var c dirContents
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if at, ok := ParseFileName(e.Name()); ok {
			c.backups = append(c.backups, Backup{Path: path, TakenAt: at})
		} else if ok, _ := filepath.Match(tempPattern, e.Name()); ok {
			c.temps = append(c.temps, path)
		}
	}
	sort.Slice(c.backups, func(i, j int) bool { return c.backups[i].TakenAt.Before(c.backups[j].TakenAt) })
	return c, nil
}

// List returns the backups in dir, oldest first, with their sizes and the keys they need.
func List(dir string) ([]Backup, error) {
	found, err := scan(dir)
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	list := make([]Backup, 0, len(found.backups))
	for _, b := range found.backups {
		f, err := os.Open(b.Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned since the directory was read
		}
		if err != nil {
			return nil, fmt.Errorf("list backups: %w", err)
		}
		if fi, err := f.Stat(); err == nil {
			b.Bytes = fi.Size()
		}
		if h, err := backupfile.ReadHeader(f); err == nil {
			b.KeyID = h.KeyID
		}
		_ = f.Close()
		list = append(list, b)
	}
	return list, nil
}
