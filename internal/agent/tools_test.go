package agent

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestToolSchemas checks that each tool's JSON Schema is valid JSON and describes exactly the
// fields ParseToolCall reads, so the model is never told about a field the server refuses or the
// reverse.
func TestToolSchemas(t *testing.T) {
	tools := Tools()
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
			Additional *bool                      `json:"additionalProperties"`
		}
		if err := json.Unmarshal(tool.Parameters, &schema); err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		spec, ok := toolSpecs[tool.Name]
		if !ok {
			t.Fatalf("%s has no spec", tool.Name)
		}
		var props []string
		for p := range schema.Properties {
			props = append(props, p)
		}
		slices.Sort(props)
		all := spec.all()
		slices.Sort(all)
		if schema.Type != "object" || !slices.Equal(props, all) || !slices.Equal(schema.Required, spec.required) ||
			schema.Additional == nil || *schema.Additional {
			t.Errorf("%s: schema %s does not match spec %+v", tool.Name, tool.Parameters, spec)
		}
		if tool.Description == "" || len(tool.Description) > 300 {
			t.Errorf("%s: description %q", tool.Name, tool.Description)
		}
	}
	if !slices.Equal(names, []string{ToolCheckAvailability, ToolBookAppointment, ToolEscalateToHuman}) {
		t.Errorf("tools %v", names)
	}
	if !slices.Equal(Tools()[0].Parameters, tools[0].Parameters) {
		t.Error("Tools is not deterministic")
	}
}

func TestParseToolCall(t *testing.T) {
	cases := []struct {
		name, tool, args string
		want             Call
	}{
		{"check, no date", ToolCheckAvailability, `{"service":"Haircut"}`, CheckAvailability{Service: "Haircut"}},
		{"check, date", ToolCheckAvailability, `{"service":"haircuts","date":"2026-11-24"}`, CheckAvailability{Service: "Haircut", Date: at(24, 0, 0)}},
		{"check, null date", ToolCheckAvailability, `{"service":"COLOR","date":null}`, CheckAvailability{Service: "Color"}},
		{"check, empty date", ToolCheckAvailability, `{"service":"blow-out","date":""}`, CheckAvailability{Service: "Blowout"}},
		{"check, typo", ToolCheckAvailability, `{"service":"Blowuot"}`, CheckAvailability{Service: "Blowout"}},
		{"book", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"Dana Lee"}`,
			BookAppointment{Service: "Haircut", Start: at(24, 15, 0), Name: "Dana Lee"}},
		{"book, seconds and spaces", ToolBookAppointment, ` {"service":" haircut ","start":"2026-11-24T15:30:00","name":"  Anne-Marie   O'Neil "} `,
			BookAppointment{Service: "Haircut", Start: at(24, 15, 30), Name: "Anne-Marie O'Neil"}},
		{"book, accents", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24 09:00","name":"José Núñez"}`,
			BookAppointment{Service: "Haircut", Start: at(24, 9, 0), Name: "José Núñez"}},
		{"escalate", ToolEscalateToHuman, `{"reason":"emergency","summary":"Caller reports a gas smell."}`,
			EscalateToHuman{Reason: ReasonEmergency, Summary: "Caller reports a gas smell."}},
		{"escalate, reason spelled loosely", ToolEscalateToHuman, `{"reason":"Caller Request","summary":"Wants\nthe owner."}`,
			EscalateToHuman{Reason: ReasonCallerRequest, Summary: "Wants the owner."}},
	}
	for _, c := range cases {
		got, err := ParseToolCall(c.tool, c.args, salon, newYork)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !sameCall(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
		if got.Tool() != c.tool {
			t.Errorf("%s: Tool() = %s", c.name, got.Tool())
		}
	}
}

func sameCall(a, b Call) bool {
	switch a := a.(type) {
	case CheckAvailability:
		b, ok := b.(CheckAvailability)
		return ok && a.Service == b.Service && a.Date.Equal(b.Date) && (a.Date.IsZero() || a.Date.Location() == newYork)
	case BookAppointment:
		b, ok := b.(BookAppointment)
		return ok && a.Service == b.Service && a.Start.Equal(b.Start) && a.Name == b.Name && a.Start.Location() == newYork
	}
	return a == b
}

// TestParseToolCallErrors checks that every bad call is refused with a message that names the
// problem and, where there is one, the fix.
func TestParseToolCallErrors(t *testing.T) {
	long := strings.Repeat("x", 400)
	cases := []struct {
		name, tool, args string
		want             []string
	}{
		{"unknown tool", "cancel_appointment", `{}`, []string{`unknown tool "cancel_appointment"`, "check_availability, book_appointment and escalate_to_human"}},
		{"empty arguments", ToolCheckAvailability, ``, []string{"arguments are missing", `{"service": "…", "date": "…"}`}},
		{"malformed JSON", ToolBookAppointment, `{"service": "Haircut",`, []string{"not a valid JSON object"}},
		{"array", ToolBookAppointment, `["Haircut"]`, []string{"not a valid JSON object"}},
		{"trailing data", ToolCheckAvailability, `{"service":"Haircut"} {"service":"Color"}`, []string{"not a valid JSON object"}},
		{"unknown field", ToolCheckAvailability, `{"service":"Haircut","time":"15:00"}`, []string{`unknown field "time"`, "the fields are service, date"}},
		{"missing fields", ToolBookAppointment, `{"service":"Haircut"}`, []string{`missing required field "start"`, `missing required field "name"`}},
		{"not a string", ToolBookAppointment, `{"service":"Haircut","start":1732460400,"name":"Dana"}`, []string{`field "start" must be a string`}},
		{"service not offered", ToolCheckAvailability, `{"service":"massage"}`, []string{`service "massage" is not offered; offered: Haircut, Color, Blowout`}},
		{"service too long", ToolCheckAvailability, `{"service":"` + long + `"}`, []string{"service is 400 characters long"}},
		{"bad date", ToolCheckAvailability, `{"service":"Haircut","date":"tomorrow"}`, []string{`date "tomorrow" is not a date in the form YYYY-MM-DD`}},
		{"impossible date", ToolCheckAvailability, `{"service":"Haircut","date":"2026-02-30"}`, []string{"is not a date"}},
		{"bad start", ToolBookAppointment, `{"service":"Haircut","start":"tomorrow 3pm","name":"Dana"}`, []string{`start "tomorrow 3pm" is not a local time in the form YYYY-MM-DDTHH:MM`}},
		{"start with zone", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00:00Z","name":"Dana"}`, []string{"has a time zone; give the local time without one"}},
		{"start with offset", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00-05:00","name":"Dana"}`, []string{"has a time zone"}},
		{"start hour 9", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T9:00","name":"Dana"}`, []string{"is not a local time"}},
		{"start out of range", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-31T25:00","name":"Dana"}`, []string{"is not a valid date and time"}},
		{"start in the DST gap", ToolBookAppointment, `{"service":"Haircut","start":"2026-03-08T02:30","name":"Dana"}`, []string{"does not exist in America/New_York"}},
		{"empty name", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"  "}`, []string{`name "" is empty; ask the caller for their name`}},
		{"name with digits", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"Dana 555-0100"}`, []string{"must not contain digits"}},
		{"name with link", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"see www.evil.example"}`, []string{"must not contain a link"}},
		{"name with email", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"dana@example"}`, []string{"must not contain a link or an email"}},
		{"name too long", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"` + long + `"}`, []string{"is 400 characters long; the limit is 60"}},
		{"placeholder name", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"Customer"}`, []string{"is a placeholder, not a name"}},
		{"name with markup", ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"<b>Dana</b>"}`, []string{"must contain only letters"}},
		{"bad reason", ToolEscalateToHuman, `{"reason":"angry","summary":"x"}`, []string{`reason "angry" is not one of caller_request, emergency, complaint, other`}},
		{"empty summary", ToolEscalateToHuman, `{"reason":"other","summary":""}`, []string{"summary is empty"}},
		{"long summary", ToolEscalateToHuman, `{"reason":"other","summary":"` + long + `"}`, []string{"summary is longer than 300 characters"}},
		{"everything wrong", ToolBookAppointment, `{"service":"massage","start":"soon","name":"","extra":1}`, []string{`unknown field "extra"`, "massage", "soon", "is empty"}},
		{"huge arguments", ToolEscalateToHuman, `{"reason":"other","summary":"` + strings.Repeat("y", 5000) + `"}`, []string{"keep them under 2048"}},
	}
	for _, c := range cases {
		got, err := ParseToolCall(c.tool, c.args, salon, newYork)
		if err == nil {
			t.Errorf("%s: accepted as %+v", c.name, got)
			continue
		}
		var te *ToolError
		if !errors.As(err, &te) {
			t.Errorf("%s: error %T", c.name, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
		if len(err.Error()) > 1000 {
			t.Errorf("%s: error of %d bytes goes back to the model", c.name, len(err.Error()))
		}
	}
	if _, err := ParseToolCall(ToolCheckAvailability, `{"service":"Haircut"}`, Business{Name: "Empty"}, nil); err == nil ||
		!strings.Contains(err.Error(), "lists no services; call escalate_to_human") {
		t.Errorf("no services: %v", err)
	}
}

func TestParseToolCallNilLocation(t *testing.T) {
	got, err := ParseToolCall(ToolBookAppointment, `{"service":"Haircut","start":"2026-11-24T15:00","name":"Dana"}`, salon, nil)
	if err != nil || !got.(BookAppointment).Start.Equal(time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v, %v", got, err)
	}
}

func TestFindService(t *testing.T) {
	b := Business{Services: []Service{{Name: "Men's Haircut"}, {Name: "Women's Haircut"}, {Name: "Color & Highlights"}, {Name: "Beard Trim"}, {Name: "Kids"}}}
	cases := map[string]string{
		"Men's Haircut": "Men's Haircut", "mens haircuts": "Men's Haircut", "MENS HAIR CUT": "Men's Haircut",
		"womens haircut": "Women's Haircut", "color and highlights": "Color & Highlights", "Colour & Highlights": "Color & Highlights",
		"beard trims": "Beard Trim", "Beard trim.": "Beard Trim", "kid": "Kids", "kids": "Kids",
		"haircut": "", "beard": "", "color": "", "": "", "mens haircutt": "Men's Haircut", "kidz": "",
	}
	for in, want := range cases {
		got, ok := b.FindService(in)
		if got.Name != want || ok != (want != "") {
			t.Errorf("FindService(%q) = %q, %v; want %q", in, got.Name, ok, want)
		}
	}
}

func TestWithinOneEdit(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"haircut", "haircut", true}, {"haircut", "haricut", true}, {"haircut", "hairct", true}, {"haircut", "haircuts", true},
		{"haircut", "hxircut", true}, {"haircut", "hraicut", false}, {"haircut", "hair", false}, {"abc", "cba", false}, {"", "a", true},
	}
	for _, c := range cases {
		if got := withinOneEdit(c.a, c.b); got != c.want {
			t.Errorf("withinOneEdit(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
