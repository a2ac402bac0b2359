package ingress

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/workflows"
)

// closureTemporal stands in for Temporal behind lifecycle.Closures: it records starts and
// signals and answers the closure query with state.
type closureTemporal struct {
	mu      sync.Mutex
	starts  []workflows.ClosureInput
	opts    []sdkclient.StartWorkflowOptions
	signals []string
	args    []workflows.ClosureSignal
	running bool
	state   workflows.ClosureState
}

func (f *closureTemporal) ExecuteWorkflow(_ context.Context, o sdkclient.StartWorkflowOptions, _ any, args ...any) (sdkclient.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opts = append(f.opts, o)
	f.starts = append(f.starts, args[0].(workflows.ClosureInput))
	f.running = true
	return nil, nil
}

func (f *closureTemporal) SignalWorkflow(_ context.Context, _, _, name string, arg any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		return serviceerror.NewNotFound("workflow not found")
	}
	f.signals = append(f.signals, name)
	f.args = append(f.args, arg.(workflows.ClosureSignal))
	return nil
}

func (f *closureTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.running {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	b, err := json.Marshal(f.state)
	return jsonValue(b), err
}

type jsonValue []byte

func (v jsonValue) HasValue() bool    { return len(v) > 0 }
func (v jsonValue) Get(ptr any) error { return json.Unmarshal(v, ptr) }
func (f *closureTemporal) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.signals...)
}

func newClosureAPIHarness(t *testing.T) (*harness, *closureTemporal) {
	t.Helper()
	db := storetest.Open(t)
	tenant, err := db.CreateTenant(context.Background(), tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{businessPhone}, Timezone: "America/New_York", OwnerPhone: "+16145550100",
	})
	if err != nil {
		t.Fatal(err)
	}
	fake := &closureTemporal{}
	logs := &syncBuffer{}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := config.Config{PublicURL: srv.URL, TwilioAuthToken: authToken, TaskQueue: "q", ConversationIdleTimeout: time.Hour}
	h := New(Deps{Config: cfg, Log: slog.New(slog.NewJSONHandler(logs, nil)), Store: db,
		Closures: &lifecycle.Closures{Temporal: fake, TaskQueue: "q", Retention: 30 * 24 * time.Hour}})
	srv.Config.Handler = h
	hh := &harness{t: t, srv: srv, db: db, tenant: tenant, logs: logs, cfg: cfg, handler: h}
	hh.opsToken = hh.token(access.Ops, "")
	return hh, fake
}

func TestClosureAPI(t *testing.T) {
	h, fake := newClosureAPIHarness(t)
	id := h.tenant.ID
	other := h.otherTenant()
	owner := h.token(access.TenantAdmin, id)
	stranger := h.token(access.TenantAdmin, other.ID)
	compliance := h.token(access.Compliance, "")
	base := "/api/tenants/" + id + "/closure"
	call := func(method, path, token, body string) int {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		resp := h.api(method, path, token, ct, body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// Nothing to see or signal before a closure exists.
	if got := call("GET", base, owner, ""); got != http.StatusNotFound {
		t.Fatalf("status before any closure: %d", got)
	}
	if got := call("POST", base+"/reactivate", h.opsToken, ""); got != http.StatusNotFound {
		t.Fatalf("reactivate with no closure: %d", got)
	}

	// Only the tenant's own admin and ops may close it.
	for _, tok := range []string{stranger, compliance} {
		if got := call("POST", base, tok, ""); got != http.StatusForbidden {
			t.Fatalf("close by another role or tenant: %d", got)
		}
	}
	if got := call("POST", base, owner, ""); got != http.StatusAccepted {
		t.Fatalf("close by the tenant-admin: %d", got)
	}
	if len(fake.starts) != 1 || fake.starts[0].Reason != workflows.ClosureReasonTenantRequest ||
		fake.starts[0].Retention != 30*24*time.Hour || !strings.HasPrefix(fake.starts[0].RequestedBy, "token:") ||
		fake.opts[0].ID != workflows.ClosureWorkflowID(id) || fake.opts[0].TaskQueue != "q" {
		t.Fatalf("start %+v %+v", fake.starts, fake.opts)
	}

	fake.state = workflows.ClosureState{TenantID: id, Stage: workflows.ClosureRetention, DeleteAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	resp := h.api("GET", base, owner, "", "")
	var view closureView
	decodeJSON(t, resp, &view)
	if view.Stage != workflows.ClosureRetention || !view.DeleteAt.Equal(fake.state.DeleteAt) || view.WorkflowID != "closure/"+id {
		t.Fatalf("view %+v", view)
	}
	if got := call("GET", base, stranger, ""); got != http.StatusForbidden {
		t.Fatalf("another tenant read the closure: %d", got)
	}

	// Early deletion must name the tenant again.
	if got := call("POST", base+"/delete-now", owner, `{"confirm_tenant_id":"wrong"}`); got != http.StatusBadRequest {
		t.Fatalf("delete-now without confirmation: %d", got)
	}
	if got := call("POST", base+"/delete-now", owner, `{"confirm_tenant_id":"`+id+`"}`); got != http.StatusAccepted {
		t.Fatalf("delete-now: %d", got)
	}

	// Legal holds are compliance's and ops'; a tenant cannot lift one. A held closure refuses
	// early deletion up front.
	if got := call("POST", base+"/legal-hold", owner, `{"reason":"x"}`); got != http.StatusForbidden {
		t.Fatalf("hold by the tenant: %d", got)
	}
	if got := call("POST", base+"/legal-hold", compliance, `{"reason":""}`); got != http.StatusBadRequest {
		t.Fatalf("hold without a reason: %d", got)
	}
	if got := call("POST", base+"/legal-hold", compliance, `{"reason":"subpoena 2026-114"}`); got != http.StatusAccepted {
		t.Fatalf("hold: %d", got)
	}
	fake.state.OnHold = true
	if got := call("POST", base+"/delete-now", owner, `{"confirm_tenant_id":"`+id+`"}`); got != http.StatusConflict {
		t.Fatalf("delete-now on hold: %d", got)
	}
	if got := call("POST", base+"/release-hold", owner, ""); got != http.StatusForbidden {
		t.Fatalf("release by the tenant: %d", got)
	}
	if got := call("POST", base+"/release-hold", compliance, ""); got != http.StatusAccepted {
		t.Fatalf("release: %d", got)
	}
	if got := call("POST", base+"/reactivate", owner, ""); got != http.StatusForbidden {
		t.Fatalf("reactivate by the tenant: %d", got)
	}
	if got := call("POST", base+"/reactivate", h.opsToken, ""); got != http.StatusAccepted {
		t.Fatalf("reactivate by ops: %d", got)
	}

	want := []string{workflows.SignalDeleteNow, workflows.SignalLegalHold, workflows.SignalReleaseHold, workflows.SignalReactivate}
	if got := fake.sent(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("signals %v, want %v", got, want)
	}
	if fake.args[1].Reason != "subpoena 2026-114" {
		t.Fatalf("hold reason %q", fake.args[1].Reason)
	}
	// Each refusal is a security event.
	if denied := h.auditActions("control", "access.denied"); len(denied) < 6 {
		t.Fatalf("refusals audited: %v", denied)
	}
}
