// Package testenv gives integration tests the real parts Ringback runs on: a fresh PostgreSQL
// database per test binary and a Temporal dev server started from the CLI that `make test` builds.
// Tests that use it are skipped only under -short; otherwise a missing part fails them with a
// message saying how to provide it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"golang.org/x/mod/sumdb/note"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/searchattr"
)

// DefaultAdminURL is used when RINGBACK_TEST_DATABASE_URL is unset.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// RequireIntegration skips t under -short and otherwise does nothing.
func RequireIntegration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs PostgreSQL and the Temporal dev server (run without -short, via make test)")
	}
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Database creates a fresh, empty database on the test server and drops it when t ends. It
// returns the new database's URL.
func Database(t testing.TB) string {
	t.Helper()
	RequireIntegration(t)
	admin := os.Getenv("RINGBACK_TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultAdminURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable through RINGBACK_TEST_DATABASE_URL (or %s): %v; `make test` finds or starts a server", DefaultAdminURL, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "rb_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("RINGBACK_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// TemporalCLI is the path of the Temporal CLI binary.
func TemporalCLI() string {
	if p := os.Getenv("RINGBACK_TEMPORAL_CLI"); p != "" {
		return p
	}
	return filepath.Join(RepoRoot(), "bin", "temporal")
}

// Temporal starts a dev server (in-memory SQLite, one per call) and stops it when t ends.
func Temporal(t testing.TB) *testsuite.DevServer {
	t.Helper()
	RequireIntegration(t)
	cli := TemporalCLI()
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI not found at %s (set RINGBACK_TEMPORAL_CLI); `make test` builds it from tools/temporal", cli)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &client.Options{Namespace: "default", Logger: quietLogger{}},
		SearchAttributes: searchattr.ToRegister(),
		LogLevel:         "error",
		Stdout:           &prefixWriter{t: t},
		Stderr:           &prefixWriter{t: t},
	})
	if err != nil {
		t.Fatalf("start Temporal dev server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv
}

// prefixWriter sends the dev server's output to the test log, where it shows only on failure.
type prefixWriter struct {
	mu sync.Mutex
	t  testing.TB
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			w.t.Logf("temporal: %s", line)
		}
	}
	return len(p), nil
}

// AuditSigner returns a signer for audit checkpoints in tests (the published dev key).
func AuditSigner(t testing.TB) note.Signer {
	t.Helper()
	s, _, err := auditlog.NewSigner(config.DevAuditSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// QuietLogger is an SDK logger that keeps only warnings and errors, for test clients.
func QuietLogger() log.Logger { return quietLogger{} }

// quietLogger drops the SDK client's debug chatter.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(msg string, kv ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"temporal client warn:", msg}, kv...)...)
}
func (quietLogger) Error(msg string, kv ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"temporal client error:", msg}, kv...)...)
}
