package guard

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// DefaultMaxRunes is the length an inbound message is cut to when InboundOptions.MaxRunes is not
// set: Twilio's limit for a concatenated SMS body, so nothing a real handset sends is cut.
const DefaultMaxRunes = 1600

// InboundOptions tunes Inbound.
type InboundOptions struct {
	// MaxRunes caps the length of the cleaned text; DefaultMaxRunes when zero or negative.
	MaxRunes int
	// ToolNames are the names of the tools the model can call. A caller who types one is
	// probably writing a tool call; a built-in list of common names is always checked too.
	ToolNames []string
}

func (o InboundOptions) maxRunes() int {
	if o.MaxRunes <= 0 {
		return DefaultMaxRunes
	}
	return o.MaxRunes
}

// Level is how sure Inbound is that a message tries to instruct the model.
type Level uint8

// The levels, in increasing order of confidence.
const (
	// None: nothing in the message speaks to the model.
	None Level = iota
	// Suspicious: the message does something an attack does (a persona switch, a mention of the
	// system prompt, invisible text) but could be innocent.
	Suspicious
	// Likely: the message matches a pattern with no innocent reading in an SMS to a business
	// (ignore previous instructions, chat markup, a tool call), or several weaker ones.
	Likely
)

var levelNames = [...]string{"none", "suspicious", "likely"}

// String returns "none", "suspicious" or "likely".
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", l)
}

// MarshalText encodes the level as its name, so that it reads well in JSON and logs.
func (l Level) MarshalText() ([]byte, error) {
	if int(l) >= len(levelNames) {
		return nil, fmt.Errorf("guard: invalid level %d", l)
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText decodes a level name.
func (l *Level) UnmarshalText(b []byte) error {
	i := slices.Index(levelNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("guard: unknown level %q", b)
	}
	*l = Level(i)
	return nil
}

// InboundVerdict is what Inbound found in one message.
type InboundVerdict struct {
	// Clean is the text the model may see: NFKC-normalised, without control, invisible or
	// format characters, whitespace collapsed (line breaks kept as single '\n'), at most
	// MaxRunes runes.
	Clean string
	// Truncated is set when the message was cut to fit MaxRunes.
	Truncated bool
	// Removed counts the characters (and invalid UTF-8 bytes) removed, not counting collapsed
	// whitespace or the truncated tail.
	Removed int
	// Empty is set when Clean has no letters, digits or punctuation: only emoji, symbols and
	// spaces, or nothing at all. It is a flag for the conversation logic, not a rejection.
	Empty bool
	// Score is the sum of the weights of the injection rules matched.
	Score int
	// Injection is the level Score reaches.
	Injection Level
	// Rules names the injection rules matched, sorted. Names are fixed identifiers such as
	// "ignore_instructions"; they never contain message text.
	Rules []string
}

// ToolsAllowed reports whether the model may be offered its tools for this turn. A message that
// is Suspicious or worse takes the tools away: the model can still answer in words, which the
// outbound guard checks, but cannot be talked into an action.
func (v InboundVerdict) ToolsAllowed() bool { return v.Injection == None }

// Inbound cleans an inbound SMS body and scores it for prompt injection.
//
// The score is computed on the whole cleaned message, not only on the part that survives the
// length cap: an injection pushed past the cap never reaches the model, but it still tells the
// conversation who it is talking to. Text hidden in invisible characters, reversed by a
// bidirectional override, or encoded in base64, hex, escapes, binary or ROT13 is decoded and
// scored too, and hiding an instruction that way adds to the score.
func Inbound(body string, opts InboundOptions) InboundVerdict {
	maxRunes := opts.maxRunes()
	// A body far longer than any SMS is cut before any work is done on it, so the cost of a
	// verdict is bounded whatever arrives.
	raw, cut := cutBytes(body, max(64*maxRunes, 1<<14))

	text, removed := normalize(raw)
	clean := collapseSpace(text)
	v := InboundVerdict{Removed: removed, Truncated: cut}
	v.Clean, v.Truncated = truncateRunes(clean, maxRunes)
	v.Truncated = v.Truncated || cut
	v.Empty = isEmpty(v.Clean)

	scored, _ := truncateRunes(text, 4*maxRunes)
	s := newScorer(opts.ToolNames)
	s.scan(scored, false)

	payloads, override := hiddenText(raw)
	if override {
		s.hit("bidi_override", 2)
	}
	// Each kind of hidden text is scored as one piece, lines apart, so that a message made of
	// thousands of tiny payloads costs no more than one made of a single long one.
	if hidden := strings.Join(payloads, "\n"); len(strings.TrimSpace(hidden)) >= 3 {
		s.hit("hidden_text", 2)
		s.scanHidden(hidden)
	}
	if segs := bidiSegments(raw); len(segs) > 0 {
		s.scanHidden(strings.Join(segs, "\n"))
	}
	decoded := decodedText(clean)
	if len(decoded) > 0 {
		s.scanHidden(strings.Join(decoded, "\n"))
	}
	visible := s.visible
	if len(decoded) > 0 {
		if decodeWords.MatchString(visible.words) {
			s.hit("decode_request", 2)
		}
		if obeyWords.MatchString(visible.words) {
			s.hit("obey_decoded", 2)
		}
	}
	if rot13Words.MatchString(visible.punct) {
		s.scanHidden(rot13(scored))
	}
	if reverseWords.MatchString(visible.words) {
		s.scanHidden(reverseRunes(scored))
	}
	if mixedScript(scored) {
		s.hit("mixed_script", 1)
	}

	v.Score, v.Rules = s.result()
	switch {
	case v.Score >= scoreLikely:
		v.Injection = Likely
	case v.Score >= scoreSuspicious:
		v.Injection = Suspicious
	}
	return v
}

// scorer accumulates the rules a message matches.
type scorer struct {
	tools   *regexp.Regexp
	hits    map[string]int
	visible forms
}

func newScorer(toolNames []string) *scorer {
	s := &scorer{hits: make(map[string]int)}
	var quoted []string
	for _, n := range toolNames {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			quoted = append(quoted, regexp.QuoteMeta(n))
		}
	}
	if len(quoted) > 0 {
		pattern := `\b(?:` + strings.Join(quoted, "|") + `)\b`
		s.tools = toolPatterns.get(pattern, func() *regexp.Regexp { return regexp.MustCompile(pattern) })
	}
	return s
}

// toolPatterns holds the compiled patterns for InboundOptions.ToolNames, which are the same for
// every message a deployment checks.
var toolPatterns = newMemo[*regexp.Regexp](16)

func (s *scorer) hit(name string, weight int) {
	if weight > s.hits[name] {
		s.hits[name] = weight
	}
}

// scan matches every rule against text (output of normalize) and reports whether any matched.
func (s *scorer) scan(text string, hidden bool) bool {
	f := makeForms(text)
	if !hidden {
		s.visible = f
	}
	matched := false
	for _, r := range rules {
		if s.hits[r.name] >= r.weight && !hidden {
			continue
		}
		if r.matchForms(f) {
			s.hit(r.name, r.weight)
			matched = true
		}
	}
	if s.tools != nil && s.tools.MatchString(f.punct) {
		s.hit("tool_name", 2)
		matched = true
	}
	if fakeDialogue(f.punct) {
		s.hit("fake_dialogue", 4)
		matched = true
	}
	if s.hits["prompt_mention"] > 0 && promptRequest.MatchString(f.joined) {
		s.hit("prompt_request", 2)
		matched = true
	}
	return matched
}

// scanHidden scores text the reader of the message could not see or read. Any rule matching
// there counts double: hiding an instruction is itself evidence of intent.
func (s *scorer) scanHidden(text string) {
	text, _ = normalize(text)
	if s.scan(text, true) {
		s.hit("encoded_instructions", 2)
	}
}

func (r *rule) matchForms(f forms) bool {
	switch {
	case r.on&onWords != 0:
		if r.match(f.words) {
			return true
		}
		return f.joined != f.words && r.match(f.joined)
	case r.on&onPunct != 0:
		return r.match(f.punct)
	case r.on&onSquash != 0:
		if !containsAny(f.squashed, r.keys) || r.unless != nil && r.unless.MatchString(f.joined) {
			return false
		}
		return r.match(f.squashed)
	}
	return false
}

func (s *scorer) result() (int, []string) {
	total := 0
	names := make([]string, 0, len(s.hits))
	for name, w := range s.hits {
		total += w
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		names = nil
	}
	return total, names
}

// isEmpty reports whether s has no letter, digit or punctuation. The enclosed letters NFKC keeps
// (🅰, 🅸) are read as letters, which is what they look like.
func isEmpty(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsPunct(r) || r >= 0x1F130 && r <= 0x1F189 {
			return false
		}
	}
	return true
}

// mixedScript reports whether a word mixes Latin letters with Cyrillic, Greek, Armenian or
// Cherokee ones. Nobody writes that way; it is how look-alike letters get past word filters.
func mixedScript(s string) bool {
	latin, other := false, false
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r):
			latin, other = false, false
			continue
		case r < 0x250 || unicode.Is(unicode.Latin, r):
			latin = true
		case unicode.In(r, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Cherokee):
			other = true
		}
		if latin && other {
			return true
		}
	}
	return false
}
