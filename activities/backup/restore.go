package backup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/ringback/ringback/internal/backupfile"
)

// readBuffer is how much of a backup file is read at once.
const readBuffer = 1 << 20

// Restore replaces the contents of the database at databaseURL with the backup in file:
// pg_restore --clean --if-exists --no-owner, so it works on an empty database as on one holding
// an older copy of the same objects. Objects the backup does not contain are left alone.
//
// The whole file is authenticated before pg_restore sees any of it, so a truncated or altered
// backup, or the wrong key, fails before anything is changed. pg_restore stops at its first
// error; a restore that fails midway leaves the database partly restored, so restore into a new
// database unless the old one is already lost.
func Restore(ctx context.Context, file string, key []byte, databaseURL string) error {
	pgRestore, err := findTool("pg_restore", "")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	dsn, env, err := toolConnection(databaseURL)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := verify(file, key); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	plain, err := backupfile.NewReader(bufio.NewReaderSize(f, readBuffer), key)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	cmd := toolCommand(exec.CommandContext(ctx, pgRestore,
		"--clean", "--if-exists", "--no-owner", "--exit-on-error", "--no-password", "--dbname="+dsn), "ringback-restore", env)
	if err := runRestore(ctx, cmd, plain); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// verify reads the whole backup through the decrypting reader: it returns nil only for a file
// that is complete and unaltered under key.
func verify(file string, key []byte) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	plain, err := backupfile.NewReader(bufio.NewReaderSize(f, readBuffer), key)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return err
	}
	return nil
}

// runRestore runs pg_restore with src streamed into its stdin.
func runRestore(ctx context.Context, cmd *exec.Cmd, src io.Reader) error {
	var stderr stderrTail
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pg_restore: %w", err)
	}
	in := &errReader{r: src}
	_, copyErr := io.Copy(stdin, in)
	// Closing stdin is how pg_restore learns the archive ended; after a failed read it sees a
	// truncated archive and fails too.
	_ = stdin.Close()
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("pg_restore interrupted: %w", ctx.Err())
	case in.err != nil:
		return fmt.Errorf("read backup: %w", in.err)
	case waitErr != nil:
		return fmt.Errorf("pg_restore failed (%v): %s", waitErr, stderr.message("pg_restore"))
	case copyErr != nil && !errors.Is(copyErr, os.ErrClosed):
		return fmt.Errorf("feed pg_restore: %w", copyErr)
	}
	return nil
}
