package model

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

// fakeModel is an OpenAI-compatible chat completions server that records every request body and
// answers with respond.
type fakeModel struct {
	srv     *httptest.Server
	respond func(w http.ResponseWriter, r *http.Request, req openai.ChatCompletionRequest)

	mu     sync.Mutex
	bodies []string
}

func newFakeModel(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, req openai.ChatCompletionRequest)) *fakeModel {
	t.Helper()
	f := &fakeModel{respond: respond}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake model: read body: %v", err)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, string(body))
		f.mu.Unlock()
		var req openai.ChatCompletionRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("fake model: request is not a chat completion: %v", err)
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		f.respond(w, r, req)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake model: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeModel) endpoint(model string) Endpoint {
	return Endpoint{BaseURL: f.srv.URL + "/v1", APIKey: "test-key", Model: model}
}

func (f *fakeModel) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// lastRequest decodes the most recent request body.
func (f *fakeModel) lastRequest(t *testing.T) openai.ChatCompletionRequest {
	t.Helper()
	bodies := f.requests()
	if len(bodies) == 0 {
		t.Fatal("fake model received no request")
	}
	var req openai.ChatCompletionRequest
	if err := json.Unmarshal([]byte(bodies[len(bodies)-1]), &req); err != nil {
		t.Fatal(err)
	}
	return req
}

type responder = func(w http.ResponseWriter, r *http.Request, req openai.ChatCompletionRequest)

func writeCompletion(w http.ResponseWriter, model string, msg openai.ChatCompletionMessage, finish openai.FinishReason) {
	w.Header().Set("Content-Type", "application/json")
	msg.Role = openai.ChatMessageRoleAssistant
	_ = json.NewEncoder(w).Encode(openai.ChatCompletionResponse{
		ID:      "chatcmpl-1",
		Object:  "chat.completion",
		Model:   model,
		Choices: []openai.ChatCompletionChoice{{Message: msg, FinishReason: finish}},
	})
}

// answer replies with content.
func answer(content string) responder {
	return func(w http.ResponseWriter, _ *http.Request, req openai.ChatCompletionRequest) {
		writeCompletion(w, req.Model, openai.ChatCompletionMessage{Content: content}, openai.FinishReasonStop)
	}
}

// callTool replies with one call of tool name with args.
func callTool(name, args string) responder {
	return func(w http.ResponseWriter, _ *http.Request, req openai.ChatCompletionRequest) {
		writeCompletion(w, req.Model, openai.ChatCompletionMessage{ToolCalls: []openai.ToolCall{{
			ID: "call_abc", Type: openai.ToolTypeFunction,
			Function: openai.FunctionCall{Name: name, Arguments: args},
		}}}, openai.FinishReasonToolCalls)
	}
}

// status replies with an OpenAI-style error whose message echoes the request, as some servers do,
// so tests can check that none of it reaches our errors.
func status(code int) responder {
	return func(w http.ResponseWriter, _ *http.Request, req openai.ChatCompletionRequest) {
		echo := ""
		for _, m := range req.Messages {
			echo += m.Content + " "
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"message": "cannot process: " + echo, "type": "invalid_request_error",
		}})
	}
}

// raw replies with code and body as they are.
func raw(code int, body string) responder {
	return func(w http.ResponseWriter, _ *http.Request, _ openai.ChatCompletionRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// hang never answers; it returns when the client gives up.
func hang(w http.ResponseWriter, r *http.Request, _ openai.ChatCompletionRequest) {
	<-r.Context().Done()
}

// refusedURL is the base URL of a server that is no longer listening.
func refusedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/v1"
	srv.Close()
	return url
}
