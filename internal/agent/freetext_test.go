package agent

import (
	"testing"
	"time"
)

func TestParseWhen(t *testing.T) {
	// Monday 23 November 2026, 10:00 in New York.
	cases := []struct {
		in      string
		day     string // YYYY-MM-DD or ""
		time    string // HH:MM or ""
		part    dayPart
		comment string
	}{
		{"tomorrow at 3pm", "2026-11-24", "15:00", anyPart, ""},
		{"Monday 10am", "2026-11-30", "10:00", anyPart, "today is Monday and 10am has passed"},
		{"monday 11am", "2026-11-23", "11:00", anyPart, "later today"},
		{"10:30", "", "10:30", anyPart, ""},
		{"11/24 at 2", "2026-11-24", "14:00", anyPart, "bare hours 1-6 are afternoon"},
		{"11/20", "2027-11-20", "", anyPart, "a date without a year is the next one"},
		{"24/11", "2026-11-24", "", anyPart, "day first when the first number cannot be a month"},
		{"11/24/26 9am", "2026-11-24", "09:00", anyPart, ""},
		{"2026-12-01T10:00", "2026-12-01", "10:00", anyPart, ""},
		{"Nov 24th at noon", "2026-11-24", "12:00", anyPart, ""},
		{"december 3 5:30 pm", "2026-12-03", "17:30", anyPart, ""},
		{"the 3rd of December", "2026-12-03", "", anyPart, ""},
		{"2/30", "", "", anyPart, "no such day"},
		{"mañana a las 3", "2026-11-24", "15:00", anyPart, ""},
		{"manana en la manana", "2026-11-24", "", morning, ""},
		{"mañana por la mañana a las 10", "2026-11-24", "10:00", morning, ""},
		{"el lunes por la tarde", "2026-11-30", "", afternoon, ""},
		{"el 24 de noviembre a las 4", "2026-11-24", "16:00", anyPart, ""},
		{"esta mañana no, mejor esta tarde", "2026-11-23", "", afternoon, ""},
		{"pasado mañana", "2026-11-25", "", anyPart, ""},
		{"day after tomorrow at 9", "2026-11-25", "09:00", anyPart, ""},
		{"tmrw 4p", "2026-11-24", "16:00", anyPart, ""},
		{"thurs @ 2:15", "2026-11-26", "14:15", anyPart, ""},
		{"tuesday evening at 6", "2026-11-24", "18:00", evening, ""},
		{"friday at 8 in the morning", "2026-11-27", "08:00", morning, ""},
		{"3 o'clock", "", "15:00", anyPart, ""},
		{"15:45", "", "15:45", anyPart, ""},
		{"at 9 p.m.", "", "21:00", anyPart, ""},
		{"10 a. m.", "", "10:00", anyPart, ""},
		{"today", "2026-11-23", "", anyPart, ""},
		{"I am free", "", "", anyPart, "\"am\" is not a time"},
		{"2 haircuts", "", "", anyPart, ""},
		{"call me at 614-555-0123", "", "", anyPart, "a phone number is not a time"},
		{"13pm", "", "", anyPart, ""},
		{"at 25", "", "", anyPart, ""},
		{"Mondays work best", "2026-11-30", "", anyPart, ""},
		{"I sat down", "2026-11-28", "", anyPart, "known limit: \"sat\" reads as Saturday"},
	}
	for _, c := range cases {
		w := parseWhen(c.in, monday, newYork)
		day := ""
		if !w.day.IsZero() {
			day = w.day.Format("2006-01-02")
			if w.day.Location() != newYork || w.day.Hour() != 0 {
				t.Errorf("%q: day %v is not the start of a day in New York", c.in, w.day)
			}
		}
		tm := ""
		if w.hasTime {
			tm = time.Date(2000, 1, 1, w.hour, w.minute, 0, 0, time.UTC).Format("15:04")
		}
		if day != c.day || tm != c.time || w.part != c.part {
			t.Errorf("%q: day %q time %q part %d, want %q %q %d %s", c.in, day, tm, w.part, c.day, c.time, c.part, c.comment)
		}
	}
}

func TestFindName(t *testing.T) {
	ignore := serviceWords(salon)
	cases := []struct {
		in    string
		asked bool
		want  string
	}{
		{"I'm Dana", false, "Dana"},
		{"im dana, need a haircut", false, "Dana"},
		{"Dana Lee", false, "Dana Lee"},
		{"this is dana", false, "Dana"},
		{"This is Dana Lee and I need a color", false, "Dana Lee"},
		{"me llamo Ana", false, "Ana"},
		{"Soy María José, quiero un corte", false, "María José"},
		{"my name is Anne-Marie O'Neil", false, "Anne-Marie O'Neil"},
		{"Dana, haircut tomorrow 3pm", false, "Dana"},
		{"It's McKenzie", false, "McKenzie"},
		{"put it under Sam", false, "Sam"},
		{"you can call me Jo", false, "Jo"},
		{"Dana", true, "Dana"},
		{"dana", true, "Dana"},
		{"sure, Dana Lee thanks", true, "Dana Lee"},
		{"DANA", true, "Dana"},
		{"José.", true, "José"},
		// Not names.
		{"Dana", false, ""},
		{"I'm looking for a haircut", false, ""},
		{"I'm free tomorrow", false, ""},
		{"I am interested in color", false, ""},
		{"I'm not sure", false, ""},
		{"it's 3pm", false, ""},
		{"this is for my son", false, ""},
		{"Haircut tomorrow", false, ""},
		{"Tomorrow works", false, ""},
		{"Sounds good", false, ""},
		{"Blowout Monday", false, ""},
		{"Hi, can I book?", false, ""},
		{"Yes please", true, ""},
		{"2", true, ""},
		{"what times do you have", true, ""},
		{"soy nuevo", false, ""},
		{"I'm Dana555", false, ""},
		{"lol", true, ""},
		{"it's urgent", false, ""},
		{"this is ridiculous", false, ""},
		{"it's under warranty", false, ""},
		{"book it under the name of Priya", false, "Priya"},
	}
	for _, c := range cases {
		if got := findName(c.in, c.asked, ignore); got != c.want {
			t.Errorf("findName(%q, asked=%v) = %q, want %q", c.in, c.asked, got, c.want)
		}
	}
}

func TestFindServiceIn(t *testing.T) {
	b := Business{Services: []Service{{Name: "Men's Haircut"}, {Name: "Women's Haircut"}, {Name: "Color & Highlights"},
		{Name: "Deep Tissue Massage"}, {Name: "Hot Stone Massage"}, {Name: "Beard Trim"}}}
	cases := []struct {
		in        string
		typos     bool
		want      string
		ambiguous bool
	}{
		{"I need a men's haircut tomorrow", false, "Men's Haircut", false},
		{"womens haircuts", false, "Women's Haircut", false},
		{"can I get color", false, "Color & Highlights", false},
		{"just highlights", false, "Color & Highlights", false},
		{"deep tissue", false, "Deep Tissue Massage", false},
		{"hot stone please", false, "Hot Stone Massage", false},
		{"a trim", false, "Beard Trim", false},
		{"haircut", false, "", true},
		{"a massage", false, "", true},
		{"it's hot today", false, "", false},
		{"deep clean", false, "", false},
		{"my beard", false, "", false},
		{"colour please", false, "", false},
		{"colour please", true, "Color & Highlights", false},
		{"highlihgts", true, "Color & Highlights", false},
		{"", false, "", false},
	}
	for _, c := range cases {
		got, ok, amb := findServiceIn(c.in, b, c.typos)
		if got.Name != c.want || ok != (c.want != "") || amb != c.ambiguous {
			t.Errorf("findServiceIn(%q, typos=%v) = %q %v %v, want %q ambiguous=%v", c.in, c.typos, got.Name, ok, amb, c.want, c.ambiguous)
		}
	}
	// "message" is one letter from "massage": only someone answering "which service?" means it.
	spa := Business{Services: []Service{{Name: "Massage"}, {Name: "Facial"}}}
	if _, ok, _ := findServiceIn("I got your message", spa, false); ok {
		t.Error("\"message\" taken for Massage")
	}
}

func TestChoice(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want int
	}{
		{"2", 3, 2}, {"#2", 3, 2}, {"2.", 3, 2}, {"option 3 please", 3, 3}, {"the second one", 3, 2}, {"the 2nd one works", 3, 2},
		{"la primera", 3, 1}, {"la 2", 3, 2}, {"one", 3, 1}, {"the last one", 3, 3}, {"número dos", 3, 2},
		{"4", 3, 0}, {"0", 3, 0}, {"2pm", 3, 0}, {"2 pm", 3, 0}, {"1 or 2", 3, 0}, {"what", 3, 0}, {"", 3, 0}, {"100", 3, 0},
	}
	for _, c := range cases {
		got, ok := choice(c.in, c.n)
		if got != c.want || ok != (c.want != 0) {
			t.Errorf("choice(%q, %d) = %d %v, want %d", c.in, c.n, got, ok, c.want)
		}
	}
}

func TestLanguage(t *testing.T) {
	cases := []struct{ in, current, want string }{
		{"Hola", "", "es"}, {"hola, quiero una cita", "en", "es"}, {"mañana a las 3", "", "es"}, {"Hi", "", "en"},
		{"I want a haircut", "es", "en"}, {"ok", "es", "es"}, {"2", "", ""}, {"Ana", "es", "es"}, {"gracias", "en", "en"},
	}
	for _, c := range cases {
		if got := language(c.in, c.current); got != c.want {
			t.Errorf("language(%q, %q) = %q, want %q", c.in, c.current, got, c.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var p Progress
	steps := []struct {
		turn TurnOutcome
		want bool
	}{
		{TurnOutcome{}, false},
		{TurnOutcome{}, false},
		{TurnOutcome{NewFact: true}, false},
		{TurnOutcome{}, false},
		{TurnOutcome{ToolOK: true}, false},
		{TurnOutcome{}, false},
		{TurnOutcome{}, false},
		{TurnOutcome{}, true},
		{TurnOutcome{}, true},
		{TurnOutcome{Booked: true}, false},
	}
	for i, s := range steps {
		if got := p.Record(s.turn); got != s.want {
			t.Fatalf("turn %d: escalate %v, want %v (%+v)", i+1, got, s.want, p)
		}
	}
	if p.Turns != len(steps) || p.Stalled != 0 {
		t.Errorf("progress %+v", p)
	}
}
