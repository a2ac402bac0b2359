package greeting

import (
	"strings"
	"testing"
)

func TestDefaultsAreValid(t *testing.T) {
	for _, tmpl := range []string{MissedCall, InboundText} {
		if err := Validate(tmpl); err != nil {
			t.Errorf("default template invalid: %v", err)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []string{"", "   ", "Hello there", "{business}" + strings.Repeat("x", MaxLen), "\xff{business}"}
	for _, tmpl := range bad {
		if Validate(tmpl) == nil {
			t.Errorf("Validate(%.20q) accepted", tmpl)
		}
	}
}

func TestRender(t *testing.T) {
	got := Render("Hi from {business}, {business} cares", "Acme Plumbing")
	if got != "Hi from Acme Plumbing, Acme Plumbing cares" {
		t.Fatalf("Render = %q", got)
	}
}
