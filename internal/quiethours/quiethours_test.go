package quiethours

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	nyNumber       = "+12125551234" // America/New_York
	denverNumber   = "+13035551234" // America/Denver
	miamiNumber    = "+13055551234" // Florida
	panhandleNum   = "+18505551234" // Florida, New_York + Chicago
	tulsaNumber    = "+19185551234" // Oklahoma
	baltimoreNum   = "+14105551234" // Maryland
	boiseNumber    = "+12085551234" // America/Boise + America/Los_Angeles
	northDakotaNum = "+17015551234" // America/Denver + America/North_Dakota/Center
	evansvilleNum  = "+18125551234" // New_York (+ Chicago from extraZones)
	phoenixNumber  = "+16025551234" // America/Phoenix
	honoluluNumber = "+18085551234" // Pacific/Honolulu
	tollFreeNumber = "+18005551234"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// local builds a wall-clock time in zone.
func local(t testing.TB, zone string, y int, mo time.Month, d, h, mi int) time.Time {
	t.Helper()
	return time.Date(y, mo, d, h, mi, 0, 0, mustLoad(t, zone))
}

func utc(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
}

func TestNext(t *testing.T) {
	const (
		ny  = "America/New_York"
		la  = "America/Los_Angeles"
		den = "America/Denver"
		chi = "America/Chicago"
	)
	tenantNY := Policy{TenantTimezone: ny}
	tenantLA := Policy{TenantTimezone: la}
	cases := []struct {
		name      string
		now       time.Time
		recipient string
		policy    Policy
		wantAt    time.Time
		reason    string
		zones     []string
		state     string
		fallback  string
	}{
		{
			name: "new york 23:30 waits for 08:00 next day", recipient: nyNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 23, 30),
			wantAt: local(t, ny, 2026, time.June, 11, 8, 0), reason: ReasonAfterWindow, zones: []string{ny},
		},
		{
			name: "new york 07:59 waits for 08:00 same day", recipient: nyNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 7, 59),
			wantAt: local(t, ny, 2026, time.June, 10, 8, 0), reason: ReasonBeforeWindow, zones: []string{ny},
		},
		{
			name: "new york 00:30 is before the same day's window", recipient: nyNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 0, 30),
			wantAt: local(t, ny, 2026, time.June, 10, 8, 0), reason: ReasonBeforeWindow, zones: []string{ny},
		},
		{
			name: "new york 08:00 is allowed", recipient: nyNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 8, 0),
			wantAt: local(t, ny, 2026, time.June, 10, 8, 0), reason: ReasonWithinWindow, zones: []string{ny},
		},
		{
			name: "new york 20:59 is allowed", recipient: nyNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 20, 59),
			wantAt: local(t, ny, 2026, time.June, 10, 20, 59), reason: ReasonWithinWindow, zones: []string{ny},
		},
		{
			name: "new york 21:00 is closed", recipient: nyNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 21, 0),
			wantAt: local(t, ny, 2026, time.June, 11, 8, 0), reason: ReasonAfterWindow, zones: []string{ny},
		},
		{
			name: "florida ends at 20:00", recipient: miamiNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 20, 59),
			wantAt: local(t, ny, 2026, time.June, 11, 8, 0), reason: ReasonAfterWindow, zones: []string{ny}, state: "FL",
		},
		{
			name: "florida 19:59 is allowed", recipient: miamiNumber, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 19, 59),
			wantAt: local(t, ny, 2026, time.June, 10, 19, 59), reason: ReasonWithinWindow, zones: []string{ny}, state: "FL",
		},
		{
			name: "florida panhandle: 19:30 central is 20:30 eastern", recipient: panhandleNum, policy: tenantLA,
			now:    local(t, chi, 2026, time.June, 10, 19, 30),
			wantAt: local(t, ny, 2026, time.June, 11, 9, 0), reason: ReasonAfterWindow, zones: []string{chi, ny}, state: "FL",
		},
		{
			name: "oklahoma ends at 20:00", recipient: tulsaNumber, policy: tenantLA,
			now:    local(t, chi, 2026, time.June, 10, 20, 0),
			wantAt: local(t, chi, 2026, time.June, 11, 8, 0), reason: ReasonAfterWindow, zones: []string{chi}, state: "OK",
		},
		{
			name: "maryland ends at 20:00", recipient: baltimoreNum, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 20, 30),
			wantAt: local(t, ny, 2026, time.June, 11, 8, 0), reason: ReasonAfterWindow, zones: []string{ny}, state: "MD",
		},
		// 208: Boise (Mountain) and Los Angeles (Pacific). Overlap is
		// 08:00 Pacific (09:00 Mountain) to 20:00 Pacific (21:00 Mountain).
		{
			name: "208 at 08:30 pacific is 09:30 mountain: allowed", recipient: boiseNumber, policy: tenantNY,
			now:    local(t, la, 2026, time.June, 10, 8, 30),
			wantAt: local(t, la, 2026, time.June, 10, 8, 30), reason: ReasonWithinWindow, zones: []string{"America/Boise", la},
		},
		{
			name: "208 at 08:30 mountain is 07:30 pacific: wait for 08:00 pacific", recipient: boiseNumber, policy: tenantNY,
			now:    local(t, den, 2026, time.June, 10, 8, 30),
			wantAt: local(t, la, 2026, time.June, 10, 8, 0), reason: ReasonBeforeWindow, zones: []string{"America/Boise", la},
		},
		{
			name: "208 at 19:59 pacific is 20:59 mountain: allowed", recipient: boiseNumber, policy: tenantNY,
			now:    local(t, la, 2026, time.June, 10, 19, 59),
			wantAt: local(t, la, 2026, time.June, 10, 19, 59), reason: ReasonWithinWindow, zones: []string{"America/Boise", la},
		},
		{
			name: "208 at 20:00 pacific is 21:00 mountain: closed", recipient: boiseNumber, policy: tenantNY,
			now:    local(t, la, 2026, time.June, 10, 20, 0),
			wantAt: local(t, la, 2026, time.June, 11, 8, 0), reason: ReasonAfterWindow, zones: []string{"America/Boise", la},
		},
		// 701: Denver (Mountain) and North Dakota Center (Central). Overlap
		// is 08:00 Mountain (09:00 Central) to 20:00 Mountain (21:00 Central).
		{
			name: "701 at 08:30 central waits for 08:00 mountain", recipient: northDakotaNum, policy: tenantNY,
			now:    local(t, chi, 2026, time.January, 14, 8, 30),
			wantAt: local(t, den, 2026, time.January, 14, 8, 0), reason: ReasonBeforeWindow,
			zones: []string{den, "America/North_Dakota/Center"},
		},
		{
			name: "701 at 20:00 mountain is 21:00 central: closed", recipient: northDakotaNum, policy: tenantNY,
			now:    local(t, den, 2026, time.January, 14, 20, 0),
			wantAt: local(t, den, 2026, time.January, 15, 8, 0), reason: ReasonAfterWindow,
			zones: []string{den, "America/North_Dakota/Center"},
		},
		{
			name: "812 also uses central time", recipient: evansvilleNum, policy: tenantLA,
			now:    local(t, ny, 2026, time.June, 10, 8, 30),
			wantAt: local(t, ny, 2026, time.June, 10, 9, 0), reason: ReasonBeforeWindow, zones: []string{chi, ny},
		},
		{
			name: "toll-free uses the tenant zone", recipient: tollFreeNumber, policy: tenantLA,
			now:    local(t, la, 2026, time.June, 10, 7, 0),
			wantAt: local(t, la, 2026, time.June, 10, 8, 0), reason: ReasonBeforeWindow, zones: []string{la},
			fallback: FallbackNonGeographic,
		},
		{
			name: "number without plus uses the tenant zone", recipient: "12125551234", policy: tenantLA,
			now:    local(t, la, 2026, time.June, 10, 6, 0),
			wantAt: local(t, la, 2026, time.June, 10, 8, 0), reason: ReasonBeforeWindow, zones: []string{la},
			fallback: FallbackInvalidRecipient,
		},
		{
			name: "garbage recipient uses the tenant zone", recipient: "+1999", policy: tenantLA,
			now:    local(t, la, 2026, time.June, 10, 12, 0),
			wantAt: local(t, la, 2026, time.June, 10, 12, 0), reason: ReasonWithinWindow, zones: []string{la},
			fallback: FallbackInvalidRecipient,
		},
		{
			name: "phoenix in summer has no daylight time", recipient: phoenixNumber, policy: tenantNY,
			now:    utc(2026, time.July, 1, 14, 30), // 07:30 MST
			wantAt: utc(2026, time.July, 1, 15, 0), reason: ReasonBeforeWindow, zones: []string{"America/Phoenix"},
		},
		{
			name: "phoenix in winter", recipient: phoenixNumber, policy: tenantNY,
			now:    utc(2026, time.January, 15, 4, 0), // 21:00 MST on the 14th
			wantAt: utc(2026, time.January, 15, 15, 0), reason: ReasonAfterWindow, zones: []string{"America/Phoenix"},
		},
		{
			name: "phoenix on the day denver springs forward", recipient: phoenixNumber, policy: tenantNY,
			now:    utc(2026, time.March, 8, 7, 0),
			wantAt: utc(2026, time.March, 8, 15, 0), reason: ReasonBeforeWindow, zones: []string{"America/Phoenix"},
		},
		{
			name: "honolulu 21:30 waits for 08:00 HST", recipient: honoluluNumber, policy: tenantNY,
			now:    utc(2026, time.June, 11, 7, 30), // 21:30 HST on the 10th
			wantAt: utc(2026, time.June, 11, 18, 0), reason: ReasonAfterWindow, zones: []string{"Pacific/Honolulu"},
		},
		// DST: 2026-03-08 spring forward, 2026-11-01 fall back (02:00 local).
		{
			name: "new york spring forward: 08:00 EDT", recipient: nyNumber, policy: tenantLA,
			now:    utc(2026, time.March, 8, 5, 30), // 00:30 EST
			wantAt: utc(2026, time.March, 8, 12, 0), reason: ReasonBeforeWindow, zones: []string{ny},
		},
		{
			name: "new york evening before spring forward", recipient: nyNumber, policy: tenantLA,
			now:    utc(2026, time.March, 8, 4, 30), // 23:30 EST on the 7th
			wantAt: utc(2026, time.March, 8, 12, 0), reason: ReasonAfterWindow, zones: []string{ny},
		},
		{
			name: "new york fall back: 08:00 EST", recipient: nyNumber, policy: tenantLA,
			now:    utc(2026, time.November, 1, 4, 30), // 00:30 EDT
			wantAt: utc(2026, time.November, 1, 13, 0), reason: ReasonBeforeWindow, zones: []string{ny},
		},
		{
			name: "new york inside the doubled hour", recipient: nyNumber, policy: tenantLA,
			now:    utc(2026, time.November, 1, 6, 15), // 01:15 EST, second occurrence
			wantAt: utc(2026, time.November, 1, 13, 0), reason: ReasonBeforeWindow, zones: []string{ny},
		},
		{
			name: "new york evening before fall back", recipient: nyNumber, policy: tenantLA,
			now:    utc(2026, time.November, 1, 2, 0), // 22:00 EDT on Oct 31
			wantAt: utc(2026, time.November, 1, 13, 0), reason: ReasonAfterWindow, zones: []string{ny},
		},
		{
			name: "new york window closes at 21:00 EST on fall-back day", recipient: nyNumber, policy: tenantLA,
			now:    utc(2026, time.November, 2, 1, 59), // 20:59 EST
			wantAt: utc(2026, time.November, 2, 1, 59), reason: ReasonWithinWindow, zones: []string{ny},
		},
		{
			name: "denver spring forward: 08:00 MDT", recipient: denverNumber, policy: tenantNY,
			now:    utc(2026, time.March, 8, 7, 30), // 00:30 MST
			wantAt: utc(2026, time.March, 8, 14, 0), reason: ReasonBeforeWindow, zones: []string{den},
		},
		{
			name: "denver fall back: 08:00 MST", recipient: denverNumber, policy: tenantNY,
			now:    utc(2026, time.November, 1, 6, 30), // 00:30 MDT
			wantAt: utc(2026, time.November, 1, 15, 0), reason: ReasonBeforeWindow, zones: []string{den},
		},
		{
			name: "denver 21:00 MDT the night before fall back", recipient: denverNumber, policy: tenantNY,
			now:    utc(2026, time.November, 1, 3, 0), // 21:00 MDT on Oct 31
			wantAt: utc(2026, time.November, 1, 15, 0), reason: ReasonAfterWindow, zones: []string{den},
		},
		{
			name: "policy narrows the window", recipient: nyNumber,
			policy: Policy{TenantTimezone: la, Start: At(9, 30), End: At(17, 0)},
			now:    local(t, ny, 2026, time.June, 10, 17, 0),
			wantAt: local(t, ny, 2026, time.June, 11, 9, 30), reason: ReasonAfterWindow, zones: []string{ny},
		},
		{
			name: "policy cannot widen the window", recipient: nyNumber,
			policy: Policy{TenantTimezone: la, Start: At(6, 0), End: At(23, 0)},
			now:    local(t, ny, 2026, time.June, 10, 7, 0),
			wantAt: local(t, ny, 2026, time.June, 10, 8, 0), reason: ReasonBeforeWindow, zones: []string{ny},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Next(tc.now, tc.recipient, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			if !d.At.Equal(tc.wantAt) {
				t.Errorf("At = %v, want %v", d.At.UTC(), tc.wantAt.UTC())
			}
			if d.Allowed != tc.wantAt.Equal(tc.now) {
				t.Errorf("Allowed = %v", d.Allowed)
			}
			if d.Reason != tc.reason {
				t.Errorf("Reason = %q, want %q", d.Reason, tc.reason)
			}
			if !slices.Equal(d.Zones, tc.zones) {
				t.Errorf("Zones = %v, want %v", d.Zones, tc.zones)
			}
			if d.State != tc.state {
				t.Errorf("State = %q, want %q", d.State, tc.state)
			}
			if d.Fallback != tc.fallback {
				t.Errorf("Fallback = %q, want %q", d.Fallback, tc.fallback)
			}
		})
	}
}

func TestNextDailyCap(t *testing.T) {
	const ny = "America/New_York"
	now := local(t, ny, 2026, time.June, 10, 12, 0) // Wednesday noon
	at := func(d, h, m int) time.Time { return local(t, ny, 2026, time.June, d, h, m) }
	cases := []struct {
		name      string
		recipient string
		sent      []time.Time
		wantAt    time.Time
		reason    string
	}{
		{
			name: "florida 4th within 24h waits for the first to fall out", recipient: miamiNumber,
			sent:   []time.Time{at(10, 9, 0), at(9, 13, 0), at(9, 18, 0)},
			wantAt: at(10, 13, 0), reason: ReasonStateDailyCap,
		},
		{
			name: "florida cap lifts after the window: next morning", recipient: miamiNumber,
			sent:   []time.Time{at(9, 20, 30), at(10, 9, 0), at(10, 10, 0)},
			wantAt: at(11, 8, 0), reason: ReasonStateDailyCap,
		},
		{
			name: "florida: more than three recent, the third newest counts", recipient: miamiNumber,
			sent:   []time.Time{at(9, 13, 0), at(9, 14, 0), at(9, 15, 0), at(10, 9, 0)},
			wantAt: at(10, 14, 0), reason: ReasonStateDailyCap,
		},
		{
			name: "florida: exactly 24h ago has fallen out", recipient: miamiNumber,
			sent:   []time.Time{at(9, 12, 0), at(10, 9, 0), at(10, 10, 0)},
			wantAt: now, reason: ReasonWithinWindow,
		},
		{
			name: "florida: two recent is fine", recipient: miamiNumber,
			sent:   []time.Time{at(10, 9, 0), at(10, 10, 0), at(8, 10, 0)},
			wantAt: now, reason: ReasonWithinWindow,
		},
		{
			name: "oklahoma has the same cap", recipient: tulsaNumber,
			sent:   []time.Time{at(9, 12, 30), at(10, 9, 0), at(10, 10, 0)},
			wantAt: local(t, "America/Chicago", 2026, time.June, 10, 11, 30), reason: ReasonStateDailyCap,
		},
		{
			name: "maryland has no cap", recipient: baltimoreNum,
			sent:   []time.Time{at(9, 13, 0), at(10, 9, 0), at(10, 10, 0)},
			wantAt: now, reason: ReasonWithinWindow,
		},
		{
			name: "new york has no cap", recipient: nyNumber,
			sent:   []time.Time{at(9, 13, 0), at(10, 9, 0), at(10, 10, 0), at(10, 11, 0)},
			wantAt: now, reason: ReasonWithinWindow,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Next(now, tc.recipient, Policy{TenantTimezone: ny, SentInLast24h: tc.sent})
			if err != nil {
				t.Fatal(err)
			}
			if !d.At.Equal(tc.wantAt) || d.Reason != tc.reason {
				t.Errorf("got %v %q, want %v %q", d.At, d.Reason, tc.wantAt, tc.reason)
			}
		})
	}
}

func TestNextErrors(t *testing.T) {
	now := utc(2026, time.June, 10, 12, 0)
	for _, p := range []Policy{
		{},
		{TenantTimezone: "Mars/Olympus_Mons"},
		{TenantTimezone: "America/New_York", Start: At(9, 0), End: At(8, 0)},
		{TenantTimezone: "America/New_York", Start: At(21, 0)},
		{TenantTimezone: "America/New_York", End: At(25, 0)},
		{TenantTimezone: "America/New_York", Start: At(9, 60)},
		{TenantTimezone: "America/New_York", Start: At(-1, 0)},
	} {
		if _, err := Next(now, nyNumber, p); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
}

func TestNextNoOverlap(t *testing.T) {
	// 08:00–08:30 in Mountain time is 09:00–09:30 in Central time.
	p := Policy{TenantTimezone: "America/New_York", Start: At(8, 0), End: At(8, 30)}
	d, err := Next(utc(2026, time.June, 10, 12, 0), northDakotaNum, p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Reason != ReasonNoOverlap || d.Allowed || !d.At.IsZero() {
		t.Errorf("got %+v", d)
	}
}

func TestNextOpenDSTEdges(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	cases := []struct {
		name       string
		from       time.Time
		start, end Clock
		want       time.Time
	}{
		// 02:30 does not exist on 2026-03-08: the window opens at the jump.
		{"opening in the spring gap", utc(2026, time.March, 8, 5, 0), At(2, 30), At(4, 0), utc(2026, time.March, 8, 7, 0)},
		// 01:30 happens twice on 2026-11-01: the first one counts.
		{"opening in the fall overlap", utc(2026, time.November, 1, 4, 0), At(1, 30), At(4, 0), utc(2026, time.November, 1, 5, 30)},
		// In the second 01:00–01:30 the clock is back before the opening.
		{"reopening after the overlap", utc(2026, time.November, 1, 6, 0), At(1, 30), At(4, 0), utc(2026, time.November, 1, 6, 30)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextOpen(tc.from, ny, tc.start, tc.end); !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got.UTC(), tc.want.UTC())
			}
		})
	}
}

func TestDecisionHasNoPhoneNumber(t *testing.T) {
	for _, r := range []string{nyNumber, miamiNumber, tollFreeNumber, "12125551234", "+1999"} {
		d, err := Next(utc(2026, time.June, 10, 3, 0), r, Policy{TenantTimezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		s := fmt.Sprintf("%+v %v", d, d)
		if strings.Contains(s, strings.TrimPrefix(r, "+")) || strings.Contains(s, "5551234") {
			t.Errorf("decision mentions the number: %s", s)
		}
	}
}

// inWindow is the definition the package must satisfy: t's wall clock in
// every zone is in [start, end).
func inWindow(t time.Time, locs []*time.Location, start, end Clock) bool {
	for _, loc := range locs {
		lt := t.In(loc)
		s := int64(lt.Hour())*3600 + int64(lt.Minute())*60 + int64(lt.Second())
		if s < start.seconds() || s >= end.seconds() {
			return false
		}
	}
	return true
}

// checkDecision verifies d against a brute-force search minute by minute.
func checkDecision(t *testing.T, now time.Time, recipient string, p Policy, d Decision, scanMinutes int) {
	t.Helper()
	if d.Reason == ReasonNoOverlap {
		return
	}
	var locs []*time.Location
	for _, z := range d.Zones {
		locs = append(locs, mustLoad(t, z))
	}
	if d.At.Before(now) {
		t.Fatalf("%s %v: At %v before now", recipient, now, d.At)
	}
	if !inWindow(d.At, locs, d.Start, d.End) {
		t.Fatalf("%s %v: At %v outside %v–%v in %v", recipient, now, d.At, d.Start, d.End, d.Zones)
	}
	if d.Allowed != d.At.Equal(now) {
		t.Fatalf("Allowed %v but At %v now %v", d.Allowed, d.At, now)
	}
	capOK := func(x time.Time) bool {
		r, ok := stateRules[d.State]
		if !ok || r.cap == 0 {
			return true
		}
		n := 0
		for _, s := range p.SentInLast24h {
			if s.After(x.Add(-24*time.Hour)) && s.After(now.Add(-24*time.Hour)) {
				n++
			}
		}
		return n < r.cap
	}
	if !capOK(d.At) {
		t.Fatalf("%s %v: At %v over the daily cap", recipient, now, d.At)
	}
	// No earlier allowed instant: now itself, then every minute boundary.
	if d.At.After(now) && inWindow(now, locs, d.Start, d.End) && capOK(now) {
		t.Fatalf("%s %v: allowed now but At %v", recipient, now, d.At)
	}
	m := now.Truncate(time.Minute).Add(time.Minute)
	for i := 0; i < scanMinutes && m.Before(d.At); i++ {
		if inWindow(m, locs, d.Start, d.End) && capOK(m) {
			t.Fatalf("%s %v: %v is allowed, earlier than At %v", recipient, now, m, d.At)
		}
		m = m.Add(time.Minute)
	}
}

func TestNextProperty(t *testing.T) {
	numbers := []string{
		nyNumber, denverNumber, miamiNumber, panhandleNum, tulsaNumber, baltimoreNum,
		boiseNumber, northDakotaNum, evansvilleNum, phoenixNumber, honoluluNumber,
		tollFreeNumber, "+19285551234", "+13085551234", "+447911123456", "+61212345678",
	}
	tenants := []string{"America/New_York", "America/Los_Angeles", "Europe/London", "UTC"}
	rng := rand.New(rand.NewPCG(1, 2))
	lo := utc(2026, time.January, 1, 0, 0).Unix()
	hi := utc(2028, time.January, 1, 0, 0).Unix()
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		now := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9))
		// Bias a quarter of the samples to DST transition days.
		if rng.IntN(4) == 0 {
			days := []time.Time{
				utc(2026, time.March, 8, 0, 0), utc(2026, time.November, 1, 0, 0),
				utc(2027, time.March, 14, 0, 0), utc(2027, time.November, 7, 0, 0),
			}
			now = days[rng.IntN(len(days))].Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
		}
		p := Policy{TenantTimezone: tenants[rng.IntN(len(tenants))]}
		for range rng.IntN(5) {
			p.SentInLast24h = append(p.SentInLast24h, now.Add(-time.Duration(rng.Int64N(int64(30*time.Hour)))))
		}
		r := numbers[rng.IntN(len(numbers))]
		d, err := Next(now, r, p)
		if err != nil {
			t.Fatal(err)
		}
		checkDecision(t, now, r, p, d, 48*60)
	}
}

func FuzzNext(f *testing.F) {
	f.Add(int64(1781134200), nyNumber, "America/Los_Angeles", 0, 0, int64(0), int64(0), int64(0))
	f.Add(int64(1772947800), miamiNumber, "America/New_York", 8, 20, int64(3600), int64(7200), int64(80000))
	f.Add(int64(1793507400), denverNumber, "UTC", 9, 17, int64(-1), int64(0), int64(0))
	f.Add(int64(1781134200), boiseNumber, "Pacific/Honolulu", 0, 0, int64(10), int64(20), int64(30))
	f.Add(int64(1781134200), tollFreeNumber, "Europe/Berlin", 0, 0, int64(0), int64(0), int64(0))
	f.Add(int64(-62135596800), "+1", "Asia/Kolkata", 23, 5, int64(0), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, sec int64, recipient, tenant string, startH, endH int, s1, s2, s3 int64) {
		// Keep instants within years 0001–9999.
		const minSec, maxSec = -62135596800, 253402300799 - 400*86400
		if sec < minSec || sec > maxSec {
			return
		}
		now := time.Unix(sec, 0)
		p := Policy{TenantTimezone: tenant, Start: At(startH%25, 0), End: At(endH%25, 0)}
		for _, s := range []int64{s1, s2, s3} {
			if s != 0 {
				p.SentInLast24h = append(p.SentInLast24h, now.Add(-time.Duration(s%(48*3600))*time.Second))
			}
		}
		d, err := Next(now, recipient, p)
		if err != nil {
			return
		}
		checkDecision(t, now, recipient, p, d, 0)
	})
}
