package guard

import "math/bits"

// StreakWindow is how many recent turns an InjectionStreak remembers. Ten turns is about a whole
// SMS booking conversation, so an isolated false alarm early on does not linger in a long one.
const StreakWindow = 10

const streakMask = 1<<StreakWindow - 1

// InjectionStreak remembers the injection levels of a conversation's recent inbound turns, so that
// repeated attempts can be escalated to a person. It is two small bitmasks, one bit per turn with
// the latest in bit 0, and travels in workflow state as JSON like {"s":5,"l":1}. The zero value
// is a conversation with no turns.
type InjectionStreak struct {
	// SuspiciousTurns has a bit set for each remembered turn that was Suspicious or Likely.
	SuspiciousTurns uint16 `json:"s,omitempty"`
	// LikelyTurns has a bit set for each remembered turn that was Likely.
	LikelyTurns uint16 `json:"l,omitempty"`
}

// Record adds one inbound turn's level, forgetting turns older than StreakWindow.
func (s *InjectionStreak) Record(l Level) {
	s.SuspiciousTurns = s.SuspiciousTurns << 1 & streakMask
	s.LikelyTurns = s.LikelyTurns << 1 & streakMask
	if l >= Suspicious {
		s.SuspiciousTurns |= 1
	}
	if l >= Likely {
		s.LikelyTurns |= 1
	}
}

// Counts returns how many of the remembered turns were at least Suspicious, and how many Likely.
func (s InjectionStreak) Counts() (suspicious, likely int) {
	return bits.OnesCount16(s.SuspiciousTurns & streakMask), bits.OnesCount16(s.LikelyTurns & streakMask)
}

// Escalate reports whether the conversation should go to a person: two Likely turns, or three
// turns that were at least Suspicious, within the last StreakWindow turns.
//
// One flagged turn is not enough. Tools are already taken away for that turn and the reply is
// checked on the way out, so a single attempt costs the attacker everything and the business
// nothing; and a single turn is where the false alarms are (a caller pasting something odd, a
// word used innocently). Persistence is the signal: two confident hits are not an accident, and
// three weaker ones mean someone is probing. Escalation hands the conversation to a person, who is
// immune to the text.
func (s InjectionStreak) Escalate() bool {
	suspicious, likely := s.Counts()
	return likely >= 2 || suspicious >= 3
}
