// Package legalclock computes the deadlines of a data-subject request: when its receipt must be
// acknowledged, when the answer is due, how far the one permitted extension moves that, until
// when the extension may still be announced, and when staff are reminded.
//
// The law, per regime:
//
//   - GDPR, Art. 12(3): the answer is due "within one month of receipt of the request". That
//     period may be extended by two further months where necessary; the data subject must be told
//     of the extension, with the reasons, within the first month. Months are counted by
//     Regulation (EEC, Euratom) No 1182/71, Art. 3: the day of receipt is not counted (Art. 3(1))
//     and the period ends with the last hour of the same date in the next month, or of that
//     month's last day when it has no such date (Art. 3(2)(c)). 31 January → 28 (29) February.
//   - CCPA, Cal. Civ. Code § 1798.130(a)(2) and 11 CCR § 7021: confirm receipt no later than 10
//     business days after receiving the request (§ 7021(a)); answer no later than 45 calendar days
//     after receipt, "the 45-day period will begin on the day that the business receives the
//     request" (§ 7021(b)); one extension of up to 45 more days, "for a maximum total of 90
//     calendar days from the day the request is received", with notice and reasons within the
//     first 45 days. Records of requests are kept for at least 24 months (§ 7101(a)).
//
// Every choice left open by the texts is made on the early side, so that a deadline computed
// here is never later than any reasonable reading of the law:
//
//   - CCPA: the day of receipt is day 1 of the 45 (§ 7021(b) says the period begins on it), so the
//     answer is due at the end of the 44th day after the receipt date, and the extended answer at
//     the end of the 89th.
//   - GDPR: Regulation 1182/71 Art. 3(4) moves a period ending on a Saturday, Sunday or public
//     holiday to the next working day, and supervisory authorities repeat it. It is not applied:
//     holidays differ between member states, and the earlier date is always compliant.
//   - GDPR: the two further months run from the end of the first month (due date + 2 months),
//     which is never later than receipt + 3 months (31 January: 28 April, not 30 April).
//   - The extension notice must go out before the day of the first deadline begins. The law
//     allows it "within" the first period; a notice sent on its last day may reach the requester
//     only after the period ended.
//   - Business days skip Saturdays and Sundays but not holidays; see Clock.AckDue.
//
// Dates are civil dates in the compliance team's zone (Clock.Loc): a request received at 22:00
// in Los Angeles on 31 March was received on 31 March, although it was already 1 April in UTC.
// A deadline is the last instant of its day in that zone (23:59:59.999999 local), which is
// correct across daylight-saving changes because the period is counted in dates, not hours.
//
// The package is pure: it never reads the clock; every instant is an argument.
package legalclock

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Regime is the law a request is answered under.
type Regime string

// The regimes. The values are stored (control.dsr_requests.regime) and must not change.
const (
	GDPR Regime = "gdpr"
	CCPA Regime = "ccpa"
)

// ErrUnknownRegime is returned for a regime this package has no deadlines for.
var ErrUnknownRegime = errors.New("unknown legal regime (want gdpr or ccpa)")

// ParseRegime reads a regime name, in any case.
func ParseRegime(s string) (Regime, error) {
	r := Regime(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := periods[r]; !ok {
		return "", ErrUnknownRegime
	}
	return r, nil
}

// Valid reports whether r is a known regime.
func (r Regime) Valid() bool {
	_, ok := periods[r]
	return ok
}

// period gives a regime's last day for the answer, counted from the receipt date, and the last
// day once extended, counted from the first last day.
type period struct {
	answer, extended func(date) date
}

var periods = map[Regime]period{
	GDPR: {
		answer:   func(received date) date { return received.addMonths(1) },
		extended: func(due date) date { return due.addMonths(2) },
	},
	CCPA: {
		// Day 1 is the receipt date, so day 45 is 44 days after it, and day 90 is 45 after day 45.
		answer:   func(received date) date { return received.addDays(44) },
		extended: func(due date) date { return due.addDays(45) },
	},
}

// AckBusinessDays is how many business days after receipt the acknowledgement is due: the CCPA's
// 10 (11 CCR § 7021(a)). The GDPR sets no separate acknowledgement period; the same target is used.
const AckBusinessDays = 10

// ReminderHour is the local hour at which reminders fire.
const ReminderHour = 9

var (
	// ErrExtensionTooLate is returned for an extension whose notice would go out on or after the
	// day of the first deadline.
	ErrExtensionTooLate = errors.New("extension notice is too late: it must go out before the day of the first deadline")
	// ErrAlreadyExtended is returned for a second extension; the law allows one.
	ErrAlreadyExtended = errors.New("the request was already extended once")
)

// Clock holds the facts a request's deadlines follow from. It is a value: Paused and Extend
// return a changed copy. It encodes to JSON with its zone by name, so a workflow can carry it.
type Clock struct {
	Regime Regime
	// Received is when the request reached Ringback.
	Received time.Time
	// Loc is the compliance team's zone, in which dates are counted. nil means UTC.
	Loc *time.Location
	// Held is how long the request has spent on hold in total (see Paused).
	Held time.Duration
	// Extended is whether the one extension was announced in time (see Extend).
	Extended bool
}

// New returns the clock of a request received at received under regime, with dates counted in
// loc.
func New(regime Regime, received time.Time, loc *time.Location) (Clock, error) {
	if !regime.Valid() {
		return Clock{}, ErrUnknownRegime
	}
	if received.IsZero() {
		return Clock{}, errors.New("legal clock: no receipt time")
	}
	if loc == nil {
		return Clock{}, errors.New("legal clock: no time zone")
	}
	return Clock{Regime: regime, Received: received, Loc: loc}, nil
}

func (c Clock) loc() *time.Location {
	if c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

func (c Clock) received() date { return dateOf(c.Received, c.loc()) }

// dueDate is the last day of the first period, before any hold.
func (c Clock) dueDate() (date, bool) {
	p, ok := periods[c.Regime]
	if !ok {
		return date{}, false
	}
	return p.answer(c.received()), true
}

// AckDue is when receipt of the request must have been acknowledged: the end of the 10th business
// day after the receipt date (received on a Friday evening, a Saturday or a Sunday: the Friday
// two weeks on).
//
// Business days skip Saturdays and Sundays only. Holidays are counted as business days, which can
// only make the acknowledgement due earlier than a count that skips them, never later: the
// CCPA regulations do not define which holidays (federal, California state) would be skipped,
// and an early acknowledgement is harmless while a late one is a breach. A holiday table would
// have to be maintained every year for no gain in compliance.
//
// A hold does not move AckDue: it stops the clock on the answer, not on telling the requester
// that their request arrived.
func (c Clock) AckDue() time.Time {
	return c.received().addBusinessDays(AckBusinessDays).end(c.loc())
}

// Due is when the answer is due without an extension: the end of the period's last day, moved
// later by the time held. It is the zero Time for an unknown regime.
func (c Clock) Due() time.Time {
	d, ok := c.dueDate()
	if !ok {
		return time.Time{}
	}
	return d.end(c.loc()).Add(c.Held)
}

// ExtendedDue is when the answer is due if the one extension is taken, moved later by the time
// held. It is the zero Time for an unknown regime.
func (c Clock) ExtendedDue() time.Time {
	d, ok := c.dueDate()
	if !ok {
		return time.Time{}
	}
	return periods[c.Regime].extended(d).end(c.loc()).Add(c.Held)
}

// Deadline is the deadline in force: ExtendedDue once extended, Due before.
func (c Clock) Deadline() time.Time {
	if c.Extended {
		return c.ExtendedDue()
	}
	return c.Due()
}

// ExtensionNoticeBy is the instant by which an extension notice must have gone out: the start of
// the day of the first deadline (moved by the time held). A notice on that day is too late.
func (c Clock) ExtensionNoticeBy() time.Time {
	d, ok := c.dueDate()
	if !ok {
		return time.Time{}
	}
	return d.start(c.loc()).Add(c.Held)
}

// CanExtend reports whether an extension notice sent at at would be in time: the request is not
// extended yet and at is strictly before ExtensionNoticeBy.
func (c Clock) CanExtend(at time.Time) bool {
	if c.Extended || !c.Regime.Valid() {
		return false
	}
	return at.Before(c.ExtensionNoticeBy())
}

// Extend records that the extension notice went out at noticeAt and returns the extended clock.
func (c Clock) Extend(noticeAt time.Time) (Clock, error) {
	switch {
	case !c.Regime.Valid():
		return c, ErrUnknownRegime
	case c.Extended:
		return c, ErrAlreadyExtended
	case !c.CanExtend(noticeAt):
		return c, ErrExtensionTooLate
	}
	c.Extended = true
	return c, nil
}

// Paused returns the clock after a hold of d: every answer deadline (Due, ExtendedDue, the
// extension notice limit, and the reminders that follow them) moves d later; AckDue does not.
//
// A hold is an internal pause of the request's workflow, for a litigation hold on the data or an
// unresolved dispute over the requester's identity. The regimes themselves know no pause: whether
// a hold justifies the later date is a legal judgement made by whoever places it, and the audit
// log records it. A non-positive d changes nothing.
func (c Clock) Paused(d time.Duration) Clock {
	if d > 0 {
		c.Held += d
	}
	return c
}

// ReminderKind says who a reminder is for.
type ReminderKind string

// Reminder kinds.
const (
	// Remind tells the staff working on the request that its deadline is near.
	Remind ReminderKind = "reminder"
	// Escalate tells the compliance contact that the deadline is about to be breached.
	Escalate ReminderKind = "escalation"
)

// Reminder is one warning before the deadline in force.
type Reminder struct {
	Kind ReminderKind
	// DaysBefore is how many calendar days before the deadline's date it fires.
	DaysBefore int
	// At is ReminderHour on that day, in the clock's zone.
	At time.Time
}

// reminderPlan lists the reminders, earliest first.
var reminderPlan = []struct {
	kind ReminderKind
	days int
}{
	{Remind, 7},
	{Remind, 2},
	{Escalate, 1},
}

// Reminders returns the warnings for the deadline in force (Deadline): reminders 7 and 2 days
// before its date and an escalation to the compliance contact 1 day before, each at ReminderHour
// local time, earliest first. A reminder that would fall before the request was received is left
// out. An extension or a hold gives a new set; the caller replaces the old one.
func (c Clock) Reminders() []Reminder {
	deadline := c.Deadline()
	if deadline.IsZero() {
		return nil
	}
	day := dateOf(deadline, c.loc())
	out := make([]Reminder, 0, len(reminderPlan))
	for _, p := range reminderPlan {
		at := day.addDays(-p.days).at(ReminderHour, c.loc())
		if at.Before(c.Received) {
			continue
		}
		out = append(out, Reminder{Kind: p.kind, DaysBefore: p.days, At: at})
	}
	return out
}

// String describes the clock for logs: regime and deadlines, no personal data.
func (c Clock) String() string {
	return fmt.Sprintf("%s received %s ack %s due %s extended %t held %s",
		c.Regime, c.Received.Format(time.RFC3339), c.AckDue().Format(time.RFC3339),
		c.Deadline().Format(time.RFC3339), c.Extended, c.Held)
}

// clockJSON is a Clock as JSON: the zone by its IANA name, so that a clock carried in a
// workflow's state comes back counting dates in the same zone.
type clockJSON struct {
	Regime   Regime        `json:"regime"`
	Received time.Time     `json:"received"`
	Zone     string        `json:"zone"`
	Held     time.Duration `json:"held_ns"`
	Extended bool          `json:"extended"`
}

// MarshalJSON encodes the clock with its zone's name. A clock in time.Local is refused: "Local"
// names a different zone on each machine that decodes it.
func (c Clock) MarshalJSON() ([]byte, error) {
	zone := c.loc().String()
	if c.loc() == time.Local {
		return nil, errors.New("legal clock: the zone must be a named IANA zone, not Local")
	}
	return json.Marshal(clockJSON{Regime: c.Regime, Received: c.Received, Zone: zone, Held: c.Held, Extended: c.Extended})
}

// UnmarshalJSON decodes a clock and loads its zone.
func (c *Clock) UnmarshalJSON(b []byte) error {
	var j clockJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.Zone == "Local" {
		return errors.New("legal clock: the zone must be a named IANA zone, not Local")
	}
	loc, err := time.LoadLocation(j.Zone)
	if err != nil {
		return fmt.Errorf("legal clock: zone: %w", err)
	}
	*c = Clock{Regime: j.Regime, Received: j.Received, Loc: loc, Held: j.Held, Extended: j.Extended}
	return nil
}
