package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/conversation"
)

// OpenConversation identifies a conversation being opened by a workflow.
type OpenConversation struct {
	TenantID   string
	PhoneE164  string
	PhoneHash  string
	WorkflowID string
	FirstRunID string
	Trigger    conversation.Trigger
	Stage      conversation.Stage
}

// OpenConversation creates the caller's contact if new and the conversation row if new, and
// returns the conversation's ID. Retrying it returns the same ID.
func (s *Store) OpenConversation(ctx context.Context, in OpenConversation) (int64, error) {
	var id int64
	err := s.InTenant(ctx, in.TenantID, func(tx pgx.Tx) error {
		var contactID int64
		if err := tx.QueryRow(ctx, `
			INSERT INTO contacts (phone_e164, phone_hash) VALUES ($1, $2)
			ON CONFLICT (phone_hash) DO UPDATE SET phone_e164 = EXCLUDED.phone_e164
			RETURNING id`, in.PhoneE164, in.PhoneHash).Scan(&contactID); err != nil {
			return fmt.Errorf("upsert contact: %w", err)
		}
		return tx.QueryRow(ctx, `
			INSERT INTO conversations (contact_id, workflow_id, first_run_id, trigger, stage)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (workflow_id, first_run_id) DO UPDATE SET stage = conversations.stage
			RETURNING id`, contactID, in.WorkflowID, in.FirstRunID, in.Trigger, in.Stage).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("open conversation: %w", err)
	}
	return id, nil
}

// MissedCall is one unanswered call.
type MissedCall struct {
	TenantID       string
	ConversationID int64
	PhoneHash      string
	CallSid        string
	Status         string
	OccurredAt     time.Time
}

// RecordMissedCall stores a missed call against a conversation and records the caller's implied
// consent. It reports the conversation that first recorded this CallSid: when that is another
// conversation, the call was already handled (a webhook retried after its conversation closed).
func (s *Store) RecordMissedCall(ctx context.Context, in MissedCall) (owner int64, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.recordImpliedConsent(ctx, tx, in.TenantID, in.PhoneHash, conversation.TriggerMissedCall, in.CallSid, in.OccurredAt); err != nil {
			return err
		}
		return inTenantTx(ctx, tx, in.TenantID, func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `
				INSERT INTO calls (call_sid, contact_id, conversation_id, status, occurred_at)
				SELECT $1, contact_id, id, $3, $4 FROM conversations WHERE id = $2
				ON CONFLICT (call_sid) DO UPDATE SET call_sid = calls.call_sid
				RETURNING conversation_id`, in.CallSid, in.ConversationID, in.Status, in.OccurredAt).Scan(&owner)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("conversation %d: %w", in.ConversationID, ErrNotFound)
			}
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("record missed call: %w", err)
	}
	return owner, nil
}

// InboundMessage is one SMS from the caller.
type InboundMessage struct {
	TenantID       string
	ConversationID int64
	PhoneHash      string
	MessageSid     string
	Body           string
	NumMedia       int
	ReceivedAt     time.Time
}

// RecordInbound stores an inbound SMS once per MessageSid, with the caller's implied consent. It
// reports whether this call stored it (false: a retry of an already stored message).
func (s *Store) RecordInbound(ctx context.Context, in InboundMessage) (stored bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.recordImpliedConsent(ctx, tx, in.TenantID, in.PhoneHash, conversation.TriggerInboundSMS, in.MessageSid, in.ReceivedAt); err != nil {
			return err
		}
		return inTenantTx(ctx, tx, in.TenantID, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `
				INSERT INTO messages (conversation_id, direction, body, dedupe_key, num_media, occurred_at)
				VALUES ($1, 'inbound', $2, $3, $4, $5)
				ON CONFLICT (dedupe_key) DO NOTHING`,
				in.ConversationID, in.Body, in.MessageSid, in.NumMedia, in.ReceivedAt)
			stored = tag.RowsAffected() == 1
			return err
		})
	})
	if err != nil {
		return false, fmt.Errorf("record inbound message: %w", err)
	}
	return stored, nil
}

// SetConversationStage records the stage the workflow reached, and when it closed.
func (s *Store) SetConversationStage(ctx context.Context, tenantID string, conversationID int64, stage conversation.Stage, closedAt *time.Time) error {
	return s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE conversations SET stage = $2, closed_at = coalesce($3, closed_at) WHERE id = $1`,
			conversationID, stage, closedAt)
		if err != nil {
			return fmt.Errorf("set conversation stage: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("set conversation stage: conversation %d: %w", conversationID, ErrNotFound)
		}
		return nil
	})
}

// ConversationMessage is one text of a conversation, as a model's history needs it.
type ConversationMessage struct {
	Inbound    bool
	Body       string
	OccurredAt time.Time
}

// RecentMessages returns the last limit texts of a conversation, oldest first. The model sees a
// bounded history: a long conversation costs the same per turn as a short one.
func (s *Store) RecentMessages(ctx context.Context, tenantID string, conversationID int64, limit int) ([]ConversationMessage, error) {
	var out []ConversationMessage
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT direction = 'inbound', body, occurred_at FROM (
				SELECT direction, body, occurred_at, id FROM messages
				WHERE conversation_id = $1
				ORDER BY occurred_at DESC, id DESC LIMIT $2) recent
			ORDER BY occurred_at, id`, conversationID, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (ConversationMessage, error) {
			var m ConversationMessage
			err := row.Scan(&m.Inbound, &m.Body, &m.OccurredAt)
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recent messages: %w", err)
	}
	return out, nil
}
