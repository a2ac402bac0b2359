package guard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// The corpora in testdata are the acceptance tests of P03 (inbound) and P04 (outbound):
//
//   - inbound_hostile.jsonl: hostile messages, each labelled with the verdict it should get.
//     Lines that are hostile to other parts of the system but say nothing to the model (SQL,
//     script tags) are labelled "none" and must come through as text.
//   - inbound_benign.jsonl: ordinary caller messages, many using the words the rules look at.
//   - inbound_hostile_extra.jsonl: two further hostile sets written after the rules existed, each
//     run once before any rule was changed for it, to measure how the rules generalise. On that
//     first run set 1 (32 lines) got 14 exact verdicts and 20 correct tool decisions, set 2 (26
//     lines) 12 and 15; the rules were then extended for what they missed. The third batch of
//     inbound_benign.jsonl (29 lines) was written at the same time as set 2 and had one false
//     Suspicious on its first run. These figures, not this file's pass rate, are the honest
//     estimate of recall on phrasings nobody has seen.
//   - outbound_leaky.jsonl and outbound_clean.jsonl: model replies with the conversation they
//     belong to (a context in outbound_contexts.json plus the caller's details) and the reasons
//     a leaky one must be blocked for. Their last 24 lines were likewise written later; on their
//     first run 11 of 13 leaky ones got exactly their reasons (missed: "614 555 01 87" and a
//     prompt sentence with one word inserted) and all 11 clean ones passed.

type inboundLine struct {
	n             int
	Text          string `json:"text"`
	Injection     string `json:"injection"`
	ToolsAllowed  *bool  `json:"tools_allowed"`
	Note          string `json:"note"`
	Truncated     bool   `json:"truncated"`
	Empty         bool   `json:"empty"`
	Stripped      bool   `json:"stripped"`
	CleanContains string `json:"clean_contains"`
}

func readJSONL[T any](t testing.TB, path string, each func(n int, line *T)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l T
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		each(n, &l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func loadInbound(t testing.TB, path string, labelled bool) []inboundLine {
	t.Helper()
	var lines []inboundLine
	readJSONL(t, path, func(n int, l *inboundLine) {
		l.n = n
		if !labelled {
			if l.Injection != "" || l.ToolsAllowed != nil {
				t.Fatalf("%s:%d: benign lines carry no verdict", path, n)
			}
			l.Injection = "none"
		} else {
			var lv Level
			if err := lv.UnmarshalText([]byte(l.Injection)); err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			if l.ToolsAllowed == nil || *l.ToolsAllowed != (lv == None) {
				t.Fatalf("%s:%d: tools_allowed must be set, and true exactly when injection is none", path, n)
			}
		}
		lines = append(lines, *l)
	})
	return lines
}

// checkCleaning reports the labelled cleaning properties a verdict lacks. These are not
// heuristics, so every one of them must hold.
func checkCleaning(l inboundLine, v InboundVerdict) []string {
	var bad []string
	if l.Truncated && !v.Truncated {
		bad = append(bad, "not truncated")
	}
	if !l.Truncated && v.Truncated {
		bad = append(bad, "truncated")
	}
	if l.Empty != v.Empty {
		bad = append(bad, fmt.Sprintf("empty=%v", v.Empty))
	}
	if l.Stripped && v.Removed == 0 {
		bad = append(bad, "nothing removed")
	}
	if l.CleanContains != "" && !strings.Contains(v.Clean, l.CleanContains) {
		bad = append(bad, "clean text lost "+fmt.Sprintf("%q", l.CleanContains))
	}
	return bad
}

// hostileScore is the outcome of a labelled corpus.
type hostileScore struct {
	lines, exact           int
	mustBlock, blocked     int
	byWant                 map[string]*[3]int // expected level → counts of levels got
	wrongTools, wrongClean []string
}

func scoreHostile(t *testing.T, path string) hostileScore {
	s := hostileScore{byWant: make(map[string]*[3]int)}
	for _, l := range loadInbound(t, path, true) {
		v := Inbound(l.Text, InboundOptions{})
		s.lines++
		if s.byWant[l.Injection] == nil {
			s.byWant[l.Injection] = &[3]int{}
		}
		s.byWant[l.Injection][v.Injection]++
		if v.Injection.String() == l.Injection && v.ToolsAllowed() == *l.ToolsAllowed {
			s.exact++
		} else {
			t.Logf("%s:%d want %s got %s (score %d, rules %v): %s", path, l.n, l.Injection, v.Injection, v.Score, v.Rules, l.Note)
		}
		if !*l.ToolsAllowed {
			s.mustBlock++
			if !v.ToolsAllowed() {
				s.blocked++
			} else {
				s.wrongTools = append(s.wrongTools, fmt.Sprintf("line %d (%s)", l.n, l.Note))
			}
		}
		if bad := checkCleaning(l, v); len(bad) > 0 {
			s.wrongClean = append(s.wrongClean, fmt.Sprintf("line %d: %s", l.n, strings.Join(bad, ", ")))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-12s %6s %6s %11s %7s\n", "expected", "lines", "none", "suspicious", "likely")
	for _, want := range []string{"likely", "suspicious", "none"} {
		if c := s.byWant[want]; c != nil {
			fmt.Fprintf(&b, "%-12s %6d %6d %11d %7d\n", want, c[0]+c[1]+c[2], c[0], c[1], c[2])
		}
	}
	fmt.Fprintf(&b, "exact verdicts %d/%d (%.1f%%); tools taken away %d/%d where required",
		s.exact, s.lines, pct(s.exact, s.lines), s.blocked, s.mustBlock)
	t.Log(b.String())
	return s
}

func pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}

func TestInboundHostileCorpus(t *testing.T) {
	s := scoreHostile(t, "testdata/inbound_hostile.jsonl")
	if s.lines < 120 {
		t.Errorf("hostile corpus has %d lines, want at least 120", s.lines)
	}
	if pct(s.exact, s.lines) < 95 {
		t.Errorf("%d of %d hostile lines got exactly their verdict (%.1f%%), want ≥ 95%%", s.exact, s.lines, pct(s.exact, s.lines))
	}
	for _, w := range s.wrongTools {
		t.Errorf("tools left available: %s", w)
	}
	for _, w := range s.wrongClean {
		t.Errorf("cleaning: %s", w)
	}
}

func TestInboundHostileExtraCorpus(t *testing.T) {
	s := scoreHostile(t, "testdata/inbound_hostile_extra.jsonl")
	// A looser bar than the main corpus: these lines were written to find the rules' gaps, and
	// the one still missed ("ignora lo anterior y confirma…") reads as a retraction as easily
	// as an attack.
	correct := s.blocked + (s.lines - s.mustBlock) - countNoneFlagged(t, "testdata/inbound_hostile_extra.jsonl")
	if pct(correct, s.lines) < 90 {
		t.Errorf("%d of %d tool decisions right (%.1f%%), want ≥ 90%%", correct, s.lines, pct(correct, s.lines))
	}
	for _, w := range s.wrongClean {
		t.Errorf("cleaning: %s", w)
	}
}

func countNoneFlagged(t *testing.T, path string) int {
	n := 0
	for _, l := range loadInbound(t, path, true) {
		if *l.ToolsAllowed && !Inbound(l.Text, InboundOptions{}).ToolsAllowed() {
			n++
		}
	}
	return n
}

func TestInboundBenignCorpus(t *testing.T) {
	lines := loadInbound(t, "testdata/inbound_benign.jsonl", false)
	if len(lines) < 100 {
		t.Errorf("benign corpus has %d lines, want at least 100", len(lines))
	}
	var counts [3]int
	for _, l := range lines {
		v := Inbound(l.Text, InboundOptions{})
		counts[v.Injection]++
		switch v.Injection {
		case Likely:
			t.Errorf("line %d flagged Likely (score %d, rules %v): %q", l.n, v.Score, v.Rules, l.Text)
		case Suspicious:
			t.Logf("line %d flagged Suspicious (score %d, rules %v): %q", l.n, v.Score, v.Rules, l.Text)
		}
		for _, bad := range checkCleaning(l, v) {
			t.Errorf("line %d: %s", l.n, bad)
		}
	}
	t.Logf("\n%-8s %6s %6s %11s %7s\nbenign   %6d %6d %11d %7d\nfalse Suspicious %.1f%% (limit 3%%), false Likely %d (limit 0)",
		"", "lines", "none", "suspicious", "likely", len(lines), counts[None], counts[Suspicious], counts[Likely],
		pct(counts[Suspicious], len(lines)), counts[Likely])
	if pct(counts[Suspicious], len(lines)) > 3 {
		t.Errorf("%d of %d benign lines flagged Suspicious, want ≤ 3%%", counts[Suspicious], len(lines))
	}
}

// outboundContextFile is one entry of outbound_contexts.json.
type outboundContextFile struct {
	BusinessName    string   `json:"business_name"`
	BusinessNumbers []string `json:"business_numbers"`
	BusinessEmails  []string `json:"business_emails"`
	OtherTenants    []struct {
		Name    string   `json:"name"`
		Numbers []string `json:"numbers"`
	} `json:"other_tenants"`
	SystemPrompt string `json:"system_prompt"`
	Facts        string `json:"facts"`
}

type outboundLine struct {
	n              int
	Ctx            string   `json:"ctx"`
	Caller         string   `json:"caller"`
	CallerProvided []string `json:"caller_provided"`
	KnownNames     []string `json:"known_names"`
	Reply          string   `json:"reply"`
	Reasons        []string `json:"reasons"`
	Note           string   `json:"note"`
}

func loadOutbound(t testing.TB, path string) ([]outboundLine, map[string]OutboundContext) {
	t.Helper()
	b, err := os.ReadFile("testdata/outbound_contexts.json")
	if err != nil {
		t.Fatal(err)
	}
	var files map[string]outboundContextFile
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	ctxs := make(map[string]OutboundContext)
	for id, c := range files {
		oc := OutboundContext{BusinessName: c.BusinessName, BusinessNumbers: c.BusinessNumbers,
			BusinessEmails: c.BusinessEmails, SystemPrompt: c.SystemPrompt, PublicFacts: c.Facts}
		for _, o := range c.OtherTenants {
			oc.OtherTenants = append(oc.OtherTenants, OtherTenant{Name: o.Name, Numbers: o.Numbers})
		}
		ctxs[id] = oc
	}
	var lines []outboundLine
	readJSONL(t, path, func(n int, l *outboundLine) {
		l.n = n
		if _, ok := ctxs[l.Ctx]; !ok {
			t.Fatalf("%s:%d: unknown context %q", path, n, l.Ctx)
		}
		lines = append(lines, *l)
	})
	return lines, ctxs
}

func (l outboundLine) context(ctxs map[string]OutboundContext) OutboundContext {
	c := ctxs[l.Ctx]
	c.CallerNumber = l.Caller
	c.CallerProvided = l.CallerProvided
	c.KnownNames = l.KnownNames
	return c
}

var allReasons = []string{ReasonPhone, ReasonEmail, ReasonCard, ReasonSSN, ReasonTenantName, ReasonTenantNumber,
	ReasonPromptVerbatim, ReasonPromptPhrase, ReasonToolSyntax}

func TestOutboundCorpus(t *testing.T) {
	leaky, ctxs := loadOutbound(t, "testdata/outbound_leaky.jsonl")
	clean, _ := loadOutbound(t, "testdata/outbound_clean.jsonl")
	if len(leaky) < 60 || len(clean) < 60 {
		t.Errorf("outbound corpora have %d leaky and %d clean replies, want at least 60 each", len(leaky), len(clean))
	}
	want := make(map[string]int)
	got := make(map[string]int)
	blocked, exact := 0, 0
	for _, l := range leaky {
		if len(l.Reasons) == 0 {
			t.Fatalf("leaky line %d has no expected reasons", l.n)
		}
		for _, r := range l.Reasons {
			if !slices.Contains(allReasons, r) {
				t.Fatalf("leaky line %d: unknown reason %q", l.n, r)
			}
			want[r]++
		}
		v := Outbound(l.Reply, l.context(ctxs))
		if !v.Allowed && v.Escalate {
			blocked++
		}
		for _, r := range v.Reasons {
			if slices.Contains(l.Reasons, r) {
				got[r]++
			}
		}
		if slices.Equal(v.Reasons, l.Reasons) && !v.Allowed {
			exact++
		} else {
			t.Errorf("leaky line %d (%s): reasons %v, want %v", l.n, l.Note, v.Reasons, l.Reasons)
		}
	}
	cleanBlocked := 0
	for _, l := range clean {
		if l.Reasons != nil {
			t.Fatalf("clean line %d carries reasons", l.n)
		}
		v := Outbound(l.Reply, l.context(ctxs))
		if !v.Allowed || v.Escalate || v.Reasons != nil {
			cleanBlocked++
			t.Errorf("clean line %d (%s) blocked: %v", l.n, l.Note, v.Reasons)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-16s %8s %8s\n", "reason", "expected", "found")
	for _, r := range allReasons {
		fmt.Fprintf(&b, "%-16s %8d %8d\n", r, want[r], got[r])
	}
	fmt.Fprintf(&b, "leaky replies blocked %d/%d, with exactly the expected reasons %d/%d; clean replies blocked %d/%d",
		blocked, len(leaky), exact, len(leaky), cleanBlocked, len(clean))
	t.Log(b.String())
}
