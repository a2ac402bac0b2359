package tenantspec

import (
	"strings"
	"testing"
)

func validSpec() Spec {
	return Spec{
		Name:       " Demo Plumbing ",
		Numbers:    []string{"(614) 555-0100"},
		Timezone:   "America/New_York",
		OwnerPhone: "+1 614 555 0199",
	}
}

func TestNormalizeValid(t *testing.T) {
	got, err := validSpec().Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Demo Plumbing" || got.Numbers[0] != "+16145550100" || got.OwnerPhone != "+16145550199" {
		t.Fatalf("normalised = %+v", got)
	}
	if !strings.Contains(got.GreetingText, "{business}") {
		t.Fatalf("default greeting not applied: %q", got.GreetingText)
	}
}

func TestNormalizeReportsEveryProblem(t *testing.T) {
	s := Spec{Name: "", Numbers: []string{"nope", "+16145550100", "614-555-0100"}, Timezone: "Mars/Olympus", OwnerPhone: "x", GreetingText: "hello"}
	_, err := s.Normalize()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"name: required", "numbers[0]", "numbers[2]: listed twice", "timezone", "owner_phone", "greeting_text"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "nope") {
		t.Errorf("error repeats a phone input: %v", err)
	}
}

func TestNormalizeRejectsLocalAndMultiline(t *testing.T) {
	s := validSpec()
	s.Timezone = "Local"
	if _, err := s.Normalize(); err == nil {
		t.Error("Local accepted as a time zone")
	}
	s = validSpec()
	s.Name = "Acme\nInjected"
	if _, err := s.Normalize(); err == nil {
		t.Error("multi-line name accepted")
	}
}

func TestIDsAndSchemaNames(t *testing.T) {
	id := NewID()
	if !ValidID(id) {
		t.Fatalf("NewID() = %q is not valid", id)
	}
	if NewID() == id {
		t.Fatal("NewID repeated")
	}
	name, err := SchemaName(id)
	if err != nil || name != "t_"+id {
		t.Fatalf("SchemaName = %q, %v", name, err)
	}
	for _, bad := range []string{"", "ABCDEFGHIJKLMNOP", "abc", `aaaaaaaaaaaaaaa"`, "aaaaaaaa;drop ta"} {
		if _, err := SchemaName(bad); err == nil {
			t.Errorf("SchemaName(%q) accepted", bad)
		}
	}
}
