package subjectexport

import "time"

// Record is everything one tenant holds about one caller, table by table. Each slice is one
// table of the export; the struct's json tags name both the JSON keys and the CSV columns.
// Optional values are pointers (nil: none) or zero numbers where the table says so.
type Record struct {
	// TenantID is the business whose data this is.
	TenantID string `json:"tenant_id"`
	// PhoneE164 is the number the request is about.
	PhoneE164 string `json:"phone_e164"`
	// GeneratedAt is when the data was read; it also dates the files in the zip.
	GeneratedAt time.Time `json:"generated_at"`

	// Contact is nil when the tenant holds no contact row for the number.
	Contact       *Contact       `json:"contact"`
	Conversations []Conversation `json:"conversations"`
	Messages      []Message      `json:"messages"`
	Calls         []Call         `json:"calls"`
	Bookings      []Booking      `json:"bookings"`
	Escalations   []Escalation   `json:"escalations"`
	ConsentEvents []ConsentEvent `json:"consent_events"`
	// Suppression is nil unless the caller has opted out of the tenant's texts.
	Suppression   *Suppression   `json:"suppression"`
	Restrictions  []Restriction  `json:"processing_restrictions"`
	OutboundTexts []OutboundText `json:"outbound_texts"`
}

// Contact is the caller's entry in the tenant's contacts.
type Contact struct {
	ID        int64  `json:"id"`
	PhoneE164 string `json:"phone_e164"`
	// PhoneHash is the keyed hash that stands for the number in consent and audit records.
	PhoneHash string    `json:"phone_hash"`
	CreatedAt time.Time `json:"created_at"`
}

// Conversation is one text conversation with the caller.
type Conversation struct {
	ID         int64      `json:"id"`
	WorkflowID string     `json:"workflow_id"`
	FirstRunID string     `json:"first_run_id"`
	Trigger    string     `json:"trigger"`
	Stage      string     `json:"stage"`
	OpenedAt   time.Time  `json:"opened_at"`
	ClosedAt   *time.Time `json:"closed_at"`
}

// Message is one text, from the caller (inbound) or to them (outbound).
type Message struct {
	ID                int64     `json:"id"`
	ConversationID    int64     `json:"conversation_id"`
	Direction         string    `json:"direction"`
	Body              string    `json:"body"`
	DedupeKey         string    `json:"dedupe_key"`
	ProviderMessageID string    `json:"provider_message_id"`
	NumMedia          int       `json:"num_media"`
	OccurredAt        time.Time `json:"occurred_at"`
	CreatedAt         time.Time `json:"created_at"`
}

// Call is one missed call from the caller.
type Call struct {
	CallSid        string    `json:"call_sid"`
	ConversationID int64     `json:"conversation_id"`
	Status         string    `json:"status"`
	OccurredAt     time.Time `json:"occurred_at"`
}

// Booking is an appointment made for the caller, kept after cancellation.
type Booking struct {
	ID int64 `json:"id"`
	// ConversationID is 0 when the booking was not made in a conversation.
	ConversationID int64     `json:"conversation_id"`
	Service        string    `json:"service"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Status         string    `json:"status"`
	// Name is the name the caller gave.
	Name       string `json:"name"`
	RequestKey string `json:"request_key"`
	CancelKey  string `json:"cancel_key"`
	// Replaces is the booking this one replaced when rescheduled, or 0.
	Replaces    int64      `json:"replaces"`
	CreatedAt   time.Time  `json:"created_at"`
	CancelledAt *time.Time `json:"cancelled_at"`
}

// Escalation is a conversation with the caller handed to a person.
type Escalation struct {
	ID               int64      `json:"id"`
	ConversationID   int64      `json:"conversation_id"`
	Reason           string     `json:"reason"`
	CreatedAt        time.Time  `json:"created_at"`
	AcknowledgedAt   *time.Time `json:"acknowledged_at"`
	NotifiedBackupAt *time.Time `json:"notified_backup_at"`
}

// ConsentEvent is one entry of the consent ledger: contact (implied opt-in), opt-out, opt-in.
type ConsentEvent struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Source     string    `json:"source"`
	SourceID   string    `json:"source_id"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Suppression records that the caller opted out of the tenant's texts.
type Suppression struct {
	OptedOutAt    time.Time `json:"opted_out_at"`
	SourceEventID int64     `json:"source_event_id"`
}

// Restriction is a restriction of, or objection to, processing of the caller's data.
type Restriction struct {
	Kind      string     `json:"kind"`
	RequestID string     `json:"request_id"`
	Since     time.Time  `json:"since"`
	LiftedAt  *time.Time `json:"lifted_at"`
}

// OutboundText is the delivery record of one text sent, or attempted, to the caller.
type OutboundText struct {
	IdempotencyKey    string    `json:"idempotency_key"`
	Status            string    `json:"status"`
	Attempts          int       `json:"attempts"`
	ProviderMessageID string    `json:"provider_message_id"`
	Failure           string    `json:"failure"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}
