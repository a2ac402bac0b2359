package tenantspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/ringback/ringback/internal/schedule"
)

func TestDefaultProfileIsNormalized(t *testing.T) {
	p := DefaultProfile()
	got, err := p.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("Normalize(DefaultProfile()) =\n%+v\nwant\n%+v", got, p)
	}
	if got := schedule.DescribeHours(mustCalendar(t, p).Hours); got != "Mon–Fri 09:00–17:00; closed Sat–Sun" {
		t.Errorf("default hours: %q", got)
	}
}

func mustCalendar(t *testing.T, p Profile) schedule.Calendar {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Calendar(loc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProfileNormalizeFillsDefaultsAndTidies(t *testing.T) {
	in := Profile{
		Services: []Service{{Name: "  Haircut ", Minutes: 45, PriceCents: 3500, Description: " Wash and cut "}, {Name: "Beard trim", Minutes: 15}},
		Hours:    Hours{Mon: []string{"13:00-17:00", "9:00 - 12:00"}, Sat: []string{"10:00–14:00"}},
		Closures: []Closure{{Date: "2026-12-31", Reason: " New Year's Eve "}, {Date: " 2026-12-25 "}},
		Tone:     " relaxed ",
		// A number is normalized; errors never echo it (tested below).
		BackupPhone: "(614) 555-0177",
	}
	got, err := in.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{
		Services:                 []Service{{Name: "Haircut", Minutes: 45, PriceCents: 3500, Description: "Wash and cut"}, {Name: "Beard trim", Minutes: 15}},
		Hours:                    Hours{Mon: []string{"09:00-12:00", "13:00-17:00"}, Sat: []string{"10:00-14:00"}},
		Closures:                 []Closure{{Date: "2026-12-25"}, {Date: "2026-12-31", Reason: "New Year's Eve"}},
		Tone:                     "relaxed",
		BackupPhone:              "+16145550177",
		EscalationTimeoutMinutes: 15,
		FollowUpAfterMinutes:     120,
		SlotStepMinutes:          30,
		BookingHorizonDays:       14,
		MinNoticeMinutes:         60,
		MessageRetentionDays:     DefaultMessageRetentionDays,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("normalized =\n%+v\nwant\n%+v", got, want)
	}
	again, err := got.Normalize()
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("Normalize is not idempotent: %+v, %v", again, err)
	}
	if s, ok := got.Service("beard TRIM"); !ok || s.Minutes != 15 {
		t.Errorf("Service lookup = %+v, %v", s, ok)
	}
	if got.EscalationTimeout() != 15*time.Minute || got.FollowUpAfter() != 2*time.Hour {
		t.Errorf("durations: %v, %v", got.EscalationTimeout(), got.FollowUpAfter())
	}
	c := mustCalendar(t, got)
	if c.Step != 30*time.Minute || c.Notice != time.Hour || c.HorizonDays != 14 ||
		len(c.Hours[time.Monday]) != 2 || len(c.Hours[time.Sunday]) != 0 || len(c.Closed) != 2 {
		t.Errorf("calendar = %+v", c)
	}
}

func TestProfileNormalizeReportsEveryProblem(t *testing.T) {
	in := Profile{
		Services: []Service{
			{Name: "Cut", Minutes: 3, PriceCents: -1},
			{Name: "cut", Minutes: 30},
			{Name: "", Minutes: 500, Description: "two\nlines"},
			{Name: "Marathon", Minutes: 300},
		},
		Hours: Hours{
			Mon: []string{"09:00-12:00", "11:00-17:00"},
			Tue: []string{"17:00-09:00"},
			Wed: []string{"9am-5pm"},
			Thu: []string{"09:00-12:00", "12:00-17:00"},
		},
		Closures:                 []Closure{{Date: "2026-02-30"}, {Date: "2026-12-25"}, {Date: "2026-12-25", Reason: "again"}},
		Tone:                     strings.Repeat("x", 201),
		BackupPhone:              "555-nope",
		EscalationTimeoutMinutes: 2000,
		FollowUpAfterMinutes:     -5,
		SlotStepMinutes:          1,
		BookingHorizonDays:       365,
		MinNoticeMinutes:         -1,
		MessageRetentionDays:     5000,
	}
	_, err := in.Normalize()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Normalize = %v, want *ValidationError", err)
	}
	for _, want := range []string{
		"services[0].minutes: 3", "services[0].price_cents", `services[1].name: "cut" is already services[0]`,
		"services[2].name: required", "services[2].minutes: 500", "services[2].description: must be a single line",
		"hours.mon: 09:00-12:00 overlaps 11:00-17:00", "hours.tue[0]", "hours.wed[0]", "hours.thu: 09:00-12:00 and 12:00-17:00 touch",
		"closures[0].date", "closures[2].date: 2026-12-25 is already closures[1]",
		"tone: 201 characters", "backup_phone", "escalation_timeout_minutes: 2000", "follow_up_after_minutes: -5",
		"slot_step_minutes: 1", "booking_horizon_days: 365", "min_notice_minutes: -1",
		"message_retention_days: 5000",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if strings.Contains(err.Error(), "555-nope") {
		t.Errorf("error repeats the backup phone: %v", err)
	}
	if t.Failed() {
		t.Logf("error:\n%v", err)
	}
}

func TestProfileServiceMustFitTheHours(t *testing.T) {
	p := DefaultProfile()
	p.Hours = Hours{Sat: []string{"10:00-12:00"}}
	p.Services = []Service{{Name: "Colour", Minutes: 180}}
	if _, err := p.Normalize(); err == nil || !strings.Contains(err.Error(), "longer than the longest opening interval (120 minutes)") {
		t.Errorf("Normalize = %v", err)
	}
	p.Hours = Hours{}
	if _, err := p.Normalize(); err == nil || !strings.Contains(err.Error(), "never open") {
		t.Errorf("Normalize with no hours = %v", err)
	}
}

// The decoder, not Normalize, rejects unknown fields; this is how callers must decode.
func TestProfileDecodingRejectsUnknownFields(t *testing.T) {
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"services":[{"name":"Cut","minutes":30}],"hours":{"monday":["09:00-17:00"]}}`)))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err == nil || !strings.Contains(err.Error(), "monday") {
		t.Errorf("Decode = %v, want an unknown-field error", err)
	}
}

func TestProfileJSONRoundTrip(t *testing.T) {
	p := DefaultProfile()
	p.Closures = []Closure{{Date: "2026-12-25", Reason: "Christmas"}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"hours":{"mon":["09:00-17:00"]`) {
		t.Errorf("JSON shape: %s", b)
	}
	var back Profile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", back, p)
	}
}

func TestTextingWindow(t *testing.T) {
	p := DefaultProfile()
	p.TextingWindow = " 9:00–20:00 "
	got, err := p.Normalize()
	if err != nil || got.TextingWindow != "09:00-20:00" {
		t.Fatalf("normalized window = %q, %v", got.TextingWindow, err)
	}
	p.TextingWindow = "20:00-09:00"
	if _, err := p.Normalize(); err == nil || !strings.Contains(err.Error(), "texting_window") {
		t.Fatalf("an inverted window was accepted: %v", err)
	}
}
