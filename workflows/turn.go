package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/model"
	"github.com/ringback/ringback/internal/agent"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/guard"
	"github.com/ringback/ringback/internal/searchattr"
)

// versionTurns marks the change that made the conversation answer texts (model turns, the
// scripted flow, booking, escalation, follow-up); histories recorded before it only stored them.
const versionTurns = "ai-turns"

// maxToolRounds bounds the model calls one caller message can cause: enough to look up times,
// book, and confirm, and no more, so a model that keeps calling tools cannot loop.
const maxToolRounds = 4

// Escalation reasons of the workflow's own, besides agent's.
const (
	reasonGuardBlocked     = "guard_blocked"
	reasonInjection        = "injection"
	reasonModelUnavailable = "model_unavailable"
)

// Conversation modes.
const (
	ModeModel    = "model"
	ModeScripted = "scripted"
)

// SignalAcknowledge tells the conversation a person has taken over its escalation.
const SignalAcknowledge = "escalation-ack"

// Acknowledgement is the payload of SignalAcknowledge.
type Acknowledgement struct {
	EscalationID int64
	// By says how it was acknowledged: "link" (the link in the staff text) or "operator" (the
	// admin API or CLI).
	By string
}

// Escalation is the conversation's hand-over to a person, carried across continue-as-new.
type Escalation struct {
	ID     int64
	Reason string
	// Summary is what the staff were told; the backup contact gets the same.
	Summary string
	At      time.Time
	// BackupNotified and Acknowledged record how far it went.
	BackupNotified bool
	Acknowledged   bool
}

// turnState is what the turn engine carries across continue-as-new.
type turnState struct {
	// PendingInbound are texts stored but not yet answered.
	PendingInbound []InboundSMS
	Script         agent.Script
	Progress       agent.Progress
	Streak         guard.InjectionStreak
	// KnownNames are names the caller gave, so the fallback model sees them masked.
	KnownNames []string
	// BookingID is the caller's booking made in this conversation, 0 for none.
	BookingID  int64
	Escalation *Escalation
}

// answerPending answers the caller's unanswered texts as one turn: several texts sent in a burst
// are one thought.
func (c *conversationRun) answerPending(ctx workflow.Context) error {
	batch := c.turns.PendingInbound
	c.turns.PendingInbound = nil
	if len(batch) == 0 || c.optedOut {
		return nil
	}
	var texts []string
	toolsAllowed := true
	for _, m := range batch {
		c.turns.Streak.Record(m.Injection)
		if m.Injection != guard.None {
			toolsAllowed = false
		}
		if body := strings.TrimSpace(m.Body); body != "" {
			texts = append(texts, body)
		}
	}
	text := strings.Join(texts, "\n")
	if c.turns.Escalation != nil {
		// A person has (or is about to have) the conversation: the assistant keeps quiet, and
		// the texts are stored for them to read.
		return nil
	}
	if name := agent.IntroducedName(text, c.profile.Business); name != "" {
		c.learnName(name)
	}
	switch esc := agent.DetectEscalation(text); esc.Kind {
	case agent.Emergency:
		return c.escalate(ctx, agent.ReasonEmergency, "The caller describes an emergency ("+esc.Phrase+").", holdingReply(c.profile.Name, true))
	case agent.Person:
		return c.escalate(ctx, agent.ReasonCallerRequest, "The caller asked for a person.", holdingReply(c.profile.Name, false))
	}
	if c.turns.Streak.Escalate() {
		return c.escalate(ctx, reasonInjection, "Several messages looked like attempts to manipulate the assistant.", holdingReply(c.profile.Name, false))
	}
	if c.turns.BookingID != 0 {
		if done, err := c.changeBooking(ctx, text); done || err != nil {
			return err
		}
	}
	if text == "" {
		return nil // a picture with no words: nothing to answer yet
	}
	if c.state.Mode == ModeScripted {
		return c.scriptTurn(ctx, text)
	}
	return c.modelTurn(ctx, text, toolsAllowed)
}

// modelTurn asks the model for the reply, carrying out the tools it calls, until it answers in
// words, books, or escalates.
func (c *conversationRun) modelTurn(ctx workflow.Context, text string, toolsAllowed bool) error {
	var turn []model.Message
	outcome := agent.TurnOutcome{NewFact: c.mentionsNewFact(text)}
	for round := 0; round < maxToolRounds; round++ {
		var res activities.ModelTurnResult
		err := workflow.ExecuteActivity(modelOptions(ctx), acts.ModelTurn, activities.ModelTurnInput{
			TenantID: c.in.TenantID, ConversationID: c.state.ConversationID, Caller: c.in.Caller,
			BusinessNumbers: c.profile.Numbers, Business: c.profile.Business, Now: workflow.Now(ctx),
			Turn: turn, KnownNames: c.turns.KnownNames, ToolsAllowed: toolsAllowed,
		}).Get(ctx, &res)
		if err != nil {
			// The model's activity kept failing (its database reads, say): the caller still
			// gets an answer, from the script.
			workflow.GetLogger(ctx).Warn("model turn failed", "error", err)
			res = activities.ModelTurnResult{Unavailable: true}
		}
		switch {
		case res.Restricted:
			// The caller restricted or objected to processing: no AI, no reply; the texts stay
			// stored for the business's people.
			c.restricted, c.optedOut = true, true
			return nil
		case res.Unavailable:
			// No model answered: the scripted flow takes this turn and the rest, so the
			// caller is never left without a reply.
			c.state.ModelFailures++
			c.state.Mode = ModeScripted
			workflow.GetLogger(ctx).Warn("no model answered; the scripted flow takes over")
			return c.scriptTurn(ctx, text)
		case res.Blocked:
			c.state.BlockedReplies++
			workflow.GetLogger(ctx).Warn("outbound guard blocked a reply", "reasons", strings.Join(res.BlockReasons, ","))
			return c.escalate(ctx, reasonGuardBlocked, "A drafted reply was held back ("+strings.Join(res.BlockReasons, ", ")+").",
				guard.OutboundVerdict{}.SafeReply(c.profile.Name))
		case len(res.ToolCalls) == 0:
			if res.Content == "" {
				continue
			}
			if _, err := c.reply(ctx, res.Content); err != nil {
				return err
			}
			if c.turns.Progress.Record(outcome) {
				return c.escalate(ctx, agent.ReasonNoProgress, fmt.Sprintf("%d turns in a row brought the conversation no further.", agent.MaxStalls), holdingReply(c.profile.Name, false))
			}
			return nil
		}
		turn = append(turn, model.Message{Role: model.RoleAssistant, Content: res.Content, ToolCalls: res.ToolCalls})
		for _, call := range res.ToolCalls {
			result, done, err := c.runTool(ctx, call, &outcome)
			if err != nil || done {
				return err
			}
			turn = append(turn, model.Message{Role: model.RoleTool, ToolCallID: call.ID, Content: result})
		}
	}
	// The model kept calling tools (or answering with nothing) for the whole budget.
	c.state.ModelFailures++
	return c.escalate(ctx, agent.ReasonNoProgress, "The assistant could not settle on a reply.", holdingReply(c.profile.Name, false))
}

// runTool validates and carries out one tool call. It returns the result the model is shown,
// and done when the turn is over (a booking was confirmed or the conversation escalated).
func (c *conversationRun) runTool(ctx workflow.Context, call model.ToolCall, outcome *agent.TurnOutcome) (string, bool, error) {
	loc := c.location()
	parsed, err := agent.ParseToolCall(call.Name, call.Arguments, c.profile.Business, loc)
	if err != nil {
		// The model is told exactly why, and may correct the call in its next round.
		return "refused: " + err.Error(), false, nil
	}
	switch p := parsed.(type) {
	case agent.CheckAvailability:
		slots, err := c.findSlots(ctx, p.Service, p.Date)
		if err != nil {
			return "", false, err
		}
		outcome.ToolOK = true
		if len(slots) == 0 {
			return "no open times for " + p.Service + " on that day; try another day or call check_availability without a date", false, nil
		}
		return "open start times (local, YYYY-MM-DDTHH:MM): " + formatSlots(slots, loc), false, nil
	case agent.BookAppointment:
		res, err := c.book(ctx, p.Service, p.Start, p.Name)
		if err != nil {
			return "", false, err
		}
		if !res.Booked {
			msg := "refused: " + res.Refusal
			if len(res.Alternatives) > 0 {
				msg += "; open times near it: " + formatSlots(res.Alternatives, loc)
			}
			return msg, false, nil
		}
		outcome.Booked = true
		c.turns.Progress.Record(*outcome)
		_, err = c.reply(ctx, bookingConfirmation(c.profile.Name, res.Booking, loc))
		return "", true, err
	case agent.EscalateToHuman:
		return "", true, c.escalate(ctx, p.Reason, p.Summary, holdingReply(c.profile.Name, p.Reason == agent.ReasonEmergency))
	}
	return "refused: unknown tool", false, nil
}

// scriptTurn answers with the scripted flow, carrying out what it asks for.
func (c *conversationRun) scriptTurn(ctx workflow.Context, text string) error {
	loc := c.location()
	step := c.turns.Script.Next(text, c.profile.Business, workflow.Now(ctx), loc)
	for range 8 { // each action is answered by one more step; a script never needs more
		if step.Reply != "" && step.Action == nil {
			_, err := c.reply(ctx, step.Reply)
			return err
		}
		switch a := step.Action.(type) {
		case nil:
			return nil
		case agent.CheckAvailability:
			if step.Reply != "" {
				if _, err := c.reply(ctx, step.Reply); err != nil {
					return err
				}
			}
			slots, err := c.findSlots(ctx, a.Service, a.Date)
			if err != nil {
				return err
			}
			step = c.turns.Script.Offer(slots)
		case agent.BookAppointment:
			if step.Reply != "" {
				if _, err := c.reply(ctx, step.Reply); err != nil {
					return err
				}
			}
			c.learnName(a.Name)
			res, err := c.book(ctx, a.Service, a.Start, a.Name)
			if err != nil {
				return err
			}
			step = c.turns.Script.BookResult(res.Booked, res.Refusal, res.Alternatives)
			if res.Booked {
				// The script's own reply confirms in its words; the details follow.
				step.Reply = bookingConfirmation(c.profile.Name, res.Booking, loc)
			}
		case agent.EscalateToHuman:
			return c.escalate(ctx, a.Reason, a.Summary, step.Reply)
		}
	}
	return nil
}

// reply sends one automated text in the conversation.
func (c *conversationRun) reply(ctx workflow.Context, body string) (textOutcome, error) {
	c.state.Replies++
	outcome, err := c.sendText(ctx, fmt.Sprintf("reply-%d", c.state.Replies), body)
	if err == nil && outcome == textSuppressed {
		c.optedOut = true
	}
	c.lastReplyAt = workflow.Now(ctx)
	return outcome, err
}

func (c *conversationRun) findSlots(ctx workflow.Context, service string, date time.Time) ([]time.Time, error) {
	var slots []time.Time
	err := c.store(ctx, acts.FindSlots, activities.FindSlotsInput{
		TenantID: c.in.TenantID, Service: service, Date: date, Now: workflow.Now(ctx),
	}).Get(ctx, &slots)
	return slots, err
}

// book books (or, when the caller already has a booking from this conversation, moves) an
// appointment, and announces a new one to the tenant's webhook.
func (c *conversationRun) book(ctx workflow.Context, service string, start time.Time, name string) (activities.BookResult, error) {
	c.state.BookingAttempts++
	var res activities.BookResult
	err := c.store(ctx, acts.BookAppointment, activities.BookInput{
		TenantID: c.in.TenantID, ConversationID: c.state.ConversationID, PhoneHash: c.in.CallerHash,
		Service: service, Start: start, Name: name, Replaces: c.turns.BookingID, Now: workflow.Now(ctx),
		RequestKey: activities.IdempotencyKey(workflow.GetInfo(ctx).WorkflowExecution.ID, firstRunID(ctx), fmt.Sprintf("book-%d", c.state.BookingAttempts)),
	}).Get(ctx, &res)
	if err != nil || !res.Booked {
		return res, err
	}
	if c.turns.BookingID != 0 {
		c.emit(ctx, activities.EventBookingCancelled, map[string]any{"booking_id": c.turns.BookingID, "rescheduled_to": res.Booking.ID})
	}
	c.turns.BookingID = res.Booking.ID
	c.state.Booked = true
	c.learnName(name)
	c.emit(ctx, activities.EventBookingCreated, map[string]any{
		"booking_id": res.Booking.ID, "service": res.Booking.Service, "start": res.Booking.Start, "end": res.Booking.End,
		"name": res.Booking.Name, "caller": c.in.Caller, "conversation_id": c.state.ConversationID,
	})
	return res, c.setStage(ctx, conversation.StageBooked)
}

// changeBooking handles "cancel my appointment" once the caller has one. It reports whether the
// text was handled. Rescheduling needs no special path: booking again moves the booking.
func (c *conversationRun) changeBooking(ctx workflow.Context, text string) (bool, error) {
	if agent.DetectBookingChange(text) != agent.CancelBooking {
		return false, nil
	}
	var info activities.BookingInfo
	err := c.store(ctx, acts.CancelAppointment, activities.CancelInput{
		TenantID: c.in.TenantID, PhoneHash: c.in.CallerHash, BookingID: c.turns.BookingID,
		RequestKey: activities.IdempotencyKey(workflow.GetInfo(ctx).WorkflowExecution.ID, firstRunID(ctx), fmt.Sprintf("cancel-%d", c.turns.BookingID)),
	}).Get(ctx, &info)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeBookingGone {
		c.turns.BookingID = 0
		return false, nil
	}
	if err != nil {
		return true, err
	}
	cancelled := c.turns.BookingID
	c.turns.BookingID = 0
	c.state.Booked = false
	c.emit(ctx, activities.EventBookingCancelled, map[string]any{"booking_id": cancelled, "conversation_id": c.state.ConversationID})
	_, err = c.reply(ctx, fmt.Sprintf("Your %s on %s is cancelled. Text us any time to book again. - %s",
		info.Service, info.Start.In(c.location()).Format("Mon Jan 2 at 3:04 PM"), c.profile.Name))
	return true, err
}

// escalate hands the conversation to a person: the assistant stops replying, the caller gets one
// holding text, the owner gets a summary and a link to acknowledge, and a coroutine waits for that
// acknowledgement until the tenant's timeout before texting the backup contact.
func (c *conversationRun) escalate(ctx workflow.Context, reason, summary, callerReply string) error {
	if c.turns.Escalation != nil {
		return nil
	}
	var id int64
	if err := c.store(ctx, acts.RecordEscalation, activities.RecordEscalationInput{
		TenantID: c.in.TenantID, ConversationID: c.state.ConversationID, Reason: reason,
		FirstRunID: firstRunID(ctx), Step: "escalation",
	}).Get(ctx, &id); err != nil {
		return err
	}
	c.turns.Escalation = &Escalation{ID: id, Reason: reason, Summary: summary, At: workflow.Now(ctx)}
	c.state.Escalated, c.state.EscalationReason = true, reason
	if err := c.setStage(ctx, conversation.StageEscalated); err != nil {
		return err
	}
	if _, err := c.notifyStaff(ctx, activities.StaffOwner, summary); err != nil {
		return err
	}
	c.emit(ctx, activities.EventConversationEscalated, map[string]any{
		"conversation_id": c.state.ConversationID, "reason": reason, "summary": summary, "caller": c.in.Caller,
	})
	c.watchEscalation(ctx)
	if callerReply != "" {
		if _, err := c.reply(ctx, callerReply); err != nil {
			return err
		}
	}
	return nil
}

// watchEscalation texts the backup contact when nobody acknowledges the escalation in time.
func (c *conversationRun) watchEscalation(ctx workflow.Context) {
	esc := c.turns.Escalation
	if esc == nil || esc.Acknowledged || esc.BackupNotified || !c.profile.HasBackup {
		return
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		wait := esc.At.Add(c.profile.EscalationTimeout).Sub(workflow.Now(ctx))
		acked, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return esc.Acknowledged || c.closing })
		if err != nil || acked {
			return
		}
		sent, err := c.notifyStaff(ctx, activities.StaffBackup, esc.Summary)
		if err != nil {
			workflow.GetLogger(ctx).Error("backup contact could not be texted", "error", err)
			return
		}
		esc.BackupNotified = sent
		c.state.BackupNotified = sent
		if sent && !esc.Acknowledged {
			if err := c.setStage(ctx, conversation.StageEscalatedBackup); err != nil {
				workflow.GetLogger(ctx).Error("stage update failed", "error", err)
			}
		}
		_ = c.store(ctx, acts.MarkEscalation, activities.MarkEscalationInput{
			TenantID: c.in.TenantID, EscalationID: esc.ID, Event: "backup_notified",
		}).Get(ctx, nil)
	})
}

func (c *conversationRun) notifyStaff(ctx workflow.Context, contact, summary string) (bool, error) {
	var res activities.NotifyStaffResult
	err := c.sms(ctx, acts.NotifyStaff, activities.NotifyStaffInput{
		TenantID: c.in.TenantID, EscalationID: c.turns.Escalation.ID, Contact: contact,
		Reason: c.turns.Escalation.Reason, Summary: summary, Caller: c.in.Caller,
		BusinessNumber: c.in.BusinessNumber, FirstRunID: firstRunID(ctx),
	}).Get(ctx, &res)
	return res.Sent, err
}

// acknowledge records that a person took the escalation over.
func (c *conversationRun) acknowledge(ctx workflow.Context, ack Acknowledgement) {
	esc := c.turns.Escalation
	if esc == nil || esc.Acknowledged || (ack.EscalationID != 0 && ack.EscalationID != esc.ID) {
		return
	}
	esc.Acknowledged = true
	c.state.Acknowledged = true
	c.activity++
	c.pendingAck = true
}

// recordAcknowledgement stores an acknowledgement the signal reported.
func (c *conversationRun) recordAcknowledgement(ctx workflow.Context) error {
	if !c.pendingAck {
		return nil
	}
	c.pendingAck = false
	if err := c.setStage(ctx, conversation.StageHandedOff); err != nil {
		return err
	}
	return c.store(ctx, acts.MarkEscalation, activities.MarkEscalationInput{
		TenantID: c.in.TenantID, EscalationID: c.turns.Escalation.ID, Event: "acknowledged",
	}).Get(ctx, nil)
}

// followUpDue reports whether the one polite follow-up is owed: the conversation is waiting on
// the caller for something unfinished, and has not followed up yet.
func (c *conversationRun) followUpDue() bool {
	return c.turnsEnabled && !c.state.FollowedUp && c.profile.FollowUpAfter > 0 && c.state.FirstTextSent &&
		c.state.OutboundMessages > 0 && !c.state.Booked && c.turns.Escalation == nil && !c.optedOut
}

func (c *conversationRun) sendFollowUp(ctx workflow.Context) error {
	c.state.FollowedUp = true
	_, err := c.reply(ctx, fmt.Sprintf("Just checking in from %s: would you still like to book? Reply here any time, or STOP to opt out.", c.profile.Name))
	return err
}

// emit starts a child workflow delivering a tenant webhook event. The child outlives the
// conversation (its retries may take days), and its ID makes the event exactly-once to start.
func (c *conversationRun) emit(ctx workflow.Context, eventType string, data map[string]any) {
	c.state.Events++
	step := fmt.Sprintf("%s-%d", eventType, c.state.Events)
	// The first run's ID is unique to this conversation and, unlike the workflow ID, the same
	// when a recorded history is replayed.
	sum := sha256.Sum256([]byte(firstRunID(ctx) + "\n" + step))
	eventID := "evt_" + hex.EncodeToString(sum[:12])
	raw, err := json.Marshal(data)
	if err != nil {
		workflow.GetLogger(ctx).Error("webhook payload could not be encoded", "type", eventType, "error", err)
		return
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            TenantWebhookWorkflowID(c.in.TenantID, eventID),
		ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(searchattr.TenantID.ValueSet(c.in.TenantID)),
	})
	child := workflow.ExecuteChildWorkflow(cctx, TenantWebhook, activities.TenantEvent{
		TenantID: c.in.TenantID, ID: eventID, Type: eventType, OccurredAt: workflow.Now(ctx), Data: raw,
	})
	// Wait for the child to start (not to finish), so a conversation that closes next cannot
	// lose the event. A start that fails (the ID already ran) means it was delivered before.
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("webhook event not started", "type", eventType, "error", err)
	}
}

// learnName remembers a name the caller gave, for masking what the fallback model sees.
func (c *conversationRun) learnName(name string) {
	name = strings.TrimSpace(name)
	if name == "" {
		return
	}
	for _, n := range c.turns.KnownNames {
		if strings.EqualFold(n, name) {
			return
		}
	}
	c.turns.KnownNames = append(c.turns.KnownNames, name)
}

// mentionsNewFact is a cheap sign that the caller moved the booking forward: they named a
// service or wrote a number (a day, a time, a choice from a list).
func (c *conversationRun) mentionsNewFact(text string) bool {
	if strings.ContainsAny(text, "0123456789") {
		return true
	}
	for _, w := range strings.Fields(text) {
		if _, ok := c.profile.Business.FindService(w); ok {
			return true
		}
	}
	return agent.IntroducedName(text, c.profile.Business) != ""
}

func (c *conversationRun) location() *time.Location {
	loc, err := time.LoadLocation(c.profile.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

func formatSlots(slots []time.Time, loc *time.Location) string {
	parts := make([]string, len(slots))
	for i, s := range slots {
		parts[i] = s.In(loc).Format("2006-01-02T15:04") + " (" + s.In(loc).Format("Mon 3:04 PM") + ")"
	}
	return strings.Join(parts, ", ")
}

func bookingConfirmation(business string, b activities.BookingInfo, loc *time.Location) string {
	return fmt.Sprintf("You're booked: %s on %s with %s. To cancel, reply \"cancel my appointment\"; to move it, just tell us a new time.",
		b.Service, b.Start.In(loc).Format("Mon Jan 2 at 3:04 PM"), business)
}

func holdingReply(business string, emergency bool) string {
	msg := fmt.Sprintf("Thanks. I've asked a member of the %s team to get back to you as soon as they can.", business)
	if emergency {
		msg = "If this is a life-threatening emergency, call 911 now. " + msg
	}
	return msg
}
