package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/greeting"
	"github.com/ringback/ringback/internal/guard"
	"github.com/ringback/ringback/internal/quiethours"
	"github.com/ringback/ringback/internal/searchattr"
)

// Names of the conversation workflow's message handlers.
const (
	// SignalMissedCall reports another missed call from the same caller.
	SignalMissedCall = "missed-call"
	// UpdateInboundSMS delivers a text from the caller; it completes once the text is stored.
	UpdateInboundSMS = "inbound-sms"
	// QueryState returns the conversation's State.
	QueryState = "state"
	// SignalTenantClosing tells an open conversation that its business's account is closing: it
	// sends nothing more and closes.
	SignalTenantClosing = "tenant-closing"
)

// versionQuietHours marks the change that made every automated text wait for the caller's window.
const versionQuietHours = "quiet-hours"

// versionLocalActivities marks the change that runs database steps and texts as local activities:
// a missed call is answered within the workflow's first task, with no round trip through the
// server per step. The model turn stays a regular activity: it can take tens of seconds.
const versionLocalActivities = "local-activities"

// ErrTypeConversationClosing is the update rejection a caller's text gets while the conversation
// is shutting down; the starter retries, and the retry opens a new conversation.
const ErrTypeConversationClosing = "ConversationClosing"

// MaxInboundBodyRunes is the longest inbound text accepted: Twilio's limit for a concatenated SMS.
const MaxInboundBodyRunes = 1600

// ConversationInput starts (or continues) a caller's conversation.
type ConversationInput struct {
	TenantID       string
	Caller         string // E.164; payloads are encrypted, IDs and search attributes never hold it
	CallerHash     string
	BusinessNumber string // the tenant number the caller reached, used as the sender
	Trigger        conversation.Trigger
	// FirstCall is the missed call that opened the conversation, when Trigger is a missed call.
	FirstCall   *MissedCall
	IdleTimeout time.Duration
	// Carry is the state handed over by continue-as-new; nil on a fresh start.
	Carry *Carry
}

// MissedCall is one unanswered call from the caller.
type MissedCall struct {
	CallSid string
	Status  string
	At      time.Time
}

// InboundSMS is one text from the caller, as cleaned by the inbound guard.
type InboundSMS struct {
	MessageSid string
	Body       string
	NumMedia   int
	ReceivedAt time.Time
	// Injection is the inbound guard's verdict on the text; InjectionRules names what matched.
	Injection      guard.Level
	InjectionRules []string
}

// InboundResult reports what happened to an InboundSMS.
type InboundResult struct {
	// Stored is false when the message had been stored before (a retried webhook).
	Stored bool
}

// State is what the state query returns and what continue-as-new carries. It holds counts and
// enums only.
type State struct {
	Stage            conversation.Stage
	Trigger          conversation.Trigger
	ConversationID   int64
	FirstTextSent    bool
	MissedCalls      int
	InboundMessages  int
	OutboundMessages int
	// SuspectedInjections counts inbound texts the guard judged Suspicious or worse.
	SuspectedInjections int
	OpenedAt            time.Time
	LastActivityAt      time.Time
	// CloseReason says why a closed conversation closed.
	CloseReason string

	// Mode is ModeModel, or ModeScripted once no model answered.
	Mode string
	// Replies counts automated replies (each one's outbox step is reply-N).
	Replies         int
	ModelFailures   int
	BlockedReplies  int
	BookingAttempts int
	Booked          bool
	Escalated       bool
	// EscalationReason is an agent or workflow reason constant, never free text.
	EscalationReason string
	BackupNotified   bool
	Acknowledged     bool
	FollowedUp       bool
	// Events counts tenant webhook events raised.
	Events int
}

// Carry is the state continue-as-new passes to the next run.
type Carry struct {
	State        State
	SeenCallSids []string
	PendingCalls []MissedCall
	Turns        turnState
}

// Close reasons.
const (
	CloseIdle          = "idle"
	CloseTenantPaused  = "tenant_not_active"
	CloseAlreadyCalled = "call_already_handled"
	CloseOptedOut      = "opted_out"
	CloseTenantClosing = "tenant_closing"
	CloseRestricted    = "processing_restricted"
)

// Conversation is the workflow behind one caller's conversation with one business: it texts the
// caller back, stores what they send, and closes after a quiet spell.
func Conversation(ctx workflow.Context, in ConversationInput) (State, error) {
	if in.TenantID == "" || in.Caller == "" || in.CallerHash == "" || in.BusinessNumber == "" || !in.Trigger.Valid() {
		return State{}, temporal.NewNonRetryableApplicationError("conversation: incomplete input", "InvalidInput", nil)
	}
	if in.IdleTimeout <= 0 {
		return State{}, temporal.NewNonRetryableApplicationError("conversation: idle timeout must be positive", "InvalidInput", nil)
	}
	c := &conversationRun{in: in, seenCalls: map[string]bool{}}
	if in.Carry != nil {
		c.state = in.Carry.State
		c.pendingCalls = in.Carry.PendingCalls
		c.turns = in.Carry.Turns
		for _, sid := range in.Carry.SeenCallSids {
			c.seenCalls[sid] = true
		}
	} else {
		c.state = State{Stage: conversation.StageOpening, Trigger: in.Trigger, OpenedAt: workflow.Now(ctx), Mode: ModeModel}
		if in.FirstCall != nil {
			c.pendingCalls = append(c.pendingCalls, *in.FirstCall)
		}
	}
	return c.run(ctx)
}

type conversationRun struct {
	in           ConversationInput
	state        State
	pendingCalls []MissedCall
	seenCalls    map[string]bool
	// activity counts events from the caller, so the idle wait can tell whether anything happened.
	activity int
	closing  bool
	// openFailed releases update handlers waiting for a conversation that will never open.
	openFailed bool
	// optedOut is set by the opted-out signal: nothing more is sent.
	optedOut bool
	// tenantClosing is set by the tenant-closing signal; it sets optedOut too, so every path
	// that stops for an opt-out stops for it.
	tenantClosing bool
	// restricted is set when the caller restricted or objected to processing (a data-subject
	// request); like tenantClosing it sets optedOut too.
	restricted bool
	profile    activities.TenantProfile
	// quietHours is false only when replaying histories recorded before texts waited for the
	// recipient's window.
	quietHours bool
	// turnsEnabled is false only when replaying histories recorded before the conversation
	// answered texts.
	turnsEnabled bool
	// localActivities is false only when replaying histories recorded before database steps and
	// texts ran as local activities.
	localActivities bool
	turns           turnState
	lastReplyAt     time.Time
	// pendingAck is set by the acknowledgement signal for the main routine to record.
	pendingAck bool
}

// firstRunID identifies the workflow chain across continue-as-new. The server fills
// FirstRunID in on every run; where it is missing (the SDK's test environment) this is the
// first run, so its own run ID is the first run's.
func firstRunID(ctx workflow.Context) string {
	info := workflow.GetInfo(ctx)
	if info.FirstRunID != "" {
		return info.FirstRunID
	}
	return info.WorkflowExecution.RunID
}

// acts references activity methods; it is never dereferenced.
var acts *activities.Activities

func (c *conversationRun) run(ctx workflow.Context) (State, error) {
	callCh := workflow.GetSignalChannel(ctx, SignalMissedCall)
	if err := c.registerHandlers(ctx); err != nil {
		return c.state, err
	}
	optOutCh := workflow.GetSignalChannel(ctx, SignalOptedOut)
	ackCh := workflow.GetSignalChannel(ctx, SignalAcknowledge)
	closingCh := workflow.GetSignalChannel(ctx, SignalTenantClosing)
	// One coroutine takes every signal. A coroutine per channel would cost a goroutine each in
	// every cached conversation, and ten thousand conversations asleep in quiet hours make that
	// the worker's memory.
	signals := workflow.NewSelector(ctx)
	signals.AddReceive(callCh, func(ch workflow.ReceiveChannel, _ bool) {
		var call MissedCall
		ch.Receive(ctx, &call)
		c.pendingCalls = append(c.pendingCalls, call)
	})
	signals.AddReceive(optOutCh, func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(ctx, nil)
		c.optedOut = true
	})
	signals.AddReceive(closingCh, func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(ctx, nil)
		c.tenantClosing, c.optedOut = true, true
	})
	signals.AddReceive(ackCh, func(ch workflow.ReceiveChannel, _ bool) {
		var ack Acknowledgement
		ch.Receive(ctx, &ack)
		c.acknowledge(ctx, ack)
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			signals.Select(ctx)
		}
	})

	c.quietHours = workflow.GetVersion(ctx, versionQuietHours, workflow.DefaultVersion, 1) >= 1
	c.turnsEnabled = workflow.GetVersion(ctx, versionTurns, workflow.DefaultVersion, 1) >= 1
	c.localActivities = workflow.GetVersion(ctx, versionLocalActivities, workflow.DefaultVersion, 1) >= 1
	if c.state.Mode == "" {
		c.state.Mode = ModeModel
	}
	if err := c.open(ctx); err != nil {
		c.openFailed = true
		return c.state, err
	}
	if c.turnsEnabled {
		// A continued run picks up an escalation still waiting for its acknowledgement.
		c.watchEscalation(ctx)
	}
	for {
		if err := c.handleCalls(ctx); err != nil {
			return c.state, err
		}
		if err := c.recordAcknowledgement(ctx); err != nil {
			return c.state, err
		}
		if c.tenantClosing && c.state.CloseReason == "" {
			c.state.CloseReason = CloseTenantClosing
		}
		if c.restricted && c.state.CloseReason == "" {
			c.state.CloseReason = CloseRestricted
		}
		if c.optedOut && c.state.CloseReason == "" {
			c.state.CloseReason = CloseOptedOut
		}
		if c.state.CloseReason != "" {
			return c.finish(ctx)
		}
		if !c.state.FirstTextSent && c.turnsEnabled && c.in.Trigger == conversation.TriggerInboundSMS {
			// The caller's own text opened the conversation: the answer to it is the first
			// text, so a canned acknowledgement would only be noise.
			c.state.FirstTextSent = true
			if err := c.setStage(ctx, conversation.StageAwaitingReply); err != nil {
				return c.state, err
			}
		}
		if !c.state.FirstTextSent {
			if err := c.sendFirstText(ctx); err != nil {
				return c.state, err
			}
			if c.state.CloseReason != "" {
				return c.finish(ctx)
			}
			if err := c.setStage(ctx, conversation.StageAwaitingReply); err != nil {
				return c.state, err
			}
		}
		// A long history hands over first: texts waiting for an answer travel to the next run,
		// which answers them as soon as it has loaded the profile.
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return c.state, c.continueAsNew(ctx, callCh)
		}
		if len(c.turns.PendingInbound) > 0 {
			if err := c.answerPending(ctx); err != nil {
				return c.state, err
			}
			continue
		}
		seen := c.activity
		wait, followUp := c.in.IdleTimeout, c.followUpDue()
		if followUp {
			wait = c.profile.FollowUpAfter
		}
		active, err := workflow.AwaitWithTimeout(ctx, wait, func() bool {
			return len(c.pendingCalls) > 0 || c.activity != seen || c.optedOut || c.pendingAck
		})
		if err != nil {
			return c.state, err
		}
		switch {
		case active:
		case followUp:
			if err := c.sendFollowUp(ctx); err != nil {
				return c.state, err
			}
		default:
			c.state.CloseReason = CloseIdle
			return c.finish(ctx)
		}
	}
}

func (c *conversationRun) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (State, error) { return c.state, nil }); err != nil {
		return fmt.Errorf("register query: %w", err)
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateInboundSMS, c.onInboundSMS, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, msg InboundSMS) error {
			if c.closing || c.state.Stage == conversation.StageClosed {
				return temporal.NewApplicationError("conversation is closing", ErrTypeConversationClosing)
			}
			if msg.MessageSid == "" {
				return errors.New("inbound sms: message sid is required")
			}
			if n := len([]rune(msg.Body)); n > MaxInboundBodyRunes {
				return fmt.Errorf("inbound sms: body of %d characters exceeds %d", n, MaxInboundBodyRunes)
			}
			return nil
		},
	})
}

// onInboundSMS stores the caller's text. It waits for the conversation row, which the main
// routine may still be creating when the update that started the workflow arrives.
func (c *conversationRun) onInboundSMS(ctx workflow.Context, msg InboundSMS) (InboundResult, error) {
	if err := workflow.Await(ctx, func() bool { return c.state.ConversationID != 0 || c.openFailed }); err != nil {
		return InboundResult{}, err
	}
	if c.openFailed {
		return InboundResult{}, errors.New("inbound sms: conversation could not be opened")
	}
	// Update handlers do not inherit activity options set on the workflow's root context.
	var stored bool
	err := c.store(ctx, acts.RecordInbound, activities.RecordInboundInput{
		TenantID: c.in.TenantID, ConversationID: c.state.ConversationID, PhoneHash: c.in.CallerHash,
		MessageSid: msg.MessageSid, Body: msg.Body, NumMedia: msg.NumMedia, ReceivedAt: msg.ReceivedAt,
	}).Get(ctx, &stored)
	if err != nil {
		return InboundResult{}, err
	}
	if stored {
		c.state.InboundMessages++
		if msg.Injection != guard.None {
			c.state.SuspectedInjections++
		}
		if c.turnsEnabled {
			c.turns.PendingInbound = append(c.turns.PendingInbound, msg)
		}
	}
	c.state.LastActivityAt = workflow.Now(ctx)
	c.activity++
	return InboundResult{Stored: stored}, nil
}

// open loads the tenant's profile (every run, so a continued conversation sees current settings)
// and, on the first run, records the contact and the conversation.
func (c *conversationRun) open(ctx workflow.Context) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		searchattr.TenantID.ValueSet(c.in.TenantID), searchattr.Stage.ValueSet(string(c.state.Stage))); err != nil {
		return err
	}
	if err := c.store(ctx, acts.LoadTenantProfile, c.in.TenantID).Get(ctx, &c.profile); err != nil {
		return err
	}
	if !c.profile.Active {
		c.state.CloseReason = CloseTenantPaused
	}
	if c.state.ConversationID != 0 {
		return nil
	}
	var id int64
	if err := c.store(ctx, acts.OpenConversation, activities.OpenConversationInput{
		TenantID: c.in.TenantID, Caller: c.in.Caller, PhoneHash: c.in.CallerHash,
		Trigger: c.in.Trigger, Stage: conversation.StageOpening, FirstRunID: firstRunID(ctx),
	}).Get(ctx, &id); err != nil {
		return err
	}
	c.state.ConversationID = id
	c.state.LastActivityAt = workflow.Now(ctx)
	return nil
}

// handleCalls records missed calls that arrived since the last pass. A second call while the
// conversation is open is recorded, not answered with a second thread of texts.
func (c *conversationRun) handleCalls(ctx workflow.Context) error {
	for len(c.pendingCalls) > 0 {
		call := c.pendingCalls[0]
		c.pendingCalls = c.pendingCalls[1:]
		if call.CallSid == "" || c.seenCalls[call.CallSid] {
			continue
		}
		c.seenCalls[call.CallSid] = true
		var res activities.RecordMissedCallResult
		if err := c.store(ctx, acts.RecordMissedCall, activities.RecordMissedCallInput{
			TenantID: c.in.TenantID, ConversationID: c.state.ConversationID, PhoneHash: c.in.CallerHash,
			CallSid: call.CallSid, Status: call.Status, OccurredAt: call.At,
		}).Get(ctx, &res); err != nil {
			return err
		}
		if res.HandledElsewhere {
			// Twilio retried a webhook whose conversation already ended. If that call is all this
			// conversation has, there is nobody new to answer.
			if !c.state.FirstTextSent && c.state.MissedCalls == 0 && c.in.Trigger == conversation.TriggerMissedCall {
				c.state.CloseReason = CloseAlreadyCalled
			}
			continue
		}
		c.state.MissedCalls++
		c.state.LastActivityAt = workflow.Now(ctx)
	}
	return nil
}

func (c *conversationRun) sendFirstText(ctx workflow.Context) error {
	template := c.profile.GreetingText
	if c.in.Trigger == conversation.TriggerInboundSMS {
		template = greeting.InboundText
	}
	outcome, err := c.sendText(ctx, "first-text", greeting.Render(template, c.profile.Name))
	if err != nil {
		return err
	}
	// A carrier rejection marks the first text done too: the carrier will never deliver to this
	// number (landline, unsubscribed, invalid), but inbound texts are still stored.
	c.state.FirstTextSent = true
	if outcome == textSuppressed {
		// The caller opted out earlier (perhaps before erasing their data), or during the wait
		// for their window; a new call does not lift that, so the conversation ends silently.
		// The business's account closing silences it the same way.
		c.state.CloseReason = CloseOptedOut
		if c.tenantClosing {
			c.state.CloseReason = CloseTenantClosing
		} else if c.restricted {
			c.state.CloseReason = CloseRestricted
		}
	}
	return nil
}

// textOutcome is what became of one automated text.
type textOutcome int

const (
	textSent textOutcome = iota
	// textSuppressed: the caller opted out, before the send or while it waited for the window.
	textSuppressed
	// textRejected: the carrier refused the number for good.
	textRejected
)

// sendText sends one automated text to the caller, waiting first, durably, for the caller's
// allowed window. The sending activity re-checks consent (and the clock) right before the
// provider call, so a STOP recorded during the wait always wins.
func (c *conversationRun) sendText(ctx workflow.Context, step, body string) (textOutcome, error) {
	for {
		if err := c.awaitSendWindow(ctx); err != nil {
			return 0, err
		}
		if c.optedOut {
			return textSuppressed, nil
		}
		var res activities.SendSMSResult
		err := c.sms(ctx, acts.SendSMS, activities.SendSMSInput{
			TenantID: c.in.TenantID, ConversationID: c.state.ConversationID,
			From: c.in.BusinessNumber, To: c.in.Caller, PhoneHash: c.in.CallerHash,
			Body: body, Step: step, FirstRunID: firstRunID(ctx), TenantTimezone: c.profile.Timezone,
		}).Get(ctx, &res)
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeSMSRejected {
			workflow.GetLogger(ctx).Warn("text rejected by the carrier", "step", step, "reason", appErr.Error())
			return textRejected, nil
		}
		if err != nil {
			return 0, err
		}
		switch {
		case res.Suppressed:
			c.restricted = c.restricted || res.Restricted
			return textSuppressed, nil
		case !res.NotBefore.IsZero():
			// The send drifted past the window's end while it was retried: wait again.
			if err := c.sleepUntil(ctx, res.NotBefore); err != nil {
				return 0, err
			}
			continue
		}
		c.state.OutboundMessages++
		return textSent, nil
	}
}

// awaitSendWindow returns once an automated text to the caller is allowed (08:00–21:00 in their
// time zone, or a stricter state window and cap), or as soon as the caller opts out.
func (c *conversationRun) awaitSendWindow(ctx workflow.Context) error {
	if !c.quietHours {
		return nil
	}
	for !c.optedOut {
		var policy activities.SendPolicy
		err := workflow.ExecuteLocalActivity(localStoreOptions(ctx), acts.LoadSendPolicy, activities.SendPolicyInput{
			TenantID: c.in.TenantID, PhoneHash: c.in.CallerHash, Now: workflow.Now(ctx),
		}).Get(ctx, &policy)
		if err != nil {
			return err
		}
		if !policy.Enforce {
			return nil
		}
		d, err := quiethours.Next(workflow.Now(ctx), c.in.Caller, quiethours.Policy{
			TenantTimezone: c.profile.Timezone, SentInLast24h: policy.SentInLast24h,
			Start: c.profile.WindowStart, End: c.profile.WindowEnd,
		})
		if err != nil {
			return temporal.NewNonRetryableApplicationError("quiet hours: "+err.Error(), "InvalidTenantProfile", nil)
		}
		if d.Allowed {
			return nil
		}
		workflow.GetLogger(ctx).Info("waiting for the caller's window", "until", d.At, "reason", d.Reason)
		if err := c.sleepUntil(ctx, d.At); err != nil {
			return err
		}
	}
	return nil
}

// sleepUntil waits durably until t, showing the quiet-hours stage meanwhile; an opt-out ends the
// wait at once.
func (c *conversationRun) sleepUntil(ctx workflow.Context, t time.Time) error {
	before := c.state.Stage
	if err := c.setStage(ctx, conversation.StageQuietHours); err != nil {
		return err
	}
	if _, err := workflow.AwaitWithTimeout(ctx, t.Sub(workflow.Now(ctx)), func() bool { return c.optedOut }); err != nil {
		return err
	}
	return c.setStage(ctx, before)
}

func (c *conversationRun) setStage(ctx workflow.Context, stage conversation.Stage) error {
	if c.state.Stage == stage {
		return nil
	}
	c.state.Stage = stage
	if err := workflow.UpsertTypedSearchAttributes(ctx, searchattr.Stage.ValueSet(string(stage))); err != nil {
		return err
	}
	return c.store(ctx, acts.SetConversationStage, activities.SetStageInput{
		TenantID: c.in.TenantID, ConversationID: c.state.ConversationID, Stage: stage,
		Closed: stage == conversation.StageClosed,
	}).Get(ctx, nil)
}

// finish closes the conversation once every in-flight text has been stored. New texts are turned
// away by the update validator from here on; the starter retries them into a new conversation.
func (c *conversationRun) finish(ctx workflow.Context) (State, error) {
	c.closing = true
	if err := c.setStage(ctx, conversation.StageClosing); err != nil {
		return c.state, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return c.state, err
	}
	if c.turnsEnabled && c.state.ConversationID != 0 {
		c.emit(ctx, activities.EventConversationClosed, map[string]any{
			"conversation_id": c.state.ConversationID, "reason": c.state.CloseReason, "booked": c.state.Booked,
			"escalated": c.state.Escalated, "inbound_messages": c.state.InboundMessages, "outbound_messages": c.state.OutboundMessages,
		})
	}
	if err := c.setStage(ctx, conversation.StageClosed); err != nil {
		return c.state, err
	}
	return c.state, nil
}

// continueAsNew hands the conversation to a fresh run once history grows long, keeping calls that
// were signalled but not yet recorded.
func (c *conversationRun) continueAsNew(ctx workflow.Context, callCh workflow.ReceiveChannel) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	for {
		var call MissedCall
		if !callCh.ReceiveAsync(&call) {
			break
		}
		c.pendingCalls = append(c.pendingCalls, call)
	}
	next := c.in
	next.FirstCall = nil
	next.Carry = &Carry{State: c.state, SeenCallSids: workflow.DeterministicKeys(c.seenCalls), PendingCalls: c.pendingCalls, Turns: c.turns}
	return workflow.NewContinueAsNewError(ctx, Conversation, next)
}

// storeOptions are for database activities: short, and retried until the database is back.
func storeOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         storeRetry(),
	})
}

// store runs a short database step: as a local activity, or, when replaying histories from
// before local activities, as the regular activity those histories recorded.
func (c *conversationRun) store(ctx workflow.Context, activity any, args ...any) workflow.Future {
	if c.localActivities {
		return workflow.ExecuteLocalActivity(localStoreOptions(ctx), activity, args...)
	}
	return workflow.ExecuteActivity(storeOptions(ctx), activity, args...)
}

// sms runs a sending step (SendSMS, NotifyStaff) the same way. The outbox makes every retry of
// either kind safe.
func (c *conversationRun) sms(ctx workflow.Context, activity any, args ...any) workflow.Future {
	if c.localActivities {
		return workflow.ExecuteLocalActivity(localSMSOptions(ctx), activity, args...)
	}
	return workflow.ExecuteActivity(smsOptions(ctx), activity, args...)
}

// localRetryWindow bounds all the attempts of one local activity. It must be set: left at zero,
// the SDK makes a local activity's schedule-to-close equal to its start-to-close, so that a
// provider or database outage longer than one attempt's timeout would end the retries and fail
// the conversation. A text that could not leave within a day no longer answers the call; the
// conversation then fails where the operator sees it.
const localRetryWindow = 24 * time.Hour

// localSMSOptions are smsOptions for a local activity.
func localSMSOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: localRetryWindow,
		StartToCloseTimeout:    45 * time.Second,
		RetryPolicy:            smsRetry(),
	})
}

// localStoreOptions are for short database reads run as local activities, which cost no round
// trip through the server.
func localStoreOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: localRetryWindow,
		StartToCloseTimeout:    10 * time.Second,
		RetryPolicy:            storeRetry(),
	})
}

// storeRetry retries a database step until the database is back; an unknown tenant is final.
func storeRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrTypeTenantNotFound},
	}
}

// smsRetry keeps retrying transient provider failures; a carrier's refusal is final. Retries
// settle at one every 30 s per text: the caller hears from the business within about that long of
// the provider's recovery, and even a thousand texts held up is a load any provider absorbs.
func smsRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        2 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		NonRetryableErrorTypes: []string{activities.ErrTypeSMSRejected},
	}
}

// modelOptions give one model turn room for the primary's and the fallback's timeouts; a model
// that does not answer is a result, so retries are for the database reads around it.
func modelOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 90 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    3,
		},
	})
}

// smsOptions bound one Twilio request by its HTTP timeout and keep retrying transient failures;
// the outbox makes every retry safe.
func smsOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 45 * time.Second,
		RetryPolicy:         smsRetry(),
	})
}
