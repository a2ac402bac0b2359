// Package e2e runs Ringback's real binaries (worker, starter, ringback CLI) against a real Temporal
// dev server and a real PostgreSQL database: the path a new user takes with `make dev`.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/proctest"
	"github.com/ringback/ringback/internal/testenv"
)

// buildBinaries compiles the three commands.
func buildBinaries(t *testing.T) string {
	t.Helper()
	return proctest.Build(t, "./worker", "./starter", "./cmd/ringback")
}

func run(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	proctest.Eventually(t, what, 30*time.Second, cond)
}

func TestMissedCallReachesTheSandboxThroughTheRealBinaries(t *testing.T) {
	testenv.RequireIntegration(t)
	bins := buildBinaries(t)
	temporal := testenv.Temporal(t)
	dbURL := testenv.Database(t)
	port := proctest.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := append(os.Environ(),
		"RINGBACK_ENV=dev",
		"RINGBACK_QUIET_HOURS=off", // the test runs at whatever hour the clock says
		"DATABASE_URL="+dbURL,
		"TEMPORAL_ADDRESS="+temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE=default",
		"RINGBACK_TASK_QUEUE=e2e",
		fmt.Sprintf("RINGBACK_LISTEN_ADDR=127.0.0.1:%d", port),
		"RINGBACK_PUBLIC_URL="+base,
		"TWILIO_ACCOUNT_SID=",
		"TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef",
		"RINGBACK_PHONE_HASH_KEY=e2e-phone-hash-key-0123456789abcdef",
	)
	cli := filepath.Join(bins, "ringback")

	for range 2 { // migrate is idempotent
		if out, err := run(t, cli, env, "migrate"); err != nil {
			t.Fatalf("migrate: %v\n%s", err, out)
		}
	}
	out, err := run(t, cli, env, "tenant", "create", "--name", "Demo Plumbing", "--number", "+15005550006",
		"--timezone", "America/New_York", "--owner-phone", "+16145550100", "--json")
	if err != nil {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	var tenant struct{ ID string }
	if err := json.Unmarshal([]byte(out), &tenant); err != nil || tenant.ID == "" {
		t.Fatalf("tenant create printed %q: %v", out, err)
	}
	if out, err := run(t, cli, env, "tenant", "create", "--name", "Again", "--number", "+15005550006",
		"--timezone", "America/New_York", "--owner-phone", "+16145550100"); err == nil || !strings.Contains(out, "already belongs") {
		t.Fatalf("duplicate number accepted: %v %s", err, out)
	}

	worker := proctest.Start(t, filepath.Join(bins, "worker"), env)
	starter := proctest.Start(t, filepath.Join(bins, "starter"), env)
	eventually(t, "the starter to be ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	if out, err := run(t, cli, env, "simulate", "call", "--from", "+16145550123", "--to", "+15005550006"); err != nil {
		t.Fatalf("simulate call: %v\n%s", err, out)
	}

	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var body string
	eventually(t, "the sandbox text", func() bool {
		err := conn.QueryRow(context.Background(),
			`SELECT body FROM control.sandbox_messages WHERE tenant_id = $1 AND to_number = '+16145550123'`, tenant.ID).Scan(&body)
		return err == nil
	})
	if !strings.Contains(body, "Demo Plumbing") {
		t.Fatalf("sandbox text = %q", body)
	}
	eventually(t, "the worker to print the text", func() bool { return strings.Contains(worker.Output(), "SANDBOX text") })

	// The caller replies; the starter answers only once the workflow has stored the text.
	if out, err := run(t, cli, env, "simulate", "sms", "--from", "+16145550123", "--to", "+15005550006",
		"--body", "Can you come at 4pm? My email is jo@example.com"); err != nil {
		t.Fatalf("simulate sms: %v\n%s", err, out)
	}
	var inbound int
	schemaName := pgx.Identifier{"t_" + tenant.ID}.Sanitize()
	if err := conn.QueryRow(context.Background(),
		`SELECT count(*) FROM `+schemaName+`.messages WHERE direction = 'inbound' AND body LIKE 'Can you come at 4pm?%'`).Scan(&inbound); err != nil || inbound != 1 {
		t.Fatalf("inbound texts stored = %d, %v", inbound, err)
	}

	// A token issued by the CLI works against the running starter, within its role.
	out, err = run(t, cli, env, "token", "create", "--role", "tenant-admin", "--tenant", tenant.ID, "--name", "e2e", "--json")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	var issued struct{ Token string }
	if err := json.Unmarshal([]byte(out), &issued); err != nil || issued.Token == "" {
		t.Fatalf("token create printed %q", out)
	}
	for path, want := range map[string]int{"/api/tenants/" + tenant.ID: 200, "/api/tenants/zzzzzzzzzzzzzzzz": 403, "/api/tokens": 403} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+issued.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s with a tenant-admin token: %d, want %d", path, resp.StatusCode, want)
		}
	}

	worker.Stop(t)
	starter.Stop(t)
	// Neither process logs the caller's number or what they wrote, in any log line of the run.
	for name, p := range map[string]*proctest.Process{"worker": worker, "starter": starter} {
		logs := p.Output()
		for _, secret := range []string{"6145550123", "jo@example.com", "Can you come", issued.Token} {
			if strings.Contains(logs, secret) {
				t.Errorf("%s logged %q:\n%s", name, secret, logs)
			}
		}
	}
	if !strings.Contains(worker.Output(), "SANDBOX MODE") {
		t.Error("worker did not announce sandbox mode")
	}
}

func TestProductionRefusesToStartWithoutSecrets(t *testing.T) {
	testenv.RequireIntegration(t)
	bins := buildBinaries(t)
	env := append(os.Environ(), "RINGBACK_ENV=production", "DATABASE_URL=postgres://127.0.0.1:1/none",
		"TWILIO_ACCOUNT_SID=", "TWILIO_AUTH_TOKEN=", "RINGBACK_PHONE_HASH_KEY=", "RINGBACK_PUBLIC_URL=", "RINGBACK_MASTER_KEY=", "RINGBACK_MASTER_KEY_FILE=")
	for name, want := range map[string][]string{
		"worker":  {"TWILIO_ACCOUNT_SID", "RINGBACK_PHONE_HASH_KEY", "RINGBACK_MASTER_KEY"},
		"starter": {"TWILIO_AUTH_TOKEN", "RINGBACK_PUBLIC_URL", "RINGBACK_MASTER_KEY"},
	} {
		out, err := run(t, filepath.Join(bins, name), env)
		if err == nil {
			t.Errorf("%s started without secrets", name)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s error does not name %s:\n%s", name, w, out)
			}
		}
	}
}
