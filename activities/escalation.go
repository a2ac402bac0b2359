package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/store"
)

// RecordEscalationInput records that a conversation went to a person.
type RecordEscalationInput struct {
	TenantID       string
	ConversationID int64
	// Reason is one of agent's Reason constants or the workflow's own (guard_blocked, …).
	Reason     string
	FirstRunID string
	// Step names the escalation within the conversation, for the idempotency key.
	Step string
}

// RecordEscalation stores the escalation and returns its ID.
func (a *Activities) RecordEscalation(ctx context.Context, in RecordEscalationInput) (int64, error) {
	key := IdempotencyKey(activity.GetInfo(ctx).WorkflowExecution.ID, in.FirstRunID, in.Step)
	return a.Store.RecordEscalation(ctx, in.TenantID, in.ConversationID, in.Reason, key)
}

// MarkEscalationInput records what happened to an escalation.
type MarkEscalationInput struct {
	TenantID     string
	EscalationID int64
	Event        store.EscalationEvent
}

// MarkEscalation records an acknowledgement or the hand-over to the backup contact.
func (a *Activities) MarkEscalation(ctx context.Context, in MarkEscalationInput) error {
	return a.Store.MarkEscalation(ctx, in.TenantID, in.EscalationID, in.Event, a.now())
}

// Staff contacts an escalation can go to.
const (
	StaffOwner  = "owner"
	StaffBackup = "backup"
)

// NotifyStaffInput asks for one escalation text to the business's staff.
type NotifyStaffInput struct {
	TenantID     string
	EscalationID int64
	// Contact is StaffOwner or StaffBackup; the numbers are read from the tenant here, so they
	// never sit in workflow history.
	Contact string
	// Reason and Summary say why the caller needs a person.
	Reason  string
	Summary string
	// Caller is the number to call back.
	Caller         string
	BusinessNumber string
	FirstRunID     string
}

// NotifyStaffResult reports whether a text went out.
type NotifyStaffResult struct {
	Sent bool
	// NoContact is true when the tenant has no such contact (no backup configured).
	NoContact bool
}

// NotifyStaff texts the owner or the backup contact a summary of the conversation, the caller's
// number and a link to acknowledge it. It goes out at any hour: an emergency cannot wait for
// 08:00, and the staff are not the callers quiet hours protect.
func (a *Activities) NotifyStaff(ctx context.Context, in NotifyStaffInput) (NotifyStaffResult, error) {
	t, err := a.Store.Tenant(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return NotifyStaffResult{}, temporal.NewNonRetryableApplicationError("tenant not found", ErrTypeTenantNotFound, nil)
	}
	if err != nil {
		return NotifyStaffResult{}, err
	}
	to := t.OwnerPhone
	if in.Contact == StaffBackup {
		p, err := a.Store.TenantProfile(ctx, in.TenantID)
		if err != nil {
			return NotifyStaffResult{}, err
		}
		to = p.BackupPhone
	} else if in.Contact != StaffOwner {
		return NotifyStaffResult{}, temporal.NewNonRetryableApplicationError("notify staff: unknown contact "+in.Contact, "InvalidInput", nil)
	}
	if to == "" {
		return NotifyStaffResult{NoContact: true}, nil
	}
	if a.Hasher == nil {
		return NotifyStaffResult{}, temporal.NewNonRetryableApplicationError("notify staff: no phone hasher configured", "Misconfigured", nil)
	}
	link, err := a.ackLink(ctx, in.EscalationID)
	if err != nil {
		return NotifyStaffResult{}, err
	}
	res, err := a.SendSMS(ctx, SendSMSInput{
		TenantID: in.TenantID, From: in.BusinessNumber, To: to, PhoneHash: a.Hasher.Hash(to),
		Body:       StaffAlertText(t.Name, in.Reason, in.Summary, in.Caller, link, in.Contact == StaffBackup),
		Step:       fmt.Sprintf("staff-%s-%d", in.Contact, in.EscalationID),
		FirstRunID: in.FirstRunID, StaffAlert: true,
	})
	if err != nil {
		return NotifyStaffResult{}, err
	}
	return NotifyStaffResult{Sent: !res.Suppressed}, nil
}

func (a *Activities) ackLink(ctx context.Context, escalationID int64) (string, error) {
	if a.PublicURL == "" || len(a.AckKey) < acktoken.MinKeyLen {
		return "", nil
	}
	tok, err := acktoken.Sign(a.AckKey, acktoken.Claim{
		WorkflowID: activity.GetInfo(ctx).WorkflowExecution.ID, EscalationID: escalationID, IssuedAt: a.now(),
	})
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError("ack link: "+err.Error(), "Misconfigured", nil)
	}
	return strings.TrimRight(a.PublicURL, "/") + "/ack/" + tok, nil
}

// reasonWords says each escalation reason the way a business owner reads it.
var reasonWords = map[string]string{
	"caller_request":    "asked for a person",
	"emergency":         "EMERGENCY",
	"complaint":         "has a complaint",
	"no_progress":       "the assistant could not help",
	"booking_failed":    "the booking could not be made",
	"no_availability":   "no open times were found",
	"guard_blocked":     "a reply was held back for review",
	"injection":         "messages tried to manipulate the assistant",
	"model_unavailable": "the assistant is unavailable",
}

// StaffAlertText is the escalation text for the owner or backup contact.
func StaffAlertText(business, reason, summary, caller, link string, backup bool) string {
	words := reasonWords[reason]
	if words == "" {
		words = "needs a person"
	}
	var b strings.Builder
	if backup {
		b.WriteString("[Backup: not acknowledged in time] ")
	}
	fmt.Fprintf(&b, "%s: a caller %s. ", business, words)
	if summary = strings.Join(strings.Fields(summary), " "); summary != "" {
		if r := []rune(summary); len(r) > 300 {
			summary = string(r[:300]) + "…"
		}
		b.WriteString(summary + " ")
	}
	fmt.Fprintf(&b, "Call back: %s.", phone.Display(caller))
	if link != "" {
		fmt.Fprintf(&b, " Taking it? %s", link)
	}
	return b.String()
}
