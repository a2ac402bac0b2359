package pii

import (
	"strings"
	"testing"
)

// longInputs are texts that once made detection grow faster than the text: SMS are short, but
// Detect also runs on model replies and stored rows, and a long run of digit groups once made
// card detection cubic. TestLongInputs checks they round-trip; BenchmarkLongInputs times them
// (go test -bench LongInputs ./internal/pii/), since a timed assertion would fail on a busy
// machine rather than on slow code.
var longInputs = map[string]string{
	"digit groups":   strings.Repeat("4111 ", 40000),
	"dashed groups":  strings.Repeat("614-", 40000),
	"house numbers":  strings.Repeat("12 oak ", 30000) + "st",
	"many findings":  strings.Repeat("614-555-0123 jo@x.com 4111111111111111 Jo Smith ", 5000),
	"brackets":       strings.Repeat("[PHONE_1][", 30000),
	"at and dot":     strings.Repeat("jo at x dot ", 20000),
	"letters":        strings.Repeat("a", 200000),
	"ssn label soup": strings.Repeat("ssn 123456789 ", 15000),
}

func TestLongInputs(t *testing.T) {
	for name, text := range longInputs {
		masked, m := Mask(text, Options{KnownNames: []string{"Jo Smith"}})
		if m.Unmask(masked) != text {
			t.Errorf("%s: round trip failed", name)
		}
	}
}

func BenchmarkLongInputs(b *testing.B) {
	for name, text := range longInputs {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Mask(text, Options{KnownNames: []string{"Jo Smith"}})
			}
		})
	}
}
