package main

// Quiet hours at scale: N conversations asleep on their durable timers until their tenant's
// texting window opens, the worker's memory while they sleep, and how fast their first texts go
// out when the window opens; next to N bare workflows that sleep until one instant and then run
// one activity, on the same dev server, in the same run. Each fleet runs on a worker of its own in
// a separate process, so the resident set measured is that worker's alone: the real `worker`
// binary for the conversations, this bench binary re-executed as a bare worker for the baseline.

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/quiethours"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/internal/temporalclient"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

var (
	sleepers      = flag.Int("sleepers", quietTargetSleepers, "conversations put to sleep in quiet hours, and bare workflows in their baseline (1,000 with -quick unless set; 0 skips that section)")
	sleeperStarts = flag.Int("sleeper-concurrency", 32, "starts in flight while putting conversations and bare workflows to sleep")
	quietBaseline = flag.Bool("quiet-baseline", true, "measure the bare-engine fleet too (with false, only the conversations run and no report is written)")
	workerExtra   envList
	workerLogs    = flag.String("worker-logs", "", "directory to keep the quiet-hours workers' logs in (default: a temporary one, removed)")
)

func init() {
	flag.Var(&workerExtra, "worker-env", "KEY=VALUE added to the Ringback worker's environment in the quiet-hours section (repeatable), to try a setting")
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (l *envList) String() string { return strings.Join(*l, " ") }

func (l *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*l = append(*l, v)
	return nil
}

// The targets for this section.
const (
	quietTargetSleepers = 10_000
	quietTargetRSS      = 300_000_000 // bytes (300 MB)
	quietTargetDrain    = 0.70        // of the bare engine's drain rate
)

const (
	// quietMasterKey wraps this section's tenant data keys; the worker gets it through
	// RINGBACK_MASTER_KEY so that it can decrypt what the bench's client encrypted.
	quietMasterKey = "bench-quiet-master-key-32-bytes!"
	quietHashKey   = "bench-quiet-phone-hash-key-0123456789"
	// conversationIdle is the production default of RINGBACK_CONVERSATION_IDLE_TIMEOUT.
	conversationIdle = 24 * time.Hour
	// drainStall ends a drain that has made no progress for this long: what is missing by then
	// is counted as lost. Generous, because a fleet's first arrivals can wait behind the
	// engine's work on every timer that fired.
	drainStall = 3 * time.Minute
	// workerRunning is what both workers log once they poll.
	workerRunning = "worker running"
)

// The baseline worker is this binary, re-executed with benchRoleEnv set.
const (
	benchRoleEnv    = "RINGBACK_BENCH_ROLE"
	bareSleeperRole = "bare-sleeper-worker"
	sleeperSinkEnv  = "RINGBACK_BENCH_SINK"
)

func init() {
	if os.Getenv(benchRoleEnv) != bareSleeperRole {
		return
	}
	if err := runBareSleeperWorker(); err != nil {
		fmt.Fprintln(os.Stderr, "bare sleeper worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// ---- the baseline: a bare workflow asleep until one instant, then one activity ----------------

// SleeperInput is one bare sleeper: the ID its activity reports, and when it wakes.
type SleeperInput struct {
	ID   string
	Wake time.Time
}

// BareSleeper marks itself asleep with the search attribute a sleeping conversation shows (so
// both fleets are counted the same way), sleeps on one durable timer until Wake, and runs one
// activity.
func BareSleeper(ctx workflow.Context, in SleeperInput) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx, searchattr.Stage.ValueSet(string(conversation.StageQuietHours))); err != nil {
		return err
	}
	if d := in.Wake.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return err
		}
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var s *sleeperSink
	return workflow.ExecuteActivity(ctx, s.Woke, in.ID).Get(ctx, nil)
}

// sleeperSink is the baseline's side effect: one HTTP POST to the bench, as a conversation's
// first text is one POST to the Twilio fake.
type sleeperSink struct {
	url    string
	client *http.Client
}

// Woke reports that sleeper id ran its activity.
func (s *sleeperSink) Woke(ctx context.Context, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(url.Values{"To": {id}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("report wake-up: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("report wake-up: sink answered %s", resp.Status)
	}
	return nil
}

// runBareSleeperWorker is the baseline's worker process: default worker options, like the real
// worker's, until SIGTERM.
func runBareSleeperWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := client.DialContext(ctx, client.Options{HostPort: os.Getenv("TEMPORAL_ADDRESS"), Namespace: "default", Logger: silent{}})
	if err != nil {
		return err
	}
	defer c.Close()
	w := worker.New(c, os.Getenv("RINGBACK_TASK_QUEUE"), worker.Options{})
	w.RegisterWorkflow(BareSleeper)
	w.RegisterActivity(&sleeperSink{url: os.Getenv(sleeperSinkEnv), client: &http.Client{Timeout: 10 * time.Second}})
	if err := w.Start(); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, workerRunning)
	<-ctx.Done()
	w.Stop()
	return nil
}

// ---- what arrives at the bench: texts at the Twilio fake, wake-ups at the sink ----------------

// arrivals records when each recipient ("To") was first reached, and how many posts came in.
type arrivals struct {
	mu    sync.Mutex
	first map[string]time.Time
	total int
	srv   *httptest.Server
}

// arrivalSink is where a fleet's wake-ups are counted: the bare workflows' sink, or the Twilio
// fake the conversations text.
type arrivalSink interface {
	counts() (distinct, total int)
	times() []time.Time
}

// newArrivals is the bare workflows' sink: one POST per wake-up, the recipient in To.
func newArrivals() *arrivals {
	a := &arrivals{first: map[string]time.Time{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		to := r.PostForm.Get("To")
		a.mu.Lock()
		a.total++
		if _, ok := a.first[to]; !ok {
			a.first[to] = at
		}
		a.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	return a
}

// twilioArrivals counts the texts the Twilio fake accepted, the first per recipient.
type twilioArrivals struct{ *twiliofake.Server }

func (t twilioArrivals) firsts() (map[string]time.Time, int) {
	texts := t.Texts()
	first := map[string]time.Time{}
	for _, m := range texts {
		if at, ok := first[m.To]; !ok || m.At.Before(at) {
			first[m.To] = m.At
		}
	}
	return first, len(texts)
}

func (t twilioArrivals) counts() (distinct, total int) {
	first, total := t.firsts()
	return len(first), total
}

func (t twilioArrivals) times() []time.Time {
	first, _ := t.firsts()
	return sortedTimes(first)
}

// counts returns the distinct recipients reached and the posts received.
func (a *arrivals) counts() (distinct, total int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.first), a.total
}

// times returns every recipient's first arrival, sorted.
func (a *arrivals) times() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return sortedTimes(a.first)
}

func sortedTimes(first map[string]time.Time) []time.Time {
	out := make([]time.Time, 0, len(first))
	for _, t := range first {
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y time.Time) int { return x.Compare(y) })
	return out
}

// ---- worker processes ------------------------------------------------------------------------

// workerProc is a worker running as a child process, its output in a log file.
type workerProc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	exited  chan struct{}
	waitErr error
}

// startWorkerProc starts bin with env and returns once it logs that it is polling.
func startWorkerProc(ctx context.Context, name, bin string, env []string, logPath string) (*workerProc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// Not CommandContext: stop ends the worker with SIGTERM, as an orchestrator would.
	cmd := exec.Command(bin)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start the %s worker: %w", name, err)
	}
	p := &workerProc{name: name, cmd: cmd, logPath: logPath, log: f, exited: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	err = poll(ctx, time.Minute, 100*time.Millisecond, func() (bool, error) {
		if err := p.alive(); err != nil {
			return false, err
		}
		b, err := os.ReadFile(logPath)
		return err == nil && strings.Contains(string(b), workerRunning), nil
	})
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("the %s worker did not start polling: %w", name, err)
	}
	return p, nil
}

func (p *workerProc) pid() int { return p.cmd.Process.Pid }

// alive returns an error, with the end of the worker's log, once the process has exited.
func (p *workerProc) alive() error {
	select {
	case <-p.exited:
		return fmt.Errorf("the %s worker exited (%v); the end of its log:\n%s", p.name, p.waitErr, p.logTail())
	default:
		return nil
	}
}

func (p *workerProc) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log)"
	}
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// stop sends SIGTERM, waits for a graceful exit and kills the worker if it does not come. It is
// safe to call more than once.
func (p *workerProc) stop() {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	p.log.Close()
}

// workerEnv is the parent's environment without anything that would configure the worker
// differently from what the bench sets: Ringback, Temporal and Twilio settings, and the Go
// runtime's memory knobs (the figures are for the defaults).
func workerEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "RINGBACK_"), strings.HasPrefix(k, "TEMPORAL_"), strings.HasPrefix(k, "TWILIO_"),
			k == "DATABASE_URL", k == "GOGC", k == "GOMEMLIMIT", k == "GODEBUG", k == "GOMAXPROCS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// procMemory reads a process's resident set (VmRSS) and its high-water mark (VmHWM), in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read worker memory (needs Linux /proc): %w", err)
	}
	return parseProcStatus(string(b))
}

func parseProcStatus(s string) (rss, hwm int64, err error) {
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected /proc status line %q", line)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("unexpected /proc status line %q", line)
		}
		if k == "VmRSS" {
			rss = n * 1024
		} else {
			hwm = n * 1024
		}
	}
	if rss == 0 || hwm == 0 {
		return 0, 0, errors.New("no VmRSS/VmHWM in /proc status")
	}
	return rss, hwm, nil
}

// procCPU reads the CPU time (user + system) a process has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b))
}

// clockTicks is USER_HZ, 100 on every Linux the bench runs on.
const clockTicks = 100

func parseProcStat(s string) (time.Duration, error) {
	// The command name may contain spaces and parentheses; the fields after it do not.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat")
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, errors.New("unexpected /proc stat")
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// memSample is one reading of a worker's memory.
type memSample struct {
	at       time.Time
	rss, hwm int64
}

// memSampler reads a worker's memory at a fixed period until finish.
type memSampler struct {
	mu       sync.Mutex
	samples  []memSample
	stopCh   chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func sampleMemory(pid int, every time.Duration) *memSampler {
	s := &memSampler{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, hwm, err := procMemory(pid); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, memSample{time.Now(), rss, hwm})
				s.mu.Unlock()
			}
			select {
			case <-s.stopCh:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// finish stops the sampling; it is safe to call more than once.
func (s *memSampler) finish() {
	s.stopOnce.Do(func() { close(s.stopCh) })
	<-s.done
}

// between returns the resident sets sampled in [from, to], sorted.
func (s *memSampler) between(from, to time.Time) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, m := range s.samples {
		if !m.at.Before(from) && !m.at.After(to) {
			out = append(out, m.rss)
		}
	}
	slices.Sort(out)
	return out
}

// maxHWM is the worker's high-water mark at the last sample.
func (s *memSampler) maxHWM() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m int64
	for _, x := range s.samples {
		m = max(m, x.hwm)
	}
	return m
}

// ---- fleets: units started with a wake-up instant, counted while asleep -----------------------

// sleepBatch is a set of units that fall asleep until one instant.
type sleepBatch struct {
	label string // "pilot" or "main"
	n     int
	wake  time.Time
	// key is the TenantID search attribute the batch's units carry.
	key string
	// offset is where the batch's callers begin.
	offset int
}

// sleeperFleet is one of the two things measured: bare sleepers or conversations.
type sleeperFleet interface {
	// prepare fixes b.key and b.wake (which it may move later, never earlier) before the first
	// start.
	prepare(ctx context.Context, b *sleepBatch) error
	start(ctx context.Context, b *sleepBatch, i int) error
	// asleep counts the batch's units that are waiting on their timer.
	asleep(ctx context.Context, b *sleepBatch) (int, error)
	// discard ends unit i of a calibration batch.
	discard(ctx context.Context, b *sleepBatch, i int) error
}

// countAsleep asks visibility how many of a batch's units show the quiet-hours stage and run.
func countAsleep(ctx context.Context, c client.Client, key string) (int, error) {
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TenantID = '%s' AND Stage = '%s' AND ExecutionStatus = 'Running'", key, conversation.StageQuietHours),
	})
	if err != nil {
		return 0, fmt.Errorf("count sleepers: %w", err)
	}
	return int(resp.GetCount()), nil
}

type bareFleet struct {
	c     client.Client
	queue string
	run   string
}

func (f *bareFleet) prepare(_ context.Context, b *sleepBatch) error {
	b.key = "bare-" + f.run + "-" + b.label
	return nil
}

func (f *bareFleet) id(b *sleepBatch, i int) string {
	return fmt.Sprintf("sleep/%s/%s/%d", f.run, b.label, i)
}

func (f *bareFleet) start(ctx context.Context, b *sleepBatch, i int) error {
	id := f.id(b, i)
	_, err := f.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: f.queue, TypedSearchAttributes: temporal.NewSearchAttributes(searchattr.TenantID.ValueSet(b.key)),
	}, BareSleeper, SleeperInput{ID: id, Wake: b.wake})
	return err
}

func (f *bareFleet) asleep(ctx context.Context, b *sleepBatch) (int, error) {
	return countAsleep(ctx, f.c, b.key)
}

func (f *bareFleet) discard(ctx context.Context, b *sleepBatch, i int) error {
	return f.c.TerminateWorkflow(ctx, f.id(b, i), "", "bench: calibration only")
}

// conversationFleet starts conversations as the ingress does for a missed call, for tenants
// whose texting window opens at the batch's wake-up instant.
type conversationFleet struct {
	db     *store.Store
	c      client.Client // encrypts under each tenant's key, as the starter's does
	hasher *phone.Hasher
	queue  string
	zone   callerZone
	loc    *time.Location
	// callers holds the main batch's callers, then the pilot's, so no caller is used twice.
	callers []string
	n       int                     // the main batch's size
	tenants map[string]store.Tenant // by batch label
	// window is the texting window set for each batch, by label.
	window map[string]string
}

func (f *conversationFleet) prepare(ctx context.Context, b *sleepBatch) error {
	t, ok := f.tenants[b.label]
	if !ok {
		return fmt.Errorf("no tenant for the %s batch", b.label)
	}
	b.key = t.ID
	if b.label == "pilot" {
		b.offset = f.n
	}
	now := time.Now().In(f.loc)
	open := b.wake.In(f.loc)
	if open.Truncate(time.Minute) != open {
		open = open.Truncate(time.Minute).Add(time.Minute)
	}
	if b.label == "pilot" {
		// The pilot only has to stay asleep while it is timed.
		open = now.Add(90 * time.Minute).Truncate(time.Minute)
		if latest := time.Date(now.Year(), now.Month(), now.Day(), 20, 59, 0, 0, f.loc); open.After(latest) {
			open = latest
		}
	}
	if !sameDay(now, open) || clockOf(open) < 8*60 || clockOf(open) > 20*60+59 || !open.After(now) {
		return fmt.Errorf("the texting window would open at %s local time in %s: outside 08:00–21:00, where the legal window "+
			"would decide instead; run at another hour or with fewer -sleepers", open.Format("15:04"), f.loc)
	}
	if b.label != "pilot" && clockOf(open) > 20*60 {
		return fmt.Errorf("the texting window would open at %s local time in %s, too close to 21:00 for the wake-up to drain; "+
			"run at another hour or with fewer -sleepers", open.Format("15:04"), f.loc)
	}
	window := fmt.Sprintf("%02d:%02d-21:00", open.Hour(), open.Minute())
	p, err := f.db.TenantProfile(ctx, t.ID)
	if err != nil {
		return err
	}
	p.TextingWindow = window
	if _, err := f.db.SetTenantProfile(ctx, t.ID, p); err != nil {
		return err
	}
	// The instant every conversation of the batch will compute for itself.
	d, err := quiethours.Next(time.Now(), f.callers[b.offset], quiethours.Policy{
		TenantTimezone: t.Timezone, Start: quiethours.At(open.Hour(), open.Minute()), End: quiethours.At(21, 0)})
	if err != nil {
		return err
	}
	if d.Allowed || !d.At.Equal(open) {
		return fmt.Errorf("texting window %s: quiet hours give %v (allowed %v), want %v", window, d.At, d.Allowed, open)
	}
	b.wake = open
	f.window[b.label] = window
	return nil
}

func (f *conversationFleet) workflowID(b *sleepBatch, i int) (string, string, error) {
	caller := f.callers[b.offset+i]
	hash := f.hasher.Hash(caller)
	id, err := workflows.ConversationWorkflowID(f.tenants[b.label].ID, hash)
	return id, hash, err
}

// start opens unit i's conversation exactly as ingress.handleCallOutcome does for a missed call.
func (f *conversationFleet) start(ctx context.Context, b *sleepBatch, i int) error {
	t := f.tenants[b.label]
	id, hash, err := f.workflowID(b, i)
	if err != nil {
		return err
	}
	call := workflows.MissedCall{CallSid: "CA" + randomHex(16), Status: "no-answer", At: time.Now().UTC()}
	input := workflows.ConversationInput{
		TenantID: t.ID, Caller: f.callers[b.offset+i], CallerHash: hash, BusinessNumber: t.Numbers[0],
		Trigger: conversation.TriggerMissedCall, FirstCall: &call, IdleTimeout: conversationIdle,
	}
	_, err = f.c.SignalWithStartWorkflow(ctx, id, workflows.SignalMissedCall, call, client.StartWorkflowOptions{
		ID: id, TaskQueue: f.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(searchattr.TenantID.ValueSet(t.ID)),
	}, workflows.Conversation, input)
	if err != nil {
		return fmt.Errorf("start conversation: %w", err)
	}
	return nil
}

func (f *conversationFleet) asleep(ctx context.Context, b *sleepBatch) (int, error) {
	return countAsleep(ctx, f.c, b.key)
}

func (f *conversationFleet) discard(ctx context.Context, b *sleepBatch, i int) error {
	id, _, err := f.workflowID(b, i)
	if err != nil {
		return err
	}
	return f.c.TerminateWorkflow(ctx, id, "", "bench: calibration only")
}

func clockOf(t time.Time) int { return t.Hour()*60 + t.Minute() }

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// ---- callers ------------------------------------------------------------------------------------

// callerZone is a place whose numbers all map to one time zone with no stricter state rule.
type callerZone struct {
	desc string
	zone string
	// candidate returns the k-th number to try, or "" when there are no more.
	candidate func(k int) string
}

// callerZones are tried in order; one of them is always in daytime (08:00–19:00), whatever the
// hour and daylight saving: New York covers 13:00–24:00 UTC in winter, London 08:00–19:00,
// Tokyo 23:00–10:00.
var callerZones = []callerZone{
	{"Eastern US area codes (555-0100…0199 lines)", "America/New_York", func(k int) string {
		// NANP area codes 201–989; the 555-01xx lines are reserved for fiction.
		area := 201 + k/100
		if area > 989 {
			return ""
		}
		return fmt.Sprintf("+1%03d555%04d", area, 100+k%100)
	}},
	{"London (+44 20 7946 … 7948 …)", "Europe/London", func(k int) string {
		if k >= 30_000 {
			return ""
		}
		return fmt.Sprintf("+4420794%d%04d", 6+k/10_000, k%10_000)
	}},
	{"Tokyo (+81 3 5550 … 5552 …)", "Asia/Tokyo", func(k int) string {
		if k >= 30_000 {
			return ""
		}
		return fmt.Sprintf("+813555%d%04d", k/10_000, k%10_000)
	}},
}

// pickCallerZone returns the first zone where it is between 08:00 and 19:00 at now, which leaves
// the texting window room to open in the future and the wake-up time to drain before 21:00.
func pickCallerZone(now time.Time) (callerZone, *time.Location, error) {
	for _, z := range callerZones {
		loc, err := time.LoadLocation(z.zone)
		if err != nil {
			return callerZone{}, nil, err
		}
		if h := now.In(loc).Hour(); h >= 8 && h < 19 {
			return z, loc, nil
		}
	}
	return callerZone{}, nil, fmt.Errorf("no caller zone is in daytime at %s", now.UTC().Format(time.RFC3339))
}

// zoneCallers returns n distinct valid numbers of z, each located by internal/quiethours in z's
// zone alone, with no state rule.
func zoneCallers(z callerZone, n int, now time.Time) ([]string, error) {
	out := make([]string, 0, n)
	seen := map[string]bool{}
	for k := 0; len(out) < n; k++ {
		c := z.candidate(k)
		if c == "" {
			return nil, fmt.Errorf("only %d distinct callers available in %s, need %d: lower -sleepers", len(out), z.desc, n)
		}
		if e164, err := phone.Normalize(c); err != nil || e164 != c || seen[c] {
			continue
		}
		d, err := quiethours.Next(now, c, quiethours.Policy{TenantTimezone: z.zone})
		if err != nil || d.Fallback != "" || d.State != "" || len(d.Zones) != 1 || d.Zones[0] != z.zone {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// ---- the measurement of one fleet ---------------------------------------------------------------

// fleetFigures is what one fleet measured.
type fleetFigures struct {
	n            int
	pilot        int
	idleRSS      int64   // the worker's resident set before the first start
	pilotRate    float64 // units asleep per second in the calibration
	sleepRate    float64 // units asleep per second, first start to all asleep
	wake         time.Time
	asleepRSS    []int64 // sorted samples while every unit slept
	asleepFor    time.Duration
	asleepCPU    float64 // share of one core while every unit slept
	wakeRSSPeak  int64
	hwm          int64
	firstAfter   time.Duration // first arrival after the wake-up instant
	drainedIn    time.Duration // last arrival after the wake-up instant
	rate         float64       // arrivals per second, first to last
	medianSecond float64       // median count of the full one-second buckets
	reached      int           // distinct recipients
	early        int           // arrivals before the wake-up instant
	lost, twice  int
	sinceWake    []time.Duration // each recipient's first arrival from the wake-up instant (early: negative), sorted
}

func pilotSize(n int) int { return min(n, max(50, min(400, n/25))) }

// forEach calls fn for units [0, n) with conc in flight and stops at the first error; done
// counts the calls that succeeded.
func forEach(ctx context.Context, n, conc int, done *atomic.Int64, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(fmt.Errorf("unit %d: %w", i, err))
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// putToSleep starts batch b and returns once every unit is asleep, or an error at deadline.
func putToSleep(ctx context.Context, name string, f sleeperFleet, w *workerProc, b *sleepBatch, conc int, deadline time.Time) (time.Duration, error) {
	var started atomic.Int64
	t0 := time.Now()
	startErr := make(chan error, 1)
	go func() {
		err := forEach(ctx, b.n, conc, &started, func(ctx context.Context, i int) error { return f.start(ctx, b, i) })
		if err != nil {
			err = fmt.Errorf("start the %s batch: %w", b.label, err)
		}
		startErr <- err
	}()
	lastPrint := time.Now()
	startsDone := false
	for {
		select {
		case err := <-startErr:
			if err != nil {
				return 0, err
			}
			startsDone = true
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
		if err := w.alive(); err != nil {
			return 0, err
		}
		n, err := f.asleep(ctx, b)
		if err != nil {
			return 0, err
		}
		if startsDone && n >= b.n {
			return time.Since(t0), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s %s: %d of %d started, %d asleep by %s", name, b.label, started.Load(), b.n, n, deadline.Format("15:04:05"))
		}
		if time.Since(lastPrint) >= 5*time.Second {
			lastPrint = time.Now()
			fmt.Fprintf(os.Stderr, "  %s %s: %d/%d started, %d asleep (%.1f/s)\n", name, b.label, started.Load(), b.n, n,
				float64(n)/time.Since(t0).Seconds())
		}
	}
}

// measureFleet calibrates the fleet's start rate with a pilot batch, puts n units to sleep until
// an instant that leaves every one of them time to fall asleep, samples the worker's memory while
// they sleep, and times the drain when they wake.
func measureFleet(ctx context.Context, name string, f sleeperFleet, w *workerProc, sink arrivalSink, n, conc int) (fleetFigures, error) {
	fig := fleetFigures{n: n, pilot: pilotSize(n)}
	idle, _, err := procMemory(w.pid())
	if err != nil {
		return fig, err
	}
	fig.idleRSS = idle
	pilot := &sleepBatch{label: "pilot", n: fig.pilot, wake: time.Now().Add(time.Hour)}
	if err := f.prepare(ctx, pilot); err != nil {
		return fig, err
	}
	fmt.Fprintf(os.Stderr, "%s: timing a pilot of %d to choose the wake-up instant…\n", name, pilot.n)
	took, err := putToSleep(ctx, name, f, w, pilot, conc, time.Now().Add(5*time.Minute))
	if err != nil {
		return fig, err
	}
	fig.pilotRate = float64(pilot.n) / took.Seconds()
	var ended atomic.Int64
	if err := forEach(ctx, pilot.n, conc, &ended, func(ctx context.Context, i int) error { return f.discard(ctx, pilot, i) }); err != nil {
		return fig, fmt.Errorf("end the pilot: %w", err)
	}

	// The headroom is for a fleet that slows as it grows: ten thousand starts compete with the
	// workflow tasks that put the first ones to sleep for the dev server's single SQLite file, and
	// on this machine the main batch fell asleep at under 0.8× the pilot's rate. Waiting longer
	// costs only idle time, which is when the asleep memory is sampled anyway.
	estimate := time.Duration(2.5*float64(n)/fig.pilotRate*float64(time.Second)) + time.Minute
	main := &sleepBatch{label: "main", n: n, wake: time.Now().Add(estimate)}
	if err := f.prepare(ctx, main); err != nil {
		return fig, err
	}
	fig.wake = main.wake
	fmt.Fprintf(os.Stderr, "%s: putting %d to sleep until %s (pilot: %.1f/s)…\n", name, n, main.wake.Format("15:04:05"), fig.pilotRate)
	mem := sampleMemory(w.pid(), 250*time.Millisecond)
	defer mem.finish()
	took, err = putToSleep(ctx, name, f, w, main, conc, main.wake.Add(-2*time.Second))
	if err != nil {
		return fig, fmt.Errorf("not every unit was asleep before the wake-up instant: %w", err)
	}
	fig.sleepRate = float64(n) / took.Seconds()
	// The last timers are set a task after the stage is shown.
	cpuFrom := time.Now()
	settled := cpuFrom.Add(time.Second)
	cpu0, err := procCPU(w.pid())
	if err != nil {
		return fig, err
	}
	fmt.Fprintf(os.Stderr, "%s: all %d asleep after %s; waking at %s\n", name, n, took.Round(time.Second), main.wake.Format("15:04:05"))
	if err := sleepUntil(ctx, main.wake); err != nil {
		return fig, err
	}
	cpu1, err := procCPU(w.pid())
	if err != nil {
		return fig, err
	}
	fig.asleepRSS = mem.between(settled, main.wake)
	fig.asleepFor = main.wake.Sub(settled)
	fig.asleepCPU = float64(cpu1-cpu0) / float64(main.wake.Sub(cpuFrom))

	// The drain: until every unit has arrived or nothing arrives for drainStall.
	lastCount, lastProgress, lastPrint := 0, time.Now(), time.Now()
	for {
		if err := w.alive(); err != nil {
			return fig, err
		}
		got, _ := sink.counts()
		if got >= n {
			break
		}
		if got != lastCount {
			lastCount, lastProgress = got, time.Now()
		}
		if time.Since(lastProgress) > drainStall {
			fmt.Fprintf(os.Stderr, "%s: nothing arrived for %v; %d of %d reached\n", name, drainStall, got, n)
			break
		}
		if time.Since(lastPrint) >= 5*time.Second {
			lastPrint = time.Now()
			fmt.Fprintf(os.Stderr, "  %s wake-up: %d/%d reached\n", name, got, n)
		}
		select {
		case <-ctx.Done():
			return fig, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	// A duplicate would come from a retried activity; give a straggler a moment to show.
	if err := sleepUntil(ctx, time.Now().Add(2*time.Second)); err != nil {
		return fig, err
	}
	drainEnd := time.Now()
	mem.finish()
	wakeRSS := mem.between(main.wake, drainEnd)
	if len(wakeRSS) > 0 {
		fig.wakeRSSPeak = wakeRSS[len(wakeRSS)-1]
	}
	fig.hwm = mem.maxHWM()

	distinct, total := sink.counts()
	fig.reached, fig.lost, fig.twice = distinct, n-distinct, total-distinct
	times := sink.times()
	for _, t := range times {
		if t.Before(main.wake) {
			fig.early++
		}
		fig.sinceWake = append(fig.sinceWake, t.Sub(main.wake))
	}
	if len(times) > 0 {
		first, last := times[0], times[len(times)-1]
		fig.firstAfter, fig.drainedIn = first.Sub(main.wake), last.Sub(main.wake)
		if span := last.Sub(first); span > 0 {
			fig.rate = float64(len(times)) / span.Seconds()
		}
		fig.medianSecond = medianPerSecond(times)
	}
	fmt.Fprintf(os.Stderr, "%s: drained %d in %s (%.1f/s)\n", name, distinct, fig.drainedIn.Round(time.Millisecond), fig.rate)
	if fig.lost > 0 || fig.twice > 0 || fig.early > 0 {
		fmt.Fprintf(os.Stderr, "%s: %d lost, %d twice, %d early; the end of the worker's log:\n%s\n", name, fig.lost, fig.twice, fig.early, w.logTail())
	}
	return fig, nil
}

// medianPerSecond counts sorted arrivals in one-second buckets from the first and returns the
// median of the full buckets (the last, partial one is left out); with none full, the rate over
// the whole span.
func medianPerSecond(times []time.Time) float64 {
	if len(times) < 2 {
		return 0
	}
	first := times[0]
	full := int(times[len(times)-1].Sub(first) / time.Second)
	if full == 0 {
		return float64(len(times)) / times[len(times)-1].Sub(first).Seconds()
	}
	counts := make([]float64, full)
	for _, t := range times {
		if k := int(t.Sub(first) / time.Second); k < full {
			counts[k]++
		}
	}
	slices.Sort(counts)
	if full%2 == 1 {
		return counts[full/2]
	}
	return (counts[full/2-1] + counts[full/2]) / 2
}

func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// poll calls cond every period until it holds, returns an error, or timeout passes.
func poll(ctx context.Context, timeout, period time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(period):
		}
	}
}

// ---- the section ------------------------------------------------------------------------------

// quietReport measures both fleets on the dev server at hostPort, with a database of its own on
// adminURL, and returns its section of the report ("" when -sleepers is 0), its chart queued in
// charts.
func quietReport(ctx context.Context, hostPort, adminURL, storage string, charts *chartSet) (string, error) {
	n := *sleepers
	if *quick && !flagSet("sleepers") {
		n = 1_000
	}
	if n == 0 {
		return "", nil
	}
	if n < 0 || *sleeperStarts < 1 {
		return "", errors.New("-sleepers must be positive (0 skips) and -sleeper-concurrency at least 1")
	}
	conc := *sleeperStarts
	started := time.Now()
	loadBefore := loadAverage()

	tmp, err := os.MkdirTemp("", "ringback-bench-quiet-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	logDir := tmp
	if *workerLogs != "" {
		logDir = *workerLogs
		if err := os.MkdirAll(logDir, 0o755); err != nil {
			return "", err
		}
	}
	fmt.Fprintln(os.Stderr, "quiet hours: building the worker…")
	workerBin := filepath.Join(tmp, "worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", workerBin, "github.com/ringback/ringback/worker")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the worker: %w\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}

	dbURL, drop, err := freshDatabase(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer drop()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return "", err
	}
	signer, _, err := auditlog.NewSigner(config.DevAuditSigningKey)
	if err != nil {
		return "", err
	}
	db.SetAuditSigner(signer)
	keys, err := keyring.New([]byte(quietMasterKey), db)
	if err != nil {
		return "", err
	}
	plain, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: "default", Logger: silent{}})
	if err != nil {
		return "", err
	}
	defer plain.Close()
	sealed, err := client.DialContext(ctx, temporalclient.WithCodec(client.Options{HostPort: hostPort, Namespace: "default", Logger: silent{}},
		codec.New(keys, workflows.KeyScope)))
	if err != nil {
		return "", err
	}
	defer sealed.Close()
	hasher, err := phone.NewHasher([]byte(quietHashKey))
	if err != nil {
		return "", err
	}
	run := randomHex(4)

	// The baseline first: the real fleet then runs on a server that already holds it, which
	// can only flatter the baseline.
	var bf fleetFigures
	if *quietBaseline {
		sink := newArrivals()
		defer sink.srv.Close()
		bareQueue := "bench-sleep-bare-" + run
		bw, err := startWorkerProc(ctx, "bare", self, workerEnv(benchRoleEnv+"="+bareSleeperRole, "TEMPORAL_ADDRESS="+hostPort,
			"RINGBACK_TASK_QUEUE="+bareQueue, sleeperSinkEnv+"="+sink.srv.URL), filepath.Join(logDir, "bare-worker.log"))
		if err != nil {
			return "", err
		}
		defer bw.stop()
		bf, err = measureFleet(ctx, "bare engine", &bareFleet{c: plain, queue: bareQueue, run: run}, bw, sink, n, conc)
		if err != nil {
			return "", fmt.Errorf("bare sleepers: %w", err)
		}
		bw.stop()
	}

	zone, loc, err := pickCallerZone(time.Now())
	if err != nil {
		return "", err
	}
	callers, err := zoneCallers(zone, n+pilotSize(n), time.Now())
	if err != nil {
		return "", err
	}
	tenants := map[string]store.Tenant{}
	for label, number := range map[string]string{"main": "+15005550006", "pilot": "+15005550007"} {
		t, err := db.CreateTenant(ctx, tenantspec.Spec{Name: "Bench Quiet Hours " + label, Numbers: []string{number},
			Timezone: zone.zone, OwnerPhone: "+16145550100"})
		if err != nil {
			return "", fmt.Errorf("create the %s tenant: %w", label, err)
		}
		tenants[label] = t
	}
	twilio := twilioArrivals{twiliofake.New(accountSID, authToken)}
	defer twilio.Close()
	realQueue := "bench-sleep-real-" + run
	realEnv := []string{
		"RINGBACK_ENV=dev", "DATABASE_URL=" + dbURL, "TEMPORAL_ADDRESS=" + hostPort, "TEMPORAL_NAMESPACE=default",
		"RINGBACK_TASK_QUEUE=" + realQueue, "TWILIO_ACCOUNT_SID=" + accountSID, "TWILIO_AUTH_TOKEN=" + authToken,
		"TWILIO_API_URL=" + twilio.URL, "RINGBACK_PHONE_HASH_KEY=" + quietHashKey, "RINGBACK_MODEL_URL=none",
		"RINGBACK_QUIET_HOURS=enforce", "RINGBACK_MASTER_KEY=" + base64.StdEncoding.EncodeToString([]byte(quietMasterKey)),
	}
	realEnv = append(realEnv, workerExtra...)
	// What the worker will read from that environment, for the report (its cache size).
	realCfg, err := config.Load(lookupEnv(realEnv), config.Worker)
	if err != nil {
		return "", fmt.Errorf("the worker's environment: %w", err)
	}
	rw, err := startWorkerProc(ctx, "ringback", workerBin, workerEnv(realEnv...), filepath.Join(logDir, "worker.log"))
	if err != nil {
		return "", err
	}
	defer rw.stop()
	fleet := &conversationFleet{db: db, c: sealed, hasher: hasher, queue: realQueue, zone: zone, loc: loc,
		callers: callers, n: n, tenants: tenants, window: map[string]string{}}
	rf, err := measureFleet(ctx, "ringback", fleet, rw, twilio, n, conc)
	if err != nil {
		return "", fmt.Errorf("conversations: %w", err)
	}
	rw.stop()
	if !*quietBaseline {
		var asleepMedian int64 // the samples are sorted
		if len(rf.asleepRSS) > 0 {
			asleepMedian = rf.asleepRSS[len(rf.asleepRSS)/2]
		}
		fmt.Fprintf(os.Stderr, "conversations alone (no baseline): asleep at %.1f/s, RSS asleep median %d MB, wake-up peak %d MB, "+
			"first text %s after the wake-up, drained in %s (%.1f/s, median second %.0f), %d lost, %d twice, %d early\n",
			rf.sleepRate, asleepMedian/1e6, rf.wakeRSSPeak/1e6, rf.firstAfter.Round(time.Millisecond), rf.drainedIn.Round(time.Millisecond),
			rf.rate, rf.medianSecond, rf.lost, rf.twice, rf.early)
		return "", nil
	}

	drain := charts.add("wakeup-drain.png", "Wake-up drain", func(path string) error {
		return drainChart(path, n, bf.sinceWake, rf.sinceWake)
	})
	return renderQuiet(quietRun{n: n, conc: conc, storage: storage, started: started, loadBefore: loadBefore, loadAfter: loadAverage(),
		zone: zone, loc: loc, window: fleet.window["main"], cacheSize: realCfg.WorkflowCacheSize, concurrency: realCfg.WorkerConcurrency, bare: bf, real: rf,
		charts: drain}), nil
}

// lookupEnv reads settings from KEY=VALUE pairs.
func lookupEnv(env []string) config.Lookup {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return config.FromMap(m)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

type quietRun struct {
	n, conc               int
	storage               string
	started               time.Time
	loadBefore, loadAfter string
	zone                  callerZone
	loc                   *time.Location
	window                string
	cacheSize             int // the Ringback worker's sticky cache, in workflow executions
	concurrency           int // the Ringback worker's workflow tasks in flight
	bare, real            fleetFigures
	charts                string // the markdown that shows the section's chart, or ""
}

func renderQuiet(r quietRun) string {
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }
	median := func(s []int64) int64 {
		if len(s) == 0 {
			return 0
		}
		return s[len(s)/2]
	}
	peak := func(s []int64) int64 {
		if len(s) == 0 {
			return 0
		}
		return s[len(s)-1]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	b, c := r.bare, r.real
	var s strings.Builder
	fmt.Fprintf(&s, "# Performance: conversations asleep in quiet hours, and their wake-up\n\n")
	fmt.Fprintf(&s, "Measured %s on %s (%d cores, %s/%s), %s, on the same Temporal dev server (%s) as the first section, "+
		"in the same process run, with a PostgreSQL database of its own; load average %s before, %s after; this section took %s. "+
		"The baseline and Ringback ran one after the other in this run, baseline first, each on a worker of its own in a "+
		"separate process with the Go runtime's default GC settings; the resident set is that "+
		"process's alone, read from /proc every 250 ms. The bare worker has the SDK's default options, among them a sticky "+
		"cache of 10,000 workflow executions; the Ringback worker has its own defaults: a cache of %d (RINGBACK_WORKFLOW_CACHE_SIZE), "+
		"so with more conversations than that asleep the rest are evicted and replayed from their histories when they wake, "+
		"%d workflow tasks in flight (RINGBACK_WORKER_CONCURRENCY) and separate pollers for its sticky and normal queues.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(),
		r.storage, r.loadBefore, r.loadAfter, fmt.Sprintf("%.0f min", time.Since(r.started).Minutes()), r.cacheSize, r.concurrency)
	fmt.Fprintf(&s, "- **Baseline**: %d bare workflows (this bench binary re-executed as their worker) each set one search "+
		"attribute, sleep on one durable timer until the same instant, and run one activity that POSTs to the bench.\n", b.n)
	fmt.Fprintf(&s, "- **Ringback**: %d conversations on the real `worker` binary (RINGBACK_QUIET_HOURS=enforce, scripted flow, "+
		"every payload AES-256-GCM encrypted under the tenant's key), each started for a missed call exactly as the ingress starts "+
		"one (SignalWithStart, same ID, options and input), from callers in %s, time zone %s. The tenant's texting window was set to `%s`, "+
		"so each conversation opens, records the call, finds the caller's window closed, shows `Stage = quiet_hours` and sleeps "+
		"on its durable timer; at %s local time the window opens and each sends its first text to a Twilio fake.\n",
		c.n, r.zone.desc, r.loc, r.window, c.wake.In(r.loc).Format("15:04"))
	fmt.Fprintf(&s, "- Units are started with %d in flight and counted asleep through visibility (`Stage = 'quiet_hours'`). "+
		"The wake-up instant is chosen from a timed pilot (%d units for a separate tenant or batch, then terminated) so that the "+
		"last unit is asleep before it; every arrival is checked to come after it.\n\n", r.conc, c.pilot)

	fmt.Fprintf(&s, "| figure | bare engine (timer → one activity) | Ringback (missed call → quiet hours → first text) |\n|---|---|---|\n")
	fmt.Fprintf(&s, "| units asleep at once | %d | %d |\n", b.n, c.n)
	fmt.Fprintf(&s, "| put to sleep, first start → all asleep | %.1f /s | %.1f /s |\n", b.sleepRate, c.sleepRate)
	fmt.Fprintf(&s, "| worker RSS idle, before the first start | %s | %s |\n", mb(b.idleRSS), mb(c.idleRSS))
	fmt.Fprintf(&s, "| worker RSS while all asleep, median / peak | %s / %s | %s / %s |\n",
		mb(median(b.asleepRSS)), mb(peak(b.asleepRSS)), mb(median(c.asleepRSS)), mb(peak(c.asleepRSS)))
	fmt.Fprintf(&s, "| (samples while all asleep, over) | %d, %.0f s | %d, %.0f s |\n", len(b.asleepRSS), b.asleepFor.Seconds(), len(c.asleepRSS), c.asleepFor.Seconds())
	perUnit := func(f fleetFigures) string {
		return fmt.Sprintf("%.0f kB", float64(median(f.asleepRSS)-f.idleRSS)/float64(f.n)/1e3)
	}
	fmt.Fprintf(&s, "| of which per sleeping unit, (median − idle) ÷ units | %s | %s |\n", perUnit(b), perUnit(c))
	fmt.Fprintf(&s, "| worker CPU while all asleep | %.1f%% of a core | %.1f%% of a core |\n", b.asleepCPU*100, c.asleepCPU*100)
	fmt.Fprintf(&s, "| worker RSS peak during the wake-up | %s | %s |\n", mb(b.wakeRSSPeak), mb(c.wakeRSSPeak))
	fmt.Fprintf(&s, "| worker VmHWM (high-water mark, start to drained) | %s | %s |\n", mb(b.hwm), mb(c.hwm))
	fmt.Fprintf(&s, "| first arrival after the wake-up instant | %s | %s |\n", ms(b.firstAfter), ms(c.firstAfter))
	fmt.Fprintf(&s, "| last arrival after the wake-up instant (all drained) | %.1f s | %.1f s |\n", b.drainedIn.Seconds(), c.drainedIn.Seconds())
	fmt.Fprintf(&s, "| drain rate, first → last arrival | %.1f workflows/s | %.1f texts/s |\n", b.rate, c.rate)
	fmt.Fprintf(&s, "| drain rate, median full second | %.0f /s | %.0f /s |\n", b.medianSecond, c.medianSecond)
	fromWake := func(f fleetFigures) float64 {
		if f.drainedIn <= 0 {
			return 0
		}
		return float64(f.reached) / f.drainedIn.Seconds()
	}
	fmt.Fprintf(&s, "| drain rate from the wake-up instant, units ÷ time to the last | %.1f /s | %.1f /s (%.0f%% of the baseline's) |\n",
		fromWake(b), fromWake(c), 100*fromWake(c)/max(fromWake(b), 1e-9))
	fmt.Fprintf(&s, "| reached / lost / reached twice / early | %d / %d / %d / %d | %d / %d / %d / %d |\n\n",
		b.reached, b.lost, b.twice, b.early, c.reached, c.lost, c.twice, c.early)
	s.WriteString(r.charts)

	ratio := 0.0
	if b.rate > 0 {
		ratio = c.rate / b.rate
	}
	rssStatus := verdict(c.n >= quietTargetSleepers && peak(c.asleepRSS) > 0 && peak(c.asleepRSS) <= quietTargetRSS)
	if c.n < quietTargetSleepers {
		rssStatus = fmt.Sprintf("not assessed (%d asleep; the target is for 10,000)", c.n)
	}
	lostOK := c.lost == 0 && c.twice == 0 && c.early == 0
	fmt.Fprintf(&s, "| target | figure | status |\n|---|---|---|\n")
	fmt.Fprintf(&s, "| 10,000 conversations asleep in quiet hours, worker RSS ≤ 300 MB | %d asleep, peak %s (median %s) | %s |\n",
		c.n, mb(peak(c.asleepRSS)), mb(median(c.asleepRSS)), rssStatus)
	fmt.Fprintf(&s, "| their wake-up drained at ≥ 70%% of bare-engine workflows/s | %.0f%% (%.1f texts/s ÷ %.1f workflows/s) | %s |\n",
		ratio*100, c.rate, b.rate, verdict(ratio >= quietTargetDrain))
	fmt.Fprintf(&s, "| none lost | %d of %d texted, %d lost, %d texted twice, %d before the window opened | %s |\n\n",
		c.reached, c.n, c.lost, c.twice, c.early, verdict(lostOK))
	fmt.Fprintf(&s, "After its timer fires, each conversation re-checks the caller's window and consent (a local activity), "+
		"records the stage change in its own schema and claims an outbox row before the text goes out; the baseline runs "+
		"one activity.\n\n")
	fmt.Fprintf(&s, "Reproduce: `make bench` (or `go run ./bench -sleepers %d`), which runs everything in this file; "+
		"`-sleepers N` sets the size of both fleets, `-quick` makes it 1,000 and `-sleepers 0` skips this section.\n", c.n)
	return s.String()
}
