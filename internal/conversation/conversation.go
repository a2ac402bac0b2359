// Package conversation names the states a caller's conversation moves through. The values are
// stored in PostgreSQL and shown in the Temporal UI's Stage search attribute, so they are opaque
// enums: never a phone number or a message.
package conversation

// Trigger is what opened a conversation. Only the caller can open one (a missed call or a text
// they sent): there is no path that texts a number that never made contact.
type Trigger string

const (
	TriggerMissedCall Trigger = "missed_call"
	TriggerInboundSMS Trigger = "inbound_sms"
)

// Valid reports whether t is a known trigger.
func (t Trigger) Valid() bool { return t == TriggerMissedCall || t == TriggerInboundSMS }

// Stage is where a conversation is.
type Stage string

const (
	// StageOpening: recording the contact and sending the first text.
	StageOpening Stage = "opening"
	// StageQuietHours: a text is ready but the caller's local time is outside the allowed
	// window; the workflow sleeps until it opens.
	StageQuietHours Stage = "quiet_hours"
	// StageAwaitingReply: the first text is out; inbound texts are stored as they arrive.
	StageAwaitingReply Stage = "awaiting_reply"
	// StageClosing: idle timeout reached; finishing in-flight messages.
	StageClosing Stage = "closing"
	// StageClosed: nothing more will be sent in this conversation.
	StageClosed Stage = "closed"
)
