package pii

import (
	"strings"
	"testing"
	"time"
)

// TestLongInputs guards against work that grows faster than the text: SMS are short, but Detect
// also runs on model replies and stored rows, and a long run of digit groups once made card
// detection cubic.
func TestLongInputs(t *testing.T) {
	inputs := map[string]string{
		"digit groups":   strings.Repeat("4111 ", 40000),
		"dashed groups":  strings.Repeat("614-", 40000),
		"house numbers":  strings.Repeat("12 oak ", 30000) + "st",
		"many findings":  strings.Repeat("614-555-0123 jo@x.com 4111111111111111 Jo Smith ", 5000),
		"brackets":       strings.Repeat("[PHONE_1][", 30000),
		"at and dot":     strings.Repeat("jo at x dot ", 20000),
		"letters":        strings.Repeat("a", 200000),
		"ssn label soup": strings.Repeat("ssn 123456789 ", 15000),
	}
	for name, text := range inputs {
		start := time.Now()
		masked, m := Mask(text, Options{KnownNames: []string{"Jo Smith"}})
		if m.Unmask(masked) != text {
			t.Errorf("%s: round trip failed", name)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: %d bytes took %v", name, len(text), d)
		}
		t.Logf("%-14s %7d bytes %v", name, len(text), time.Since(start))
	}
}
