package agent

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var validStages = []ScriptStage{StageStart, StageService, StageChecking, StageTime, StageName, StageBooking, StageBooked, StageEscalated}

// FuzzScriptNext drives a Script with arbitrary caller messages and workflow answers. Whatever
// the caller writes, every step must answer (a reply or an action), every reply must be valid
// UTF-8 within MaxReplyLen, a booking must be for a service the business offers at a time the
// workflow reported open under a valid name, and the state must survive JSON.
func FuzzScriptNext(f *testing.F) {
	seeds := [][3]string{
		{"Dana, haircut tomorrow 3pm", "yes", "thanks"},
		{"hi", "2", "the second one"},
		{"Hola, quiero una cita", "1", "me llamo Ana"},
		{"???", "", "\xff\xfe"},
		{"color on 11/30 at 10:30", "none of those", "any day"},
		{"I'm Sam", "blowout", "friday afternoon"},
		{"call me back", "emergency", "ok"},
		{strings.Repeat("a ", 3000), "9/99/9999 99:99", "mañana por la mañana a las 13 pm"},
	}
	for i, s := range seeds {
		f.Add(s[0], s[1], s[2], uint8(i), int64(i)*3601)
	}
	for _, l := range loadEscalationCorpus(f)[:40] {
		f.Add(l.text, "1", "Dana", uint8(len(l.text)), int64(len(l.text))*600)
	}
	f.Fuzz(func(t *testing.T, m1, m2, m3 string, slotBits uint8, nowOffset int64) {
		now := monday.Add(time.Duration(nowOffset%(400*24*3600)) * time.Second)
		var s Script
		slots := func() []time.Time {
			var out []time.Time
			for i := 0; i < 8; i++ {
				if slotBits&(1<<i) != 0 {
					out = append(out, dayOf(now, newYork).Add(time.Duration(24+i*5)*time.Hour))
				}
			}
			return out
		}
		var reported []time.Time
		check := func(where string, st Step) {
			t.Helper()
			if st.Reply == "" && st.Action == nil && s.Stage != StageEscalated && s.Stage != StageBooked {
				t.Fatalf("%s: empty step in stage %q", where, s.Stage)
			}
			if !utf8.ValidString(st.Reply) || runes(st.Reply) > MaxReplyLen {
				t.Fatalf("%s: reply %q", where, st.Reply)
			}
			if !slices.Contains(validStages, s.Stage) {
				t.Fatalf("%s: stage %q", where, s.Stage)
			}
			switch a := st.Action.(type) {
			case BookAppointment:
				if _, ok := salon.FindService(a.Service); !ok {
					t.Fatalf("%s: booking for %q", where, a.Service)
				}
				if n, problem := checkName(a.Name); problem != "" || n != a.Name {
					t.Fatalf("%s: booking under %q: %s", where, a.Name, problem)
				}
				if !slices.ContainsFunc(reported, a.Start.Equal) {
					t.Fatalf("%s: booking at %v, never reported open (%v)", where, a.Start, reported)
				}
			case CheckAvailability:
				if _, ok := salon.FindService(a.Service); !ok {
					t.Fatalf("%s: check for %q", where, a.Service)
				}
			case EscalateToHuman:
				if a.Reason == "" || a.Summary == "" || runes(a.Summary) > MaxSummaryLen || s.Stage != StageEscalated {
					t.Fatalf("%s: escalation %+v in stage %s", where, a, s.Stage)
				}
			}
			data, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var back Script
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			s = back
		}
		for i, m := range []string{m1, m2, m3} {
			st := s.Next(m, salon, now, newYork)
			check("Next", st)
			switch st.Action.(type) {
			case CheckAvailability:
				open := slots()
				reported = append(reported, open...)
				st = s.Offer(open)
				check("Offer", st)
				if _, ok := st.Action.(BookAppointment); ok {
					check("BookResult", s.BookResult(i%2 == 0, "taken", open))
				}
			case BookAppointment:
				check("BookResult", s.BookResult(slotBits%3 == 0, "", slots()))
			}
		}
	})
}

// FuzzParseToolCall checks that ParseToolCall never panics and that what it accepts is what the
// rest of the system relies on: a canonical service, a valid name, a known reason, a bounded
// summary, and times in the business's zone.
func FuzzParseToolCall(f *testing.F) {
	for _, s := range []struct{ tool, args string }{
		{ToolCheckAvailability, `{"service":"Haircut","date":"2026-11-24"}`},
		{ToolBookAppointment, `{"service":"haircuts","start":"2026-11-24T15:00","name":"Dana"}`},
		{ToolEscalateToHuman, `{"reason":"other","summary":"x"}`},
		{ToolBookAppointment, `{"service":"Color","start":"2026-03-08T02:30","name":"Ana"}`},
		{"nope", `{`},
		{ToolCheckAvailability, `{"service":null,"date":1}`},
	} {
		f.Add(s.tool, s.args)
	}
	f.Fuzz(func(t *testing.T, tool, args string) {
		call, err := ParseToolCall(tool, args, salon, newYork)
		if err != nil {
			if call != nil || !utf8.ValidString(err.Error()) && utf8.ValidString(tool+args) {
				t.Fatalf("error %v with call %+v", err, call)
			}
			return
		}
		switch c := call.(type) {
		case CheckAvailability:
			if _, ok := salon.FindService(c.Service); !ok || (!c.Date.IsZero() && (c.Date.Location() != newYork || c.Date.Hour() > 1)) {
				t.Fatalf("accepted %+v", c)
			}
		case BookAppointment:
			if _, problem := checkName(c.Name); problem != "" || c.Start.Location() != newYork || !slices.ContainsFunc(salon.Services, func(s Service) bool { return s.Name == c.Service }) {
				t.Fatalf("accepted %+v", c)
			}
		case EscalateToHuman:
			if !slices.Contains([]string{ReasonCallerRequest, ReasonEmergency, ReasonComplaint, ReasonOther}, c.Reason) || c.Summary == "" || runes(c.Summary) > MaxSummaryLen {
				t.Fatalf("accepted %+v", c)
			}
		default:
			t.Fatalf("call %T", call)
		}
		if call.Tool() != strings.TrimSpace(tool) {
			t.Fatalf("tool %q for %q", call.Tool(), tool)
		}
	})
}

// longInputs could make the agent's work grow faster than the input. BenchmarkLongInputs times
// them (go test -bench LongInputs ./internal/agent/); a timed assertion would fail on a busy
// machine rather than on slow code.
var longInputs = map[string]string{
	"letters":     strings.Repeat("a", 200000),
	"words":       strings.Repeat("no emergency call me ", 10000),
	"digits":      strings.Repeat("9 1 1 614 911 ", 20000),
	"punctuation": strings.Repeat("fire, ", 30000),
	"dates":       strings.Repeat("11/24 at 3pm tomorrow monday ", 5000),
	"names":       strings.Repeat("I'm Dana ", 20000),
	"marks":       "e" + strings.Repeat("\u0301", 100000),
}

// TestLongInputs checks every entry point finishes on a long text and stays within its bounds.
func TestLongInputs(t *testing.T) {
	for name, text := range longInputs {
		DetectEscalation(text)
		var s Script
		if step := s.Next(text, salon, monday, newYork); runes(step.Reply) > MaxReplyLen {
			t.Errorf("%s: reply of %d characters", name, runes(step.Reply))
		}
		if _, err := ParseToolCall(ToolEscalateToHuman, `{"reason":"other","summary":"`+text+`"}`, salon, newYork); err == nil {
			t.Errorf("%s: a %d-byte summary was accepted", name, len(text))
		}
	}
}

func BenchmarkLongInputs(b *testing.B) {
	for name, text := range longInputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				DetectEscalation(text)
				var s Script
				s.Next(text, salon, monday, newYork)
			}
		})
	}
}
