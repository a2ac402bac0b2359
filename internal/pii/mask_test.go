package pii

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMaskCorpusRoundTrip(t *testing.T) {
	for _, l := range loadCorpus(t) {
		opts := Options{KnownNames: l.KnownNames}
		masked, m := Mask(l.Text, opts)
		if got := m.Unmask(masked); got != l.Text {
			t.Errorf("Unmask(Mask(%q)) = %q (masked %q)", l.Text, got, masked)
		}
		for _, f := range Detect(l.Text, opts) {
			if strings.Contains(masked, f.Value) {
				t.Errorf("%s %q survives in %q", f.Kind, f.Value, masked)
			}
		}
	}
}

func TestMaskPlaceholders(t *testing.T) {
	opts := Options{KnownNames: []string{"Jo Smith"}}
	masked, m := Mask("Jo Smith, 614-555-0123 or jo@x.com; again 614 555 0123 and JO@X.COM", opts)
	want := "[NAME_1], [PHONE_1] or [EMAIL_1]; again [PHONE_1] and [EMAIL_1]"
	if masked != want {
		t.Fatalf("masked = %q, want %q", masked, want)
	}
	if len(m.Entries) != 3 {
		t.Fatalf("entries = %+v, want 3", m.Entries)
	}
	// Several spellings of one value share a placeholder, which restores the first spelling.
	if got := m.Unmask(masked); got != "Jo Smith, 614-555-0123 or jo@x.com; again 614-555-0123 and jo@x.com" {
		t.Errorf("Unmask = %q", got)
	}
	e, ok := m.Lookup("[PHONE_1]")
	if !ok || e.Kind != Phone || e.Normalized != "+16145550123" || e.Value != "614-555-0123" {
		t.Errorf("Lookup([PHONE_1]) = %+v, %v", e, ok)
	}
}

// TestMaskAcrossTurns masks a conversation turn by turn through a Mapping that is serialised
// between turns, as it is in workflow state.
func TestMaskAcrossTurns(t *testing.T) {
	opts := Options{KnownNames: []string{"Priya Raman"}}
	turns := []struct{ in, want string }{
		{"hi its priya raman, 614-555-0123", "hi its [NAME_1], [PHONE_1]"},
		{"or call my husband 614-555-0199", "or call my husband [PHONE_2]"},
		{"sorry, mine is (614) 555-0123, priya", "sorry, mine is [PHONE_1], [NAME_2]"},
		{"email priya@example.com, raman family", "email [EMAIL_1], [NAME_3] family"},
		{"Priya Raman again: 614.555.0199", "[NAME_1] again: [PHONE_2]"},
	}
	m := &Mapping{}
	for i, turn := range turns {
		if got := m.Mask(turn.in, opts); got != turn.want {
			t.Errorf("turn %d: Mask = %q, want %q", i, got, turn.want)
		}
		state, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m = &Mapping{}
		if err := json.Unmarshal(state, m); err != nil {
			t.Fatal(err)
		}
	}
	reply := "Thanks [NAME_1]! We'll text [PHONE_1], not [PHONE_2]. Receipt to [EMAIL_1]."
	want := "Thanks priya raman! We'll text 614-555-0123, not 614-555-0199. Receipt to priya@example.com."
	if got := m.Unmask(reply); got != want {
		t.Errorf("Unmask(reply) = %q, want %q", got, want)
	}
}

func TestUnmask(t *testing.T) {
	masked, m := Mask("call 614-555-0123", Options{})
	if masked != "call [PHONE_1]" {
		t.Fatalf("masked = %q", masked)
	}
	cases := []struct{ reply, want string }{
		{"[PHONE_1] [PHONE_1][PHONE_1]", "614-555-0123 614-555-0123614-555-0123"},
		{"we'll call [phone_1]", "we'll call 614-555-0123"},
		{"unknown [PHONE_2] and [EMAIL_1] stay", "unknown [PHONE_2] and [EMAIL_1] stay"},
		{"not ours: [PHONE_01] [PHONE_] [PHONE 1] [[PHONE_1]]", "not ours: [PHONE_01] [PHONE_] [PHONE 1] [614-555-0123]"},
		{"no placeholders [at all] [", "no placeholders [at all] ["},
		{"", ""},
	}
	for _, c := range cases {
		if got := m.Unmask(c.reply); got != c.want {
			t.Errorf("Unmask(%q) = %q, want %q", c.reply, got, c.want)
		}
	}
	var none *Mapping
	if got := none.Unmask("[PHONE_1]"); got != "[PHONE_1]" {
		t.Errorf("nil Mapping Unmask = %q", got)
	}
}

// TestMaskEscapesPlaceholderText checks that text which already looks like a placeholder survives
// the round trip and cannot be used to pull another value out of the mapping.
func TestMaskEscapesPlaceholderText(t *testing.T) {
	m := &Mapping{}
	m.Mask("my number is 614-555-0123", Options{})

	in := `literal [PHONE_1], [phone_1], [\PHONE_1], [\\SSN_3] and [NOTAKIND_1]`
	masked := m.Mask(in, Options{})
	want := `literal [\PHONE_1], [\phone_1], [\\PHONE_1], [\\\SSN_3] and [NOTAKIND_1]`
	if masked != want {
		t.Fatalf("masked = %q, want %q", masked, want)
	}
	if got := m.Unmask(masked); got != in {
		t.Errorf("Unmask = %q, want %q", got, in)
	}
	if strings.Contains(m.Unmask(masked), "614") {
		t.Error("a forged placeholder was resolved to the caller's number")
	}

	// Brackets right next to a finding.
	for _, in := range []string{"[6145550123]", "[PHONE_6145550123]", "[PHONE_[PHONE_1]]", "[\\"} {
		masked, m := Mask(in, Options{})
		if got := m.Unmask(masked); got != in {
			t.Errorf("Unmask(Mask(%q)) = %q (masked %q)", in, got, masked)
		}
	}
}

func TestMappingJSON(t *testing.T) {
	_, m := Mask("Jo Smith 614-555-0123", Options{KnownNames: []string{"Jo Smith"}})
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"entries":[{"placeholder":"[NAME_1]","kind":"name","normalized":"jo smith","value":"Jo Smith"},` +
		`{"placeholder":"[PHONE_1]","kind":"phone","normalized":"+16145550123","value":"614-555-0123"}]}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
}

func TestMaskAllowList(t *testing.T) {
	masked, _ := Mask("call us on 614-555-0100 or me on 614-555-0123", Options{Allow: []string{"+16145550100"}})
	if masked != "call us on 614-555-0100 or me on [PHONE_1]" {
		t.Errorf("masked = %q", masked)
	}
}

// typicalSMS is 160 bytes with a name, a phone number, an email and noise that looks like data.
const typicalSMS = "hi its Dana Whitfield, 4:15 appt tmrw? cell 614-555-0122, email dana.w@gmail.com. " +
	"quote was $340 for 2 rooms, order #88123. can u do 8:30 instead?? thanks! 🙏"

func BenchmarkMask(b *testing.B) {
	opts := Options{KnownNames: []string{"Dana Whitfield"}, Allow: []string{"+16145550100"}}
	b.ReportAllocs()
	for b.Loop() {
		Mask(typicalSMS, opts)
	}
}

func BenchmarkDetectNoKnownNames(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Detect(typicalSMS, Options{})
	}
}

func TestTypicalSMSIsTypical(t *testing.T) {
	if len(typicalSMS) != 160 {
		t.Errorf("typicalSMS is %d bytes, want 160", len(typicalSMS))
	}
	masked, _ := Mask(typicalSMS, Options{KnownNames: []string{"Dana Whitfield"}})
	if strings.Count(masked, "[") != 3 {
		t.Errorf("masked = %q, want a name, a phone and an email masked", masked)
	}
}
