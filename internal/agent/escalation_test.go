package agent

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

type corpusLine struct {
	n     int
	label string
	text  string
	batch int
}

// loadEscalationCorpus reads testdata/escalation_corpus.txt. A comment line starting with
// "# Batch N" starts batch N.
func loadEscalationCorpus(t testing.TB) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/escalation_corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []corpusLine
	batch := 1
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "# Batch ") {
			batch = int(l[len("# Batch ")] - '0')
		}
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		label, text, ok := strings.Cut(l, " ")
		text = strings.TrimSpace(text)
		if !ok || text == "" || (label != "none" && label != "person" && label != "emergency") {
			t.Fatalf("escalation_corpus.txt:%d: want \"<none|person|emergency> <text>\", got %q", n, l)
		}
		lines = append(lines, corpusLine{n: n, label: label, text: text, batch: batch})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestEscalationCorpus measures DetectEscalation on the labelled corpus.
//
// Batch 1 was written together with the rules and must pass in full. Batch 2 was written
// afterwards and run once before any rule was changed for it; the figures from that first run are
// the honest estimate of how the rules do on phrasings nobody tuned them for:
//
//	person     13 of 22 found
//	emergency  11 of 19 found
//	none       30 of 32 right: one false emergency ("do you guys do emergency call outs on
//	           weekends?") and one false person ("my old plumber was a real person")
//
// The rules were then extended for what they missed, except "I need to speak with Maria
// directly": a request for a named person reads like "I need to speak with my wife first", and the
// model path escalates it anyway as a question the facts do not cover.
//
// Whatever the batch, no ordinary message may be taken for an emergency: a false emergency pages
// a person in a hurry and tells the caller to call for help.
func TestEscalationCorpus(t *testing.T) {
	lines := loadEscalationCorpus(t)
	type counts struct{ tp, fp, fn int }
	score := map[string]*counts{"person": {}, "emergency": {}}
	total := map[string]int{}
	falseEmergencies := 0
	for _, l := range lines {
		got := strings.ToLower(DetectEscalation(l.text).Kind.String())
		total[l.label]++
		if got == l.label {
			if c := score[got]; c != nil {
				c.tp++
			}
			continue
		}
		if c := score[got]; c != nil {
			c.fp++
		}
		if c := score[l.label]; c != nil {
			c.fn++
		}
		if got == "emergency" {
			falseEmergencies++
		}
		if l.batch == 1 {
			t.Errorf("line %d: %q is %s, want %s", l.n, l.text, got, l.label)
		} else {
			t.Logf("line %d (batch %d): %q is %s, want %s", l.n, l.batch, l.text, got, l.label)
		}
	}
	for _, k := range []string{"person", "emergency"} {
		c := score[k]
		t.Logf("%-9s precision %3d/%3d = %.3f  recall %3d/%3d = %.3f", k,
			c.tp, c.tp+c.fp, ratio(c.tp, c.tp+c.fp), c.tp, c.tp+c.fn, ratio(c.tp, c.tp+c.fn))
	}
	t.Logf("lines: %v, false emergencies: %d", total, falseEmergencies)
	if len(lines) < 150 || total["none"] < 60 || total["person"] < 40 || total["emergency"] < 40 {
		t.Errorf("corpus too small: %v", total)
	}
	if falseEmergencies != 0 {
		t.Errorf("%d messages taken for emergencies", falseEmergencies)
	}
	for k, min := range map[string]float64{"person": 0.9, "emergency": 0.95} {
		c := score[k]
		if p, r := ratio(c.tp, c.tp+c.fp), ratio(c.tp, c.tp+c.fn); p < min || r < min {
			t.Errorf("%s: precision %.3f, recall %.3f; want both ≥ %.2f", k, p, r, min)
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func TestDetectEscalationPhrase(t *testing.T) {
	cases := []struct {
		in     string
		kind   EscalationKind
		phrase string
	}{
		{"there's a gas leak and I want to talk to someone", Emergency, "gas leak"},
		{"talk to a person please", Person, "talk to a person"},
		{"call me back", Person, "call me back"},
		{"Call 911", Emergency, "911"},
		{"", None, ""},
		{"\u200bE\u200bM\u200bE\u200bR\u200bG\u200bE\u200bN\u200bC\u200bY", Emergency, "emergency"},
		{"ＥＭＥＲＧＥＮＣＹ", Emergency, "emergency"},
		{"no  emergency", None, ""},
		{"not really an emergency", None, ""},
		{"emergency? no", Emergency, "emergency"}, // known limit: negation after the word is not seen
	}
	for _, c := range cases {
		got := DetectEscalation(c.in)
		if got.Kind != c.kind || got.Phrase != c.phrase {
			t.Errorf("DetectEscalation(%q) = %+v, want %v %q", c.in, got, c.kind, c.phrase)
		}
	}
}

// FuzzDetectEscalation checks that DetectEscalation never panics, that its answer is consistent,
// and that putting a message in another clause after a clear emergency never hides the emergency.
func FuzzDetectEscalation(f *testing.F) {
	for _, l := range loadEscalationCorpus(f) {
		f.Add(l.text)
	}
	for _, s := range []string{"", "9-1-1", "\xff\xfe", "sí", "s\u0301i", "no no no no no emergency", strings.Repeat("call me ", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := DetectEscalation(text)
		if (got.Kind == None) != (got.Phrase == "") || got.Kind < None || got.Kind > Emergency {
			t.Fatalf("DetectEscalation(%q) = %+v", text, got)
		}
		if !utf8.ValidString(got.Phrase) {
			t.Fatalf("phrase %q", got.Phrase)
		}
		if e := DetectEscalation("There is a gas leak. " + clip(text, 1000)); e.Kind != Emergency {
			t.Fatalf("emergency hidden by %q: %+v", text, e)
		}
	})
}
