package tenantspec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/schedule"
)

// Profile is what a business owner configures for its conversations: what it offers, when it is
// open, how the assistant should sound and when a person takes over. It holds no caller data.
//
// Normalize checks values only. Unknown or misspelt fields ("monday" for "mon") are the JSON
// decoder's job: decode profiles with json.Decoder.DisallowUnknownFields, so a typo is an error
// rather than a day the business silently loses.
type Profile struct {
	Services []Service `json:"services"`
	Hours    Hours     `json:"hours"`
	Closures []Closure `json:"closures,omitempty"`
	// Tone tells the assistant how to sound, e.g. "friendly and brief".
	Tone string `json:"tone,omitempty"`
	// BackupPhone is texted when an escalation is not acknowledged in time; empty for none.
	BackupPhone string `json:"backup_phone,omitempty"`
	// EscalationTimeoutMinutes is how long an escalation waits for the owner before the backup
	// phone is tried.
	EscalationTimeoutMinutes int `json:"escalation_timeout_minutes"`
	// FollowUpAfterMinutes is how long the caller may stay silent before one follow-up text.
	FollowUpAfterMinutes int `json:"follow_up_after_minutes"`
	// SlotStepMinutes is the spacing of appointment starts from each opening.
	SlotStepMinutes int `json:"slot_step_minutes"`
	// BookingHorizonDays is how many days ahead appointments can be booked.
	BookingHorizonDays int `json:"booking_horizon_days"`
	// MinNoticeMinutes is how long before its start an appointment must be booked.
	MinNoticeMinutes int `json:"min_notice_minutes"`
	// TextingWindow narrows the hours automated texts may reach callers, in each caller's own
	// time, e.g. "09:00-20:00". Empty means the legal window (08:00–21:00, stricter by state);
	// the legal window always applies on top, so this can narrow it and never widen it.
	TextingWindow string `json:"texting_window,omitempty"`
	// MessageRetentionDays is how long the text of messages is kept; older bodies are blanked
	// by the daily retention sweep, while the messages' dates and directions stay for the
	// owner's history and usage counts.
	MessageRetentionDays int `json:"message_retention_days"`
}

// Service is one thing a caller can book.
type Service struct {
	Name    string `json:"name"`
	Minutes int    `json:"minutes"`
	// PriceCents is the price in cents; 0 means the assistant says the price is given on request.
	PriceCents  int    `json:"price_cents"`
	Description string `json:"description,omitempty"`
}

// Hours holds the weekly opening intervals in the tenant's zone, as "09:00-17:00" strings; a
// day without intervals is closed. Intervals cannot cross midnight (use "22:00-24:00" and
// "00:00-02:00" on the next day).
//
//	{"mon": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-14:00"]}
type Hours struct {
	Mon []string `json:"mon,omitempty"`
	Tue []string `json:"tue,omitempty"`
	Wed []string `json:"wed,omitempty"`
	Thu []string `json:"thu,omitempty"`
	Fri []string `json:"fri,omitempty"`
	Sat []string `json:"sat,omitempty"`
	Sun []string `json:"sun,omitempty"`
}

// Closure is a date on which the business is shut, in the tenant's zone.
type Closure struct {
	Date   string `json:"date"` // 2026-12-25
	Reason string `json:"reason,omitempty"`
}

// Profile defaults and limits.
const (
	DefaultEscalationTimeoutMinutes = 15
	DefaultFollowUpAfterMinutes     = 120
	DefaultSlotStepMinutes          = 30
	DefaultBookingHorizonDays       = 14
	DefaultMinNoticeMinutes         = int(schedule.DefaultNotice / time.Minute)
	DefaultMessageRetentionDays     = 365

	MaxServices           = 30
	MaxServiceNameLen     = 80
	MaxServiceDescLen     = 200
	MinServiceMinutes     = 5
	MaxServiceMinutes     = 480
	MaxPriceCents         = 100_000_000
	MaxToneLen            = 200
	MaxClosures           = 366
	MaxClosureReasonLen   = 100
	MaxIntervalsPerDay    = 6
	MaxEscalationTimeout  = 24 * 60
	MaxFollowUpAfter      = 48 * 60
	MinFollowUpAfter      = 5
	MinSlotStepMinutes    = 5
	MaxSlotStepMinutes    = 240
	MaxBookingHorizonDays = 90
	MaxMinNoticeMinutes   = 7 * 24 * 60
	MinMessageRetention   = 1
	MaxMessageRetention   = 10 * 366
)

// DefaultProfile is what a new tenant starts with: one 30-minute appointment, weekdays 09:00 to
// 17:00. It is already normalized.
func DefaultProfile() Profile {
	weekday := func() []string { return []string{"09:00-17:00"} }
	return Profile{
		Services:                 []Service{{Name: "Appointment", Minutes: 30}},
		Hours:                    Hours{Mon: weekday(), Tue: weekday(), Wed: weekday(), Thu: weekday(), Fri: weekday()},
		Tone:                     "friendly and brief",
		EscalationTimeoutMinutes: DefaultEscalationTimeoutMinutes,
		FollowUpAfterMinutes:     DefaultFollowUpAfterMinutes,
		SlotStepMinutes:          DefaultSlotStepMinutes,
		BookingHorizonDays:       DefaultBookingHorizonDays,
		MinNoticeMinutes:         DefaultMinNoticeMinutes,
		MessageRetentionDays:     DefaultMessageRetentionDays,
	}
}

// weekdays pairs each JSON day with its time.Weekday, Monday first as owners write them.
var weekdays = []struct {
	name string
	day  time.Weekday
	get  func(*Hours) *[]string
}{
	{"mon", time.Monday, func(h *Hours) *[]string { return &h.Mon }},
	{"tue", time.Tuesday, func(h *Hours) *[]string { return &h.Tue }},
	{"wed", time.Wednesday, func(h *Hours) *[]string { return &h.Wed }},
	{"thu", time.Thursday, func(h *Hours) *[]string { return &h.Thu }},
	{"fri", time.Friday, func(h *Hours) *[]string { return &h.Fri }},
	{"sat", time.Saturday, func(h *Hours) *[]string { return &h.Sat }},
	{"sun", time.Sunday, func(h *Hours) *[]string { return &h.Sun }},
}

// Normalize validates p and returns it with defaults filled in, text trimmed, intervals written
// as "HH:MM-HH:MM" in order and closures sorted by date. All problems are reported at once, as a
// *ValidationError, so an owner can fix them in one go; the text never repeats the backup phone.
func (p Profile) Normalize() (Profile, error) {
	var errs []error
	problem := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	out := Profile{
		Tone:                     strings.TrimSpace(p.Tone),
		EscalationTimeoutMinutes: orDefault(p.EscalationTimeoutMinutes, DefaultEscalationTimeoutMinutes),
		FollowUpAfterMinutes:     orDefault(p.FollowUpAfterMinutes, DefaultFollowUpAfterMinutes),
		SlotStepMinutes:          orDefault(p.SlotStepMinutes, DefaultSlotStepMinutes),
		BookingHorizonDays:       orDefault(p.BookingHorizonDays, DefaultBookingHorizonDays),
		MinNoticeMinutes:         orDefault(p.MinNoticeMinutes, DefaultMinNoticeMinutes),
		MessageRetentionDays:     orDefault(p.MessageRetentionDays, DefaultMessageRetentionDays),
	}
	if w := strings.TrimSpace(p.TextingWindow); w != "" {
		sp, err := schedule.ParseSpan(w)
		if err != nil {
			problem("texting_window: %v", err)
		} else {
			out.TextingWindow = sp.String()
		}
	}

	// Services.
	switch {
	case len(p.Services) == 0:
		problem("services: at least one service is required")
	case len(p.Services) > MaxServices:
		problem("services: %d listed, the limit is %d", len(p.Services), MaxServices)
	}
	for i, s := range p.Services {
		s.Name = strings.TrimSpace(s.Name)
		s.Description = strings.TrimSpace(s.Description)
		if err := singleLine(s.Name, MaxServiceNameLen, true); err != nil {
			problem("services[%d].name: %w", i, err)
		} else if first := slices.IndexFunc(out.Services, func(o Service) bool { return strings.EqualFold(o.Name, s.Name) }); first >= 0 {
			// Compared as Service looks names up, so every name finds exactly one service.
			problem("services[%d].name: %q is already services[%d] (names are compared ignoring case)", i, s.Name, first)
		}
		if s.Minutes < MinServiceMinutes || s.Minutes > MaxServiceMinutes {
			problem("services[%d].minutes: %d, must be %d to %d", i, s.Minutes, MinServiceMinutes, MaxServiceMinutes)
		}
		if s.PriceCents < 0 || s.PriceCents > MaxPriceCents {
			problem("services[%d].price_cents: %d, must be 0 (price on request) to %d", i, s.PriceCents, MaxPriceCents)
		}
		if err := singleLine(s.Description, MaxServiceDescLen, false); err != nil {
			problem("services[%d].description: %w", i, err)
		}
		out.Services = append(out.Services, s)
	}

	// Hours.
	longest := schedule.Clock(0)
	hoursOK := true
	for _, wd := range weekdays {
		raw := *wd.get(&p.Hours)
		if len(raw) > MaxIntervalsPerDay {
			problem("hours.%s: %d intervals, the limit is %d", wd.name, len(raw), MaxIntervalsPerDay)
			hoursOK = false
			continue
		}
		var spans []schedule.Span
		for i, r := range raw {
			sp, err := schedule.ParseSpan(strings.TrimSpace(r))
			if err != nil {
				problem("hours.%s[%d]: %w", wd.name, i, err)
				hoursOK = false
				continue
			}
			spans = append(spans, sp)
		}
		if err := schedule.ValidateDay(spans); err != nil {
			problem("hours.%s: %w", wd.name, err)
			hoursOK = false
		}
		slices.SortFunc(spans, func(a, b schedule.Span) int { return int(a.Open - b.Open) })
		var day []string
		for _, sp := range spans {
			day = append(day, sp.String())
			longest = max(longest, sp.Close-sp.Open)
		}
		*wd.get(&out.Hours) = day
	}
	if hoursOK && longest == 0 {
		problem("hours: the business is never open, so nothing could be booked; give at least one day's hours")
	}
	if hoursOK && longest > 0 {
		for i, s := range out.Services {
			if s.Minutes > int(longest) {
				problem("services[%d].minutes: %d is longer than the longest opening interval (%d minutes)", i, s.Minutes, longest)
			}
		}
	}

	// Closures.
	if len(p.Closures) > MaxClosures {
		problem("closures: %d listed, the limit is %d", len(p.Closures), MaxClosures)
	}
	dates := map[schedule.Date]int{}
	for i, c := range p.Closures {
		c.Reason = strings.TrimSpace(c.Reason)
		d, err := schedule.ParseDate(strings.TrimSpace(c.Date))
		if err != nil {
			problem("closures[%d].date: %w", i, err)
		} else if first, dup := dates[d]; dup {
			problem("closures[%d].date: %s is already closures[%d]", i, d, first)
		} else {
			dates[d] = i
			c.Date = d.String()
		}
		if err := singleLine(c.Reason, MaxClosureReasonLen, false); err != nil {
			problem("closures[%d].reason: %w", i, err)
		}
		out.Closures = append(out.Closures, c)
	}
	slices.SortStableFunc(out.Closures, func(a, b Closure) int { return strings.Compare(a.Date, b.Date) })

	if err := singleLine(out.Tone, MaxToneLen, false); err != nil {
		problem("tone: %w", err)
	}
	if strings.TrimSpace(p.BackupPhone) != "" {
		e164, err := phone.Normalize(p.BackupPhone)
		if err != nil {
			problem("backup_phone: %w", err)
		}
		out.BackupPhone = e164
	}
	inRange := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			problem("%s: %d, must be %d to %d", field, v, lo, hi)
		}
	}
	inRange("escalation_timeout_minutes", out.EscalationTimeoutMinutes, 1, MaxEscalationTimeout)
	inRange("follow_up_after_minutes", out.FollowUpAfterMinutes, MinFollowUpAfter, MaxFollowUpAfter)
	inRange("slot_step_minutes", out.SlotStepMinutes, MinSlotStepMinutes, MaxSlotStepMinutes)
	inRange("booking_horizon_days", out.BookingHorizonDays, 1, MaxBookingHorizonDays)
	inRange("min_notice_minutes", out.MinNoticeMinutes, 1, MaxMinNoticeMinutes)
	inRange("message_retention_days", out.MessageRetentionDays, MinMessageRetention, MaxMessageRetention)

	if len(errs) > 0 {
		return Profile{}, &ValidationError{Problems: errs}
	}
	return out, nil
}

// orDefault fills a field left out of the JSON. An explicit 0 is indistinguishable and gets the
// default too, which is why every such field's valid range starts above 0.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// singleLine checks free text that ends up in a prompt or a text message.
func singleLine(s string, maxLen int, required bool) error {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case n == 0 && required:
		return errors.New("required")
	case n > maxLen:
		return fmt.Errorf("%d characters, the limit is %d", n, maxLen)
	case strings.ContainsAny(s, "\r\n\t\v\f\u2028\u2029"):
		return errors.New("must be a single line")
	}
	return nil
}

// Calendar turns the profile into the bookable calendar of a business in loc. The profile must
// be normalized; anything else is reported as an error rather than guessed at.
func (p Profile) Calendar(loc *time.Location) (schedule.Calendar, error) {
	c := schedule.Calendar{
		Location:    loc,
		Closed:      map[schedule.Date]string{},
		Step:        time.Duration(p.SlotStepMinutes) * time.Minute,
		Notice:      time.Duration(p.MinNoticeMinutes) * time.Minute,
		HorizonDays: p.BookingHorizonDays,
	}
	h := p.Hours
	for _, wd := range weekdays {
		for _, r := range *wd.get(&h) {
			sp, err := schedule.ParseSpan(r)
			if err != nil {
				return schedule.Calendar{}, fmt.Errorf("profile hours.%s: %w", wd.name, err)
			}
			c.Hours[wd.day] = append(c.Hours[wd.day], sp)
		}
	}
	for _, cl := range p.Closures {
		d, err := schedule.ParseDate(cl.Date)
		if err != nil {
			return schedule.Calendar{}, fmt.Errorf("profile closures: %w", err)
		}
		c.Closed[d] = cl.Reason
	}
	return c, nil
}

// Service returns the service with this name, ignoring case and surrounding space.
func (p Profile) Service(name string) (Service, bool) {
	name = strings.TrimSpace(name)
	for _, s := range p.Services {
		if strings.EqualFold(s.Name, name) {
			return s, true
		}
	}
	return Service{}, false
}

// EscalationTimeout is EscalationTimeoutMinutes as a duration.
func (p Profile) EscalationTimeout() time.Duration {
	return time.Duration(p.EscalationTimeoutMinutes) * time.Minute
}

// FollowUpAfter is FollowUpAfterMinutes as a duration.
func (p Profile) FollowUpAfter() time.Duration {
	return time.Duration(p.FollowUpAfterMinutes) * time.Minute
}
