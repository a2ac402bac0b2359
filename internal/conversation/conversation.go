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
	// StageBooked: the caller has an appointment; the conversation stays open for changes.
	StageBooked Stage = "booked"
	// StageEscalated: handed to a person; the assistant is silent and the owner was texted.
	StageEscalated Stage = "escalated"
	// StageEscalatedBackup: the owner did not acknowledge in time; the backup contact was texted.
	StageEscalatedBackup Stage = "escalated_backup"
	// StageHandedOff: a person acknowledged the escalation and has the conversation.
	StageHandedOff Stage = "handed_off"
	// StageClosing: idle timeout reached; finishing in-flight messages.
	StageClosing Stage = "closing"
	// StageClosed: nothing more will be sent in this conversation.
	StageClosed Stage = "closed"
)
