package optout

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestKeywords(t *testing.T) {
	type tc struct {
		in   string
		kind Kind
		kw   string
	}
	var cases []tc
	for _, k := range optOutKeywords {
		for _, v := range []string{k, strings.ToLower(k), k[:1] + strings.ToLower(k[1:]), " " + k + "!! ", k + ".", "*" + k + "*", k + " 🛑", "\u200b" + k + "\ufeff"} {
			cases = append(cases, tc{v, OptOut, k})
		}
	}
	for _, k := range optInKeywords {
		for _, v := range []string{k, strings.ToLower(k), " " + k + "! ", k + "."} {
			cases = append(cases, tc{v, OptIn, k})
		}
	}
	for _, k := range helpKeywords {
		for _, v := range []string{k, strings.ToLower(k), " " + k + "? ", k + "."} {
			cases = append(cases, tc{v, Help, k})
		}
	}
	cases = append(cases,
		tc{"STOP ALL", OptOut, "STOPALL"}, tc{"opt out", OptOut, "OPTOUT"}, tc{"OPT-OUT", OptOut, "OPTOUT"},
		tc{"UN-SUBSCRIBE", OptOut, "UNSUBSCRIBE"}, tc{"Ｓ Ｔ Ｏ Ｐ", OptOut, "STOP"}, tc{"S\u200bTOP", OptOut, "STOP"},
		tc{"s t o p", OptOut, "STOP"}, tc{"ＳＴＯＰ", OptOut, "STOP"}, tc{"stop stop", OptOut, "STOP"},
		tc{"S\u00adTOP", OptOut, "STOP"}, tc{"s.t.o.p", OptOut, "STOP"},
	)
	for _, c := range cases {
		got := Parse(c.in)
		if got.Kind != c.kind || got.Keyword != c.kw || got.Phrase {
			t.Errorf("Parse(%q) = %+v, want %v %s", c.in, got, c.kind, c.kw)
		}
	}
}

func TestPhrasesAndNegatives(t *testing.T) {
	cases := []struct {
		in     string
		kind   Kind
		cancel bool
	}{
		{"stop texting me", OptOut, false},
		{"please stop", OptOut, false},
		{"no me envíen más mensajes", OptOut, false},
		{"deja de escribirme", OptOut, false},
		{"cancel my appointment", None, true},
		{"Cancel please", None, true},
		{"cancel", OptOut, false},
		{"stop by tomorrow?", None, false},
		{"the end", None, false},
		{"quit smoking clinic?", None, false},
		{"", None, false},
		{"   !!! ", None, false},
		{"Please stop. The leak is back", None, false},
		{"Alto. El agua sigue saliendo", None, false},
		{"Wrong number. Stop texting me.", OptOut, false},
		{"STOP. Wrong number.", OptOut, false},
	}
	for _, c := range cases {
		got := Parse(c.in)
		if got.Kind != c.kind || got.MentionsCancel != c.cancel {
			t.Errorf("Parse(%q) = %+v, want %v cancel=%v", c.in, got, c.kind, c.cancel)
		}
		if got.Phrase && !strings.HasPrefix(got.Keyword, "phrase:") {
			t.Errorf("Parse(%q) phrase keyword %q", c.in, got.Keyword)
		}
	}
}

type labelled struct {
	Text  string `json:"text"`
	Kind  string `json:"kind"`
	Class string `json:"class"`
}

func TestCorpus(t *testing.T) {
	f, err := os.Open("testdata/messages.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total := map[string]int{}
	right := map[string]int{}
	falseOptOuts := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m labelled
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		got := Parse(m.Text)
		total[m.Class]++
		if got.Kind.String() == m.Kind {
			right[m.Class]++
		} else {
			t.Logf("miss [%s] %q: got %+v, want %s", m.Class, m.Text, got, m.Kind)
		}
		if got.Kind == OptOut && m.Kind != "OptOut" {
			falseOptOuts++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"keyword", "phrase", "optin", "help", "negative"} {
		t.Logf("%-8s %3d/%3d", c, right[c], total[c])
	}
	t.Logf("false opt-outs: %d", falseOptOuts)
	if total["keyword"]+total["phrase"] < 50 || total["optin"]+total["help"] < 20 || total["negative"] < 80 {
		t.Errorf("corpus too small: %v", total)
	}
	if right["keyword"] != total["keyword"] {
		t.Errorf("keyword opt-outs: %d/%d, want all", right["keyword"], total["keyword"])
	}
	if float64(right["phrase"]) < 0.95*float64(total["phrase"]) {
		t.Errorf("phrase recall %d/%d < 95%%", right["phrase"], total["phrase"])
	}
	if right["optin"] != total["optin"] || right["help"] != total["help"] {
		t.Errorf("opt-in %d/%d, help %d/%d", right["optin"], total["optin"], right["help"], total["help"])
	}
	if falseOptOuts != 0 {
		t.Errorf("%d false opt-outs", falseOptOuts)
	}
}

// gsm7Len counts a text's length in GSM-7 septets; ok is false when it needs UCS-2.
func gsm7Len(s string) (n int, ok bool) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			n++
		case strings.ContainsRune(gsm7Ext, r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}

func TestConfirmation(t *testing.T) {
	names := []string{"A", "Joe's Plumbing", strings.Repeat("W", 40), strings.Repeat("[", 40), strings.Repeat("W", 60), "Smith & Sons Heating and Air Conditioning"}
	for _, k := range []Kind{OptOut, OptIn, Help} {
		for _, name := range names {
			msg := Confirmation(k, name)
			n, ok := gsm7Len(msg)
			if !ok || n > 160 {
				t.Errorf("Confirmation(%v, %q) = %q: %d septets, gsm7=%v", k, name, msg, n, ok)
			}
		}
	}
	if got := Confirmation(OptOut, "Joe's Plumbing"); got != "You're unsubscribed from Joe's Plumbing texts. You won't receive more messages. Reply START to resubscribe." {
		t.Errorf("opt-out confirmation %q", got)
	}
	if got := Confirmation(Help, "Joe's Plumbing"); got != "Joe's Plumbing: reply STOP to unsubscribe, START to resubscribe. Msg&data rates may apply." {
		t.Errorf("help %q", got)
	}
	if Confirmation(None, "x") != "" {
		t.Error("None should have no confirmation")
	}
	if !strings.Contains(Confirmation(OptIn, "X"), "STOP") {
		t.Error("opt-in confirmation must mention STOP")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"stop", "STOP!!", "Ｓ Ｔ Ｏ Ｐ", "stop by tomorrow", "no me envíen más mensajes", "\u200b"} {
		f.Add(s, "", "")
	}
	f.Add("", " ...", "!!")
	all := append(append(append([]string(nil), optOutKeywords...), optInKeywords...), helpKeywords...)
	f.Fuzz(func(t *testing.T, body, pre, post string) {
		_ = Parse(body)
		_ = Parse(pre + body + post)
		pre, post = punct(pre), punct(post)
		kw := all[len(body)%len(all)]
		got := Parse(pre + kw + post)
		if got.Keyword != kw || got.Kind != keywordKind[strings.ToLower(kw)] {
			t.Fatalf("Parse(%q) = %+v, want %s", pre+kw+post, got, kw)
		}
	})
}

// punct keeps only characters that are neither letters nor digits, even after NFKC ("Ⓣ" is T).
func punct(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == 0xFFFD || strings.ContainsFunc(norm.NFKC.String(string(r)), isWordRune) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
