package guard

import (
	"encoding/json"
	"testing"
)

func TestInjectionStreak(t *testing.T) {
	N, S, L := None, Suspicious, Likely
	for _, c := range []struct {
		name     string
		turns    []Level
		escalate bool
	}{
		{"nothing", nil, false},
		{"one likely", []Level{L}, false},
		{"two likely", []Level{L, N, N, L}, true},
		{"two suspicious", []Level{S, N, S}, false},
		{"three suspicious", []Level{S, N, S, N, S}, true},
		{"likely counts as suspicious", []Level{S, L, S}, true},
		{"first likely forgotten after ten turns", []Level{L, N, N, N, N, N, N, N, N, N, L}, false},
		{"still within ten turns", []Level{L, N, N, N, N, N, N, N, N, L}, true},
		{"old suspicious forgotten", []Level{S, S, N, N, N, N, N, N, N, N, S}, false},
	} {
		var s InjectionStreak
		for _, l := range c.turns {
			s.Record(l)
		}
		if s.Escalate() != c.escalate {
			sus, lik := s.Counts()
			t.Errorf("%s: Escalate() = %v (%d suspicious, %d likely), want %v", c.name, s.Escalate(), sus, lik, c.escalate)
		}
	}
}

func TestInjectionStreakJSON(t *testing.T) {
	var s InjectionStreak
	for _, l := range []Level{Likely, None, Suspicious} {
		s.Record(l)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"s":5,"l":4}` {
		t.Errorf("JSON = %s", b)
	}
	var back InjectionStreak
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	if b, _ := json.Marshal(InjectionStreak{}); string(b) != `{}` {
		t.Errorf("zero value JSON = %s", b)
	}
}
