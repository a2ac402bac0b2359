package ingress

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// fakeRequests records what the API asked of the requests; filing goes to the real store, so
// the exports and audit entries are real.
type fakeRequests struct {
	mu      sync.Mutex
	db      *store.Store
	actions []string
	code    string
}

func (f *fakeRequests) Start(ctx context.Context, actor string, in lifecycle.NewRequest) (store.DSRRequest, error) {
	f.mu.Lock()
	f.actions = append(f.actions, "start "+string(in.Kind)+" by "+actor+" attested="+in.AttestReason)
	f.mu.Unlock()
	if len(in.Phones) == 0 {
		return store.DSRRequest{}, lifecycle.ErrInvalid
	}
	c, err := legalclock.New(legalclock.CCPA, time.Now(), time.UTC)
	if err != nil {
		return store.DSRRequest{}, err
	}
	return f.db.CreateDSR(store.WithActor(ctx, actor), store.NewDSR{TenantID: in.TenantID, Kind: in.Kind, Clock: c,
		Identifiers: []store.DSRIdentifier{{Kind: store.IdentifierPhone, Hash: strings.Repeat("ab", 32)}}})
}

func (f *fakeRequests) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actions = append(f.actions, s)
	return nil
}

func (f *fakeRequests) VerifyCode(_ context.Context, id, number, code string) error {
	if code != f.code {
		return lifecycle.ErrCodeRefused
	}
	return f.record("verify " + number)
}
func (f *fakeRequests) Attest(_ context.Context, id, number, actor, reason string) error {
	return f.record("attest " + number + " by " + actor)
}
func (f *fakeRequests) Extend(_ context.Context, id, actor, reason string) error {
	return f.record("extend by " + actor)
}
func (f *fakeRequests) Hold(_ context.Context, id, actor, reason string) error {
	return f.record("hold by " + actor)
}
func (f *fakeRequests) Release(_ context.Context, id, actor string) error {
	return f.record("release by " + actor)
}
func (f *fakeRequests) State(context.Context, string) (workflows.DSRState, error) {
	return workflows.DSRState{Status: store.DSRVerifying}, nil
}

func TestDSRAPI(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	tenant, err := db.CreateTenant(ctx, tenantspec.Spec{Name: "Demo Plumbing", Numbers: []string{businessPhone}, Timezone: "America/New_York", OwnerPhone: "+16145550100"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)), db)
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeRequests{db: db, code: "123456"}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	cfg := config.Config{PublicURL: srv.URL, TwilioAuthToken: authToken, TaskQueue: "q", ConversationIdleTimeout: time.Hour}
	h := New(Deps{Config: cfg, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Store: db, Keys: keys, Requests: fake})
	srv.Config.Handler = h
	hh := &harness{t: t, srv: srv, db: db, tenant: tenant, cfg: cfg, handler: h}
	other := hh.otherTenant()
	compliance := hh.token(access.Compliance, "")
	owner := hh.token(access.TenantAdmin, tenant.ID)
	stranger := hh.token(access.TenantAdmin, other.ID)
	ops := hh.token(access.Ops, "")
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		resp := hh.api(method, path, token, ct, body)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	file := `{"tenant_id":"` + tenant.ID + `","kind":"access","phones":["+16145550142"]}`

	// Ops run the service but do not handle people's requests; a business handles its own.
	if code, _ := call("POST", "/api/dsr", ops, file); code != http.StatusForbidden {
		t.Fatalf("ops filed a request: %d", code)
	}
	if code, _ := call("POST", "/api/dsr", stranger, file); code != http.StatusForbidden {
		t.Fatalf("another tenant filed a request: %d", code)
	}
	// Vouching for identity is compliance's.
	attested := `{"tenant_id":"` + tenant.ID + `","kind":"deletion","phones":["+16145550142"],"attest_reason":"known"}`
	if code, _ := call("POST", "/api/dsr", owner, attested); code != http.StatusForbidden {
		t.Fatalf("a tenant-admin attested: %d", code)
	}
	code, body := call("POST", "/api/dsr", owner, file)
	if code != http.StatusAccepted || !strings.Contains(body, `"status":"received"`) {
		t.Fatalf("file by the tenant-admin: %d %s", code, body)
	}
	reqs, err := db.ListDSRs(ctx, store.DSRFilter{TenantID: tenant.ID})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests %v (%v)", reqs, err)
	}
	id := reqs[0].ID
	if code, _ := call("POST", "/api/dsr", compliance, attested); code != http.StatusAccepted {
		t.Fatalf("attested filing by compliance: %d", code)
	}
	if code, _ := call("GET", "/api/dsr/"+id, stranger, ""); code != http.StatusForbidden {
		t.Fatalf("another tenant read the request: %d", code)
	}
	if code, body := call("GET", "/api/dsr/"+id, owner, ""); code != http.StatusOK || !strings.Contains(body, `"workflow"`) {
		t.Fatalf("read by the tenant-admin: %d %s", code, body)
	}
	if code, body := call("GET", "/api/dsr", owner, ""); code != http.StatusOK || strings.Count(body, `"id"`) != 2 {
		t.Fatalf("list by the tenant-admin: %d %s", code, body)
	}
	for _, action := range []string{"attest", "extend", "legal-hold"} {
		if code, _ := call("POST", "/api/dsr/"+id+"/"+action, owner, `{"phone":"+16145550142","reason":"x"}`); code != http.StatusForbidden {
			t.Fatalf("%s by the tenant-admin: %d", action, code)
		}
		if code, _ := call("POST", "/api/dsr/"+id+"/"+action, compliance, `{"phone":"+16145550142","reason":"x"}`); code != http.StatusAccepted {
			t.Fatalf("%s by compliance: %d", action, code)
		}
	}

	// The requester's code needs no token; a wrong one says so.
	verify := func(code string) int {
		resp, err := http.Post(srv.URL+"/dsr/"+id+"/verify", "application/json",
			bytes.NewBufferString(`{"phone":"+16145550142","code":"`+code+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := verify("000000"); got != http.StatusUnprocessableEntity {
		t.Fatalf("wrong code answered %d", got)
	}
	if got := verify("123456"); got != http.StatusOK {
		t.Fatalf("right code answered %d", got)
	}

	// An export link works until it expires, and every download is audited.
	token, err := db.SaveDSRExport(ctx, keys, id, []byte("PK-zip-bytes"), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/dsr/export/" + token)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(data) != "PK-zip-bytes" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %q", resp.StatusCode, data)
	}
	if resp, err := http.Get(srv.URL + "/dsr/export/not-a-token"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a made-up token: %v %v", resp, err)
	}
	if got := hh.auditActions(tenant.ID, "dsr.export.downloaded"); len(got) != 1 || !strings.HasSuffix(got[0], "by export-link") {
		t.Fatalf("download audit %v", got)
	}
	want := []string{"start access by ", "start deletion by ", "attest +16145550142 by ", "extend by ", "hold by ", "verify +16145550142"}
	for i, w := range want {
		if i >= len(fake.actions) || !strings.HasPrefix(fake.actions[i], w) {
			t.Fatalf("actions %v, want prefixes %v", fake.actions, want)
		}
	}
}
