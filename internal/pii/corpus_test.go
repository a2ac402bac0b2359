package pii

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

type corpusSpan struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
}

type corpusLine struct {
	Text       string       `json:"text"`
	Spans      []corpusSpan `json:"spans"`
	KnownNames []string     `json:"known_names"`
}

func loadCorpus(t testing.TB) []corpusLine {
	t.Helper()
	f, err := os.Open("testdata/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var l corpusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("corpus line %d: %v", n, err)
		}
		for _, s := range l.Spans {
			if !strings.Contains(l.Text, s.Value) {
				t.Fatalf("corpus line %d: span %q is not in the text", n, s.Value)
			}
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

type kindScore struct {
	labelled, found, truePos int
	// negLines counts lines without any labelled span; negDirty those where this kind was found.
	negLines, negDirty int
}

func (s kindScore) recall() float64    { return ratio(s.truePos, s.labelled) }
func (s kindScore) precision() float64 { return ratio(s.truePos, s.found) }
func (s kindScore) negClean() float64  { return 1 - ratio(s.negDirty, s.negLines) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestCorpusRecall scores Detect against the labelled corpus. A finding counts when a labelled span
// of the same kind has exactly its value; each labelled span can be matched once.
func TestCorpusRecall(t *testing.T) {
	lines := loadCorpus(t)
	kinds := []Kind{Phone, Email, Card, SSN, Address, Name}
	score := make(map[Kind]*kindScore)
	for _, k := range kinds {
		score[k] = &kindScore{}
	}
	negatives := 0
	for _, l := range lines {
		findings := Detect(l.Text, Options{KnownNames: l.KnownNames})
		open := make(map[corpusSpan]int)
		for _, s := range l.Spans {
			open[s]++
			score[s.Kind].labelled++
		}
		if len(l.Spans) == 0 {
			negatives++
		}
		dirty := make(map[Kind]bool)
		for _, f := range findings {
			score[f.Kind].found++
			key := corpusSpan{f.Kind, f.Value}
			if open[key] > 0 {
				open[key]--
				score[f.Kind].truePos++
				continue
			}
			dirty[f.Kind] = true
			t.Logf("unlabelled %-7s %q in %q", f.Kind, f.Value, l.Text)
		}
		for s, n := range open {
			for range n {
				t.Logf("missed     %-7s %q in %q", s.Kind, s.Value, l.Text)
			}
		}
		if len(l.Spans) == 0 {
			for _, k := range kinds {
				score[k].negLines++
				if dirty[k] {
					score[k].negDirty++
				}
			}
		}
	}

	if len(lines) < 300 || negatives < 80 {
		t.Errorf("corpus has %d lines and %d negatives; want at least 300 and 80", len(lines), negatives)
	}
	minLabelled := map[Kind]int{Phone: 60, Email: 40, Card: 40, SSN: 40, Address: 30, Name: 20}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-8s %8s %6s %6s %7s %9s %10s\n", "kind", "labelled", "found", "hits", "recall", "precision", "neg.clean")
	for _, k := range kinds {
		s := score[k]
		fmt.Fprintf(&table, "%-8s %8d %6d %6d %7.3f %9.3f %10.3f\n", k, s.labelled, s.found, s.truePos, s.recall(), s.precision(), s.negClean())
		if s.labelled < minLabelled[k] {
			t.Errorf("%s: corpus has %d labelled spans, want at least %d", k, s.labelled, minLabelled[k])
		}
	}
	t.Log(table.String())

	for _, k := range []Kind{Phone, Email, Card, SSN} {
		if r := score[k].recall(); r < 0.95 {
			t.Errorf("%s recall %.3f, want ≥ 0.95", k, r)
		}
	}
	for _, k := range []Kind{Address, Name} {
		if r := score[k].recall(); r < 0.80 {
			t.Errorf("%s recall %.3f, want ≥ 0.80", k, r)
		}
	}
	for _, k := range []Kind{Phone, Card, SSN} {
		if p := score[k].precision(); p < 0.95 {
			t.Errorf("%s precision %.3f, want ≥ 0.95", k, p)
		}
		if c := score[k].negClean(); c < 0.95 {
			t.Errorf("%s: found in %.1f%% of the negative lines, want ≤ 5%%", k, 100*(1-c))
		}
	}
}
