// Package callstatus classifies Twilio call outcomes into "the caller did not reach anyone" and
// everything else.
package callstatus

import "fmt"

// Twilio's call statuses (CallStatus on status callbacks, DialCallStatus on <Dial action>).
const (
	Queued     = "queued"
	Initiated  = "initiated"
	Ringing    = "ringing"
	InProgress = "in-progress"
	Answered   = "answered"
	Completed  = "completed"
	Busy       = "busy"
	Failed     = "failed"
	NoAnswer   = "no-answer"
	Canceled   = "canceled"
)

var known = map[string]bool{
	Queued: true, Initiated: true, Ringing: true, InProgress: true, Answered: true,
	Completed: true, Busy: true, Failed: true, NoAnswer: true, Canceled: true,
}

// Missed reports whether status means the caller hung up without talking to anyone. A carrier
// voicemail that picks up reports "completed", which is why tenants should keep the ring timeout
// short; Ringback cannot tell that apart from a real conversation.
func Missed(status string) bool {
	switch status {
	case NoAnswer, Busy, Failed, Canceled:
		return true
	}
	return false
}

// Validate rejects values Twilio never sends, so a malformed request is answered with a reason
// instead of being silently treated as "answered".
func Validate(status string) error {
	if !known[status] {
		return fmt.Errorf("unknown call status %q", status)
	}
	return nil
}
