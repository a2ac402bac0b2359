package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
)

const (
	testAccountSID = "AC00000000000000000000000000000001"
	testAuthToken  = "0123456789abcdef0123456789abcdef"
	testFrom       = "+16145550100"
	testTo         = "+16145550123"
)

// twilioRequest is what the fake saw of one call.
type twilioRequest struct {
	Method, Path   string
	User, Password string
	To, From, Body string
}

// fakeTwilio stands in for api.twilio.com's Messages resource and answers every request with
// respond.
type fakeTwilio struct {
	*httptest.Server
	mu       sync.Mutex
	requests []twilioRequest
}

func newFakeTwilio(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *fakeTwilio {
	t.Helper()
	f := &fakeTwilio{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		_ = r.ParseForm()
		f.mu.Lock()
		f.requests = append(f.requests, twilioRequest{
			Method: r.Method, Path: r.URL.Path, User: user, Password: pass,
			To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"),
		})
		f.mu.Unlock()
		respond(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTwilio) seen() []twilioRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]twilioRequest(nil), f.requests...)
}

func replyJSON(status int, body any) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func twilioError(status, code int, message string) func(http.ResponseWriter, *http.Request) {
	return replyJSON(status, map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
}

func newTestTwilio(t *testing.T, apiURL string, hc *http.Client) *Twilio {
	t.Helper()
	tw, err := NewTwilio(TwilioOptions{AccountSID: testAccountSID, AuthToken: testAuthToken, APIURL: apiURL, HTTPClient: hc})
	if err != nil {
		t.Fatalf("NewTwilio: %v", err)
	}
	return tw
}

func testMessage() Message {
	return Message{TenantID: "abcdefghijklmnop", From: testFrom, To: testTo, Body: "Hi, this is Demo Plumbing.", IdempotencyKey: "conv/x#first-text"}
}

func TestTwilioSend(t *testing.T) {
	fake := newFakeTwilio(t, replyJSON(http.StatusCreated, map[string]any{
		"sid":          "SM0123456789abcdef0123456789abcdef",
		"account_sid":  testAccountSID,
		"to":           testTo,
		"from":         testFrom,
		"body":         "Hi, this is Demo Plumbing.",
		"status":       "queued",
		"num_segments": "1",
		"direction":    "outbound-api",
	}))
	tw := newTestTwilio(t, fake.URL, nil)

	sid, err := tw.Send(context.Background(), testMessage())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sid != "SM0123456789abcdef0123456789abcdef" {
		t.Errorf("sid = %q", sid)
	}
	reqs := fake.seen()
	if len(reqs) != 1 {
		t.Fatalf("fake saw %d requests, want 1", len(reqs))
	}
	want := twilioRequest{
		Method: http.MethodPost, Path: "/2010-04-01/Accounts/" + testAccountSID + "/Messages.json",
		User: testAccountSID, Password: testAuthToken,
		To: testTo, From: testFrom, Body: "Hi, this is Demo Plumbing.",
	}
	if reqs[0] != want {
		t.Errorf("request = %+v\nwant      %+v", reqs[0], want)
	}
}

func TestTwilioSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		respond   func(http.ResponseWriter, *http.Request)
		permanent bool
		code      int
	}{
		{
			name:      "unsubscribed recipient",
			respond:   twilioError(http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient "+testTo),
			permanent: true, code: 21610,
		},
		{
			name:      "invalid recipient",
			respond:   twilioError(http.StatusBadRequest, 21211, "The 'To' number "+testTo+" is not a valid phone number."),
			permanent: true, code: 21211,
		},
		{
			name:    "rate limited",
			respond: twilioError(http.StatusTooManyRequests, 20429, "Too Many Requests"),
		},
		{
			// A rotated or mistyped token must not drop texts: it is retried until fixed.
			name:    "credentials refused",
			respond: twilioError(http.StatusUnauthorized, 20003, "Authenticate"),
		},
		{
			name: "server error with an HTML body",
			respond: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte("<html><body>Internal Server Error</body></html>"))
			},
		},
		{
			name:    "service unavailable",
			respond: twilioError(http.StatusServiceUnavailable, 20503, "Service Unavailable"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeTwilio(t, tc.respond)
			sid, err := newTestTwilio(t, fake.URL, nil).Send(context.Background(), testMessage())
			if err == nil {
				t.Fatalf("Send succeeded with sid %q", sid)
			}
			if got := IsPermanent(err); got != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tc.permanent)
			}
			if tc.permanent {
				var perm *PermanentError
				if errors.As(err, &perm) && perm.Code != tc.code {
					t.Errorf("provider code = %d, want %d", perm.Code, tc.code)
				}
			}
			for _, pii := range []string{testTo, strings.TrimPrefix(testTo, "+1"), testFrom} {
				if strings.Contains(err.Error(), pii) {
					t.Errorf("error text contains a phone number: %v", err)
				}
			}
			if n := len(fake.seen()); n != 1 {
				t.Errorf("fake saw %d requests, want 1", n)
			}
		})
	}
}

func TestTwilioSendTimesOut(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	fake := newFakeTwilio(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	// Registered after the server's Close, so it runs first and lets the handler return.
	t.Cleanup(func() { close(release) })

	tw := newTestTwilio(t, fake.URL, &http.Client{Timeout: 200 * time.Millisecond})
	began := time.Now()
	_, err := tw.Send(context.Background(), testMessage())
	if err == nil {
		t.Fatal("Send against a hung server succeeded")
	}
	if IsPermanent(err) {
		t.Errorf("timeout classified as permanent: %v", err)
	}
	if elapsed := time.Since(began); elapsed > 5*time.Second {
		t.Errorf("Send returned after %v; the client timeout did not bound it", elapsed)
	}
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Error("the request never reached the fake")
	}
}

func TestTwilioSendCancelledContext(t *testing.T) {
	fake := newFakeTwilio(t, replyJSON(http.StatusCreated, map[string]any{"sid": "SM1"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newTestTwilio(t, fake.URL, nil).Send(ctx, testMessage()); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if n := len(fake.seen()); n != 0 {
		t.Errorf("a cancelled send reached the provider %d times", n)
	}
}

func TestNewTwilioRequiresCredentials(t *testing.T) {
	tests := []TwilioOptions{
		{},
		{AccountSID: testAccountSID},
		{AuthToken: testAuthToken},
		{AccountSID: testAccountSID, AuthToken: testAuthToken, APIURL: "not a url"},
		// twilio-go would refuse these on every request; they must fail at start-up instead.
		{AccountSID: testAccountSID, AuthToken: "has-dashes"},
		{AccountSID: "AC 123", AuthToken: testAuthToken},
	}
	for _, o := range tests {
		if tw, err := NewTwilio(o); err == nil || tw != nil {
			t.Errorf("NewTwilio(%+v) = %v, %v; want an error", o, tw, err)
		}
	}
	for _, o := range tests {
		if _, err := NewTwilio(o); err != nil && strings.Contains(err.Error(), testAuthToken) {
			t.Errorf("error quotes the auth token: %v", err)
		}
	}
}

func TestSandboxSendsOncePerKey(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	tn, err := st.CreateTenant(ctx, tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{testFrom}, Timezone: "America/Chicago", OwnerPhone: "+16145550199",
	})
	if err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	sb := NewSandbox(st.Pool(), slog.New(slog.NewTextHandler(&logs, nil)))
	m := testMessage()
	m.TenantID = tn.ID

	first, err := sb.Send(ctx, m)
	if err != nil {
		t.Fatalf("first send: %v", err)
	}
	second, err := sb.Send(ctx, m)
	if err != nil {
		t.Fatalf("second send: %v", err)
	}
	if first == "" || second != first {
		t.Errorf("IDs = %q then %q, want the same non-empty ID", first, second)
	}
	other := m
	other.IdempotencyKey = "conv/x#reply-1"
	other.Body = "Booked! We'll call 614-555-0177 or email jo@example.com to confirm."
	third, err := sb.Send(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if third == first {
		t.Errorf("a different key reused ID %q", first)
	}

	var n int
	var to, body string
	if err := st.Pool().QueryRow(ctx, `
		SELECT count(*) OVER (), to_number, body FROM control.sandbox_messages WHERE idempotency_key = $1`,
		m.IdempotencyKey).Scan(&n, &to, &body); err != nil {
		t.Fatal(err)
	}
	if n != 1 || to != testTo || body != m.Body {
		t.Errorf("sandbox rows for the key: %d, to %q, body %q", n, to, body)
	}

	out := logs.String()
	if !strings.Contains(out, phone.Mask(testTo)) {
		t.Errorf("log lacks the masked number %q:\n%s", phone.Mask(testTo), out)
	}
	for _, pii := range []string{testTo, strings.TrimPrefix(testTo, "+1"), strings.TrimPrefix(testTo, "+")} {
		if strings.Contains(out, pii) {
			t.Errorf("log contains the full number %q:\n%s", pii, out)
		}
	}
	// Personal data in a body is masked in the printout (the stored row keeps the text sent).
	if strings.Contains(out, "555-0177") || strings.Contains(out, "jo@example.com") || !strings.Contains(out, "[EMAIL_1]") {
		t.Errorf("log shows personal data from the body:\n%s", out)
	}
	if c := strings.Count(out, "SANDBOX text"); c != 2 {
		t.Errorf("logged %d sandbox texts for two distinct keys, want 2:\n%s", c, out)
	}
}

// TestSandboxSendRacesWithACommittingDuplicate holds an uncommitted insert of the same key in
// another transaction while Send runs: Send must wait for it and return its row, not fail.
func TestSandboxSendRacesWithACommittingDuplicate(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	tn, err := st.CreateTenant(ctx, tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{testFrom}, Timezone: "America/Chicago", OwnerPhone: "+16145550199",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage()
	m.TenantID = tn.ID
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var held int64
	if err := tx.QueryRow(ctx, `INSERT INTO control.sandbox_messages (tenant_id, idempotency_key, from_number, to_number, body)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, m.TenantID, m.IdempotencyKey, m.From, m.To, m.Body).Scan(&held); err != nil {
		t.Fatal(err)
	}
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	sb := NewSandbox(st.Pool(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() {
		id, err := sb.Send(ctx, m)
		done <- result{id, err}
	}()
	// Send is blocked on the row lock until the holder commits; wait until PostgreSQL shows it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Send never waited on the held row")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Send after a concurrent duplicate: %v", r.err)
	}
	if want := fmt.Sprintf("SANDBOX%d", held); r.id != want {
		t.Fatalf("Send returned %q, want the committed row %q", r.id, want)
	}
}

// TestFindMatchesOnlyThisSendSinceItsFirstAttempt: the lookup asks for texts from the business
// number to the caller, and only a message with the same body created since the first attempt
// (allowing for clock skew) counts as the earlier attempt's.
func TestFindMatchesOnlyThisSendSinceItsFirstAttempt(t *testing.T) {
	since := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	m := testMessage()
	msg := func(sid, body string, created time.Time) map[string]any {
		return map[string]any{"sid": sid, "body": body, "to": m.To, "from": m.From, "date_created": created.Format(time.RFC1123Z)}
	}
	page := map[string]any{"messages": []any{
		msg("SMother", "a different text", since.Add(time.Minute)),
		msg("SMold", m.Body, since.Add(-time.Hour)),
		msg("SMours", m.Body, since.Add(30*time.Second)),
	}, "page": 0, "page_size": 50}
	f := newFakeTwilio(t, replyJSON(http.StatusOK, page))
	tw := newTestTwilio(t, f.URL, nil)

	id, found, err := tw.Find(context.Background(), m, since)
	if err != nil || !found || id != "SMours" {
		t.Fatalf("Find = %q, %v, %v; want SMours", id, found, err)
	}
	seen := f.seen()
	if len(seen) != 1 || seen[0].Method != http.MethodGet || !strings.HasSuffix(seen[0].Path, "/Accounts/"+testAccountSID+"/Messages.json") {
		t.Fatalf("requests = %+v, want one GET of the Messages list", seen)
	}

	// Nothing since the first attempt: not found, and the caller may be texted.
	m.Body = "a text nobody sent"
	if _, found, err := tw.Find(context.Background(), m, since); err != nil || found {
		t.Fatalf("Find of an unsent text = %v, %v; want not found", found, err)
	}
}

// TestFindFailureIsRetryable: a refused lookup must not read as a refused text, or a transient
// problem with the list endpoint would drop the send for good.
func TestFindFailureIsRetryable(t *testing.T) {
	f := newFakeTwilio(t, twilioError(http.StatusNotFound, 20404, "The requested resource was not found"))
	tw := newTestTwilio(t, f.URL, nil)
	_, found, err := tw.Find(context.Background(), testMessage(), time.Now())
	if err == nil || found {
		t.Fatalf("Find = %v, %v; want an error", found, err)
	}
	if IsPermanent(err) {
		t.Fatalf("lookup failure %v is permanent; it must be retried", err)
	}
	if strings.Contains(err.Error(), testTo) {
		t.Fatalf("error %q names the recipient", err)
	}
}
