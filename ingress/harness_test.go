package ingress

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/sms"
	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/temporalclient"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/internal/twiliosig"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

const (
	authToken     = "0123456789abcdef0123456789abcdef"
	uiOrigin      = "http://127.0.0.1:8233"
	accountSID    = "AC00000000000000000000000000000001"
	businessPhone = "+15005550006"
	callerPhone   = "+16145550123"
)

// harness is a starter wired to a real Temporal dev server, a real PostgreSQL database and an
// in-process worker whose Twilio client talks to the fake.
type harness struct {
	t       *testing.T
	srv     *httptest.Server
	db      *store.Store
	tc      sdkclient.Client
	raw     sdkclient.Client // no codec: sees payloads as the server stores them
	keys    *keyring.Keyring
	codec   *codec.Codec
	twilio  *twiliofake.Server
	tenant  store.Tenant
	hasher  *phone.Hasher
	logs    *syncBuffer
	cfg     config.Config
	handler http.Handler
	// opsToken is an API token with the ops role.
	opsToken string
}

// token issues an API token for the test.
func (h *harness) token(role access.Role, tenantID string) string {
	h.t.Helper()
	tok, _, err := h.db.CreateToken(context.Background(), store.NewAPIToken{Role: role, TenantID: tenantID, Name: "test " + string(role)})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith lets a test adjust the configuration before the handler is built.
func newHarnessWith(t *testing.T, configure func(*config.Config)) *harness {
	t.Helper()
	dev := testenv.Temporal(t)
	ctx := context.Background()
	db := storetest.Open(t)
	tenant, err := db.CreateTenant(ctx, tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{businessPhone}, Timezone: "America/New_York", OwnerPhone: "+16145550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	// Payloads are encrypted exactly as in production: the worker and the starter share one
	// codec-enabled client, and raw is a client without the codec, to look at what the server stores.
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)), db)
	if err != nil {
		t.Fatal(err)
	}
	payloadCodec := codec.New(keys, workflows.KeyScope)
	tc, err := sdkclient.Dial(temporalclient.WithCodec(sdkclient.Options{
		HostPort: dev.FrontendHostPort(), Namespace: "default", Logger: testenv.QuietLogger(),
	}, payloadCodec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)

	fake := twiliofake.New(accountSID, authToken)
	t.Cleanup(fake.Close)
	sender, err := sms.NewTwilio(sms.TwilioOptions{AccountSID: accountSID, AuthToken: authToken, APIURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	var q [4]byte
	_, _ = rand.Read(q[:])
	taskQueue := "starter-test-" + hex.EncodeToString(q[:])
	w := worker.New(tc, taskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.Conversation)
	w.RegisterWorkflow(workflows.ConsentReply)
	w.RegisterWorkflow(workflows.TenantWebhook)
	// These tests run at whatever hour the machine's clock says; the quiet-hour wait has its
	// own workflow tests with a controlled clock.
	w.RegisterActivity(&activities.Activities{Store: db, SMS: sender, IgnoreQuietHours: true})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	hasher, err := phone.NewHasher([]byte(strings.Repeat("h", 32)))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	cfg := config.Config{
		PublicURL: srv.URL, TwilioAuthToken: authToken, TaskQueue: taskQueue,
		ConversationIdleTimeout: time.Hour, CodecCORSOrigins: []string{uiOrigin},
		CallerTextRate: config.Rate{N: 100, Per: time.Hour}, TenantInboundRate: config.Rate{N: 1000, Per: time.Hour},
	}
	if configure != nil {
		configure(&cfg)
	}
	h := New(Deps{
		Config: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), Store: db, Temporal: tc, Hasher: hasher, Codec: payloadCodec,
	})
	srv.Config.Handler = h
	hh := &harness{t: t, srv: srv, db: db, tc: tc, raw: dev.Client(), keys: keys, codec: payloadCodec,
		twilio: fake, tenant: tenant, hasher: hasher, logs: logs, cfg: cfg, handler: h}
	hh.opsToken = hh.token(access.Ops, "")
	return hh
}

// inboundBodies returns the stored texts from callers to the harness's tenant, oldest first.
func (h *harness) inboundBodies() []string {
	h.t.Helper()
	ctx := context.Background()
	var out []string
	if err := h.db.InTenant(ctx, h.tenant.ID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT body FROM messages WHERE direction = 'inbound' ORDER BY id`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// post sends a form signed as Twilio would for the starter's public URL.
func (h *harness) post(path string, form map[string]string) *http.Response {
	return h.postSigned(path, form, twiliosig.Sign(authToken, h.srv.URL+path, form))
}

func (h *harness) postSigned(path string, form map[string]string, signature string) *http.Response {
	h.t.Helper()
	values := url.Values{}
	for k, v := range form {
		values.Set(k, v)
	}
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(values.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) *http.Response {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return resp
}

func bodyOf(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func callForm(callSid, status string) map[string]string {
	return map[string]string{
		"AccountSid": accountSID, "CallSid": callSid, "CallStatus": status,
		"From": callerPhone, "To": businessPhone, "Direction": "inbound", "ApiVersion": "2010-04-01",
	}
}

func smsForm(messageSid, body string) map[string]string {
	return map[string]string{
		"AccountSid": accountSID, "MessageSid": messageSid, "Body": body, "NumMedia": "0",
		"From": callerPhone, "To": businessPhone, "ApiVersion": "2010-04-01",
	}
}

func sid(prefix string, n int) string { return fmt.Sprintf("%s%032x", prefix, n) }

// workflowID is the conversation ID the starter derives for the test caller.
func (h *harness) workflowID() string {
	id, err := workflows.ConversationWorkflowID(h.tenant.ID, h.hasher.Hash(callerPhone))
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// runID returns the conversation's current run, or "" when none was ever started.
func (h *harness) runID() string {
	h.t.Helper()
	desc, err := h.tc.DescribeWorkflowExecution(context.Background(), h.workflowID(), "")
	if _, ok := err.(*serviceerror.NotFound); ok {
		return ""
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return desc.WorkflowExecutionInfo.Execution.RunId
}

func (h *harness) state() workflows.State {
	h.t.Helper()
	v, err := h.tc.QueryWorkflow(context.Background(), h.workflowID(), "", workflows.QueryState)
	if err != nil {
		h.t.Fatalf("query state: %v", err)
	}
	var st workflows.State
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// eventually polls cond until it holds or the deadline passes.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode JSON: %v", err)
	}
}

// assertNoPhoneInVisibility lists every workflow the server knows and fails if a phone number's
// digits appear in a workflow ID or any search attribute value.
func (h *harness) assertNoPhoneInVisibility(numbers ...string) {
	h.t.Helper()
	var execs []*workflowpb.WorkflowExecutionInfo
	h.eventually("the conversation in visibility", func() bool {
		resp, err := h.tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default"})
		if err != nil {
			h.t.Fatal(err)
		}
		execs = resp.Executions
		return len(execs) > 0
	})
	for _, e := range execs {
		fields := map[string]string{"workflow ID": e.Execution.WorkflowId}
		for name, p := range e.GetSearchAttributes().GetIndexedFields() {
			fields["search attribute "+name] = string(p.Data)
		}
		for where, value := range fields {
			for _, n := range numbers {
				if strings.Contains(value, strings.TrimPrefix(n, "+1")) {
					h.t.Errorf("%s holds a phone number: %q", where, value)
				}
			}
		}
		if got := string(e.GetSearchAttributes().GetIndexedFields()["TenantID"].GetData()); !strings.Contains(got, h.tenant.ID) {
			h.t.Errorf("TenantID search attribute = %q, want %q", got, h.tenant.ID)
		}
	}
}
