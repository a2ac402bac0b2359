package agent

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// when is the day and time of day a caller asked for in free text, as far as they said.
type when struct {
	// day is the start of the named day in the business's zone; zero when no day was named.
	day time.Time
	// hasTime reports that a time of day was named; hour and minute are on a 24-hour clock.
	hasTime      bool
	hour, minute int
	// part is a part of the day named without an hour ("tomorrow morning").
	part dayPart
}

type dayPart int

const (
	anyPart dayPart = iota
	morning
	afternoon
	evening
)

// at returns the instant the caller named, when they named both a day and a time.
func (w when) at(loc *time.Location) (time.Time, bool) {
	if w.day.IsZero() || !w.hasTime {
		return time.Time{}, false
	}
	y, m, d := w.day.Date()
	return time.Date(y, m, d, w.hour, w.minute, 0, 0, loc), true
}

func (w when) empty() bool { return w.day.IsZero() && !w.hasTime && w.part == anyPart }

// fits reports whether t, in its own zone, matches the time of day and part of day w names.
func (w when) fits(t time.Time) bool {
	if !w.day.IsZero() {
		y, m, d := w.day.Date()
		if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
			return false
		}
	}
	if w.hasTime && (t.Hour() != w.hour || t.Minute() != w.minute) {
		return false
	}
	switch w.part {
	case morning:
		return t.Hour() < 12
	case afternoon:
		return t.Hour() >= 12 && t.Hour() < 17
	case evening:
		return t.Hour() >= 17
	}
	return true
}

var (
	meridiem    = `(?:\s*([ap])\.?\s?m\b\.?)?`
	isoDate     = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})(?:t|\b)`)
	slashDate   = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b`)
	phoneLike   = regexp.MustCompile(`\+?\d[\d\s().-]{7,}\d`)
	monthNames  = `(jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)`
	monthDay    = regexp.MustCompile(`\b` + monthNames + `\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b`)
	dayMonth    = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of|\s+de)?\s+` + monthNames + `\b`)
	clockTime   = regexp.MustCompile(`\b(\d{1,2})[:h](\d{2})` + meridiem)
	hourMer     = regexp.MustCompile(`\b(\d{1,2})\s*([ap])\.?\s?m\b\.?|\b(\d{1,2})([ap])\b`)
	hourAfter   = regexp.MustCompile(`(?:\b(?:at|around|by|after|a las|a la|las|para las|tipo|como a las|despues de las)|@)\s*(\d{1,2})\b(?:\s*(?:o ?clock|en punto))?`)
	hourOclock  = regexp.MustCompile(`\b(\d{1,2})\s*o ?clock\b`)
	noon        = regexp.MustCompile(`\b(?:noon|midday|mediodia)\b`)
	dayAfter    = regexp.MustCompile(`\b(?:day after tomorrow|pasado manana)\b`)
	tomorrow    = regexp.MustCompile(`\b(?:tomorrow|tmrw|tmr|tmw|tomorow|tommorow|tommorrow|2morrow|2moro|manana)\b`)
	mananaPart  = regexp.MustCompile(`\b(?:la|esta) manana\b`)
	today       = regexp.MustCompile(`\b(?:today|tonight|hoy|this (?:morning|afternoon|evening)|esta (?:manana|tarde|noche))\b`)
	weekdayName = regexp.MustCompile(`\b(mon|monday|mondays|tue|tues|tuesday|tuesdays|wed|weds|wednesday|wednesdays|thu|thur|thurs|thursday|thursdays|fri|friday|fridays|sat|saturday|saturdays|sun|sunday|sundays|lunes|martes|miercoles|jueves|viernes|sabado|domingo)\b`)
	partMorning = regexp.MustCompile(`\b(?:morning|mornings|(?:la|esta) manana)\b`)
	partAfter   = regexp.MustCompile(`\b(?:afternoon|afternoons|(?:la|esta) tarde)\b`)
	partEvening = regexp.MustCompile(`\b(?:evening|evenings|tonight|(?:la|esta) noche|after work)\b`)
)

var months = map[string]time.Month{
	"jan": 1, "january": 1, "enero": 1, "feb": 2, "february": 2, "febrero": 2, "mar": 3, "march": 3, "marzo": 3,
	"apr": 4, "april": 4, "abril": 4, "may": 5, "mayo": 5, "jun": 6, "june": 6, "junio": 6, "jul": 7, "july": 7,
	"julio": 7, "aug": 8, "august": 8, "agosto": 8, "sep": 9, "sept": 9, "september": 9, "septiembre": 9,
	"setiembre": 9, "oct": 10, "october": 10, "octubre": 10, "nov": 11, "november": 11, "noviembre": 11,
	"dec": 12, "december": 12, "diciembre": 12,
}

var weekdays = map[string]time.Weekday{
	"sun": 0, "sunday": 0, "domingo": 0, "mon": 1, "monday": 1, "lunes": 1, "tue": 2, "tues": 2, "tuesday": 2,
	"martes": 2, "wed": 3, "weds": 3, "wednesday": 3, "miercoles": 3, "thu": 4, "thur": 4, "thurs": 4,
	"thursday": 4, "jueves": 4, "fri": 5, "friday": 5, "viernes": 5, "sat": 6, "saturday": 6, "sabado": 6,
}

// parseWhen reads the day and time a caller asked for, relative to now in loc. It understands
// the forms people text: "tomorrow at 3pm", "Monday 10am", "10:30", "11/24 at 2", "Nov 24",
// "mañana a las 3", "el lunes por la tarde", "noon". Dates are month first, as in the US, unless
// the first number cannot be a month. A date without a year is the next one on or after today. An
// hour without am or pm is read as business hours would have it: 7 to 11 in the morning, 12 to 6
// in the afternoon, unless the caller said "morning" or "evening".
//
// Days are counted on the calendar, never in 24-hour steps, so "tomorrow" on the day the clocks
// change is still tomorrow.
func parseWhen(text string, now time.Time, loc *time.Location) when {
	s := fold(text)
	local := now.In(loc)
	ty, tm, td := local.Date()
	todayStart := time.Date(ty, tm, td, 0, 0, 0, 0, loc)
	var w when
	var y, d int
	var m time.Month
	dateFound := false
	take := func(re *regexp.Regexp) []string {
		m := re.FindStringSubmatchIndex(s)
		if m == nil {
			return nil
		}
		sub := make([]string, len(m)/2)
		for i := range sub {
			if m[2*i] >= 0 {
				sub[i] = s[m[2*i]:m[2*i+1]]
			}
		}
		// Blank the match so its digits are not read again as an hour.
		s = s[:m[0]] + strings.Repeat(" ", m[1]-m[0]) + s[m[1]:]
		return sub
	}
	if sub := take(isoDate); sub != nil {
		y, m, d, dateFound = atoi(sub[1]), time.Month(atoi(sub[2])), atoi(sub[3]), true
	} else if sub := take(slashDate); sub != nil {
		a, b := atoi(sub[1]), atoi(sub[2])
		if a > 12 && b <= 12 {
			a, b = b, a
		}
		m, d, dateFound = time.Month(a), b, true
		if sub[3] != "" {
			y = atoi(sub[3])
			if y < 100 {
				y += 2000
			}
		}
	}
	s = phoneLike.ReplaceAllStringFunc(s, func(p string) string { return strings.Repeat(" ", len(p)) })
	if !dateFound {
		if sub := take(monthDay); sub != nil {
			m, d, dateFound = months[sub[1]], atoi(sub[2]), true
		} else if sub := take(dayMonth); sub != nil {
			m, d, dateFound = months[sub[2]], atoi(sub[1]), true
		}
	}
	if dateFound {
		if y == 0 {
			y = ty
			if t := time.Date(y, m, d, 0, 0, 0, 0, loc); t.Before(todayStart) {
				y++
			}
		}
		if t := time.Date(y, m, d, 0, 0, 0, 0, loc); m >= 1 && m <= 12 && t.Day() == d && t.Month() == m {
			w.day = t
		}
	}

	// Parts of the day first: they decide am or pm for a bare hour, and "por la mañana" must not
	// be read as "tomorrow".
	switch {
	case partEvening.MatchString(s):
		w.part = evening
	case partAfter.MatchString(s):
		w.part = afternoon
	case partMorning.MatchString(s):
		w.part = morning
	}
	relDays := -1
	switch {
	case dayAfter.MatchString(s):
		relDays = 2
		take(dayAfter)
	case tomorrow.MatchString(mananaPart.ReplaceAllString(s, " ")):
		relDays = 1
	case today.MatchString(s):
		relDays = 0
	}
	weekday := time.Weekday(-1)
	if sub := weekdayName.FindStringSubmatch(s); sub != nil {
		if wd, ok := weekdays[sub[1]]; ok {
			weekday = wd
		} else {
			weekday = weekdays[strings.TrimSuffix(sub[1], "s")] // "mondays"
		}
	}

	if sub := take(clockTime); sub != nil {
		w.setTime(atoi(sub[1]), atoi(sub[2]), sub[3])
	} else if sub := take(hourMer); sub != nil {
		if sub[1] != "" {
			w.setTime(atoi(sub[1]), 0, sub[2])
		} else {
			w.setTime(atoi(sub[3]), 0, sub[4])
		}
	} else if sub := take(hourOclock); sub != nil {
		w.setTime(atoi(sub[1]), 0, "")
	} else if sub := take(hourAfter); sub != nil {
		w.setTime(atoi(sub[1]), 0, "")
	} else if noon.MatchString(s) {
		w.setTime(12, 0, "")
	}

	if w.day.IsZero() {
		switch {
		case relDays >= 0:
			w.day = time.Date(ty, tm, td+relDays, 0, 0, 0, 0, loc)
		case weekday >= 0:
			ahead := (int(weekday) - int(local.Weekday()) + 7) % 7
			if ahead == 0 && !(w.hasTime && (w.hour > local.Hour() || w.hour == local.Hour() && w.minute > local.Minute())) {
				ahead = 7
			}
			w.day = time.Date(ty, tm, td+ahead, 0, 0, 0, 0, loc)
		}
	}
	return w
}

// setTime records an hour and minute, reading a 12-hour clock from the meridiem ("a" or "p")
// or, without one, from the part of the day and business hours.
func (w *when) setTime(h, min int, mer string) {
	if min > 59 || h > 23 {
		return
	}
	switch {
	case mer == "a" && h >= 1 && h <= 12:
		h %= 12
	case mer == "p" && h >= 1 && h <= 12:
		h = h%12 + 12
	case mer != "":
		return
	case h >= 13 || h == 0:
	case w.part == morning:
		h %= 12
	case w.part == afternoon || w.part == evening:
		h = h%12 + 12
	case h <= 6:
		h += 12
	}
	w.hasTime, w.hour, w.minute = true, h, min
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
