package pii

import (
	"strconv"
	"strings"
)

// Mapping remembers which placeholder stands for which value, so that text masked turn by turn
// stays consistent and a model's reply can be unmasked. It is plain data with exported fields
// because it travels in workflow state; it holds the original values and must be protected like
// the conversation itself.
//
// The zero value is an empty mapping ready to use. A Mapping is not safe for concurrent use.
type Mapping struct {
	Entries []Entry `json:"entries"`
}

// Entry is one masked value.
type Entry struct {
	// Placeholder is what replaces the value, e.g. "[PHONE_1]".
	Placeholder string `json:"placeholder"`
	Kind        Kind   `json:"kind"`
	// Normalized identifies the value: every spelling of the same number or address maps to this
	// entry.
	Normalized string `json:"normalized"`
	// Value is the spelling seen first; Unmask restores it.
	Value string `json:"value"`
}

// Placeholders have the form "[KIND_N]": an upper-case kind, an underscore and a counter per kind
// starting at 1. Brackets make them hard for a model to merge with neighbouring words and easy to
// find again.
//
// Text that already contains something placeholder-shaped — "[PHONE_1]", in any case, with or
// without backslashes after the "[" — is escaped by Mask with one more backslash ("[\PHONE_1]"),
// and Unmask removes one backslash from every such token that has any. So a caller cannot forge a
// placeholder that Unmask would turn into someone else's data, and Unmask(Mask(x)) gives back x.

// Mask replaces the personal data in text with placeholders and returns the masked text and a new
// Mapping to unmask replies with.
func Mask(text string, opts Options) (string, *Mapping) {
	m := &Mapping{}
	return m.Mask(text, opts), m
}

// Mask replaces the personal data in text with placeholders, reusing the placeholders m already
// has for the same values and adding entries for new ones. m must not be nil.
func (m *Mapping) Mask(text string, opts Options) string {
	findings := Detect(text, opts)
	index := make(map[valueKey]string, len(m.Entries))
	perKind := make(map[Kind]int)
	for _, e := range m.Entries {
		index[valueKey{e.Kind, e.Normalized}] = e.Placeholder
		perKind[e.Kind]++
	}
	var b strings.Builder
	b.Grow(len(text) + 8*len(findings))
	last := 0
	for _, f := range findings {
		escapeTokens(&b, text[last:f.Start])
		key := valueKey{f.Kind, f.Normalized}
		p, ok := index[key]
		if !ok {
			perKind[f.Kind]++
			p = "[" + strings.ToUpper(string(f.Kind)) + "_" + strconv.Itoa(perKind[f.Kind]) + "]"
			m.Entries = append(m.Entries, Entry{Placeholder: p, Kind: f.Kind, Normalized: f.Normalized, Value: f.Value})
			index[key] = p
		}
		b.WriteString(p)
		last = f.End
	}
	escapeTokens(&b, text[last:])
	return b.String()
}

// Unmask replaces every placeholder of m in text with the value it stands for, as often as it
// appears. Placeholders m does not know are left as they are, so a model inventing "[PHONE_9]"
// produces no data. A nil Mapping knows no placeholders.
func (m *Mapping) Unmask(text string) string {
	var values map[string]string
	if m != nil {
		values = make(map[string]string, len(m.Entries))
		for _, e := range m.Entries {
			values[e.Placeholder] = e.Value
		}
	}
	var b strings.Builder
	b.Grow(len(text))
	eachToken(text, b.WriteString, func(tok string, slashes int) {
		switch {
		case slashes > 0:
			// Escaped by Mask: drop the backslash added there.
			b.WriteString(tok[:1])
			b.WriteString(tok[2:])
		default:
			// Models sometimes change the case of what they copy; "[phone_1]" is still ours.
			if v, known := values[strings.ToUpper(tok)]; known {
				b.WriteString(v)
			} else {
				b.WriteString(tok)
			}
		}
	})
	return b.String()
}

// Lookup returns the entry for placeholder p, such as "[PHONE_1]".
func (m *Mapping) Lookup(p string) (Entry, bool) {
	if m == nil {
		return Entry{}, false
	}
	for _, e := range m.Entries {
		if e.Placeholder == p {
			return e, true
		}
	}
	return Entry{}, false
}

// placeholderLabels are the kind names a token may carry, upper-cased.
var placeholderLabels = map[string]bool{"PHONE": true, "EMAIL": true, "CARD": true, "SSN": true, "ADDRESS": true, "NAME": true}

// parseToken reads a placeholder-shaped token "[" "\"* LABEL "_" DIGITS "]" at text[i], with LABEL
// one of placeholderLabels in any case, and returns where it ends and how many backslashes it has.
func parseToken(text string, i int) (end, slashes int, ok bool) {
	if i >= len(text) || text[i] != '[' {
		return 0, 0, false
	}
	j := i + 1
	for j < len(text) && text[j] == '\\' {
		j++
	}
	slashes = j - i - 1
	labelStart := j
	for j < len(text) && isASCIILetter(text[j]) {
		j++
	}
	if j-labelStart == 0 || j-labelStart > len("ADDRESS") || !placeholderLabels[strings.ToUpper(text[labelStart:j])] {
		return 0, 0, false
	}
	if j >= len(text) || text[j] != '_' {
		return 0, 0, false
	}
	j++
	digitStart := j
	for j < len(text) && isDigit(text[j]) {
		j++
	}
	if j == digitStart || j >= len(text) || text[j] != ']' {
		return 0, 0, false
	}
	return j + 1, slashes, true
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// escapeTokens writes s to b with one backslash added after the "[" of every placeholder-shaped
// token, so that no text outside a finding can be read back as a placeholder.
func escapeTokens(b *strings.Builder, s string) {
	eachToken(s, b.WriteString, func(tok string, _ int) {
		b.WriteString("[\\")
		b.WriteString(tok[1:])
	})
}

// eachToken splits s into plain text and placeholder-shaped tokens and hands them, in order, to
// plain and token. Mask and Unmask must agree exactly on what a token is, so both scan with this.
func eachToken(s string, plain func(string) (int, error), token func(tok string, slashes int)) {
	for i := 0; i < len(s); {
		end, slashes, ok := parseToken(s, i)
		if !ok {
			next := strings.IndexByte(s[i+1:], '[')
			if next < 0 {
				plain(s[i:])
				return
			}
			plain(s[i : i+1+next])
			i += 1 + next
			continue
		}
		token(s[i:end], slashes)
		i = end
	}
}
