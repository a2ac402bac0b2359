package agent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var (
	newYork = mustZone("America/New_York")
	salon   = Business{
		Name:     "Bella Hair Studio",
		Tone:     "warm and casual",
		Timezone: "America/New_York",
		Services: []Service{
			{Name: "Haircut", Minutes: 30, PriceCents: 3500},
			{Name: "Color", Minutes: 90},
			{Name: "Blowout", Minutes: 45, PriceCents: 4050, Description: "Wash and style."},
		},
		HoursText: "Mon–Fri 09:00–17:00; closed Sat, Sun",
		Closures:  []string{"Dec 25 (Christmas)"},
	}
	// monday is Monday 23 November 2026, 10:00 in New York.
	monday = time.Date(2026, 11, 23, 10, 0, 0, 0, newYork)
)

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, newYork)
}

// conversation drives a Script through messages and workflow results, checking each step.
type conversation struct {
	t   *testing.T
	s   Script
	b   Business
	now time.Time
	loc *time.Location
}

func (c *conversation) send(in string) Step {
	c.t.Helper()
	st := c.s.Next(in, c.b, c.now, c.loc)
	c.t.Logf("caller: %q\n  stage %s, reply %q, action %+v", in, c.s.Stage, st.Reply, st.Action)
	c.check(st)
	// Every step must survive the trip through workflow state.
	data, err := json.Marshal(c.s)
	if err != nil {
		c.t.Fatal(err)
	}
	var back Script
	if err := json.Unmarshal(data, &back); err != nil {
		c.t.Fatal(err)
	}
	c.s = back
	return st
}

func (c *conversation) check(st Step) {
	c.t.Helper()
	if n := runes(st.Reply); n > MaxReplyLen {
		c.t.Errorf("reply of %d characters: %q", n, st.Reply)
	}
	if st.Reply == "" && st.Action == nil {
		c.t.Errorf("step with neither reply nor action leaves the caller without an answer")
	}
}

func (c *conversation) offer(slots ...time.Time) Step {
	c.t.Helper()
	st := c.s.Offer(slots)
	c.t.Logf("offer %v\n  stage %s, reply %q, action %+v", slots, c.s.Stage, st.Reply, st.Action)
	c.check(st)
	return st
}

func (c *conversation) booked(ok bool, alternatives ...time.Time) Step {
	c.t.Helper()
	st := c.s.BookResult(ok, "slot_taken", alternatives)
	c.t.Logf("book %v\n  stage %s, reply %q, action %+v", ok, c.s.Stage, st.Reply, st.Action)
	c.check(st)
	return st
}

func newConversation(t *testing.T) *conversation {
	return &conversation{t: t, b: salon, now: monday, loc: newYork}
}

func wantCheck(t *testing.T, st Step, service string, date time.Time) {
	t.Helper()
	c, ok := st.Action.(CheckAvailability)
	if !ok || c.Service != service || !c.Date.Equal(date) {
		t.Fatalf("action %+v, want CheckAvailability{%s %v}", st.Action, service, date)
	}
}

func wantBook(t *testing.T, st Step, service string, start time.Time, name string) {
	t.Helper()
	b, ok := st.Action.(BookAppointment)
	if !ok || b.Service != service || !b.Start.Equal(start) || b.Name != name {
		t.Fatalf("action %+v, want BookAppointment{%s %v %s}", st.Action, service, start, name)
	}
}

func wantEscalate(t *testing.T, st Step, reason string) {
	t.Helper()
	e, ok := st.Action.(EscalateToHuman)
	if !ok || e.Reason != reason || e.Summary == "" || runes(e.Summary) > MaxSummaryLen {
		t.Fatalf("action %+v, want EscalateToHuman{%s}", st.Action, reason)
	}
}

func wantReply(t *testing.T, st Step, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(st.Reply, p) {
			t.Fatalf("reply %q lacks %q", st.Reply, p)
		}
	}
}

func TestScriptOneMessage(t *testing.T) {
	c := newConversation(t)
	st := c.send("Dana, haircut tomorrow 3pm")
	wantCheck(t, st, "Haircut", at(24, 0, 0))
	if st.Reply != "" {
		t.Errorf("reply %q while checking; nothing should be sent yet", st.Reply)
	}
	st = c.offer(at(24, 14, 0), at(24, 15, 0), at(24, 16, 0))
	wantBook(t, st, "Haircut", at(24, 15, 0), "Dana")
	st = c.booked(true)
	wantReply(t, st, "Dana", "Haircut", "Tue Nov 24 at 3 PM")
	if c.s.Stage != StageBooked {
		t.Fatalf("stage %s", c.s.Stage)
	}
	st = c.send("thanks!")
	if st.Action != nil || !strings.Contains(st.Reply, "welcome") {
		t.Fatalf("after booking, thanks got %+v", st)
	}
	wantEscalate(t, c.send("actually can I bring my sister?"), ReasonOther)
}

func TestScriptStepByStep(t *testing.T) {
	c := newConversation(t)
	st := c.send("Hi, I'd like to book an appointment")
	wantReply(t, st, "1) Haircut", "2) Color", "3) Blowout")
	if c.s.Attempts != 0 {
		t.Errorf("the first message answered no question; attempts %d", c.s.Attempts)
	}
	st = c.send("2")
	wantCheck(t, st, "Color", time.Time{})
	st = c.offer(at(23, 14, 0), at(23, 15, 30), at(24, 9, 0), at(24, 10, 0))
	wantReply(t, st, "1) Mon Nov 23 at 2 PM", "2) Mon Nov 23 at 3:30 PM", "3) Tue Nov 24 at 9 AM", "Reply 1, 2 or 3")
	st = c.send("the second one")
	wantReply(t, st, "Mon Nov 23 at 3:30 PM", "name")
	st = c.send("this is dana lee")
	wantBook(t, st, "Color", at(23, 15, 30), "Dana Lee")
	st = c.booked(false, at(24, 9, 0), at(24, 11, 0))
	wantReply(t, st, "just taken", "1) Tue Nov 24 at 9 AM", "2) Tue Nov 24 at 11 AM")
	st = c.send("11am")
	wantBook(t, st, "Color", at(24, 11, 0), "Dana Lee")
	c.booked(true)
}

func TestScriptChoosesByTimeAndDay(t *testing.T) {
	cases := []struct {
		name  string
		msgs  []string
		slots []time.Time
		want  time.Time
	}{
		{"time of an offered slot", []string{"haircut please", "2pm"}, []time.Time{at(23, 13, 0), at(23, 14, 0), at(24, 9, 0)}, at(23, 14, 0)},
		{"day narrows, then number", []string{"haircut", "tuesday", "1"}, []time.Time{at(23, 13, 0), at(24, 9, 0), at(24, 10, 0)}, at(24, 9, 0)},
		{"only one offered, yes", []string{"blowout tomorrow morning", "yes please"}, []time.Time{at(24, 9, 0), at(24, 14, 0)}, at(24, 9, 0)},
		{"spanish ordinal", []string{"hola, quiero un haircut", "la primera"}, []time.Time{at(23, 13, 0), at(24, 9, 0)}, at(23, 13, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newConversation(t)
			c.s.Name = "Ana"
			var st Step
			for i, m := range tc.msgs {
				st = c.send(m)
				if i == 0 {
					st = c.offer(tc.slots...)
				}
			}
			if b, ok := st.Action.(BookAppointment); !ok || !b.Start.Equal(tc.want) {
				t.Fatalf("got %+v, want a booking at %v", st, tc.want)
			}
		})
	}
}

func TestScriptRequestedTimeTaken(t *testing.T) {
	c := newConversation(t)
	c.send("I'm Sam, blowout Wednesday at 10:30")
	st := c.offer(at(25, 9, 0), at(25, 11, 0), at(25, 12, 0), at(25, 16, 0))
	wantReply(t, st, "Wed Nov 25 at 10:30 AM isn't available", "1) Wed Nov 25 at 9 AM", "3) Wed Nov 25 at 12 PM")
	st = c.send("none of those work")
	wantReply(t, st, "What day")
	st = c.send("friday afternoon")
	wantCheck(t, st, "Blowout", at(27, 0, 0))
	st = c.offer(at(27, 9, 0), at(27, 13, 0), at(27, 15, 0))
	wantReply(t, st, "1) Fri Nov 27 at 1 PM", "2) Fri Nov 27 at 3 PM")
	wantBook(t, c.send("1"), "Blowout", at(27, 13, 0), "Sam")
}

func TestScriptNoOpenings(t *testing.T) {
	c := newConversation(t)
	c.send("color on 11/30")
	st := c.offer()
	wantReply(t, st, "no openings for Color on Mon Nov 30", "What other day")
	wantCheck(t, c.send("any day"), "Color", time.Time{})
	wantEscalate(t, c.offer(), ReasonNoAvailability)
}

func TestScriptNoProgress(t *testing.T) {
	c := newConversation(t)
	c.send("hello")
	c.send("what?")
	c.send("I don't know")
	st := c.send("hmm")
	wantEscalate(t, st, ReasonNoProgress)
	if !strings.Contains(st.Reply, "Bella Hair Studio") {
		t.Errorf("hand-off reply %q does not say who will follow up", st.Reply)
	}
	st = c.send("hello??")
	if st.Action != nil || st.Reply == "" {
		t.Errorf("after escalation: %+v", st)
	}
}

func TestScriptEscalatesAtOnce(t *testing.T) {
	cases := []struct {
		msg, reason, reply string
	}{
		{"can I talk to a real person", ReasonCallerRequest, "asked a member"},
		{"my basement is flooding!", ReasonEmergency, "call 911"},
		{"es una emergencia", ReasonEmergency, "llame al 911"},
		{"quiero hablar con una persona", ReasonCallerRequest, "Bella Hair Studio"},
	}
	for _, tc := range cases {
		c := newConversation(t)
		c.send("haircut tomorrow")
		st := c.send(tc.msg)
		wantEscalate(t, st, tc.reason)
		wantReply(t, st, tc.reply)
	}
	// An emergency after an escalation for another reason is escalated again.
	c := newConversation(t)
	wantEscalate(t, c.send("call me back"), ReasonCallerRequest)
	wantEscalate(t, c.send("there's a gas leak"), ReasonEmergency)
	// Outside North America the reply names no number rather than a wrong one.
	c = newConversation(t)
	c.loc = mustZone("Europe/London")
	wantReply(t, c.send("emergency"), "local emergency number")
}

func TestScriptSpanish(t *testing.T) {
	c := newConversation(t)
	st := c.send("Hola, quiero una cita")
	wantReply(t, st, "¿Qué servicio desea?", "1) Haircut")
	st = c.send("1")
	wantCheck(t, st, "Haircut", time.Time{})
	st = c.send("mañana a las 3")
	wantCheck(t, st, "Haircut", at(24, 0, 0))
	st = c.offer(at(24, 15, 0))
	wantReply(t, st, "martes 24 nov a las 3:00 pm", "¿A nombre de quién")
	st = c.send("me llamo Ana")
	wantBook(t, st, "Haircut", at(24, 15, 0), "Ana")
	st = c.booked(true)
	wantReply(t, st, "Listo, Ana")
}

func TestScriptSingleService(t *testing.T) {
	c := newConversation(t)
	c.b = Business{Name: "Quick Fix Plumbing", Services: []Service{{Name: "Service call", Minutes: 60}}}
	wantCheck(t, c.send("hi can someone come out thursday"), "Service call", at(26, 0, 0))
}

func TestScriptNoServices(t *testing.T) {
	c := newConversation(t)
	c.b = Business{Name: "Empty"}
	wantEscalate(t, c.send("hi"), ReasonOther)
}

func TestScriptDSTDay(t *testing.T) {
	// Clocks in New York go forward at 02:00 on Sunday 8 March 2026 and back at 02:00 on Sunday 1
	// November 2026. "Tomorrow" is the next calendar day either way, at the wall-clock time asked.
	const est, edt = -5 * 3600, -4 * 3600
	cases := []struct {
		now    time.Time
		msg    string
		want   string // wall clock in New York
		offset int
	}{
		{time.Date(2026, 3, 7, 22, 0, 0, 0, newYork), "haircut tomorrow at 10am", "2026-03-08 10:00", edt},
		{time.Date(2026, 3, 7, 23, 59, 0, 0, newYork), "haircut sunday 3pm", "2026-03-08 15:00", edt},
		{time.Date(2026, 3, 8, 1, 30, 0, 0, newYork), "haircut tomorrow 9:30", "2026-03-09 09:30", edt},
		{time.Date(2026, 3, 8, 23, 30, 0, 0, newYork), "haircut tomorrow at 11", "2026-03-09 11:00", edt},
		{time.Date(2026, 10, 31, 23, 0, 0, 0, newYork), "haircut tomorrow at 4pm", "2026-11-01 16:00", est},
		// 01:30 EST, the second 01:30 of the night the clocks go back.
		{time.Date(2026, 11, 1, 1, 30, 0, 0, newYork).Add(time.Hour), "haircut today at 3", "2026-11-01 15:00", est},
	}
	for _, tc := range cases {
		c := newConversation(t)
		c.now = tc.now
		c.s.Name = "Dana"
		st := c.send(tc.msg)
		check, ok := st.Action.(CheckAvailability)
		if !ok || check.Date.Format("2006-01-02 15:04") != tc.want[:10]+" 00:00" {
			t.Fatalf("%s at %v: %+v, want a check on %s", tc.msg, tc.now, st.Action, tc.want[:10])
		}
		want, _ := time.ParseInLocation("2006-01-02 15:04", tc.want, newYork)
		book, ok := c.offer(want).Action.(BookAppointment)
		if !ok || book.Start.Format("2006-01-02 15:04") != tc.want {
			t.Fatalf("%s at %v: booked %+v, want %s", tc.msg, tc.now, book, tc.want)
		}
		if _, off := book.Start.Zone(); off != tc.offset {
			t.Errorf("%s at %v: %v has offset %d, want %d", tc.msg, tc.now, book.Start, off, tc.offset)
		}
	}
}

func TestScriptRepliesStayShort(t *testing.T) {
	long := Business{Name: strings.Repeat("Very Long Business Name ", 10)}
	for i := 0; i < 30; i++ {
		long.Services = append(long.Services, Service{Name: strings.Repeat("Deluxe Treatment ", 8)})
	}
	c := newConversation(t)
	c.b = long
	c.send("hello")
	c.send(strings.Repeat("nonsense ", 200))
	c.s = Script{Service: long.Services[0].Name, Name: strings.Repeat("Bartholomew ", 5), Lang: "es"}
	c.send("mañana")
	c.offer(at(24, 9, 0), at(25, 10, 0), at(26, 11, 0))
	c.send("1")
	c.booked(true)
	c.send("quiero hablar con una persona")
}
