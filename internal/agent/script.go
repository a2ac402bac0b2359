package agent

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ScriptStage is what a Script is waiting for. The values are stored in workflow state, so they
// are strings that never change meaning.
type ScriptStage string

// The stages of a Script.
const (
	// StageStart: nothing asked yet (the zero value).
	StageStart ScriptStage = ""
	// StageService: the caller was asked which service they want.
	StageService ScriptStage = "service"
	// StageChecking: the workflow was asked for availability; Offer reports it.
	StageChecking ScriptStage = "checking"
	// StageTime: times were offered, or the caller was asked for another day.
	StageTime ScriptStage = "time"
	// StageName: a time is agreed; the caller was asked for their name.
	StageName ScriptStage = "name"
	// StageBooking: the workflow was asked to book; BookResult reports it.
	StageBooking ScriptStage = "booking"
	// StageBooked: the appointment is booked.
	StageBooked ScriptStage = "booked"
	// StageEscalated: the conversation was handed to a person.
	StageEscalated ScriptStage = "escalated"
)

// MaxStalls is how many caller messages in a row may bring no progress before a conversation goes
// to a person, in the scripted flow and (through Progress) the model's.
const MaxStalls = 3

// maxOffered is how many times are offered at once: as many as a caller can weigh in one text.
const maxOffered = 3

// Script is the conversation the workflow holds with a caller when no model answers: a state
// machine that collects a service, a time and a name, then asks the workflow to book, or hands the
// caller to a person. It is deterministic, and all its state is in these exported fields so that it
// travels in workflow state as JSON; the zero value is a conversation that has not started.
//
// The workflow calls Next for each of the caller's messages, and acts on the Step it returns:
// sends Reply if it is not empty, and carries out Action if it is not nil. A CheckAvailability
// action is answered with Offer, a BookAppointment action with BookResult; both return the next
// Step in turn. An EscalateToHuman action ends the script: later messages only get a holding reply.
type Script struct {
	Stage ScriptStage
	// Lang is the language of the replies, "en" or "es", following the caller's messages.
	Lang string `json:",omitempty"`
	// Name is the caller's name, once given.
	Name string `json:",omitempty"`
	// Service is the canonical name of the chosen service.
	Service string `json:",omitempty"`
	// Day is a day the caller asked for, at its start in the business's zone; zero if none.
	Day time.Time
	// Part is a part of the day the caller asked for: "morning", "afternoon", "evening" or "".
	Part string `json:",omitempty"`
	// Start is the time the caller asked for, or chose from Offered; zero if none. It is agreed
	// when it is one of Offered, which only ever holds times the workflow reported open.
	Start time.Time
	// Offered are the times last offered, in the order shown.
	Offered []time.Time `json:",omitempty"`
	// Attempts counts the caller's messages in a row that brought no progress.
	Attempts int `json:",omitempty"`
	// Failures counts bookings the workflow could not make.
	Failures int `json:",omitempty"`
	// Reason is why the conversation was escalated, once it was.
	Reason string `json:",omitempty"`
}

// Step is what the workflow should do next: send Reply (unless it is empty) and carry out Action
// (unless it is nil).
type Step struct {
	Reply  string
	Action Call
}

// Next takes one message from the caller. now is the current time and loc the business's zone,
// against which "tomorrow" and "at 3" are read.
func (s *Script) Next(in string, b Business, now time.Time, loc *time.Location) Step {
	if loc == nil {
		loc = time.UTC
	}
	in = clip(in, maxScanBytes)
	s.Lang = language(in, s.Lang)
	for i := range s.Offered {
		s.Offered[i] = s.Offered[i].In(loc)
	}
	esc := DetectEscalation(in)
	switch {
	case esc.Kind == Emergency && s.Reason != ReasonEmergency:
		// An emergency outranks every other state, even an earlier escalation for another reason.
		return s.escalate(b, loc, ReasonEmergency, "The caller describes an emergency ("+esc.Phrase+").")
	case s.Stage == StageEscalated:
		return Step{Reply: s.say(b, loc, msgHolding)}
	case esc.Kind == Person:
		return s.escalate(b, loc, ReasonCallerRequest, "The caller asked for a person.")
	case s.Stage == StageBooked:
		if agrees(in) || thanks(in) {
			return Step{Reply: s.say(b, loc, msgWelcome)}
		}
		return s.escalate(b, loc, ReasonOther, "The caller wrote again after booking.")
	case s.Stage == StageBooking:
		return Step{Reply: s.say(b, loc, msgConfirming)}
	}
	if len(b.services()) == 0 {
		return s.escalate(b, loc, ReasonOther, "The business lists no services to book.")
	}
	if s.absorb(in, b, now, loc) {
		s.Attempts = 0
	} else if s.Stage != StageStart {
		// A first message that says nothing useful ("hi") answered no question, so it is not a
		// failure to answer one.
		s.Attempts++
		if s.Attempts >= MaxStalls {
			return s.escalate(b, loc, ReasonNoProgress, fmt.Sprintf("%d messages in a row brought the booking no further.", s.Attempts))
		}
		if step, ok := s.reask(b, loc); ok {
			return step
		}
	}
	return s.advance(b, loc)
}

// absorb reads what the message says about the service, the time and the name, and reports
// whether it moved the booking on.
func (s *Script) absorb(in string, b Business, now time.Time, loc *time.Location) bool {
	progress := false
	services := b.services()

	// A bare number answers the last numbered list.
	if s.Stage == StageService {
		if k, ok := choice(in, len(services)); ok {
			progress = s.setService(services[k-1].Name) || progress
			return progress
		}
	}
	if s.Stage == StageTime && len(s.Offered) > 0 {
		if k, ok := choice(in, len(s.Offered)); ok {
			s.Start = s.Offered[k-1]
			return true
		}
		if len(s.Offered) == 1 && agrees(in) {
			s.Start = s.Offered[0]
			return true
		}
		if refusesAll(in) {
			s.Offered, s.Start, s.Day, s.Part = nil, time.Time{}, time.Time{}, ""
			return true
		}
	}
	if s.Stage == StageTime && len(s.Offered) == 0 && anyTime(in) {
		// Asked for a day, the caller has none in mind: look for the next openings.
		s.Start, s.Day, s.Part = time.Time{}, time.Time{}, ""
		s.Stage = StageChecking
		return true
	}

	if sv, ok, _ := findServiceIn(in, b, s.Stage == StageService); ok {
		progress = s.setService(sv.Name) || progress
	}
	if n := findName(in, s.Stage == StageName, serviceWords(b)); n != "" && n != s.Name {
		s.Name = n
		progress = true
	}

	w := parseWhen(in, now, loc)
	if !w.empty() {
		progress = s.setWhen(w, now, loc) || progress
	}
	return progress
}

func (s *Script) setService(name string) bool {
	if name == s.Service {
		return false
	}
	s.Service = name
	// Openings differ by service; what was offered for another no longer stands.
	s.Offered = nil
	return true
}

// setWhen records the time the caller asked for. Against times already offered it picks the one
// meant ("the 2pm one"), or narrows the list ("Tuesday"); otherwise it becomes a new request.
func (s *Script) setWhen(w when, now time.Time, loc *time.Location) bool {
	if s.Stage == StageTime && len(s.Offered) > 0 {
		ref := w
		if ref.day.IsZero() && ref.hasTime {
			// "3pm" against Tuesday's times means Tuesday at 3pm.
			ref.day = dayOf(s.Offered[0], loc)
		}
		var fit []time.Time
		for _, t := range s.Offered {
			if w.fits(t) {
				fit = append(fit, t)
			}
		}
		switch {
		case len(fit) == 1:
			s.Start = fit[0]
			return true
		case len(fit) > 1 && len(fit) < len(s.Offered):
			s.Offered = fit
			return true
		}
		w = ref
	}
	before := fmt.Sprint(s.Day, s.Start, s.Part)
	s.Part = [...]string{"", "morning", "afternoon", "evening"}[w.part]
	switch {
	case !w.day.IsZero() && w.hasTime:
		s.Day = w.day
		s.Start, _ = w.at(loc)
	case !w.day.IsZero():
		s.Day, s.Start = w.day, time.Time{}
	case w.hasTime:
		day := s.Day
		if day.IsZero() {
			day = dayOf(now, loc)
			if t, _ := (when{day: day, hasTime: true, hour: w.hour, minute: w.minute}).at(loc); !t.After(now) {
				y, m, d := day.Date()
				day = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
			}
		}
		s.Day = day
		s.Start, _ = (when{day: day, hasTime: true, hour: w.hour, minute: w.minute}).at(loc)
	}
	if fmt.Sprint(s.Day, s.Start, s.Part) == before {
		return false
	}
	s.Offered = nil
	return true
}

func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// agreed reports whether Start is a time the workflow reported open.
func (s *Script) agreed() bool {
	return !s.Start.IsZero() && slices.ContainsFunc(s.Offered, s.Start.Equal)
}

// advance asks for whatever the booking still lacks, in the order service, time, name.
func (s *Script) advance(b Business, loc *time.Location) Step {
	services := b.services()
	if s.Service == "" && len(services) == 1 {
		s.Service = services[0].Name
	}
	switch {
	case s.Service == "":
		s.Stage = StageService
		return Step{Reply: s.say(b, loc, msgAskService)}
	case s.agreed() && s.Name == "":
		s.Stage = StageName
		return Step{Reply: s.say(b, loc, msgAskName)}
	case s.agreed():
		s.Stage = StageBooking
		return Step{Action: BookAppointment{Service: s.Service, Start: s.Start, Name: s.Name}}
	case len(s.Offered) > 0:
		s.Stage = StageTime
		return Step{Reply: s.say(b, loc, msgWhichTime)}
	case s.Stage == StageTime && s.Day.IsZero() && s.Start.IsZero():
		return Step{Reply: s.say(b, loc, msgAskDay)}
	}
	s.Stage = StageChecking
	date := s.Day
	if !s.Start.IsZero() {
		date = dayOf(s.Start, loc)
	}
	return Step{Action: CheckAvailability{Service: s.Service, Date: date}}
}

// reask repeats the question for the stage after a message that did not answer it.
func (s *Script) reask(b Business, loc *time.Location) (Step, bool) {
	switch s.Stage {
	case StageService:
		return Step{Reply: s.say(b, loc, msgSorry, msgAskService)}, true
	case StageTime:
		if len(s.Offered) > 0 {
			return Step{Reply: s.say(b, loc, msgSorry, msgWhichTime)}, true
		}
		return Step{Reply: s.say(b, loc, msgSorry, msgAskDay)}, true
	case StageName:
		return Step{Reply: s.say(b, loc, msgSorryName)}, true
	}
	return Step{}, false
}

// Offer reports the open times the workflow found for the last CheckAvailability action. slots
// should be in the business's zone (times that went through JSON keep their offset, which is all
// that is needed); their order does not matter.
func (s *Script) Offer(slots []time.Time) Step {
	slots = sortedUnique(slots)
	if s.Stage == StageEscalated || s.Stage == StageBooked {
		return Step{}
	}
	if !s.Start.IsZero() {
		if i := slices.IndexFunc(slots, s.Start.Equal); i >= 0 {
			s.Start = slots[i]
			s.Offered = []time.Time{s.Start}
			if s.Name == "" {
				s.Stage = StageName
				return Step{Reply: s.say(Business{}, nil, msgOpenAskName)}
			}
			s.Stage = StageBooking
			return Step{Action: BookAppointment{Service: s.Service, Start: s.Start, Name: s.Name}}
		}
	}
	s.Stage = StageTime
	if len(slots) == 0 {
		switch {
		case !s.Start.IsZero() || !s.Day.IsZero():
			reply := s.say(Business{}, nil, msgNoneThatDay)
			s.Day, s.Start, s.Part, s.Offered = time.Time{}, time.Time{}, "", nil
			return Step{Reply: reply}
		default:
			return s.escalate(Business{}, nil, ReasonNoAvailability, "No openings were found for "+s.Service+".")
		}
	}
	var pick []time.Time
	if !s.Start.IsZero() {
		pick = nearest(slots, s.Start, maxOffered)
	} else {
		w := when{part: map[string]dayPart{"morning": morning, "afternoon": afternoon, "evening": evening}[s.Part]}
		for _, t := range slots {
			if w.fits(t) && len(pick) < maxOffered {
				pick = append(pick, t)
			}
		}
		if len(pick) == 0 {
			pick = slots[:min(maxOffered, len(slots))]
		}
	}
	s.Offered = pick
	if !s.Start.IsZero() {
		reply := s.say(Business{}, nil, msgTaken, msgWhichTime)
		s.Start = time.Time{}
		return Step{Reply: reply}
	}
	return Step{Reply: s.say(Business{}, nil, msgWhichTime)}
}

// BookResult reports the outcome of the last BookAppointment action. reason says why a booking
// failed, for the staff member who may take over; it is never shown to the caller. alternatives
// are other open times the workflow found, if any.
func (s *Script) BookResult(ok bool, reason string, alternatives []time.Time) Step {
	if s.Stage == StageEscalated || s.Stage == StageBooked {
		return Step{}
	}
	if ok {
		s.Stage = StageBooked
		s.Offered = []time.Time{s.Start}
		return Step{Reply: s.say(Business{}, nil, msgBooked)}
	}
	s.Failures++
	alternatives = sortedUnique(alternatives)
	if s.Failures >= 2 || len(alternatives) == 0 {
		summary := "The booking could not be made"
		if r := oneLine(reason, 100); r != "" {
			summary += " (" + r + ")"
		}
		return s.escalate(Business{}, nil, ReasonBookingFailed, summary+".")
	}
	s.Start = time.Time{}
	s.Offered = alternatives[:min(maxOffered, len(alternatives))]
	s.Stage = StageTime
	return Step{Reply: s.say(Business{}, nil, msgJustTaken, msgWhichTime)}
}

func sortedUnique(ts []time.Time) []time.Time {
	out := slices.Clone(ts)
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// nearest returns the n times closest to want, in time order.
func nearest(slots []time.Time, want time.Time, n int) []time.Time {
	byDistance := slices.Clone(slots)
	slices.SortStableFunc(byDistance, func(a, b time.Time) int {
		da, db := a.Sub(want).Abs(), b.Sub(want).Abs()
		return cmp.Compare(da, db)
	})
	pick := byDistance[:min(n, len(byDistance))]
	slices.SortFunc(pick, func(a, b time.Time) int { return a.Compare(b) })
	return pick
}

func (s *Script) escalate(b Business, loc *time.Location, reason, summary string) Step {
	s.Stage = StageEscalated
	s.Reason = reason
	if sv := oneLine(s.Service, maxServiceNameLen); sv != "" {
		summary += " Service: " + sv + "."
	}
	msg := msgHandOff
	switch reason {
	case ReasonEmergency:
		msg = msgEmergency
	case ReasonCallerRequest:
		msg = msgPerson
	}
	return Step{
		Reply:  s.say(b, loc, msg),
		Action: EscalateToHuman{Reason: reason, Summary: "Scripted flow: " + oneLine(summary, MaxSummaryLen-len("Scripted flow: "))},
	}
}

// thanks reports a short thank-you or sign-off.
func thanks(in string) bool {
	ws := words(fold(in))
	if len(ws) == 0 || len(ws) > 6 {
		return false
	}
	for _, w := range ws {
		if !set("thanks thank you thx ty great perfect ok okay see you then bye cool awesome gracias nos vemos adios muchas perfecto")[w] {
			return false
		}
	}
	return true
}

// slotText says a time as a caller reads it, in its own zone: "Tue Nov 24 at 3 PM".
func slotText(t time.Time, lang string) string {
	if lang == "es" {
		days := [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
		mons := [...]string{"", "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"}
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		mer := "am"
		if t.Hour() >= 12 {
			mer = "pm"
		}
		return fmt.Sprintf("%s %d %s a las %d:%02d %s", days[t.Weekday()], t.Day(), mons[t.Month()], h, t.Minute(), mer)
	}
	if t.Minute() == 0 {
		return t.Format("Mon Jan 2 at 3 PM")
	}
	return t.Format("Mon Jan 2 at 3:04 PM")
}

func dayText(t time.Time, lang string) string {
	if lang == "es" {
		s := slotText(t, lang)
		return s[:strings.Index(s, " a las ")]
	}
	return t.Format("Mon Jan 2")
}
