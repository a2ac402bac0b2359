// Command bench measures Ringback against the bare Temporal engine in one process run, on one dev
// server: (a) a workflow with one activity, start→activity latency and throughput; (b) the real
// path, a signed missed-call webhook → the first text arriving at a Twilio fake. It prints both,
// their ratios, and writes a short report.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/sms"
	"github.com/ringback/ringback/ingress"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/internal/temporalclient"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/internal/twiliosig"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

const (
	authToken     = "0123456789abcdef0123456789abcdef"
	accountSID    = "AC00000000000000000000000000000001"
	businessPhone = "+15005550006"
)

type options struct {
	samples     int
	burst       int
	concurrency int
	rounds      int
	out         string
	cli         string
	adminURL    string
	dbFile      bool
	only        string
	// charts is where the PNG charts go ("" draws none); chartsByReport puts them next to the
	// report instead, when -charts was not given.
	charts         string
	chartsByReport bool
}

func main() {
	var o options
	flag.IntVar(&o.samples, "samples", 150, "latency samples per path (sequential, one in flight)")
	flag.IntVar(&o.burst, "burst", 300, "starts per path in the throughput burst")
	flag.IntVar(&o.concurrency, "concurrency", 16, "requests in flight during the burst")
	flag.IntVar(&o.rounds, "rounds", 3, "alternating rounds of the two paths, to spread drift across both")
	flag.StringVar(&o.out, "out", "docs/performance.md", "report to write (empty: none)")
	flag.StringVar(&o.cli, "temporal-cli", envOr("RINGBACK_TEMPORAL_CLI", "bin/temporal"), "Temporal CLI binary")
	flag.StringVar(&o.adminURL, "database-url", envOr("RINGBACK_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL admin URL; a throwaway database is created on it")
	flag.BoolVar(&o.dbFile, "temporal-file", true, "file-backed dev server (as make dev runs it) rather than in-memory")
	flag.StringVar(&o.only, "only", "", "run one section alone (latency, security, compliance or quiet) and write no report; for investigating one figure")
	flag.StringVar(&o.charts, "charts", "", "directory for the PNG charts of the run (default: performance/ next to the report, when one is written; empty: none)")
	flag.Parse()
	o.chartsByReport = !flagSet("charts")
	// An interrupted run still stops the dev server and the workers it started and drops its
	// database: the sections return on the cancelled context and their deferred cleanups run. A
	// second interrupt is not caught, and ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// ---- the bare engine: one workflow, one activity ----------------------------------------------

// bareStarted records when each bare activity began, by workflow ID.
var bareStarted sync.Map

// BareActivity notes the moment the engine handed it over.
func BareActivity(ctx context.Context, id string) error {
	if ch, ok := bareStarted.Load(id); ok {
		ch.(chan time.Time) <- time.Now()
	}
	return nil
}

// BareWorkflow is the smallest workflow that reaches an activity.
func BareWorkflow(ctx workflow.Context, id string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, BareActivity, id).Get(ctx, nil)
}

type measuredPath interface {
	// trigger starts unit i and returns a channel that yields when its activity ran or its text
	// arrived.
	trigger(ctx context.Context, i int) (<-chan time.Time, error)
}

type bare struct {
	c     client.Client
	queue string
	run   string
}

func (b *bare) trigger(ctx context.Context, i int) (<-chan time.Time, error) {
	id := fmt.Sprintf("bare/%s/%d", b.run, i)
	ch := make(chan time.Time, 1)
	bareStarted.Store(id, ch)
	_, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: b.queue}, BareWorkflow, id)
	return ch, err
}

// ---- the real path: signed webhook → ingress → conversation → SendSMS → Twilio fake ----------

// firstTexts hands each caller's first text's arrival at the Twilio fake to whoever waits for it.
type firstTexts struct {
	mu      sync.Mutex
	waiting map[string]chan time.Time
}

func newFirstTexts(fake *twiliofake.Server) *firstTexts {
	f := &firstTexts{waiting: map[string]chan time.Time{}}
	fake.OnAccept(func(t twiliofake.Text) {
		f.mu.Lock()
		ch := f.waiting[t.To]
		delete(f.waiting, t.To)
		f.mu.Unlock()
		if ch != nil {
			ch <- t.At
		}
	})
	return f
}

// expect returns the channel the first text to caller will arrive on.
func (f *firstTexts) expect(caller string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.waiting[caller] = ch
	f.mu.Unlock()
	return ch
}

type webhookPath struct {
	base    string
	texts   *firstTexts
	client  *http.Client
	callers atomic.Int64
}

// callerAreas are area codes whose fictional 555-0100…0199 lines are valid numbers: 100 callers
// each, and every unit needs a caller with no open conversation.
var callerAreas = []string{"614", "212", "415", "312", "713", "305", "206", "617", "404", "303", "512", "702",
	"216", "313", "412", "503", "602", "704", "801", "919"}

// maxCallers is how many distinct callers one run can use.
var maxCallers = 100 * len(callerAreas)

// newCaller returns a number that has not called in this run.
func (r *webhookPath) newCaller() (string, error) {
	k := int(r.callers.Add(1) - 1)
	if k >= maxCallers {
		return "", fmt.Errorf("out of distinct callers (%d): lower -samples or -burst", maxCallers)
	}
	return fmt.Sprintf("+1%s555%04d", callerAreas[k/100], 100+k%100), nil
}

func (r *webhookPath) trigger(ctx context.Context, _ int) (<-chan time.Time, error) {
	from, err := r.newCaller()
	if err != nil {
		return nil, err
	}
	ch := r.texts.expect(from)
	var sid [16]byte
	_, _ = rand.Read(sid[:])
	form := map[string]string{
		"AccountSid": accountSID, "CallSid": "CA" + hex.EncodeToString(sid[:]), "CallStatus": "no-answer",
		"From": from, "To": businessPhone, "Direction": "inbound", "ApiVersion": "2010-04-01",
	}
	endpoint := r.base + "/twilio/voice/status"
	values := url.Values{}
	for k, v := range form {
		values.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliosig.Sign(authToken, endpoint, form))
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("webhook answered %s", resp.Status)
	}
	return ch, nil
}

// ---- measurement -------------------------------------------------------------------------------

const unitTimeout = 30 * time.Second

// latencies runs n units one at a time and returns each trigger→done duration.
func latencies(ctx context.Context, p measuredPath, first, n int) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := first; i < first+n; i++ {
		t0 := time.Now()
		ch, err := p.trigger(ctx, i)
		if err != nil {
			return nil, err
		}
		select {
		case at := <-ch:
			out = append(out, at.Sub(t0))
		case <-time.After(unitTimeout):
			return nil, fmt.Errorf("unit %d did not finish within %v", i, unitTimeout)
		}
	}
	return out, nil
}

// throughput starts n units with c in flight and returns completions per second, first start to
// last completion, and each completion's time since the first start, sorted.
func throughput(ctx context.Context, p measuredPath, first, n, c int) (float64, []time.Duration, error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := atomic.Int64{}
	next.Store(int64(first))
	t0 := time.Now()
	var mu sync.Mutex
	done := make([]time.Duration, 0, n)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= first+n {
					return
				}
				ch, err := p.trigger(ctx, i)
				if err != nil {
					errs <- err
					return
				}
				select {
				case at := <-ch:
					mu.Lock()
					done = append(done, at.Sub(t0))
					mu.Unlock()
				case <-time.After(unitTimeout):
					errs <- fmt.Errorf("unit %d did not finish within %v", i, unitTimeout)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, nil, err
	}
	slices.Sort(done)
	return float64(n) / done[len(done)-1].Seconds(), done, nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	idx := int(float64(len(s)-1) * p)
	return s[idx]
}

type figures struct {
	p50, p99 time.Duration
	rate     float64
}

// ---- wiring ------------------------------------------------------------------------------------

func run(ctx context.Context, o options) error {
	if o.samples < o.rounds || o.burst < 1 || o.concurrency < 1 || o.rounds < 1 {
		return errors.New("samples must be ≥ rounds, and burst, concurrency and rounds positive")
	}
	switch o.only {
	case "", "latency", "security", "compliance", "quiet":
	default:
		return fmt.Errorf("-only %q: want latency, security, compliance or quiet", o.only)
	}
	if o.only != "" {
		// A partial report must not replace the full one.
		o.out = ""
	}
	if o.chartsByReport && o.out != "" {
		o.charts = filepath.Join(filepath.Dir(o.out), "performance")
	}
	charts, err := newChartSet(o.charts, o.out)
	if err != nil {
		return err
	}
	if need := 10 + o.samples + o.burst; need > maxCallers {
		return fmt.Errorf("samples + burst + 10 warm-up calls = %d exceeds the %d distinct callers available", need, maxCallers)
	}
	cli, err := filepath.Abs(o.cli)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cli); err != nil {
		return fmt.Errorf("temporal CLI not found at %s (make bench builds it)", cli)
	}
	tmp, err := os.MkdirTemp("", "ringback-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	devOpts := testsuite.DevServerOptions{
		ExistingPath: cli, LogLevel: "error",
		ClientOptions:    &client.Options{Namespace: "default", Logger: silent{}},
		SearchAttributes: searchattr.ToRegister(),
		Stdout:           io.Discard, Stderr: io.Discard,
	}
	storage := "in-memory SQLite"
	if o.dbFile {
		devOpts.DBFilename = filepath.Join(tmp, "temporal.db")
		storage = "file-backed SQLite"
	}
	fmt.Fprintf(os.Stderr, "starting the Temporal dev server (%s)…\n", storage)
	dev, err := testsuite.StartDevServer(ctx, devOpts)
	if err != nil {
		return fmt.Errorf("start dev server: %w", err)
	}
	defer dev.Stop()
	c := dev.Client()

	dbURL, drop, err := freshDatabase(ctx, o.adminURL)
	if err != nil {
		return err
	}
	defer drop()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	signer, _, err := auditlog.NewSigner(config.DevAuditSigningKey)
	if err != nil {
		return err
	}
	db.SetAuditSigner(signer)
	_, err = db.CreateTenant(ctx, tenantspec.Spec{Name: "Bench Plumbing", Numbers: []string{businessPhone}, Timezone: "America/New_York", OwnerPhone: "+16145550100"})
	if err != nil {
		return err
	}

	// The real path runs as production does, every payload encrypted under the tenant's key; the
	// baseline is the engine alone.
	keys, err := keyring.New([]byte(strings.Repeat("b", 32)), db)
	if err != nil {
		return err
	}
	payloadCodec := codec.New(keys, workflows.KeyScope)
	rc, err := client.Dial(temporalclient.WithCodec(client.Options{HostPort: dev.FrontendHostPort(), Namespace: "default", Logger: silent{}}, payloadCodec))
	if err != nil {
		return err
	}
	defer rc.Close()

	runID := randomHex(4)
	bareQueue, realQueue := "bench-bare-"+runID, "bench-real-"+runID
	bw := worker.New(c, bareQueue, worker.Options{})
	bw.RegisterWorkflow(BareWorkflow)
	bw.RegisterActivity(BareActivity)

	fake := twiliofake.New(accountSID, authToken)
	defer fake.Close()
	texts := newFirstTexts(fake)
	sender, err := sms.NewTwilio(sms.TwilioOptions{AccountSID: accountSID, AuthToken: authToken, APIURL: fake.URL})
	if err != nil {
		return err
	}
	rw := worker.New(rc, realQueue, worker.Options{})
	rw.RegisterWorkflow(workflows.Conversation)
	// Latency is measured against the clock of whenever the benchmark runs; quiet hours would
	// turn a late-evening run into a measurement of the timer.
	rw.RegisterActivity(&activities.Activities{Store: db, SMS: sender, IgnoreQuietHours: true})
	for _, w := range []worker.Worker{bw, rw} {
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
	}

	hasher, err := phone.NewHasher([]byte("bench-phone-hash-key-0123456789abcdef"))
	if err != nil {
		return err
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	srv.Config.Handler = ingress.New(ingress.Deps{
		Config: config.Config{PublicURL: srv.URL, TwilioAuthToken: authToken,
			// Limits far above the load, so the bench measures the path, not the throttle.
			CallerTextRate: config.Rate{N: 1_000_000, Per: time.Hour}, TenantInboundRate: config.Rate{N: 1_000_000, Per: time.Hour},
			TaskQueue: realQueue, ConversationIdleTimeout: time.Hour},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: db, Temporal: rc, Hasher: hasher, Codec: payloadCodec,
	})
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2}}
	b := &bare{c: c, queue: bareQueue, run: runID}
	r := &webhookPath{base: srv.URL, texts: texts, client: httpc}

	var report string
	if o.only == "" || o.only == "latency" {
		// Warm up both paths: connections, caches, the tenant lookup.
		if _, err := latencies(ctx, b, 1_000_000, 10); err != nil {
			return fmt.Errorf("warm-up bare: %w", err)
		}
		if _, err := latencies(ctx, r, 0, 10); err != nil {
			return fmt.Errorf("warm-up real: %w", err)
		}

		var bareLat, realLat []time.Duration
		per := o.samples / o.rounds
		for round := range o.rounds {
			fmt.Fprintf(os.Stderr, "latency round %d/%d…\n", round+1, o.rounds)
			l, err := latencies(ctx, b, round*per, per)
			if err != nil {
				return fmt.Errorf("bare latency: %w", err)
			}
			bareLat = append(bareLat, l...)
			l, err = latencies(ctx, r, 0, per)
			if err != nil {
				return fmt.Errorf("real latency: %w", err)
			}
			realLat = append(realLat, l...)
		}
		fmt.Fprintln(os.Stderr, "throughput bursts…")
		bareRate, bareDone, err := throughput(ctx, b, 500_000, o.burst, o.concurrency)
		if err != nil {
			return fmt.Errorf("bare throughput: %w", err)
		}
		realRate, realDone, err := throughput(ctx, r, 0, o.burst, o.concurrency)
		if err != nil {
			return fmt.Errorf("real throughput: %w", err)
		}

		bf := figures{percentile(bareLat, 0.5), percentile(bareLat, 0.99), bareRate}
		rf := figures{percentile(realLat, 0.5), percentile(realLat, 0.99), realRate}
		figs := charts.add("latency.png", "Latency histogram", func(path string) error {
			return latencyChart(path, bareLat, realLat)
		})
		figs += charts.add("throughput.png", "Throughput over time", func(path string) error {
			return throughputChart(path, o.concurrency, bareDone, realDone)
		})
		report = render(o, storage, bf, rf, len(bareLat), figs)
	}
	if o.only == "" || o.only == "security" {
		security, err := securityReport(ctx, o.adminURL)
		if err != nil {
			return fmt.Errorf("security benchmarks: %w", err)
		}
		report += "\n" + security
	}

	if o.only == "" || o.only == "compliance" {
		compliance, err := complianceReport(ctx, o.adminURL)
		if err != nil {
			return fmt.Errorf("compliance benchmarks: %w", err)
		}
		report += "\n" + compliance
	}

	// Quiet hours at scale (bench/quiet.go): on this dev server, with workers of their own.
	if o.only == "" || o.only == "quiet" {
		quiet, err := quietReport(ctx, dev.FrontendHostPort(), o.adminURL, storage, charts)
		if err != nil {
			return fmt.Errorf("quiet-hours benchmark: %w", err)
		}
		if quiet != "" {
			report += "\n" + quiet
		}
	}

	fmt.Print(report)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "report written to %s\n", o.out)
	}
	// After the report, which is the run's result even if a chart fails.
	if err := charts.write(); err != nil {
		return err
	}
	if len(charts.files) > 0 {
		fmt.Fprintf(os.Stderr, "charts written to %s\n", charts.dir)
	}
	return nil
}

// render returns the section's markdown; charts is the markdown that shows its charts, or "".
func render(o options, storage string, bf, rf figures, n int, charts string) string {
	latRatio := float64(rf.p50) / float64(bf.p50)
	tailRatio := float64(rf.p99) / float64(bf.p99)
	rateRatio := rf.rate / bf.rate
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	var s strings.Builder
	fmt.Fprintf(&s, "# Performance: webhook → first text, against the bare engine\n\n")
	fmt.Fprintf(&s, "Measured %s on %s (%d cores, %s/%s), %s, Temporal dev server (%s), PostgreSQL local.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), storage)
	fmt.Fprintf(&s, "Both paths ran in one process against the same server, in %d alternating rounds.\n\n", o.rounds)
	fmt.Fprintf(&s, "| figure | bare engine (workflow → activity) | Ringback (signed webhook → text at the Twilio fake) |\n|---|---|---|\n")
	fmt.Fprintf(&s, "| latency p50 (%d sequential samples) | %s | %s |\n", n, ms(bf.p50), ms(rf.p50))
	fmt.Fprintf(&s, "| latency p99 | %s | %s |\n", ms(bf.p99), ms(rf.p99))
	fmt.Fprintf(&s, "| throughput (%d starts, %d in flight) | %.1f workflows/s | %.1f calls/s |\n\n", o.burst, o.concurrency, bf.rate, rf.rate)
	s.WriteString(charts)
	fmt.Fprintf(&s, "| ratio | value | target (from the conversation work onward) | status |\n|---|---|---|---|\n")
	fmt.Fprintf(&s, "| Ringback p50 ÷ bare p50 | %.2f× | ≤ 1.00× | %s |\n", latRatio, verdict(latRatio <= 1.0))
	fmt.Fprintf(&s, "| Ringback p99 ÷ bare p99 | %.2f× | ≤ 2.00× | %s |\n", tailRatio, verdict(tailRatio <= 2.0))
	fmt.Fprintf(&s, "| Ringback throughput ÷ bare throughput | %.0f%% | ≥ 70%% | %s |\n\n", rateRatio*100, verdict(rateRatio >= 0.70))
	fmt.Fprintf(&s, "The real path does more than the baseline: signature check, tenant lookup, "+
		"SignalWithStart, then the tenant profile, the conversation row, the call, the send policy and the "+
		"send (an outbox claim and completion in PostgreSQL, then Twilio), with every payload "+
		"AES-256-GCM encrypted under the tenant's key. It is faster all the same because those steps are "+
		"local activities: the text leaves within the workflow's first task, while the baseline waits "+
		"for the server to dispatch its activity task.\n\n")
	fmt.Fprintf(&s, "Reproduce: `make bench` (or `go run ./bench -samples %d -burst %d -concurrency %d -rounds %d`).\n",
		o.samples, o.burst, o.concurrency, o.rounds)
	return s.String()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func freshDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	name := "rb_bench_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		conn.Close(context.Background())
	}
	return u.String(), drop, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// silent drops the SDK client's logs, which would otherwise interleave with the report.
type silent struct{}

func (silent) Debug(string, ...any) {}
func (silent) Info(string, ...any)  {}
func (silent) Warn(string, ...any)  {}
func (silent) Error(string, ...any) {}
