package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/internal/proctest"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/internal/twiliosig"
)

const (
	accountSID   = "AC0123456789abcdef0123456789abcdef"
	authToken    = "0123456789abcdef0123456789abcdef"
	stripeSecret = "whsec_faults_0123456789abcdef"
	business     = "+15005550006"
	taskQueue    = "faults"
)

// stack is Ringback as deployed, on parts this suite owns and can break: a PostgreSQL cluster of
// its own, a file-backed Temporal dev server on a fixed port, the worker and starter binaries,
// and a Twilio fake.
type stack struct {
	t        *testing.T
	pg       *postgres
	dbURL    string
	devOpts  testsuite.DevServerOptions
	dev      *testsuite.DevServer
	twilio   *twiliofake.Server
	worker   *proctest.Process
	starter  *proctest.Process
	base     string
	env      []string
	cli      string
	tenantID string
	temporal client.Client
}

func startStack(t *testing.T) *stack {
	t.Helper()
	testenv.RequireIntegration(t)
	bins := proctest.Build(t, "./worker", "./starter", "./cmd/ringback")
	st := &stack{t: t, cli: filepath.Join(bins, "ringback")}
	st.pg = startPostgres(t)
	st.dbURL = st.pg.url("postgres")

	cli := testenv.TemporalCLI()
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI not found at %s (set RINGBACK_TEMPORAL_CLI); make faults builds it", cli)
	}
	st.devOpts = testsuite.DevServerOptions{
		ExistingPath: cli,
		// A fixed address and a file, so a restarted server is the same server with the same
		// histories, as a restarted cluster would be.
		ClientOptions:    &client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", proctest.FreePort(t)), Namespace: "default", Logger: testenv.QuietLogger()},
		DBFilename:       filepath.Join(t.TempDir(), "temporal.db"),
		SearchAttributes: searchattr.ToRegister(),
		LogLevel:         "error",
		Stdout:           io.Discard,
		Stderr:           io.Discard,
	}
	st.startTemporal()
	t.Cleanup(func() { _ = st.dev.Stop() })
	tc, err := client.Dial(client.Options{HostPort: st.devOpts.ClientOptions.HostPort, Namespace: "default", Logger: testenv.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	st.temporal = tc

	st.twilio = twiliofake.New(accountSID, authToken)
	t.Cleanup(st.twilio.Close)
	port := proctest.FreePort(t)
	st.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	st.env = append(os.Environ(),
		"RINGBACK_ENV=dev",
		// Texts go out whatever the hour the suite runs at; quiet hours have their own tests.
		"RINGBACK_QUIET_HOURS=off",
		"RINGBACK_MODEL_URL=none",
		"DATABASE_URL="+st.dbURL,
		"TEMPORAL_ADDRESS="+st.devOpts.ClientOptions.HostPort,
		"TEMPORAL_NAMESPACE=default",
		"RINGBACK_TASK_QUEUE="+taskQueue,
		fmt.Sprintf("RINGBACK_LISTEN_ADDR=127.0.0.1:%d", port),
		"RINGBACK_PUBLIC_URL="+st.base,
		"TWILIO_ACCOUNT_SID="+accountSID,
		"TWILIO_AUTH_TOKEN="+authToken,
		"TWILIO_API_URL="+st.twilio.URL,
		"RINGBACK_PHONE_HASH_KEY=faults-phone-hash-key-0123456789abcdef",
		"STRIPE_WEBHOOK_SECRET="+stripeSecret,
		// A burst of hundreds of calls from one business is the point here, not abuse.
		"RINGBACK_RATE_TENANT_INBOUND=1000000/1h",
	)
	if out, err := st.ringback("migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := st.ringback("tenant", "create", "--name", "Faults Plumbing", "--number", business,
		"--timezone", "America/New_York", "--owner-phone", "+16145550100", "--json")
	if err != nil {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	var tenant struct{ ID string }
	if err := json.Unmarshal(out, &tenant); err != nil || tenant.ID == "" {
		t.Fatalf("tenant create printed %q: %v", out, err)
	}
	st.tenantID = tenant.ID

	st.worker = proctest.Start(t, filepath.Join(bins, "worker"), st.env)
	st.starter = proctest.Start(t, filepath.Join(bins, "starter"), st.env)
	st.waitReady()
	return st
}

// ringback runs the CLI against the stack and returns its standard output.
func (st *stack) ringback(args ...string) ([]byte, error) {
	cmd := exec.Command(st.cli, args...)
	cmd.Env = st.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.String()...), err
	}
	return out, nil
}

func (st *stack) startTemporal() {
	st.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, st.devOpts)
	if err != nil {
		st.t.Fatalf("start the Temporal dev server: %v", err)
	}
	st.dev = dev
}

// waitReady waits for the starter's readiness check, which covers the database and Temporal.
func (st *stack) waitReady() {
	st.t.Helper()
	proctest.Eventually(st.t, "the starter to be ready", 2*time.Minute, func() bool {
		resp, err := http.Get(st.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// missedCall delivers a signed missed-call webhook for caller, as Twilio does, and returns the
// status the starter answered.
func (st *stack) missedCall(caller, callSid string) (int, error) {
	form := map[string]string{
		"AccountSid": accountSID, "CallSid": callSid, "CallStatus": "no-answer",
		"From": caller, "To": business, "Direction": "inbound", "ApiVersion": "2010-04-01",
	}
	endpoint := st.base + "/twilio/voice/status"
	values := url.Values{}
	for k, v := range form {
		values.Set(k, v)
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(values.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliosig.Sign(authToken, endpoint, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// textsPerCaller counts the texts the Twilio fake accepted, per recipient.
func (st *stack) textsPerCaller() map[string]int {
	n := map[string]int{}
	for _, m := range st.twilio.Texts() {
		n[m.To]++
	}
	return n
}

// ---- a PostgreSQL cluster of the suite's own, so that restarting it disturbs nobody else ----

type postgres struct {
	bin, dir string
	port     int
	runAs    string // "postgres" when the suite runs as root, which PostgreSQL refuses to be
}

// startPostgres initialises and starts a throwaway cluster with trust authentication on
// 127.0.0.1, stopped and removed when t ends.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bin, err := postgresBinDir()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "ringback-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pg := &postgres{bin: bin, dir: dir, port: proctest.FreePort(t)}
	if os.Geteuid() == 0 {
		pg.runAs = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := pg.run("initdb", "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.start(t)
	t.Cleanup(func() { _, _ = pg.run("pg_ctl", "-D", dir, "-m", "immediate", "-w", "stop") })
	return pg
}

func (pg *postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

func (pg *postgres) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", pg.port, pg.dir)
	if out, err := pg.run("pg_ctl", "-D", pg.dir, "-o", opts, "-l", filepath.Join(pg.dir, "server.log"), "-w", "start"); err != nil {
		t.Fatalf("pg_ctl start: %v\n%s", err, out)
	}
}

// stop shuts the server down the way a failover or a restart does: open connections are cut.
func (pg *postgres) stop(t *testing.T) {
	t.Helper()
	if out, err := pg.run("pg_ctl", "-D", pg.dir, "-m", "fast", "-w", "stop"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (pg *postgres) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(pg.bin, tool)
	var cmd *exec.Cmd
	if pg.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", pg.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = os.TempDir()
	return cmd.CombinedOutput()
}

// postgresBinDir finds initdb and pg_ctl: on PATH, else the newest Debian installation.
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi > vj
	})
	if len(matches) == 0 {
		return "", fmt.Errorf("initdb not found on PATH or under /usr/lib/postgresql: install PostgreSQL's server package (make faults does)")
	}
	return filepath.Dir(matches[0]), nil
}
