package schedule_test

import (
	"testing"
	"time"

	"github.com/ringback/ringback/internal/schedule"
)

var fuzzZones = []string{"America/New_York", "UTC", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"}

// FuzzSlots builds a calendar, bookings and a clock from the input and checks what Slots offers
// against the rules directly, without going through Check: every slot lies inside one opening
// interval of its local date, on that interval's grid, outside closures and bookings, after the
// notice period and within the horizon; slots are sorted and distinct; and Check accepts each.
func FuzzSlots(f *testing.F) {
	f.Add(int64(1_772_900_000), uint8(0), uint8(30), uint8(60), uint8(3), uint16(60), []byte{9 * 4, 17 * 4, 10 * 4, 14 * 4}, []byte{1, 2, 3, 4})
	f.Add(int64(1_793_400_000), uint8(0), uint8(15), uint8(0), uint8(2), uint16(45), []byte{0, 16, 20, 60}, []byte{9, 9, 200, 1})
	f.Add(int64(1_775_000_000), uint8(3), uint8(7), uint8(5), uint8(9), uint16(30), []byte{1, 95, 2, 3, 40, 41}, []byte{})
	zones := make([]*time.Location, len(fuzzZones))
	for i, name := range fuzzZones {
		zones[i] = load(f, name)
	}
	f.Fuzz(func(t *testing.T, nowUnix int64, zone, stepMin, noticeMin, horizon uint8, lengthMin uint16, hours, busyBytes []byte) {
		loc := zones[int(zone)%len(zones)]
		// Keep now within a few years of the present so zone rules are realistic.
		now := time.Unix(1_750_000_000+nowUnix%200_000_000, 0).UTC()
		c := schedule.Calendar{
			Location:    loc,
			Step:        time.Duration(stepMin%120+1) * time.Minute,
			Notice:      time.Duration(noticeMin) * time.Minute,
			HorizonDays: int(horizon % 21),
			Closed:      map[schedule.Date]string{},
		}
		length := time.Duration(lengthMin%600+1) * time.Minute
		// Hours: byte pairs are quarter-hours; each weekday takes the pairs that keep it valid.
		for i := 0; i+1 < len(hours); i += 2 {
			open, close := schedule.Clock(int(hours[i])%97*15), schedule.Clock(int(hours[i+1])%97*15)
			if open >= close || close > schedule.EndOfDay {
				continue
			}
			wd := (i / 2) % 7
			day := append(append([]schedule.Span(nil), c.Hours[wd]...), schedule.Span{Open: open, Close: close})
			if schedule.ValidateDay(day) == nil {
				c.Hours[wd] = day
			}
		}
		today := schedule.DateOf(now.In(loc))
		var busy []schedule.Interval
		for i := 0; i+1 < len(busyBytes); i += 2 {
			start := now.Add(time.Duration(busyBytes[i]) * 97 * time.Minute)
			busy = append(busy, schedule.Interval{Start: start, End: start.Add(time.Duration(busyBytes[i+1]%240+1) * time.Minute)})
			if busyBytes[i]%5 == 0 {
				c.Closed[today.AddDays(int(busyBytes[i+1])%(c.HorizonDays+1))] = "closed"
			}
		}

		slots := c.Slots(now, length, busy)
		last := today.AddDays(c.HorizonDays)
		for i, s := range slots {
			if i > 0 && !slots[i-1].Start.Before(s.Start) {
				t.Fatalf("slots not sorted and distinct at %d: %v then %v", i, slots[i-1].Start, s.Start)
			}
			if s.End.Sub(s.Start) != length {
				t.Fatalf("slot %v lasts %v, want %v", s.Start, s.End.Sub(s.Start), length)
			}
			if s.Start.Before(now.Add(c.Notice)) {
				t.Fatalf("slot %v is within %v of now %v", s.Start, c.Notice, now)
			}
			local := s.Start.In(loc)
			d := schedule.DateOf(local)
			if d.Before(today) || last.Before(d) {
				t.Fatalf("slot %v is outside %v..%v", s.Start, today, last)
			}
			if _, closed := c.Closed[d]; closed {
				t.Fatalf("slot %v is on a closure", s.Start)
			}
			m := schedule.Clock(local.Hour()*60 + local.Minute())
			inside := false
			for _, sp := range c.Hours[d.Weekday()] {
				closeAt := time.Date(d.Year, d.Month, d.Day, 0, int(sp.Close), 0, 0, loc)
				if sp.Open <= m && m < sp.Close && !s.End.After(closeAt) && (m-sp.Open)%schedule.Clock(c.Step/time.Minute) == 0 {
					inside = true
				}
			}
			if !inside || local.Second() != 0 {
				t.Fatalf("slot %v (%s local) is not a start inside the %s hours %v", s.Start, local.Format("15:04:05"), d.Weekday(), c.Hours[d.Weekday()])
			}
			for _, b := range busy {
				if s.Overlaps(b) {
					t.Fatalf("slot %v–%v overlaps busy %v–%v", s.Start, s.End, b.Start, b.End)
				}
			}
			if err := c.Check(s.Start, length, now, busy); err != nil {
				t.Fatalf("Check rejects offered slot %v: %v", s.Start, err)
			}
		}
	})
}
