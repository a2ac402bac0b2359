package agent

// TurnOutcome is what one turn of a model conversation achieved: one caller message and
// everything the model did in answer to it.
type TurnOutcome struct {
	// ToolOK reports that the model called a tool with arguments ParseToolCall accepted and the
	// workflow carried it out (availability was looked up, for example).
	ToolOK bool
	// NewFact reports that the conversation learned something it did not know: the caller's
	// name, the service, a day or time they want.
	NewFact bool
	// Booked reports that an appointment was booked.
	Booked bool
}

// Progress tracks whether a model conversation is getting anywhere. It travels in workflow state
// as JSON; the zero value is a conversation with no turns.
//
// A turn makes progress when it called a tool successfully, learned a new fact or booked. A model
// that keeps chatting without doing any of those (going round in circles, asking the same
// question, failing tool calls) has lost the thread, and after MaxStalls such turns in a row the
// conversation goes to a person, the same patience the scripted flow has.
type Progress struct {
	// Turns counts all recorded turns.
	Turns int `json:",omitempty"`
	// Stalled counts the turns in a row without progress.
	Stalled int `json:",omitempty"`
}

// Record adds one turn and reports whether the conversation should now be escalated. Once it
// reports true it keeps doing so until a turn makes progress, so a caller that escalates on the
// first true is not asked twice.
func (p *Progress) Record(turn TurnOutcome) (escalate bool) {
	p.Turns++
	if turn.ToolOK || turn.NewFact || turn.Booked {
		p.Stalled = 0
		return false
	}
	p.Stalled++
	return p.Stalled >= MaxStalls
}
