package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/internal/stdwebhook"
)

const (
	testSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	payloadMarker = "PAYLOAD-MARKER-5551234"
	queryToken    = "QUERY-TOKEN-abc123"
)

var occurred = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// stepClock advances by step on every reading, as wall time does between retries.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *stepClock) Current() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type received struct {
	header    http.Header
	body      []byte
	verifyErr error
}

// receiver is a tenant's endpoint: it verifies each request with stdwebhook.Verify against now,
// records it, and answers the next status in statuses (repeating the last).
type receiver struct {
	now func() time.Time

	mu       sync.Mutex
	statuses []int
	got      []received
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	status := http.StatusNoContent
	if len(r.statuses) > 0 {
		status = r.statuses[0]
		if len(r.statuses) > 1 {
			r.statuses = r.statuses[1:]
		}
	}
	r.got = append(r.got, received{header: req.Header.Clone(), body: body, verifyErr: stdwebhook.Verify(testSecret, req.Header, body, r.now(), 0)})
	r.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"echo":"` + payloadMarker + `"}`))
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func newReceiver(t *testing.T, statuses ...int) (*receiver, *httptest.Server) {
	t.Helper()
	r := &receiver{now: time.Now, statuses: statuses}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func delivery(url string) Delivery {
	return Delivery{
		TenantID:   "t_42",
		URL:        url + "/hooks/t_42?token=" + queryToken,
		Secret:     testSecret,
		ID:         "evt_booking_created_b_17",
		Type:       "booking.created",
		Payload:    json.RawMessage(`{"booking_id":"b_17","note":"` + payloadMarker + `"}`),
		OccurredAt: occurred,
	}
}

func appError(err error) *temporal.ApplicationError {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

func TestDeliverSuccess(t *testing.T) {
	rec, srv := newReceiver(t, http.StatusOK)
	d := &Deliverer{AllowPrivate: true}
	res, err := d.Deliver(context.Background(), delivery(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	got := rec.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	r := got[0]
	if r.verifyErr != nil {
		t.Fatalf("receiver could not verify: %v", r.verifyErr)
	}
	want := `{"type":"booking.created","timestamp":"2026-03-01T10:00:00Z","data":{"booking_id":"b_17","note":"` + payloadMarker + `"}}`
	if string(r.body) != want {
		t.Fatalf("body\n got %s\nwant %s", r.body, want)
	}
	if r.header.Get(stdwebhook.HeaderID) != "evt_booking_created_b_17" {
		t.Fatalf("webhook-id %q", r.header.Get(stdwebhook.HeaderID))
	}
	if r.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(r.header.Get("User-Agent"), "Ringback-Webhooks/") {
		t.Fatalf("headers %v", r.header)
	}
	if res.SignedAt.Unix() == 0 || r.header.Get(stdwebhook.HeaderTimestamp) == "" {
		t.Fatal("no signing time")
	}
}

func TestBuildBodyIsStable(t *testing.T) {
	in := delivery("https://example.com")
	in.Payload = json.RawMessage(" {\n \"b\" : \"<&>\", \"a\": [1, 2] }\n")
	in.OccurredAt = time.Date(2026, 3, 1, 11, 30, 0, 123000000, time.FixedZone("CET", 3600))
	a, err := buildBody(in)
	if err != nil {
		t.Fatal(err)
	}
	// What Temporal hands the activity on a retry is the input after a JSON round trip.
	raw, _ := json.Marshal(in)
	var again Delivery
	if err := json.Unmarshal(raw, &again); err != nil {
		t.Fatal(err)
	}
	b, err := buildBody(again)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"booking.created","timestamp":"2026-03-01T10:30:00.123Z","data":{"b":"\u003c\u0026\u003e","a":[1,2]}}`
	if string(a) != want || !bytes.Equal(a, b) {
		t.Fatalf("bodies\n %s\n %s\nwant %s", a, b, want)
	}
}

// deliverWorkflow runs the activity the way the workflows will: with ActivityOptions.
func deliverWorkflow(ctx workflow.Context, in Delivery) (Result, error) {
	o := ActivityOptions()
	// The test environment caps "unlimited" attempts at 10; production has no cap but the
	// DeliveryWindow, which a cap this high leaves to do the bounding here too.
	o.RetryPolicy.MaximumAttempts = 1000
	ctx = workflow.WithActivityOptions(ctx, o)
	var d *Deliverer
	var r Result
	err := workflow.ExecuteActivity(ctx, d.Deliver, in).Get(ctx, &r)
	return r, err
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newWorkflowEnv(t *testing.T, d *Deliverer) (*testsuite.TestWorkflowEnvironment, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(logs, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(deliverWorkflow)
	env.RegisterActivity(d)
	return env, logs
}

// Retries are the same message: same webhook-id, byte-identical body, and each attempt signed
// afresh so that it passes the receiver's replay window when it arrives.
func TestRetriesResendSameMessageWithFreshSignatures(t *testing.T) {
	clock := &stepClock{t: occurred, step: 10 * time.Minute}
	rec, srv := newReceiver(t, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusOK)
	rec.now = clock.Current
	d := &Deliverer{AllowPrivate: true, Now: clock.Now}
	env, logs := newWorkflowEnv(t, d)

	env.ExecuteWorkflow(deliverWorkflow, delivery(srv.URL))
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed %v, err %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var res Result
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Attempt != 3 || res.StatusCode != http.StatusOK {
		t.Fatalf("result %+v, want attempt 3 with 200", res)
	}

	got := rec.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	seenTS := map[string]bool{}
	for i, r := range got {
		if r.verifyErr != nil {
			t.Fatalf("attempt %d did not verify on arrival: %v", i+1, r.verifyErr)
		}
		if r.header.Get(stdwebhook.HeaderID) != got[0].header.Get(stdwebhook.HeaderID) {
			t.Fatalf("attempt %d changed webhook-id", i+1)
		}
		if !bytes.Equal(r.body, got[0].body) {
			t.Fatalf("attempt %d changed the body", i+1)
		}
		ts := r.header.Get(stdwebhook.HeaderTimestamp)
		if seenTS[ts] {
			t.Fatalf("attempt %d reused webhook-timestamp %s", i+1, ts)
		}
		seenTS[ts] = true
	}
	if got[0].header.Get(stdwebhook.HeaderSignature) == got[2].header.Get(stdwebhook.HeaderSignature) {
		t.Fatal("signature not refreshed")
	}
	// Re-sending the first attempt's headers now would be refused as a replay.
	if err := stdwebhook.Verify(testSecret, got[0].header, got[0].body, clock.Current(), 0); !errors.Is(err, stdwebhook.ErrTimestamp) {
		t.Fatalf("stale first attempt: %v, want ErrTimestamp", err)
	}

	out := logs.String()
	if !strings.Contains(out, "webhook delivered") || !strings.Contains(out, "webhook attempt refused") {
		t.Fatalf("expected attempt logs, got:\n%s", out)
	}
	assertClean(t, "logs", webhookLines(out))
}

// With the endpoint down for good, the policy keeps trying, at most hourly, for three days.
func TestRetryPolicySpansThreeDays(t *testing.T) {
	rec, srv := newReceiver(t, http.StatusBadGateway)
	d := &Deliverer{AllowPrivate: true}
	env, _ := newWorkflowEnv(t, d)
	start := env.Now()
	env.ExecuteWorkflow(deliverWorkflow, delivery(srv.URL))
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("expected failure after the delivery window")
	}
	if ae := appError(err); ae != nil && ae.NonRetryable() {
		t.Fatalf("5xx marked non-retryable: %v", err)
	}
	elapsed := env.Now().Sub(start)
	n := len(rec.requests())
	t.Logf("%d attempts over %v", n, elapsed)
	// 30s, 1m, 2m … 32m, then hourly: about 78 attempts before 72 h run out.
	if n < 70 || n > 80 || elapsed < 70*time.Hour || elapsed > DeliveryWindow {
		t.Fatalf("%d attempts over %v", n, elapsed)
	}
}

func TestDeliverGoneIsFinal(t *testing.T) {
	rec, srv := newReceiver(t, http.StatusGone)
	env, _ := newWorkflowEnv(t, &Deliverer{AllowPrivate: true})
	env.ExecuteWorkflow(deliverWorkflow, delivery(srv.URL))
	err := env.GetWorkflowError()
	ae := appError(err)
	if ae == nil || ae.Type() != ErrTypeGone || !ae.NonRetryable() {
		t.Fatalf("err = %v, want non-retryable %s", err, ErrTypeGone)
	}
	var status int
	if err := ae.Details(&status); err != nil || status != http.StatusGone {
		t.Fatalf("details %d, %v", status, err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Fatalf("%d attempts after 410, want 1", n)
	}
}

func TestDeliverClassifiesStatus(t *testing.T) {
	tests := []struct {
		status  int
		errType string // "" success; "retry" retryable
	}{
		{200, ""}, {201, ""}, {202, ""}, {204, ""},
		{301, "retry"}, {302, "retry"}, {304, "retry"},
		{400, ErrTypeRejected}, {401, ErrTypeRejected}, {403, ErrTypeRejected}, {404, ErrTypeRejected},
		{405, ErrTypeRejected}, {413, ErrTypeRejected}, {422, ErrTypeRejected},
		{408, "retry"}, {409, "retry"}, {425, "retry"}, {429, "retry"},
		{410, ErrTypeGone},
		{500, "retry"}, {502, "retry"}, {503, "retry"}, {504, "retry"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			rec, srv := newReceiver(t, tt.status)
			_, err := (&Deliverer{AllowPrivate: true}).Deliver(context.Background(), delivery(srv.URL))
			switch tt.errType {
			case "":
				if err != nil {
					t.Fatalf("%d: %v", tt.status, err)
				}
			case "retry":
				if err == nil {
					t.Fatalf("%d: no error", tt.status)
				}
				if ae := appError(err); ae != nil && ae.NonRetryable() {
					t.Fatalf("%d: non-retryable %v", tt.status, err)
				}
			default:
				ae := appError(err)
				if ae == nil || ae.Type() != tt.errType || !ae.NonRetryable() {
					t.Fatalf("%d: err %v, want non-retryable %s", tt.status, err, tt.errType)
				}
			}
			if err != nil {
				assertClean(t, "error", err.Error())
			}
			if got := rec.requests(); len(got) != 1 || got[0].verifyErr != nil {
				t.Fatalf("receiver saw %d requests (%v)", len(got), got)
			}
		})
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	target, targetSrv := newReceiver(t)
	redirect := httptest.NewServer(http.RedirectHandler(targetSrv.URL+"/elsewhere", http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	_, err := (&Deliverer{AllowPrivate: true}).Deliver(context.Background(), delivery(redirect.URL))
	if err == nil || appError(err) != nil && appError(err).NonRetryable() {
		t.Fatalf("err = %v, want retryable", err)
	}
	if n := len(target.requests()); n != 0 {
		t.Fatalf("redirect followed (%d requests)", n)
	}
}

func TestDeliverTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	d := &Deliverer{AllowPrivate: true, timeout: 100 * time.Millisecond}
	_, err := d.Deliver(context.Background(), delivery(srv.URL))
	if err == nil || appError(err) != nil && appError(err).NonRetryable() {
		t.Fatalf("err = %v, want retryable timeout", err)
	}
	assertClean(t, "error", err.Error())
}

func TestInvalidDeliveriesAreFinal(t *testing.T) {
	rec, srv := newReceiver(t)
	tests := []struct {
		name   string
		mutate func(*Delivery)
	}{
		{"dot in id", func(d *Delivery) { d.ID = "evt.1" }},
		{"empty id", func(d *Delivery) { d.ID = "" }},
		{"bad secret", func(d *Delivery) { d.Secret = "not-a-secret" }},
		{"empty type", func(d *Delivery) { d.Type = "" }},
		{"type with space", func(d *Delivery) { d.Type = "booking created" }},
		{"payload array", func(d *Delivery) { d.Payload = json.RawMessage(`[1]`) }},
		{"payload invalid", func(d *Delivery) { d.Payload = json.RawMessage(`{"a":` + payloadMarker) }},
		{"payload missing", func(d *Delivery) { d.Payload = nil }},
		{"payload too big", func(d *Delivery) {
			d.Payload = json.RawMessage(`{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}`)
		}},
		{"no event time", func(d *Delivery) { d.OccurredAt = time.Time{} }},
		{"relative URL", func(d *Delivery) { d.URL = "/hooks?token=" + queryToken }},
		{"unparsable URL", func(d *Delivery) { d.URL = "https://exa mple.com/?token=" + queryToken }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := delivery(srv.URL)
			tt.mutate(&in)
			_, err := (&Deliverer{AllowPrivate: true}).Deliver(context.Background(), in)
			ae := appError(err)
			if ae == nil || ae.Type() != ErrTypeInvalid || !ae.NonRetryable() {
				t.Fatalf("err = %v, want non-retryable %s", err, ErrTypeInvalid)
			}
			assertClean(t, "error", err.Error())
		})
	}
	if n := len(rec.requests()); n != 0 {
		t.Fatalf("invalid deliveries reached the endpoint %d times", n)
	}
}

// The guard acts at dial time on the resolved address: an https URL naming 127.0.0.1 or
// localhost never opens a connection unless AllowPrivate is set.
func TestPrivateAddressRefusedAtDial(t *testing.T) {
	rec := &receiver{now: time.Now}
	srv := httptest.NewUnstartedServer(rec)
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	localhost := "https://localhost:" + strconv.Itoa(port)

	for _, base := range []string{srv.URL, localhost} {
		d := &Deliverer{HTTP: srv.Client()} // trusts the test certificate; the guard is still added
		_, err := d.Deliver(context.Background(), delivery(base))
		ae := appError(err)
		if ae == nil || ae.Type() != ErrTypeBlocked || !ae.NonRetryable() {
			t.Fatalf("%s: err = %v, want non-retryable %s", base, err, ErrTypeBlocked)
		}
		assertClean(t, "error", err.Error())
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("guard let %d connections through", n)
	}

	// Plain http is refused before any dial.
	_, err := (&Deliverer{}).Deliver(context.Background(), delivery("http://127.0.0.1:"+strconv.Itoa(port)))
	if ae := appError(err); ae == nil || ae.Type() != ErrTypeBlocked {
		t.Fatalf("http URL: err = %v", err)
	}

	// A RoundTripper the guard cannot wrap is refused rather than used unguarded.
	custom := &http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) {
		t.Fatal("unguarded transport used")
		return nil, nil
	})}
	_, err = (&Deliverer{HTTP: custom}).Deliver(context.Background(), delivery(srv.URL))
	if ae := appError(err); ae == nil || ae.Type() != ErrTypeInvalid {
		t.Fatalf("custom transport: err = %v", err)
	}

	d := &Deliverer{HTTP: srv.Client(), AllowPrivate: true}
	if _, err := d.Deliver(context.Background(), delivery(srv.URL)); err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	if got := rec.requests(); len(got) != 1 || got[0].verifyErr != nil {
		t.Fatalf("receiver got %d requests: %v", len(got), got)
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPublicAddr(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		{"93.184.216.34", true},
		{"8.8.8.8", true},
		{"2606:4700:4700::1111", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8
		{"127.0.0.1", false},
		{"127.255.0.9", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"100.100.100.200", false}, // metadata in carrier-grade NAT space
		{"fe80::1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false},
		{"2002:7f00:1::1", false}, // 6to4 of 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"fec0::1", false},
		{"198.18.0.1", false},
	}
	for _, tt := range tests {
		if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.public)
		}
	}
	if err := guardControl("udp4", "8.8.8.8:53", nil); !errors.Is(err, errBlocked) {
		t.Errorf("udp allowed: %v", err)
	}
	if err := guardControl("tcp4", "not-an-address", nil); !errors.Is(err, errBlocked) {
		t.Errorf("unparsable address allowed: %v", err)
	}
	if err := guardControl("tcp6", "[fe80::1%eth0]:443", nil); !errors.Is(err, errBlocked) {
		t.Errorf("zoned address allowed: %v", err)
	}
	if err := guardControl("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("public address refused: %v", err)
	}
}

// Every kind of failure keeps the URL's path and query, the payload and the secret out of its text.
func TestErrorsCarryNoPayloadOrQuery(t *testing.T) {
	_, srv := newReceiver(t, http.StatusServiceUnavailable)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	cases := []struct {
		name string
		d    *Deliverer
		url  string
	}{
		{"5xx", &Deliverer{AllowPrivate: true}, srv.URL},
		{"connection refused", &Deliverer{AllowPrivate: true}, closedURL},
		{"blocked", &Deliverer{}, strings.Replace(srv.URL, "http://", "https://", 1)},
		{"unresolvable", &Deliverer{}, "https://no-such-host.invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.d.Deliver(context.Background(), delivery(c.url))
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			assertClean(t, "error", err.Error())
		})
	}
}

func TestActivityOptions(t *testing.T) {
	o := ActivityOptions()
	p := o.RetryPolicy
	if p.InitialInterval != 30*time.Second || p.BackoffCoefficient != 2 || p.MaximumInterval != time.Hour || p.MaximumAttempts != 0 {
		t.Fatalf("retry policy %+v", p)
	}
	if o.ScheduleToCloseTimeout != 72*time.Hour || o.StartToCloseTimeout <= RequestTimeout {
		t.Fatalf("options %+v", o)
	}
}

func assertClean(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{queryToken, "token=", "/hooks", payloadMarker, "booking_id", strings.TrimPrefix(testSecret, "whsec_")} {
		if strings.Contains(s, bad) {
			t.Fatalf("%s leaks %q: %s", what, bad, s)
		}
	}
}

// webhookLines keeps this package's log lines, not the test environment's own.
func webhookLines(logs string) string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "msg=\"webhook ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
