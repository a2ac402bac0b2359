package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

const (
	callerName  = "Dana Whitfield"
	callerPhone = "614-555-0142"
	callerEmail = "dana@example.com"
)

// personal is everything of the caller's that must never reach the fallback or an error, in the
// spellings the conversation uses.
var personal = []string{"dana", "whitfield", "614-555-0142", "614 555 0142", "6145550142", "555-0142", "555 0142", "example.com"}

var testTools = []Tool{
	{Name: "save_contact", Description: "Save the caller's details.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"name":{"type":"string"},"phone":{"type":"string"},"email":{"type":"string"}}}`)},
	{Name: "book_appointment", Description: "Book a slot.", Parameters: json.RawMessage(
		`{"type":"object","properties":{"name":{"type":"string"},"phone":{"type":"string"},"start":{"type":"string"},"notes":{"type":"string"}},"required":["start"]}`)},
	{Name: "escalate"},
}

func conversation() Request {
	return Request{
		Messages: []Message{
			{Role: RoleSystem, Content: "You text on behalf of Bright Smile Dental. Open Mon-Fri 8am-5pm. Cleanings take 45 minutes."},
			{Role: RoleAssistant, Content: "Sorry we missed your call! This is Bright Smile Dental. How can we help?"},
			{Role: RoleUser, Content: "I'm Dana Whitfield, call me at 614-555-0142 or dana@example.com"},
			{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "call_1", Name: "save_contact",
				Arguments: `{"name":"Dana Whitfield","phone":"614-555-0142","email":"dana@example.com"}`}}},
			{Role: RoleTool, ToolCallID: "call_1", Content: `{"saved":true,"contact":"Dana Whitfield <dana@example.com>"}`},
			{Role: RoleAssistant, Content: "Thanks Dana! When would you like to come in?"},
			{Role: RoleUser, Content: "Tuesday morning if you can, or text 614 555 0142"},
		},
		Tools:      testTools,
		KnownNames: []string{callerName},
		Region:     "US",
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newTestClient(t *testing.T, primary Endpoint, fallback *Endpoint) (*Client, *bytes.Buffer) {
	t.Helper()
	c, err := New(primary, fallback, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var logs bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	return c, &logs
}

func ptr[T any](v T) *T { return &v }

func assertNoPersonalData(t *testing.T, what, s string) {
	t.Helper()
	lower := strings.ToLower(s)
	for _, p := range personal {
		if strings.Contains(lower, p) {
			t.Errorf("%s contains %q:\n%s", what, p, s)
		}
	}
}

func TestCompletePrimaryAnswers(t *testing.T) {
	primary := newFakeModel(t, answer("Tuesday at 9:00 works. Shall I book it?"))
	fallback := newFakeModel(t, answer("unused"))
	c, _ := newTestClient(t, primary.endpoint("llama3.1"), ptr(fallback.endpoint("hosted")))

	got, err := c.Complete(testContext(t), conversation())
	if err != nil {
		t.Fatal(err)
	}
	want := Reply{Content: "Tuesday at 9:00 works. Shall I book it?", Source: SourcePrimary, Model: "llama3.1"}
	if got.Content != want.Content || got.Source != want.Source || got.Model != want.Model || got.ToolCalls != nil {
		t.Errorf("reply = %+v, want %+v", got, want)
	}
	if n := len(fallback.requests()); n != 0 {
		t.Errorf("fallback got %d requests, want 0", n)
	}

	// The local primary sees the conversation as it is, with tools in OpenAI's shape.
	req := primary.lastRequest(t)
	if req.Model != "llama3.1" || len(req.Messages) != len(conversation().Messages) {
		t.Fatalf("primary request: model %q, %d messages", req.Model, len(req.Messages))
	}
	if !strings.Contains(req.Messages[2].Content, callerPhone) {
		t.Errorf("primary should see the caller's message unmasked, got %q", req.Messages[2].Content)
	}
	if tc := req.Messages[3].ToolCalls; len(tc) != 1 || tc[0].ID != "call_1" || tc[0].Type != openai.ToolTypeFunction || tc[0].Function.Name != "save_contact" {
		t.Errorf("assistant tool call = %+v", tc)
	}
	if m := req.Messages[4]; m.Role != RoleTool || m.ToolCallID != "call_1" {
		t.Errorf("tool result = %+v", m)
	}
	if len(req.Tools) != len(testTools) {
		t.Fatalf("%d tools sent, want %d", len(req.Tools), len(testTools))
	}
	for i, tool := range req.Tools {
		if tool.Type != openai.ToolTypeFunction || tool.Function == nil || tool.Function.Name != testTools[i].Name {
			t.Errorf("tool %d = %+v", i, tool)
		}
	}
	if !strings.Contains(primary.requests()[0], `"parameters":{"type":"object","properties":{}}`) {
		t.Error("a tool without parameters should be sent with an empty object schema")
	}
}

func TestCompletePrimaryToolCall(t *testing.T) {
	primary := newFakeModel(t, callTool("book_appointment", `{"start":"2026-11-17T09:00"}`))
	c, _ := newTestClient(t, primary.endpoint("llama3.1"), nil)

	got, err := c.Complete(testContext(t), conversation())
	if err != nil {
		t.Fatal(err)
	}
	want := []ToolCall{{ID: "call_abc", Name: "book_appointment", Arguments: `{"start":"2026-11-17T09:00"}`}}
	if len(got.ToolCalls) != 1 || got.ToolCalls[0] != want[0] || got.Content != "" || got.Source != SourcePrimary {
		t.Errorf("reply = %+v, want tool calls %+v", got, want)
	}
}

func TestCompleteFallbackSeesOnlyMaskedText(t *testing.T) {
	primary := newFakeModel(t, status(http.StatusInternalServerError))
	fallback := newFakeModel(t, answer("Thanks [NAME_1], we'll text [PHONE_1]"))
	c, logs := newTestClient(t, primary.endpoint("llama3.1"), ptr(fallback.endpoint("hosted-small")))

	got, err := c.Complete(testContext(t), conversation())
	if err != nil {
		t.Fatal(err)
	}
	if want := "Thanks Dana Whitfield, we'll text 614-555-0142"; got.Content != want {
		t.Errorf("content = %q, want %q", got.Content, want)
	}
	if got.Source != SourceFallback || got.Model != "hosted-small" {
		t.Errorf("source, model = %q, %q", got.Source, got.Model)
	}

	bodies := fallback.requests()
	if len(bodies) != 1 {
		t.Fatalf("fallback got %d requests, want 1", len(bodies))
	}
	assertNoPersonalData(t, "fallback request", bodies[0])
	assertNoPersonalData(t, "log", logs.String())
	if !strings.Contains(logs.String(), "status 500") {
		t.Errorf("log should say why the primary failed:\n%s", logs)
	}

	req := fallback.lastRequest(t)
	if req.Messages[1].Role != RoleSystem || req.Messages[1].Content != placeholderNote {
		t.Errorf("second message should be the placeholder note, got %+v", req.Messages[1])
	}
	if want := "I'm [NAME_1], call me at [PHONE_1] or [EMAIL_1]"; req.Messages[3].Content != want {
		t.Errorf("masked caller message = %q, want %q", req.Messages[3].Content, want)
	}
	// The same number in another spelling, later, gets the same placeholder.
	if want := "Tuesday morning if you can, or text [PHONE_1]"; req.Messages[7].Content != want {
		t.Errorf("masked later message = %q, want %q", req.Messages[7].Content, want)
	}
	args := req.Messages[4].ToolCalls[0].Function.Arguments
	var fields map[string]string
	if err := json.Unmarshal([]byte(args), &fields); err != nil {
		t.Fatalf("masked tool-call arguments are not JSON: %v\n%s", err, args)
	}
	if want := map[string]string{"name": "[NAME_1]", "phone": "[PHONE_1]", "email": "[EMAIL_1]"}; !equalMaps(fields, want) {
		t.Errorf("masked arguments = %v, want %v", fields, want)
	}
	if !json.Valid([]byte(req.Messages[5].Content)) {
		t.Errorf("masked tool result is not JSON: %s", req.Messages[5].Content)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCompleteFallbackToolCallUnmasked(t *testing.T) {
	req := conversation()
	// The business's own number is masked too: the fallback gets no allow-list.
	req.Messages[0].Content += " Our front desk is (614) 555-0199."
	primary := newFakeModel(t, status(http.StatusServiceUnavailable))
	fallback := newFakeModel(t, callTool("book_appointment",
		`{"name":"[NAME_1]","phone":"[PHONE_2]","start":"2026-11-17T09:00","notes":"prefers \"mornings\"; email \u005bEMAIL_1] or call [PHONE_1] \\ desk"}`))
	c, _ := newTestClient(t, primary.endpoint("llama3.1"), ptr(fallback.endpoint("hosted")))

	got, err := c.Complete(testContext(t), req)
	if err != nil {
		t.Fatal(err)
	}
	body := fallback.requests()[0]
	assertNoPersonalData(t, "fallback request", body)
	if strings.Contains(body, "555-0199") {
		t.Errorf("the business number in the system prompt reached the fallback:\n%s", body)
	}
	if len(got.ToolCalls) != 1 {
		t.Fatalf("reply = %+v, want one tool call", got)
	}
	tc := got.ToolCalls[0]
	if tc.Name != "book_appointment" || tc.ID != "call_abc" {
		t.Errorf("tool call = %+v", tc)
	}
	var args map[string]string
	if err := json.Unmarshal([]byte(tc.Arguments), &args); err != nil {
		t.Fatalf("unmasked arguments are not valid JSON: %v\n%s", err, tc.Arguments)
	}
	want := map[string]string{
		"name":  callerName,
		"phone": callerPhone,
		"start": "2026-11-17T09:00",
		"notes": `prefers "mornings"; email ` + callerEmail + ` or call (614) 555-0199 \ desk`,
	}
	if !equalMaps(args, want) {
		t.Errorf("arguments = %v, want %v", args, want)
	}
}

func TestCompleteFallsBackWhenPrimaryFails(t *testing.T) {
	tests := []struct {
		name    string
		primary responder
		refused bool
		reason  string // what the log says about the primary
	}{
		{name: "500", primary: status(http.StatusInternalServerError), reason: "status 500, server error"},
		{name: "502 plain text", primary: raw(http.StatusBadGateway, "upstream down"), reason: "status 502, server error"},
		{name: "429", primary: status(http.StatusTooManyRequests), reason: "status 429, rate limited"},
		{name: "408", primary: status(http.StatusRequestTimeout), reason: "status 408, timeout"},
		{name: "400", primary: status(http.StatusBadRequest), reason: "status 400, request rejected"},
		{name: "401", primary: status(http.StatusUnauthorized), reason: "status 401, request rejected"},
		{name: "hangs", primary: hang, reason: "primary: timeout"},
		{name: "connection refused", refused: true, reason: "connection refused"},
		{name: "empty reply", primary: answer("  "), reason: "empty reply"},
		{name: "no choices", primary: raw(http.StatusOK, `{"id":"x","choices":[]}`), reason: "empty reply"},
		{name: "not JSON", primary: raw(http.StatusOK, `<html>gateway</html>`), reason: "unusable response"},
		{name: "cut off", primary: func(w http.ResponseWriter, _ *http.Request, req openai.ChatCompletionRequest) {
			writeCompletion(w, req.Model, openai.ChatCompletionMessage{Content: "We can do Tues"}, openai.FinishReasonLength)
		}, reason: "cut off"},
		{name: "arguments not JSON", primary: callTool("book_appointment", `{"start": 2026-11-17`), reason: "invalid tool call"},
		{name: "arguments not an object", primary: callTool("book_appointment", `["2026-11-17"]`), reason: "invalid tool call"},
		{name: "unknown tool", primary: callTool("delete_everything", `{}`), reason: "invalid tool call"},
		{name: "response too large", primary: answer(strings.Repeat("a", maxResponseBytes)), reason: "response too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := Endpoint{BaseURL: refusedURL(t), Model: "llama3.1"}
			if !tt.refused {
				ep = newFakeModel(t, tt.primary).endpoint("llama3.1")
			}
			if tt.reason == "primary: timeout" {
				ep.Timeout = 200 * time.Millisecond
			}
			fallback := newFakeModel(t, answer("See you Tuesday!"))
			c, logs := newTestClient(t, ep, ptr(fallback.endpoint("hosted")))

			got, err := c.Complete(testContext(t), conversation())
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != SourceFallback || got.Content != "See you Tuesday!" {
				t.Errorf("reply = %+v, want the fallback's", got)
			}
			if n := len(fallback.requests()); n != 1 {
				t.Errorf("fallback got %d requests, want 1", n)
			}
			if !strings.Contains(logs.String(), tt.reason) {
				t.Errorf("log does not say %q:\n%s", tt.reason, logs)
			}
		})
	}
}

func TestCompleteUnavailable(t *testing.T) {
	tests := []struct {
		name          string
		primary       responder // nil: connection refused
		fallback      responder // nil: no fallback configured
		want          []string
		wantRejected  bool
		wantAttempts  int
		wantPrimaryOf int // status of the primary's attempt
	}{
		{
			name: "both 5xx", primary: status(http.StatusInternalServerError), fallback: status(http.StatusServiceUnavailable),
			want:         []string{"primary: status 500, server error", "fallback: status 503, server error"},
			wantAttempts: 2, wantPrimaryOf: 500,
		},
		{
			name: "timeout then rate limited", primary: hang, fallback: status(http.StatusTooManyRequests),
			want:         []string{"primary: timeout", "fallback: status 429, rate limited"},
			wantAttempts: 2,
		},
		{
			name: "refused then timeout", fallback: hang,
			want:         []string{"primary: connection refused", "fallback: timeout"},
			wantAttempts: 2,
		},
		{
			name: "empty then unusable", primary: answer(""), fallback: raw(http.StatusOK, "not json"),
			want:         []string{"primary: empty reply", "fallback: unusable response"},
			wantAttempts: 2,
		},
		{
			name: "primary 400 reported", primary: status(http.StatusBadRequest), fallback: status(http.StatusBadGateway),
			want:         []string{"primary: status 400, request rejected: our bug or configuration", "fallback: status 502"},
			wantAttempts: 2, wantPrimaryOf: 400,
		},
		{
			name: "both reject", primary: status(http.StatusUnauthorized), fallback: status(http.StatusForbidden),
			want:         []string{"primary: status 401, request rejected", "fallback: status 403, request rejected"},
			wantRejected: true, wantAttempts: 2, wantPrimaryOf: 401,
		},
		{
			name: "no fallback", primary: status(http.StatusInternalServerError),
			want:         []string{"primary: status 500", "no fallback configured"},
			wantAttempts: 1, wantPrimaryOf: 500,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := Endpoint{BaseURL: refusedURL(t), Model: "llama3.1"}
			if tt.primary != nil {
				primary = newFakeModel(t, tt.primary).endpoint("llama3.1")
			}
			primary.Timeout = 200 * time.Millisecond
			var fallback *Endpoint
			if tt.fallback != nil {
				fallback = ptr(newFakeModel(t, tt.fallback).endpoint("hosted"))
				fallback.Timeout = 200 * time.Millisecond
			}
			c, _ := newTestClient(t, primary, fallback)

			got, err := c.Complete(testContext(t), conversation())
			if err == nil {
				t.Fatalf("reply = %+v, want an error", got)
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("error %v does not wrap ErrUnavailable", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			assertNoPersonalData(t, "error", msg)
			if strings.Contains(msg, "cannot process") || strings.Contains(msg, "Bright Smile") {
				t.Errorf("error carries the endpoint's text: %q", msg)
			}
			var ue *UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("error %T is not an *UnavailableError", err)
			}
			if len(ue.Attempts) != tt.wantAttempts || ue.Rejected() != tt.wantRejected {
				t.Errorf("attempts %+v, rejected %v; want %d attempts, rejected %v", ue.Attempts, ue.Rejected(), tt.wantAttempts, tt.wantRejected)
			}
			if tt.wantPrimaryOf != 0 && ue.Attempts[0].Status != tt.wantPrimaryOf {
				t.Errorf("primary status = %d, want %d", ue.Attempts[0].Status, tt.wantPrimaryOf)
			}
		})
	}
}

func TestCompletePrimaryRejectionIsLoggedWhenFallbackAnswers(t *testing.T) {
	primary := newFakeModel(t, status(http.StatusBadRequest))
	fallback := newFakeModel(t, answer("Happy to help, [NAME_1]."))
	c, logs := newTestClient(t, primary.endpoint("llama3.1"), ptr(fallback.endpoint("hosted")))

	got, err := c.Complete(testContext(t), conversation())
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != "Happy to help, Dana Whitfield." {
		t.Errorf("content = %q", got.Content)
	}
	log := logs.String()
	for _, w := range []string{"level=ERROR", "status 400", "our bug or configuration", "rejected=true"} {
		if !strings.Contains(log, w) {
			t.Errorf("log does not say %q:\n%s", w, log)
		}
	}
	assertNoPersonalData(t, "log", log)
}

func TestCompleteCallerGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	primary := newFakeModel(t, func(w http.ResponseWriter, r *http.Request, req openai.ChatCompletionRequest) {
		cancel() // the activity is cancelled while the primary thinks
		hang(w, r, req)
	})
	fallback := newFakeModel(t, answer("unused"))
	c, _ := newTestClient(t, primary.endpoint("llama3.1"), ptr(fallback.endpoint("hosted")))

	_, err := c.Complete(ctx, conversation())
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want ErrUnavailable and context.Canceled", err)
	}
	if n := len(fallback.requests()); n != 0 {
		t.Errorf("fallback got %d requests after the caller gave up, want 0", n)
	}
}

func TestCompleteInvalidRequest(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Request)
	}{
		{"no messages", func(r *Request) { r.Messages = nil }},
		{"unknown role", func(r *Request) { r.Messages[2].Role = "caller" }},
		{"tool result without call ID", func(r *Request) { r.Messages[4].ToolCallID = "" }},
		{"tool call without name", func(r *Request) { r.Messages[3].ToolCalls[0].Name = "" }},
		{"tool calls on a user message", func(r *Request) { r.Messages[2].ToolCalls = []ToolCall{{ID: "x", Name: "y"}} }},
		{"tool parameters not an object", func(r *Request) { r.Tools = []Tool{{Name: "x", Parameters: json.RawMessage(`[1`)}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := newFakeModel(t, answer("unused"))
			c, _ := newTestClient(t, primary.endpoint("llama3.1"), nil)
			req := conversation()
			tt.edit(&req)
			if _, err := c.Complete(testContext(t), req); err == nil || errors.Is(err, ErrUnavailable) {
				t.Errorf("error = %v, want a request error", err)
			}
			if n := len(primary.requests()); n != 0 {
				t.Errorf("primary got %d requests, want 0", n)
			}
		})
	}
}

func TestNew(t *testing.T) {
	ok := Endpoint{BaseURL: "https://api.example.net/v1", APIKey: "k", Model: "m"}
	tests := []struct {
		name     string
		primary  Endpoint
		fallback *Endpoint
		wantErr  bool
	}{
		{name: "ollama by default", primary: Endpoint{Model: "llama3.1"}},
		{name: "with fallback", primary: ok, fallback: &ok},
		{name: "primary without model", primary: Endpoint{BaseURL: DefaultBaseURL}, wantErr: true},
		{name: "primary not http", primary: Endpoint{BaseURL: "ftp://models.example/v1", Model: "m"}, wantErr: true},
		{name: "primary relative", primary: Endpoint{BaseURL: "localhost:11434/v1", Model: "m"}, wantErr: true},
		{name: "negative timeout", primary: Endpoint{Model: "m", Timeout: -time.Second}, wantErr: true},
		{name: "fallback without URL", primary: ok, fallback: &Endpoint{Model: "m"}, wantErr: true},
		{name: "fallback without model", primary: ok, fallback: &Endpoint{BaseURL: "https://api.example.net/v1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.primary, tt.fallback, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && c.primary.timeout != DefaultTimeout {
				t.Errorf("timeout = %v, want the default %v", c.primary.timeout, DefaultTimeout)
			}
		})
	}
}

func TestEndpointStringHidesKey(t *testing.T) {
	e := Endpoint{BaseURL: "https://api.example.net/v1", APIKey: "sk-secret", Model: "m"}
	for _, s := range []string{e.String(), logged(e)} {
		if strings.Contains(s, "sk-secret") {
			t.Errorf("%q shows the API key", s)
		}
	}
}

func logged(v any) string {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "endpoint", v)
	return b.String()
}

func TestCompleteSendsBoundedHistory(t *testing.T) {
	primary := newFakeModel(t, answer("ok"))
	fallback := newFakeModel(t, answer("ok"))
	c, _ := newTestClient(t, primary.endpoint("llama3.1"), ptr(fallback.endpoint("hosted")))
	c.MaxMessages = 4

	if _, err := c.Complete(testContext(t), conversation()); err != nil {
		t.Fatal(err)
	}
	// The system prompt, then the tool call with its result, the assistant's question and the
	// caller's answer would be five; the pair does not fit whole, so it goes.
	req := primary.lastRequest(t)
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if got, want := strings.Join(roles, ","), "system,assistant,user"; got != want {
		t.Errorf("roles sent = %s, want %s", got, want)
	}
}

func TestBound(t *testing.T) {
	sys := Message{Role: RoleSystem, Content: "s"}
	u := func(s string) Message { return Message{Role: RoleUser, Content: s} }
	a := func(s string) Message { return Message{Role: RoleAssistant, Content: s} }
	call := Message{Role: RoleAssistant, ToolCalls: []ToolCall{{ID: "1", Name: "f"}, {ID: "2", Name: "g"}}}
	res := func(id string) Message { return Message{Role: RoleTool, ToolCallID: id, Content: "r" + id} }

	history := []Message{sys, u("u1"), a("a1"), u("u2"), call, res("1"), res("2"), a("a2"), u("u3")}
	tests := []struct {
		name  string
		msgs  []Message
		limit int
		want  []Message
	}{
		{"fits", history, 9, history},
		{"pair fits", history, 6, []Message{sys, call, res("1"), res("2"), a("a2"), u("u3")}},
		{"pair would be split", history, 5, []Message{sys, a("a2"), u("u3")}},
		{"pair would be split by one", history, 4, []Message{sys, a("a2"), u("u3")}},
		{"older turn after the pair", history, 7, []Message{sys, u("u2"), call, res("1"), res("2"), a("a2"), u("u3")}},
		{"latest pair kept whole beyond the limit", []Message{sys, u("u1"), call, res("1"), res("2")}, 2,
			[]Message{sys, call, res("1"), res("2")}},
		{"system messages kept wherever they are", []Message{sys, u("u1"), a("a1"), Message{Role: RoleSystem, Content: "s2"}, u("u2"), a("a2")}, 4,
			[]Message{sys, Message{Role: RoleSystem, Content: "s2"}, u("u2"), a("a2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bound(tt.msgs, tt.limit)
			if !equalMessages(got, tt.want) {
				t.Errorf("bound = %s\nwant    %s", describe(got), describe(tt.want))
			}
			for i, m := range got {
				if m.Role == RoleTool && (i == 0 || got[i-1].Role != RoleTool && len(got[i-1].ToolCalls) == 0) {
					t.Errorf("tool result %d separated from its call: %s", i, describe(got))
				}
			}
		})
	}
}

func equalMessages(a, b []Message) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if describe(a[i:i+1]) != describe(b[i:i+1]) {
			return false
		}
	}
	return true
}

func describe(msgs []Message) string {
	var parts []string
	for _, m := range msgs {
		s := m.Role + ":" + m.Content + m.ToolCallID
		for _, tc := range m.ToolCalls {
			s += "+" + tc.ID
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestMapJSONStrings(t *testing.T) {
	upper := strings.ToUpper
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`{"a":"b"}`, `{"A":"B"}`, true},
		{`{"n": 1, "t": true, "x": null, "l": ["q", {"k": "v"}]}`, `{"N": 1, "T": true, "X": null, "L": ["Q", {"K": "V"}]}`, true},
		{`{"e":"say \"hi\" \\ \u005bx]"}`, `{"E":"SAY \"HI\" \\ [X]"}`, true},
		{`"<&>"`, `"<&>"`, true},
		{`{"a":`, ``, false},
		{`not json`, ``, false},
	}
	for _, tt := range tests {
		got, ok := mapJSONStrings(tt.in, upper)
		if ok != tt.ok || got != tt.want {
			t.Errorf("mapJSONStrings(%s) = %s, %v; want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && !json.Valid([]byte(got)) {
			t.Errorf("mapJSONStrings(%s) = %s is not valid JSON", tt.in, got)
		}
	}
	// A value that gains a quote or backslash must stay valid JSON.
	got, ok := mapJSONStrings(`{"a":"[X]"}`, func(s string) string {
		if s == "[X]" {
			return `O"Neil \ `
		}
		return s
	})
	if !ok || got != `{"a":"O\"Neil \\ "}` {
		t.Errorf("got %s, %v", got, ok)
	}
}
