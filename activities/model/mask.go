package model

import (
	"bytes"
	"encoding/json"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/ringback/ringback/internal/pii"
)

// placeholderNote tells the fallback what the placeholders are. It is added after masking, so its
// example placeholders are not escaped.
const placeholderNote = "Personal details in this conversation are withheld and shown as bracketed " +
	"placeholders such as [NAME_1], [PHONE_1] or [EMAIL_1]. Wherever such a detail belongs in " +
	"your reply or in tool arguments, copy its placeholder exactly as written; never guess, " +
	"change or ask for the value behind it."

// masker masks one request for the fallback with a single Mapping, so a value gets the same
// placeholder wherever it appears, and unmasks the fallback's reply with it.
type masker struct {
	mapping pii.Mapping
	// opts never sets Allow: the fallback is a third party, and even the business's own number in
	// the system prompt is masked so that no allow-list can let a caller's number through.
	opts pii.Options
}

func newMasker(knownNames []string, region string) *masker {
	return &masker{opts: pii.Options{Region: region, KnownNames: knownNames}}
}

// messages returns a masked copy of msgs, masking in conversation order so placeholders are
// numbered as the values first appear.
func (m *masker) messages(msgs []Message) []Message {
	out := make([]Message, len(msgs))
	for i, msg := range msgs {
		masked := Message{Role: msg.Role, ToolCallID: msg.ToolCallID}
		if msg.Role == RoleTool {
			// Tool results are usually JSON; keep them valid JSON when they are.
			masked.Content = m.maskMaybeJSON(msg.Content)
		} else {
			masked.Content = m.mapping.Mask(msg.Content, m.opts)
		}
		for _, tc := range msg.ToolCalls {
			tc.Arguments = m.maskMaybeJSON(tc.Arguments)
			masked.ToolCalls = append(masked.ToolCalls, tc)
		}
		out[i] = masked
	}
	return out
}

// maskMaybeJSON masks each string inside s when s is JSON, and s as text otherwise.
func (m *masker) maskMaybeJSON(s string) string {
	mask := func(v string) string { return m.mapping.Mask(v, m.opts) }
	if out, ok := mapJSONStrings(s, mask); ok {
		return out
	}
	return mask(s)
}

// unmaskReply puts the withheld values back into the fallback's reply. Arguments were checked to
// be a JSON object, and unmasking inside its strings keeps them one.
func (m *masker) unmaskReply(r Reply) Reply {
	r.Content = m.mapping.Unmask(r.Content)
	calls := make([]ToolCall, len(r.ToolCalls))
	for i, tc := range r.ToolCalls {
		if out, ok := mapJSONStrings(tc.Arguments, m.mapping.Unmask); ok {
			tc.Arguments = out
		}
		calls[i] = tc
	}
	if len(calls) > 0 {
		r.ToolCalls = calls
	}
	return r
}

// mapJSONStrings applies f to the value of every string (keys included) in the JSON text s and
// returns the result, which is valid JSON again with everything outside the strings unchanged.
// ok is false when s is not valid JSON.
//
// Working on the decoded value matters both ways: a raw placeholder spliced into JSON text could
// break it (a value with a quote or backslash), and a model may escape characters of a placeholder
// ("\u005bNAME_1]") that only decoding reveals.
func mapJSONStrings(s string, f func(string) string) (string, bool) {
	if !json.Valid([]byte(s)) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '"' {
			continue
		}
		// In valid JSON a quote outside a string opens one; find its closing quote.
		j := i + 1
		for s[j] != '"' {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		var v string
		if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
			return "", false
		}
		b.WriteString(s[last:i])
		b.WriteString(quoteJSON(f(v)))
		last = j + 1
		i = j
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// quoteJSON encodes s as a JSON string without HTML escaping, so "<" and "&" stay readable.
func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(buf.String(), "\n")
}

// withPlaceholderNote inserts placeholderNote after the leading system messages.
func withPlaceholderNote(msgs []openai.ChatCompletionMessage) []openai.ChatCompletionMessage {
	i := 0
	for i < len(msgs) && msgs[i].Role == RoleSystem {
		i++
	}
	out := make([]openai.ChatCompletionMessage, 0, len(msgs)+1)
	out = append(out, msgs[:i]...)
	out = append(out, openai.ChatCompletionMessage{Role: RoleSystem, Content: placeholderNote})
	return append(out, msgs[i:]...)
}
