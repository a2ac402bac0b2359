package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/proctest"
	"github.com/ringback/ringback/internal/stdwebhook"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

const (
	e2eAccountSID = "AC0123456789abcdef0123456789abcdef"
	e2eAuthToken  = "0123456789abcdef0123456789abcdef"
)

// modelFake is an OpenAI-compatible chat endpoint. The primary fails every request, so every
// turn goes to the fallback, which plays a model that looks up times, offers one, and books it
// when the caller agrees. It records every request body it receives.
type modelFake struct {
	mu       sync.Mutex
	requests []string
	srv      *httptest.Server
}

var localTime = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`)

func newModelFake(t *testing.T, failing bool) *modelFake {
	f := &modelFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, string(body))
		f.mu.Unlock()
		if failing {
			http.Error(w, `{"error":{"message":"model is loading"}}`, http.StatusServiceUnavailable)
			return
		}
		var req struct {
			Messages []struct {
				Role, Content string
			}
		}
		if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		last := req.Messages[len(req.Messages)-1]
		var content, tool, args string
		switch {
		case last.Role == "tool" && strings.HasPrefix(last.Content, "open start times"):
			content = fmt.Sprintf("Thanks [NAME_1]! I can do %s. Does that work?", localTime.FindString(last.Content))
		case last.Role == "user" && strings.Contains(strings.ToLower(last.Content), "works"):
			var offered string
			for _, m := range req.Messages {
				if m.Role == "assistant" && localTime.MatchString(m.Content) {
					offered = localTime.FindString(m.Content)
				}
			}
			tool, args = "book_appointment", fmt.Sprintf(`{"service":"Appointment","start":%q,"name":"[NAME_1]"}`, offered)
		case last.Role == "user":
			tool, args = "check_availability", `{"service":"Appointment"}`
		default:
			content = "Happy to help."
		}
		msg := map[string]any{"role": "assistant", "content": content}
		finish := "stop"
		if tool != "" {
			msg["tool_calls"] = []map[string]any{{"id": "call_1", "type": "function", "function": map[string]string{"name": tool, "arguments": args}}}
			finish = "tool_calls"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "small",
			"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish}},
		})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *modelFake) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// webhookFake is the tenant's endpoint: it verifies every delivery and records what arrived.
type webhookFake struct {
	mu       sync.Mutex
	secret   string
	verified []map[string]any
	rejected int
	srv      *httptest.Server
}

func newWebhookFake(t *testing.T) *webhookFake {
	f := &webhookFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := stdwebhook.Verify(f.secret, r.Header, body, time.Now(), 0); err != nil {
			f.rejected++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		ev["webhook-id"] = r.Header.Get(stdwebhook.HeaderID)
		f.verified = append(f.verified, ev)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *webhookFake) events() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.verified...)
}

// TestConversationBooksThroughTheMaskedFallback is the conversation end to end: a missed call is
// texted back; the caller replies twice; the primary model is down, so the fallback (which sees
// only masked text) looks up times and books; the booking row exists, the caller gets the
// confirmation, and the tenant's endpoint receives booking.created, signed.
// stack is the real binaries on a real dev server and database, with Twilio and the tenant's
// webhook endpoint faked; extraEnv configures the model.
type stack struct {
	base     string
	temporal string
	twilio   *twiliofake.Server
	hook     *webhookFake
	cli      string
	env      []string
	dbURL    string
	tenant   struct{ ID string }
}

// newTwilioFake is Twilio for the stack's worker, stopped when the test ends.
func newTwilioFake(t *testing.T) *twiliofake.Server {
	f := twiliofake.New(e2eAccountSID, e2eAuthToken)
	t.Cleanup(f.Close)
	return f
}

func startStack(t *testing.T, extraEnv ...string) *stack {
	t.Helper()
	bins := buildBinaries(t)
	temporal := testenv.Temporal(t)
	st := &stack{dbURL: testenv.Database(t), twilio: newTwilioFake(t), hook: newWebhookFake(t), cli: filepath.Join(bins, "ringback")}
	port := proctest.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	st.base, st.temporal = base, temporal.FrontendHostPort()
	st.env = append(os.Environ(),
		"RINGBACK_ENV=dev",
		"RINGBACK_QUIET_HOURS=off",
		"DATABASE_URL="+st.dbURL,
		"TEMPORAL_ADDRESS="+temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE=default",
		"RINGBACK_TASK_QUEUE=e2e-conversation",
		fmt.Sprintf("RINGBACK_LISTEN_ADDR=127.0.0.1:%d", port),
		"RINGBACK_PUBLIC_URL="+base,
		"TWILIO_ACCOUNT_SID="+e2eAccountSID,
		"TWILIO_AUTH_TOKEN="+e2eAuthToken,
		"TWILIO_API_URL="+st.twilio.URL,
		"RINGBACK_PHONE_HASH_KEY=e2e-phone-hash-key-0123456789abcdef",
		"RINGBACK_WEBHOOK_ALLOW_PRIVATE=true",
	)
	st.env = append(st.env, extraEnv...)
	if out, err := run(t, st.cli, st.env, "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := run(t, st.cli, st.env, "tenant", "create", "--name", "Demo Salon", "--number", "+15005550006",
		"--timezone", "America/New_York", "--owner-phone", "+16145550100", "--json")
	if err != nil {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &st.tenant); err != nil || st.tenant.ID == "" {
		t.Fatalf("tenant create printed %q: %v", out, err)
	}
	st.hook.secret = registerWebhook(t, st.dbURL, st.tenant.ID, st.hook.srv.URL+"/hooks/ringback")

	proctest.Start(t, filepath.Join(bins, "worker"), st.env)
	proctest.Start(t, filepath.Join(bins, "starter"), st.env)
	eventually(t, "the starter to be ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return st
}

func TestConversationBooksThroughTheMaskedFallback(t *testing.T) {
	testenv.RequireIntegration(t)
	primary, fallback := newModelFake(t, true), newModelFake(t, false)
	st := startStack(t, "RINGBACK_MODEL_URL="+primary.srv.URL+"/v1",
		"RINGBACK_FALLBACK_MODEL_URL="+fallback.srv.URL+"/v1",
		"RINGBACK_FALLBACK_MODEL=small",
		"RINGBACK_FALLBACK_MODEL_API_KEY=test-key")
	twilio, hook, cli, env, dbURL, tenant := st.twilio, st.hook, st.cli, st.env, st.dbURL, st.tenant

	const caller = "+16145550123"
	simulate := func(args ...string) {
		t.Helper()
		if out, err := run(t, cli, env, append([]string{"simulate"}, args...)...); err != nil {
			t.Fatalf("simulate %v: %v\n%s", args, err, out)
		}
	}
	textsTo := func(n int) []twiliofake.Text {
		t.Helper()
		eventually(t, fmt.Sprintf("%d texts to the caller", n), func() bool { return len(twilio.Texts()) >= n })
		return twilio.Texts()
	}

	simulate("call", "--from", caller, "--to", "+15005550006")
	if first := textsTo(1)[0]; first.To != caller || !strings.Contains(first.Body, "Demo Salon") {
		t.Fatalf("first text = %+v", first)
	}
	simulate("sms", "--from", caller, "--to", "+15005550006", "--body",
		"Hi, I'm Dana Whitfield. Can I book an appointment? Reach me at dana.whitfield@example.com or 614-555-0142")
	offer := textsTo(2)[1].Body
	slot := localTime.FindString(offer)
	if slot == "" || !strings.Contains(offer, "Thanks Dana Whitfield!") {
		t.Fatalf("offer = %q: the fallback's placeholders should be mapped back and a time offered", offer)
	}
	simulate("sms", "--from", caller, "--to", "+15005550006", "--body", "Yes, that works")
	confirmation := textsTo(3)[2].Body
	if !strings.HasPrefix(confirmation, "You're booked: Appointment on") {
		t.Fatalf("confirmation = %q", confirmation)
	}

	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var name, startLocal string
	if err := conn.QueryRow(context.Background(), `SELECT name, to_char(lower(during) AT TIME ZONE 'America/New_York', 'YYYY-MM-DD"T"HH24:MI')
		FROM `+pgx.Identifier{"t_" + tenant.ID}.Sanitize()+`.bookings WHERE status = 'booked'`).Scan(&name, &startLocal); err != nil {
		t.Fatalf("booking row: %v", err)
	}
	if name != "Dana Whitfield" || startLocal != slot {
		t.Fatalf("booking = %q at %s, want Dana Whitfield at %s", name, startLocal, slot)
	}

	eventually(t, "booking.created at the tenant's endpoint", func() bool { return len(hook.events()) >= 1 })
	ev := hook.events()[0]
	data, _ := ev["data"].(map[string]any)
	if ev["type"] != "booking.created" || data["name"] != "Dana Whitfield" || data["service"] != "Appointment" || !strings.HasPrefix(fmt.Sprint(ev["webhook-id"]), "evt_") {
		t.Fatalf("webhook event = %+v", ev)
	}
	if hook.rejected != 0 {
		t.Fatalf("%d deliveries failed signature verification", hook.rejected)
	}

	// P06: the fallback saw the whole conversation, and none of the caller's personal data.
	seen := fallback.seen()
	if len(seen) < 3 || len(primary.seen()) < 3 {
		t.Fatalf("fallback requests %d, primary requests %d", len(seen), len(primary.seen()))
	}
	for _, body := range seen {
		for _, secret := range []string{"Dana", "Whitfield", "dana.whitfield@example.com", "614-555-0142", "6145550142", "6145550123"} {
			if strings.Contains(body, secret) {
				t.Fatalf("the fallback received %q:\n%s", secret, body)
			}
		}
	}
	if !strings.Contains(strings.Join(seen, "\n"), "[NAME_1]") {
		t.Fatal("the fallback never saw a placeholder; was the conversation sent at all?")
	}
	st.recordHistory(t, st.conversationID(t, caller), "conversation_booked_via_fallback")
	st.recordHistory(t, workflows.TenantWebhookWorkflowID(st.tenant.ID, fmt.Sprint(ev["webhook-id"])), "tenant_webhook_booking_created")
}

// registerWebhook sets the tenant's endpoint the way the admin API does and returns its secret.
func registerWebhook(t *testing.T, dbURL, tenantID, url string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer, _, err := auditlog.NewSigner(config.DevAuditSigningKey) // what the dev binaries sign with
	if err != nil {
		t.Fatal(err)
	}
	st.SetAuditSigner(signer)
	keys, err := keyring.New(config.DevMasterKey, st)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := st.SetTenantWebhook(ctx, keys, tenantID, url, "")
	if err != nil {
		t.Fatal(err)
	}
	return wh.Secret
}
