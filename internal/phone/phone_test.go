package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"+16145550123", "+16145550123", nil},
		{"(614) 555-0123", "+16145550123", nil},
		{" 614.555.0123 ", "+16145550123", nil},
		{"+44 20 7946 0958", "+442079460958", nil},
		{"", "", ErrInvalid},
		{"hello", "", ErrInvalid},
		{"+1 123", "", ErrInvalid},
		{"anonymous", "", ErrWithheld},
		{"+266696687", "", ErrWithheld},
		{strings.Repeat("1", 40), "", ErrInvalid},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Normalize(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err != nil && tt.in != "" && strings.Contains(err.Error(), tt.in) {
			t.Errorf("error %q repeats the input", err)
		}
	}
}

func TestMaskHidesAllButEdges(t *testing.T) {
	got := Mask("+16145550123")
	if got != "+1••••••••23" {
		t.Fatalf("Mask = %q", got)
	}
	if strings.Contains(got, "614555") {
		t.Fatalf("Mask leaked digits: %q", got)
	}
	if Mask("garbage") != "***" {
		t.Fatalf("Mask of non-E.164 = %q", Mask("garbage"))
	}
}

func TestHasher(t *testing.T) {
	if _, err := NewHasher([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	a, _ := NewHasher([]byte(strings.Repeat("a", 32)))
	b, _ := NewHasher([]byte(strings.Repeat("b", 32)))
	// A second Hasher with the same key must agree: the hash keys workflow IDs across processes.
	a2, _ := NewHasher([]byte(strings.Repeat("a", 32)))
	if a.Hash("+16145550123") != a2.Hash("+16145550123") {
		t.Fatal("hash not stable across hashers")
	}
	if a.Hash("+16145550123") == b.Hash("+16145550123") {
		t.Fatal("hash ignores key")
	}
	if a.Hash("+16145550123") == a.Hash("+16145550124") {
		t.Fatal("different numbers, same hash")
	}
	if len(a.Hash("+16145550123")) != 64 {
		t.Fatal("want hex sha256")
	}
}

func TestDisplay(t *testing.T) {
	for in, want := range map[string]string{
		"+16145550123":  "(614) 555-0123",
		"+442079460958": "+44 20 7946 0958",
		"not a number":  "not a number",
	} {
		if got := Display(in); got != want {
			t.Errorf("Display(%q) = %q, want %q", in, got, want)
		}
	}
}
