// Package model asks a language model for a conversation's next SMS reply. A local primary
// (Ollama's OpenAI-compatible endpoint by default) sees the conversation as it is; when it fails, a
// hosted fallback answers instead and only ever sees the conversation with its personal data masked
// (P06). The types here are plain data so workflows can hold them; no go-openai type is exported.
package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Reply sources.
const (
	SourcePrimary  = "primary"
	SourceFallback = "fallback"
)

// Defaults.
const (
	// DefaultBaseURL is Ollama's OpenAI-compatible endpoint, the primary when none is configured.
	DefaultBaseURL = "http://localhost:11434/v1"
	// DefaultTimeout bounds one endpoint's answer when Endpoint.Timeout is zero.
	DefaultTimeout = 20 * time.Second
	// DefaultMaxMessages bounds the messages sent when Client.MaxMessages is zero.
	DefaultMaxMessages = 24
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // system, user, assistant or tool
	Content string `json:"content,omitempty"`
	// ToolCalls are the calls an assistant turn asked for.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID links a tool turn (the call's result) to the call it answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// ToolCall is a model's request to run a tool. Arguments is a JSON object as text.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool is a function the model may call. Parameters is its JSON Schema.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// Request is everything one completion needs.
type Request struct {
	Messages []Message `json:"messages"`
	Tools    []Tool    `json:"tools,omitempty"`
	// KnownNames are the names this conversation already knows (the caller's, anyone they
	// mentioned); masking for the fallback finds names only through them.
	KnownNames []string `json:"known_names,omitempty"`
	// Region is the ISO 3166 region assumed for phone numbers without a country code.
	Region string `json:"region,omitempty"`
}

// Reply is a model's answer: text for the caller, tool calls, or both.
type Reply struct {
	Content   string     `json:"content,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	Source    string     `json:"source"` // SourcePrimary or SourceFallback
	Model     string     `json:"model"`
}

// Endpoint is an OpenAI-compatible chat completions API.
type Endpoint struct {
	BaseURL string // up to and including the version, e.g. "http://localhost:11434/v1"
	APIKey  string
	Model   string
	// Timeout bounds one request to this endpoint; DefaultTimeout when zero.
	Timeout time.Duration
}

// String leaves the API key out, so an Endpoint can be logged.
func (e Endpoint) String() string {
	return fmt.Sprintf("%s (model %s)", e.BaseURL, e.Model)
}

// Client asks the primary endpoint and, when it fails, the fallback.
type Client struct {
	// MaxMessages bounds the messages sent per request: the system messages and the most recent
	// turns that fit. DefaultMaxMessages when zero. Set it before the first Complete.
	MaxMessages int
	// Logger receives a warning, without content, whenever the fallback answers for a failed
	// primary. slog.Default() when nil.
	Logger *slog.Logger

	primary  *endpoint
	fallback *endpoint
}

// New returns a client for primary and, when fallback is not nil, a fallback that only ever
// receives masked text. An empty primary BaseURL means Ollama on this machine; an empty primary
// APIKey is sent as "ollama", which Ollama ignores. A nil httpClient means a new http.Client; the
// endpoints' timeouts apply through the request context, so it needs no Timeout of its own.
func New(primary Endpoint, fallback *Endpoint, httpClient *http.Client) (*Client, error) {
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	if primary.BaseURL == "" {
		primary.BaseURL = DefaultBaseURL
	}
	if primary.APIKey == "" {
		primary.APIKey = "ollama"
	}
	p, err := newEndpoint(SourcePrimary, primary, httpClient)
	if err != nil {
		return nil, err
	}
	c := &Client{primary: p}
	if fallback != nil {
		if c.fallback, err = newEndpoint(SourceFallback, *fallback, httpClient); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// endpoint is a validated Endpoint with its API client.
type endpoint struct {
	role    string
	model   string
	timeout time.Duration
	api     *openai.Client
}

func newEndpoint(role string, e Endpoint, httpClient *http.Client) (*endpoint, error) {
	u, err := url.Parse(e.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL is not quoted: a mistyped one can hold credentials.
		return nil, fmt.Errorf("model: %s endpoint: base URL must be an absolute http(s) URL", role)
	}
	if strings.TrimSpace(e.Model) == "" {
		return nil, fmt.Errorf("model: %s endpoint: model is empty", role)
	}
	switch {
	case e.Timeout < 0:
		return nil, fmt.Errorf("model: %s endpoint: negative timeout %v", role, e.Timeout)
	case e.Timeout == 0:
		e.Timeout = DefaultTimeout
	}
	cfg := openai.DefaultConfig(e.APIKey)
	cfg.BaseURL = strings.TrimRight(e.BaseURL, "/")
	cfg.HTTPClient = cappedDoer{httpClient}
	return &endpoint{role: role, model: e.Model, timeout: e.Timeout, api: openai.NewClientWithConfig(cfg)}, nil
}

// Complete asks for the next reply. The primary answers with the conversation as it is. When it
// fails in any way (an error status, a timeout, a refused or broken connection, an empty or
// unusable answer) the fallback is asked with every message's content, every tool call's
// arguments and every tool result masked by one pii.Mapping, and its reply is unmasked before it
// is returned. Even a request the primary rejected as malformed goes to the fallback: the
// conversation should not stall on our bug, and the error or log says which it was.
//
// When no endpoint answers, the error is an *UnavailableError wrapping ErrUnavailable. A request
// that is itself invalid (no messages, an unknown role) gives a plain error and reaches no endpoint.
func (c *Client) Complete(ctx context.Context, req Request) (Reply, error) {
	if err := req.validate(); err != nil {
		return Reply{}, fmt.Errorf("model: %w", err)
	}
	msgs := bound(req.Messages, c.maxMessages())
	tools := openaiTools(req.Tools)
	offered := make(map[string]bool, len(req.Tools))
	for _, t := range req.Tools {
		offered[t.Name] = true
	}

	reply, failed := c.primary.complete(ctx, openaiMessages(msgs), tools, offered)
	if failed == nil {
		return reply, nil
	}
	attempts := []Attempt{*failed}
	if ctx.Err() != nil || c.fallback == nil {
		return Reply{}, &UnavailableError{Attempts: attempts, NoFallback: c.fallback == nil, cause: ctx.Err()}
	}

	m := newMasker(req.KnownNames, req.Region)
	masked := m.messages(msgs)
	reply, ffailed := c.fallback.complete(ctx, withPlaceholderNote(openaiMessages(masked)), tools, offered)
	if ffailed != nil {
		attempts = append(attempts, *ffailed)
		return Reply{}, &UnavailableError{Attempts: attempts, cause: ctx.Err()}
	}
	reply = m.unmaskReply(reply)

	level := slog.LevelWarn
	if failed.Rejected {
		level = slog.LevelError
	}
	c.logger().LogAttrs(ctx, level, "model: primary failed, fallback answered",
		slog.String("primary", failed.String()),
		slog.Bool("rejected", failed.Rejected),
		slog.String("fallback_model", reply.Model))
	return reply, nil
}

func (c *Client) maxMessages() int {
	if c.MaxMessages > 0 {
		return c.MaxMessages
	}
	return DefaultMaxMessages
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// complete makes one request to e within e's timeout and checks the answer. A failure is
// described by an Attempt, never by the endpoint's own error text, which may echo the request.
func (e *endpoint) complete(ctx context.Context, msgs []openai.ChatCompletionMessage, tools []openai.Tool, offered map[string]bool) (Reply, *Attempt) {
	ectx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	resp, err := e.api.CreateChatCompletion(ectx, openai.ChatCompletionRequest{
		Model:    e.model,
		Messages: msgs,
		Tools:    tools,
	})
	if err != nil {
		a := classify(e.role, err, ctx, ectx)
		return Reply{}, &a
	}
	reply, reason := readReply(resp, offered)
	if reason != "" {
		return Reply{}, &Attempt{Endpoint: e.role, Reason: reason}
	}
	reply.Source = e.role
	if reply.Model == "" {
		reply.Model = e.model
	}
	return reply, nil
}

// readReply turns the first choice into a Reply, or says why it cannot be used. Tool calls are
// accepted whatever the finish reason says, because some servers report "stop" alongside them.
func readReply(resp openai.ChatCompletionResponse, offered map[string]bool) (Reply, string) {
	if len(resp.Choices) == 0 {
		return Reply{}, reasonEmpty
	}
	choice := resp.Choices[0]
	switch choice.FinishReason {
	case openai.FinishReasonLength:
		// A reply cut off mid-sentence must not reach a caller.
		return Reply{}, reasonTruncated
	case openai.FinishReasonContentFilter:
		return Reply{}, reasonFiltered
	}
	reply := Reply{Content: strings.TrimSpace(choice.Message.Content), Model: resp.Model}
	for i, tc := range choice.Message.ToolCalls {
		if (tc.Type != "" && tc.Type != openai.ToolTypeFunction) || !offered[tc.Function.Name] {
			return Reply{}, reasonBadToolCall
		}
		args := strings.TrimSpace(tc.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		if !isJSONObject(args) {
			return Reply{}, reasonBadToolCall
		}
		id := tc.ID
		if id == "" {
			// The result turn must name the call it answers; a few servers leave IDs out.
			id = fmt.Sprintf("call_%d", i+1)
		}
		reply.ToolCalls = append(reply.ToolCalls, ToolCall{ID: id, Name: tc.Function.Name, Arguments: args})
	}
	if reply.Content == "" && len(reply.ToolCalls) == 0 {
		return Reply{}, reasonEmpty
	}
	return reply, ""
}

func isJSONObject(s string) bool {
	var obj map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &obj) == nil && obj != nil
}

func (r Request) validate() error {
	if len(r.Messages) == 0 {
		return errors.New("request has no messages")
	}
	for i, m := range r.Messages {
		switch m.Role {
		case RoleSystem, RoleUser:
		case RoleAssistant:
			for _, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Name == "" {
					return fmt.Errorf("message %d: tool call without ID or name", i)
				}
			}
		case RoleTool:
			if m.ToolCallID == "" {
				return fmt.Errorf("message %d: tool result without tool call ID", i)
			}
		default:
			return fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
		if m.Role != RoleAssistant && len(m.ToolCalls) > 0 {
			return fmt.Errorf("message %d: tool calls on a %s message", i, m.Role)
		}
	}
	for _, t := range r.Tools {
		if t.Name == "" {
			return errors.New("tool without a name")
		}
		if len(t.Parameters) > 0 && !isJSONObject(string(t.Parameters)) {
			return fmt.Errorf("tool %s: parameters are not a JSON object", t.Name)
		}
	}
	return nil
}

// emptyParameters is the schema of a tool that takes no arguments; some servers reject a
// function without one.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

func openaiTools(tools []Tool) []openai.Tool {
	var out []openai.Tool
	for _, t := range tools {
		params := t.Parameters
		if len(params) == 0 {
			params = emptyParameters
		}
		out = append(out, openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name:        t.Name,
			Description: t.Description,
			Parameters:  params,
		}})
	}
	return out
}

func openaiMessages(msgs []Message) []openai.ChatCompletionMessage {
	out := make([]openai.ChatCompletionMessage, 0, len(msgs)+1)
	for _, m := range msgs {
		om := openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			om.ToolCalls = append(om.ToolCalls, openai.ToolCall{
				ID:       tc.ID,
				Type:     openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
		out = append(out, om)
	}
	return out
}
