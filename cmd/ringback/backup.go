package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/activities/backup"
	"github.com/ringback/ringback/internal/backupfile"
	"github.com/ringback/ringback/internal/config"
)

// backupCmd takes, lists and restores encrypted database backups. The schedule takes them
// unattended; these are for an operator: a backup before a risky change, and the way back.
func backupCmd(ctx context.Context, cfg config.Config, sub string, args []string, out, errOut io.Writer) error {
	switch sub {
	case "run":
		return backupRunCmd(ctx, cfg, args, out, errOut)
	case "list":
		return backupListCmd(cfg, args, out)
	default:
		return backupRestoreCmd(ctx, cfg, args, out)
	}
}

func backupRunCmd(ctx context.Context, cfg config.Config, args []string, out, errOut io.Writer) error {
	fs := newFlags("backup run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: backup run: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := needBackupDir(cfg); err != nil {
		return err
	}
	if err := needBackupKey(cfg, errOut); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("backup run: DATABASE_URL is not set")
	}
	b := &backup.Backups{
		DatabaseURL: cfg.DatabaseURL,
		Dir:         cfg.Compliance.BackupDir,
		Key:         cfg.Compliance.BackupKey,
		Keep:        cfg.Compliance.BackupKeep,
		Logger:      slog.New(slog.DiscardHandler),
	}
	res, err := b.TakeBackup(ctx, backup.TakeBackupInput{ScheduledAt: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return withoutTemporalDetail(err)
	}
	fmt.Fprintf(out, "backup written: %s\n  %d bytes, sha256 %s, key %s\n", res.File, res.Bytes, res.SHA256, backupfile.KeyID(b.Key))
	return nil
}

func backupListCmd(cfg config.Config, args []string, out io.Writer) error {
	fs := newFlags("backup list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: backup list: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := needBackupDir(cfg); err != nil {
		return err
	}
	list, err := backup.List(cfg.Compliance.BackupDir)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(out, "no backups in %s\n", cfg.Compliance.BackupDir)
		return nil
	}
	current := ""
	if cfg.Compliance.BackupKey != nil {
		current = backupfile.KeyID(cfg.Compliance.BackupKey)
	}
	fmt.Fprintf(out, "backups in %s, oldest first; the schedule prunes those older than %s except the newest\n\n",
		cfg.Compliance.BackupDir, days(cfg.Compliance.BackupKeep))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  FILE\tTAKEN (UTC)\tBYTES\tKEY")
	for _, b := range list {
		key := b.KeyID
		switch {
		case key == "":
			key = "unreadable header"
		case key == current:
			key += " (current)"
		case current != "":
			key += " (another key)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", filepath.Base(b.Path), b.TakenAt.Format(time.DateTime), b.Bytes, key)
	}
	return tw.Flush()
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// backupRestoreCmd restores a backup over a database. It overwrites, so it demands the target
// database's name a second time, as keys destroy demands the tenant's.
func backupRestoreCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	fs := newFlags("backup restore")
	databaseURL := fs.String("database-url", "", "the database to restore into (default DATABASE_URL)")
	confirm := fs.String("confirm", "", "the name of the database being overwritten")
	// FILE may come before or after the flags.
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	file := fs.Arg(0)
	if fs.NArg() > 0 {
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	switch {
	case file == "":
		return fmt.Errorf("%w: backup restore: name the backup FILE", errUsage)
	case fs.NArg() > 0:
		return fmt.Errorf("%w: backup restore: unexpected argument %q", errUsage, fs.Arg(0))
	}
	target := *databaseURL
	if target == "" {
		target = cfg.DatabaseURL
	}
	if target == "" {
		return errors.New("backup restore: no database to restore into: set DATABASE_URL or pass --database-url")
	}
	pc, err := pgconn.ParseConfig(target)
	if err != nil {
		// The parser's message can quote the connection string, password included.
		return errors.New("backup restore: the database URL does not parse")
	}
	if pc.Database == "" {
		return errors.New("backup restore: the database URL names no database")
	}
	if *confirm != pc.Database {
		return fmt.Errorf("%w: backup restore: this replaces the contents of database %q with the backup; repeat its name with --confirm",
			errUsage, pc.Database)
	}
	if err := needBackupKey(cfg, io.Discard); err != nil {
		return err
	}
	file = backupPath(cfg, file)
	if err := backup.Restore(ctx, file, cfg.Compliance.BackupKey, target); err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %s into database %q\n", filepath.Base(file), pc.Database)
	return nil
}

// backupPath lets a backup in the backup directory be named by its file name alone.
func backupPath(cfg config.Config, file string) string {
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) && cfg.Compliance.BackupDir != "" && !strings.ContainsRune(file, filepath.Separator) {
		return filepath.Join(cfg.Compliance.BackupDir, file)
	}
	return file
}

func needBackupDir(cfg config.Config) error {
	if cfg.Compliance.BackupDir == "" {
		return errors.New("backup: RINGBACK_BACKUP_DIR is not set")
	}
	return nil
}

// needBackupKey demands a backup key, and warns when it is the published development one.
func needBackupKey(cfg config.Config, errOut io.Writer) error {
	if cfg.Compliance.BackupKey == nil {
		return errors.New("backup: RINGBACK_BACKUP_KEY is not set (base64 of 32 random bytes)")
	}
	if cfg.Compliance.BackupKeyIsDevDefault {
		fmt.Fprintln(errOut, "ringback: warning: using the published development backup key; this backup protects nothing")
	}
	return nil
}

// withoutTemporalDetail drops what a Temporal application error adds to its message ("(type: …,
// retryable: false)"): the CLI runs the activity's code directly, and an operator needs only
// the cause.
func withoutTemporalDetail(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Unwrap() != nil {
		return fmt.Errorf("%s: %w", appErr.Message(), appErr.Unwrap())
	}
	return err
}
