package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzOptions = Options{KnownNames: []string{"Jo Smith", "Priya Raman", "José Hernández"}}

// FuzzMaskRoundTrip checks, for any text, that
//   - findings are ordered, disjoint and point at their values;
//   - Unmask(Mask(x)) restores x, except that a value written in several spellings comes back in
//     the first one (they share a placeholder by design);
//   - nothing Detect would report survives masking: detecting again on the masked text finds no
//     value the mapping holds.
func FuzzMaskRoundTrip(f *testing.F) {
	for _, s := range []string{
		"",
		"call me back at 614-555-0123 thx",
		"(614) 555-0123 or 614.555.0123 or +1 614 555 0123",
		"+44 20 7946 0958 +33 6 12 34 56 78",
		"jo.smith+plumber@mail.example.co.uk, dana at gmail dot com",
		"card 4111 1111 1111 1111 exp 04/27, amex 3782 822463 10005",
		"ssn 512-44-7823, social 523456789, 666-12-3456",
		"4500 N High Street, Apt 2, Columbus, OH 43214 and PO Box 77",
		"hi its Jo Smith / smith / JOSÉ hernández",
		"literal [PHONE_1] and [\\EMAIL_2] and [[NAME_1]]",
		"[PHONE_6145550123]",
		"8:30, $125.00, 43215-1234, order #4829301756, 2019 2020",
		"\xff\xfe invalid utf-8 614-555-0123 \xc3",
		"6145550123 6145550123 (614) 555-0123",
	} {
		f.Add(s)
	}
	for _, l := range loadCorpus(f) {
		f.Add(l.Text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		findings := Detect(text, fuzzOptions)
		prevEnd := 0
		for _, fd := range findings {
			if fd.Start < prevEnd || fd.End <= fd.Start || fd.End > len(text) || text[fd.Start:fd.End] != fd.Value {
				t.Fatalf("bad finding %+v (previous end %d) in %q", fd, prevEnd, text)
			}
			prevEnd = fd.End
		}

		masked, m := Mask(text, fuzzOptions)
		if utf8.ValidString(text) && !utf8.ValidString(masked) {
			t.Fatalf("masking broke UTF-8: %q -> %q", text, masked)
		}

		// Expected result of the round trip: each finding in its placeholder's first spelling.
		var want strings.Builder
		last := 0
		byKey := make(map[valueKey]string)
		for _, e := range m.Entries {
			byKey[valueKey{e.Kind, e.Normalized}] = e.Value
		}
		for _, fd := range findings {
			want.WriteString(text[last:fd.Start])
			want.WriteString(byKey[valueKey{fd.Kind, fd.Normalized}])
			last = fd.End
		}
		want.WriteString(text[last:])
		if got := m.Unmask(masked); got != want.String() {
			t.Fatalf("round trip:\n text   %q\n masked %q\n got    %q\n want   %q", text, masked, got, want.String())
		}

		for _, fd := range Detect(masked, fuzzOptions) {
			if _, held := byKey[valueKey{fd.Kind, fd.Normalized}]; held {
				t.Fatalf("%s %q survives masking: %q -> %q", fd.Kind, fd.Value, text, masked)
			}
		}
	})
}
