package workflows

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/internal/agent"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/optout"
	"github.com/ringback/ringback/internal/quiethours"
)

const (
	testTenant = "abcdefghijklmnop"
	testCaller = "+16145550123"
	testHash   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testNumber = "+15005550006"
)

var start = time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)

func missedCallInput() ConversationInput {
	return ConversationInput{
		TenantID: testTenant, Caller: testCaller, CallerHash: testHash, BusinessNumber: testNumber,
		Trigger:     conversation.TriggerMissedCall,
		FirstCall:   &MissedCall{CallSid: "CA1", Status: "no-answer", At: start},
		IdleTimeout: 24 * time.Hour,
	}
}

// recorder captures what the mocked activities were asked to do.
type recorder struct {
	sent    []activities.SendSMSInput
	calls   []activities.RecordMissedCallInput
	inbound []activities.RecordInboundInput
	stages  []conversation.Stage
	// handledElsewhere lists CallSids an earlier conversation already recorded.
	handledElsewhere map[string]bool
	tenantActive     bool
	sendErr          error
	// suppressed makes SendSMS report the caller opted out, except for consent replies.
	suppressed bool
	// sentAt is the workflow clock at each text in sent.
	sentAt []time.Time
	// earlierTexts are texts to the caller from before this conversation, for state caps.
	earlierTexts []time.Time
	// notBefore makes the next SendSMS calls report the window closed until these instants.
	notBefore []time.Time

	// modelReplies are the model's answers, in order; when empty it answers with a question.
	modelReplies  []activities.ModelTurnResult
	modelTurns    []activities.ModelTurnInput
	openSlots     []time.Time
	slotQueries   []activities.FindSlotsInput
	bookings      []activities.BookInput
	cancelled     []activities.CancelInput
	escalations   []activities.RecordEscalationInput
	marks         []activities.MarkEscalationInput
	staff         []activities.NotifyStaffInput
	staffAt       []time.Time
	events        []activities.TenantEvent
	hasBackup     bool
	followUpAfter time.Duration
	windowStart   quiethours.Clock
}

var testBusiness = agent.Business{
	Name: "Demo Plumbing", Timezone: "America/New_York", HoursText: "Mon–Fri 09:00–17:00; closed Sat, Sun",
	Services: []agent.Service{{Name: "Drain cleaning", Minutes: 60, PriceCents: 12000}, {Name: "Leak repair", Minutes: 90}},
}

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *recorder) {
	t.Helper()
	return newEnvAt(t, start)
}

// newEnvAt is newEnv with the workflow clock starting at startAt.
func newEnvAt(t *testing.T, startAt time.Time) (*testsuite.TestWorkflowEnvironment, *recorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(startAt)
	env.RegisterWorkflow(Conversation)
	env.RegisterWorkflow(ConsentReply)
	env.RegisterWorkflow(TenantWebhook)
	env.RegisterActivity(acts)
	rec := &recorder{tenantActive: true, handledElsewhere: map[string]bool{}}
	env.OnActivity(acts.LoadTenantProfile, mock.Anything, testTenant).Return(
		func(_ context.Context, id string) (activities.TenantProfile, error) {
			return activities.TenantProfile{
				TenantID: id, Name: "Demo Plumbing", Timezone: "America/New_York", GreetingText: "Hi from {business}!",
				Active: rec.tenantActive, Numbers: []string{testNumber}, Business: testBusiness,
				EscalationTimeout: 15 * time.Minute, HasBackup: rec.hasBackup, FollowUpAfter: rec.followUpAfter,
				WindowStart: rec.windowStart,
			}, nil
		})
	env.OnActivity(acts.OpenConversation, mock.Anything, mock.Anything).Return(int64(42), nil)
	env.OnActivity(acts.RecordMissedCall, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordMissedCallInput) (activities.RecordMissedCallResult, error) {
			rec.calls = append(rec.calls, in)
			return activities.RecordMissedCallResult{HandledElsewhere: rec.handledElsewhere[in.CallSid]}, nil
		})
	env.OnActivity(acts.RecordInbound, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordInboundInput) (bool, error) {
			for _, prev := range rec.inbound {
				if prev.MessageSid == in.MessageSid {
					return false, nil
				}
			}
			rec.inbound = append(rec.inbound, in)
			return true, nil
		})
	env.OnActivity(acts.SendSMS, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendSMSInput) (activities.SendSMSResult, error) {
			if rec.sendErr != nil {
				return activities.SendSMSResult{}, rec.sendErr
			}
			if in.FirstRunID == "" {
				return activities.SendSMSResult{}, errors.New("first run id missing")
			}
			if rec.suppressed && !in.ConsentReply {
				return activities.SendSMSResult{Suppressed: true}, nil
			}
			if len(rec.notBefore) > 0 {
				nb := rec.notBefore[0]
				rec.notBefore = rec.notBefore[1:]
				return activities.SendSMSResult{NotBefore: nb}, nil
			}
			rec.sent = append(rec.sent, in)
			rec.sentAt = append(rec.sentAt, env.Now())
			return activities.SendSMSResult{ProviderMessageID: "SM" + in.Step}, nil
		})
	env.OnActivity(acts.LoadSendPolicy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendPolicyInput) (activities.SendPolicy, error) {
			if in.TenantID != testTenant || in.PhoneHash != testHash {
				return activities.SendPolicy{}, errors.New("send policy asked for the wrong recipient")
			}
			var recent []time.Time
			for _, at := range append(rec.earlierTexts, rec.sentAt...) {
				if at.After(in.Now.Add(-24*time.Hour)) && !at.After(in.Now) {
					recent = append(recent, at)
				}
			}
			return activities.SendPolicy{Enforce: true, SentInLast24h: recent}, nil
		})
	env.OnActivity(acts.ModelTurn, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ModelTurnInput) (activities.ModelTurnResult, error) {
			rec.modelTurns = append(rec.modelTurns, in)
			if len(rec.modelReplies) == 0 {
				return activities.ModelTurnResult{Content: "Happy to help. What would you like to book?", Source: "primary"}, nil
			}
			r := rec.modelReplies[0]
			rec.modelReplies = rec.modelReplies[1:]
			return r, nil
		})
	env.OnActivity(acts.FindSlots, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FindSlotsInput) ([]time.Time, error) {
			rec.slotQueries = append(rec.slotQueries, in)
			return rec.openSlots, nil
		})
	env.OnActivity(acts.BookAppointment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BookInput) (activities.BookResult, error) {
			rec.bookings = append(rec.bookings, in)
			for _, s := range rec.openSlots {
				if s.Equal(in.Start) {
					return activities.BookResult{Booked: true, Booking: activities.BookingInfo{ID: int64(len(rec.bookings)), Service: in.Service, Start: in.Start, End: in.Start.Add(30 * time.Minute), Name: in.Name}}, nil
				}
			}
			return activities.BookResult{Refusal: "10:15 is not on the 30-minute grid", Alternatives: rec.openSlots}, nil
		})
	env.OnActivity(acts.CancelAppointment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelInput) (activities.BookingInfo, error) {
			rec.cancelled = append(rec.cancelled, in)
			return activities.BookingInfo{ID: in.BookingID, Service: "Drain cleaning", Start: rec.openSlots[0]}, nil
		})
	env.OnActivity(acts.RecordEscalation, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordEscalationInput) (int64, error) {
			rec.escalations = append(rec.escalations, in)
			return 7, nil
		})
	env.OnActivity(acts.MarkEscalation, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MarkEscalationInput) error {
			rec.marks = append(rec.marks, in)
			return nil
		})
	env.OnActivity(acts.NotifyStaff, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NotifyStaffInput) (activities.NotifyStaffResult, error) {
			rec.staff = append(rec.staff, in)
			rec.staffAt = append(rec.staffAt, env.Now())
			return activities.NotifyStaffResult{Sent: true}, nil
		})
	env.OnActivity(acts.DeliverTenantWebhook, mock.Anything, mock.Anything).Return(
		func(_ context.Context, ev activities.TenantEvent) (bool, error) {
			rec.events = append(rec.events, ev)
			return true, nil
		})
	env.OnActivity(acts.SetConversationStage, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SetStageInput) error {
			rec.stages = append(rec.stages, in.Stage)
			return nil
		})
	return env, rec
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) State {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var st State
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMissedCallSendsOneFirstTextThenClosesWhenIdle(t *testing.T) {
	env, rec := newEnv(t)
	var midway State
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryState)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&midway); err != nil {
			t.Error(err)
		}
	}, time.Hour)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)

	if len(rec.sent) != 1 {
		t.Fatalf("sent %d texts, want 1", len(rec.sent))
	}
	first := rec.sent[0]
	if first.Body != "Hi from Demo Plumbing!" || first.To != testCaller || first.From != testNumber || first.Step != "first-text" {
		t.Fatalf("first text = %+v", first)
	}
	if len(rec.calls) != 1 || rec.calls[0].CallSid != "CA1" || rec.calls[0].ConversationID != 42 {
		t.Fatalf("calls recorded = %+v", rec.calls)
	}
	if midway.Stage != conversation.StageAwaitingReply || !midway.FirstTextSent || midway.MissedCalls != 1 {
		t.Fatalf("state after 1h = %+v", midway)
	}
	if st.Stage != conversation.StageClosed || st.CloseReason != CloseIdle || st.OutboundMessages != 1 {
		t.Fatalf("final state = %+v", st)
	}
	wantStages := []conversation.Stage{conversation.StageAwaitingReply, conversation.StageClosing, conversation.StageClosed}
	if strings.Join(stageStrings(rec.stages), ",") != strings.Join(stageStrings(wantStages), ",") {
		t.Fatalf("stages = %v, want %v", rec.stages, wantStages)
	}
}

func stageStrings(ss []conversation.Stage) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

func TestRepeatedAndSecondCallsDoNotTextAgain(t *testing.T) {
	env, rec := newEnv(t)
	env.RegisterDelayedCallback(func() {
		// Twilio retrying the first webhook, then the caller trying again an hour later.
		env.SignalWorkflow(SignalMissedCall, MissedCall{CallSid: "CA1", Status: "no-answer", At: start})
		env.SignalWorkflow(SignalMissedCall, MissedCall{CallSid: "CA2", Status: "busy", At: start.Add(time.Hour)})
	}, time.Hour)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if len(rec.sent) != 1 {
		t.Fatalf("sent %d texts, want 1", len(rec.sent))
	}
	if len(rec.calls) != 2 || rec.calls[1].CallSid != "CA2" {
		t.Fatalf("calls recorded = %+v", rec.calls)
	}
	if st.MissedCalls != 2 {
		t.Fatalf("MissedCalls = %d", st.MissedCalls)
	}
	if got := env.Now().Sub(start); got < 25*time.Hour {
		t.Fatalf("closed after %v: the second call should restart the idle clock", got)
	}
}

func TestInboundTextsAreStoredOnceAndKeepConversationOpen(t *testing.T) {
	env, rec := newEnv(t)
	sendText := func(sid string, at time.Duration) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(UpdateInboundSMS, sid+at.String(), &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { t.Errorf("update %s rejected: %v", sid, err) },
				OnAccept:   func() {},
				OnComplete: func(any, error) {},
			}, InboundSMS{MessageSid: sid, Body: "Can you fix a leak today?", ReceivedAt: start.Add(at)})
		}, at)
	}
	sendText("SM1", 23*time.Hour)
	sendText("SM1", 23*time.Hour+time.Minute) // Twilio retry of the same message
	sendText("SM2", 46*time.Hour)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if len(rec.inbound) != 2 || st.InboundMessages != 2 {
		t.Fatalf("stored %d inbound (state says %d), want 2", len(rec.inbound), st.InboundMessages)
	}
	if rec.inbound[0].ConversationID != 42 || rec.inbound[0].PhoneHash != testHash {
		t.Fatalf("inbound recorded as %+v", rec.inbound[0])
	}
	if got := env.Now().Sub(start); got < 70*time.Hour {
		t.Fatalf("closed after %v, want idle timeout measured from the last text", got)
	}
}

func TestInboundValidatorRejectsOversizedBody(t *testing.T) {
	env, _ := newEnv(t)
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateInboundSMS, "big", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { rejected = err },
			OnAccept:   func() { t.Error("oversized text accepted") },
			OnComplete: func(any, error) {},
		}, InboundSMS{MessageSid: "SM9", Body: strings.Repeat("x", MaxInboundBodyRunes+1)})
	}, time.Minute)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	result(t, env)
	if rejected == nil || !strings.Contains(rejected.Error(), "exceeds") {
		t.Fatalf("rejection = %v", rejected)
	}
}

// TestSMSStartedConversationIsAnswered: a conversation the caller opens by text gets an answer to
// that text, not a canned acknowledgement followed by the answer.
func TestSMSStartedConversationIsAnswered(t *testing.T) {
	env, rec := newEnv(t)
	in := missedCallInput()
	in.Trigger = conversation.TriggerInboundSMS
	in.FirstCall = nil
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateInboundSMS, "SM1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, InboundSMS{MessageSid: "SM1", Body: "hello", ReceivedAt: start})
	}, 0)
	env.ExecuteWorkflow(Conversation, in)
	st := result(t, env)
	if len(rec.sent) != 1 || rec.sent[0].Body != "Happy to help. What would you like to book?" || rec.sent[0].Step != "reply-1" {
		t.Fatalf("sent = %+v", rec.sent)
	}
	if len(rec.modelTurns) != 1 || !rec.modelTurns[0].ToolsAllowed || rec.modelTurns[0].ConversationID != 42 {
		t.Fatalf("model turns = %+v", rec.modelTurns)
	}
	if len(rec.calls) != 0 || st.InboundMessages != 1 || !st.FirstTextSent {
		t.Fatalf("calls %v, state %+v", rec.calls, st)
	}
}

func TestCallAlreadyHandledByEarlierConversationSendsNothing(t *testing.T) {
	env, rec := newEnv(t)
	rec.handledElsewhere["CA1"] = true
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if len(rec.sent) != 0 {
		t.Fatalf("sent %d texts for a retried webhook", len(rec.sent))
	}
	if st.CloseReason != CloseAlreadyCalled || st.Stage != conversation.StageClosed {
		t.Fatalf("state = %+v", st)
	}
}

func TestInactiveTenantSendsNothing(t *testing.T) {
	env, rec := newEnv(t)
	rec.tenantActive = false
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if len(rec.sent) != 0 || st.CloseReason != CloseTenantPaused {
		t.Fatalf("sent %v, state %+v", rec.sent, st)
	}
}

func TestCarrierRejectionDoesNotFailConversation(t *testing.T) {
	env, rec := newEnv(t)
	rec.sendErr = temporal.NewNonRetryableApplicationError("sms rejected: recipient is not a mobile number", activities.ErrTypeSMSRejected, nil)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if !st.FirstTextSent || st.OutboundMessages != 0 || st.CloseReason != CloseIdle {
		t.Fatalf("state = %+v", st)
	}
}

func TestInvalidInputFails(t *testing.T) {
	env, _ := newEnv(t)
	in := missedCallInput()
	in.CallerHash = ""
	env.ExecuteWorkflow(Conversation, in)
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "InvalidInput" {
		t.Fatalf("error = %v", err)
	}
}

func TestContinueAsNewCarriesStateAndPendingCalls(t *testing.T) {
	env, _ := newEnv(t)
	env.SetContinueAsNewSuggested(true)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	if !env.IsWorkflowCompleted() {
		t.Fatal("not completed")
	}
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("error = %v, want continue-as-new", err)
	}
	var next ConversationInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Carry == nil || next.Carry.State.ConversationID != 42 || !next.Carry.State.FirstTextSent {
		t.Fatalf("carry = %+v", next.Carry)
	}
	if len(next.Carry.SeenCallSids) != 1 || next.Carry.SeenCallSids[0] != "CA1" || next.FirstCall != nil {
		t.Fatalf("carry lost the call ledger: %+v first=%v", next.Carry, next.FirstCall)
	}
}

func TestContinuedRunDoesNotReopenOrResend(t *testing.T) {
	env, rec := newEnv(t)
	in := missedCallInput()
	in.FirstCall = nil
	in.Carry = &Carry{
		State:        State{Stage: conversation.StageAwaitingReply, Trigger: conversation.TriggerMissedCall, ConversationID: 42, FirstTextSent: true, MissedCalls: 1},
		SeenCallSids: []string{"CA1"},
		PendingCalls: []MissedCall{{CallSid: "CA1"}, {CallSid: "CA3", Status: "no-answer", At: start}},
	}
	env.ExecuteWorkflow(Conversation, in)
	st := result(t, env)
	if len(rec.sent) != 0 {
		t.Fatalf("continued run resent: %+v", rec.sent)
	}
	if len(rec.calls) != 1 || rec.calls[0].CallSid != "CA3" || st.MissedCalls != 2 {
		t.Fatalf("calls = %+v, state = %+v", rec.calls, st)
	}
	env.AssertNotCalled(t, "OpenConversation", mock.Anything, mock.Anything)
}

func TestConversationWorkflowID(t *testing.T) {
	id, err := ConversationWorkflowID(testTenant, testHash)
	if err != nil || id != "conv/"+testTenant+"/0123456789abcdef" {
		t.Fatalf("id = %q, %v", id, err)
	}
	if strings.Contains(id, "6145550123") {
		t.Fatal("id contains the number")
	}
	if _, err := ConversationWorkflowID(testTenant, "short"); err == nil {
		t.Fatal("short hash accepted")
	}
}

func TestKeyScope(t *testing.T) {
	id, _ := ConversationWorkflowID(testTenant, testHash)
	for in, want := range map[string]string{
		id:                      testTenant,
		"closure/" + testTenant: ControlKeyScope,
		"dsr/r-123":             ControlKeyScope,
		"conv/":                 ControlKeyScope,
		"conv//x":               ControlKeyScope,
		"something-else":        ControlKeyScope,
	} {
		if got := KeyScope(in); got != want {
			t.Errorf("KeyScope(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptedOutSignalEndsTheConversation(t *testing.T) {
	env, rec := newEnv(t)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalOptedOut, nil) }, time.Hour)
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if st.CloseReason != CloseOptedOut || st.Stage != conversation.StageClosed {
		t.Fatalf("state = %+v", st)
	}
	if got := env.Now().Sub(start); got > 2*time.Hour {
		t.Fatalf("closed %v after start: the opt-out should end it at once, not at the idle timeout", got)
	}
	if len(rec.sent) != 1 {
		t.Fatalf("sent %d texts, want only the first", len(rec.sent))
	}
}

func TestTenantClosingEndsTheConversationSilently(t *testing.T) {
	env, rec := newEnv(t)
	// A 23:30 caller: the conversation is asleep until 08:00 when the business's account closes.
	late := time.Date(2026, 11, 20, 23, 30, 0, 0, time.FixedZone("EST", -5*3600))
	env.SetStartTime(late)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalTenantClosing, nil) }, time.Hour)
	in := missedCallInput()
	in.FirstCall.At = late
	env.ExecuteWorkflow(Conversation, in)
	st := result(t, env)
	if st.CloseReason != CloseTenantClosing || st.Stage != conversation.StageClosed {
		t.Fatalf("state = %+v", st)
	}
	if len(rec.sent) != 0 {
		t.Fatalf("sent %d texts for a closing business, want none", len(rec.sent))
	}
	if got := env.Now().Sub(late); got > 2*time.Hour {
		t.Fatalf("closed %v after start: the closure should end it at once", got)
	}
}

func TestOptedOutCallerIsNotTextedOnANewCall(t *testing.T) {
	env, rec := newEnv(t)
	rec.suppressed = true
	env.ExecuteWorkflow(Conversation, missedCallInput())
	st := result(t, env)
	if st.CloseReason != CloseOptedOut || st.OutboundMessages != 0 || len(rec.sent) != 0 {
		t.Fatalf("state = %+v, sent %v", st, rec.sent)
	}
	if len(rec.calls) != 1 {
		t.Fatalf("the call was not recorded: %v", rec.calls)
	}
}

func TestConsentReplySendsOneConfirmation(t *testing.T) {
	env, rec := newEnv(t)
	rec.suppressed = true // the caller has just opted out: the confirmation still goes
	env.ExecuteWorkflow(ConsentReply, ConsentReplyInput{
		TenantID: testTenant, Caller: testCaller, CallerHash: testHash, BusinessNumber: testNumber, Kind: optout.OptOut,
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || !rec.sent[0].ConsentReply || rec.sent[0].Step != "consent-reply" ||
		!strings.Contains(rec.sent[0].Body, "unsubscribed") || !strings.Contains(rec.sent[0].Body, "Demo Plumbing") {
		t.Fatalf("sent = %+v", rec.sent)
	}
	id, err := ConsentReplyWorkflowID(testTenant, testHash, "SM1")
	if err != nil || KeyScope(id) != testTenant || strings.Contains(id, "6145550123") {
		t.Fatalf("id %q scope %q: %v", id, KeyScope(id), err)
	}
}

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestLateCallIsAnsweredWhenTheWindowOpens is promise P09: a call missed at 23:30 in the caller's
// zone is answered at 08:00 the next morning, not at once.
func TestLateCallIsAnsweredWhenTheWindowOpens(t *testing.T) {
	ny := newYork(t)
	late := time.Date(2026, 11, 20, 23, 30, 0, 0, ny)
	env, rec := newEnvAt(t, late)
	in := missedCallInput()
	in.FirstCall.At = late
	var during State
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryState)
		if err == nil {
			err = v.Get(&during)
		}
		if err != nil {
			t.Error(err)
		}
	}, 4*time.Hour)
	env.ExecuteWorkflow(Conversation, in)
	st := result(t, env)
	if len(rec.sent) != 1 {
		t.Fatalf("sent %d texts, want 1", len(rec.sent))
	}
	want := time.Date(2026, 11, 21, 8, 0, 0, 0, ny)
	if !rec.sentAt[0].Equal(want) {
		t.Fatalf("first text sent at %v, want %v", rec.sentAt[0].In(ny), want)
	}
	if during.Stage != conversation.StageQuietHours || during.FirstTextSent {
		t.Fatalf("state at 03:30 = %+v, want waiting in quiet hours", during)
	}
	if st.CloseReason != CloseIdle || st.OutboundMessages != 1 {
		t.Fatalf("final state = %+v", st)
	}
}

// TestStopDuringQuietHoursSendsNothing: a STOP recorded while the first text waits for the window
// means nothing is ever sent, and the conversation ends at once instead of at 08:00.
func TestStopDuringQuietHoursSendsNothing(t *testing.T) {
	ny := newYork(t)
	late := time.Date(2026, 11, 20, 23, 30, 0, 0, ny)
	env, rec := newEnvAt(t, late)
	in := missedCallInput()
	in.FirstCall.At = late
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalOptedOut, nil) }, 2*time.Hour)
	env.ExecuteWorkflow(Conversation, in)
	st := result(t, env)
	if len(rec.sent) != 0 {
		t.Fatalf("sent %+v after a STOP", rec.sent)
	}
	if st.CloseReason != CloseOptedOut || st.Stage != conversation.StageClosed {
		t.Fatalf("final state = %+v", st)
	}
	if got := env.Now().Sub(late); got > 3*time.Hour {
		t.Fatalf("closed %v after the call: the STOP should end the wait at once", got)
	}
}

// TestFloridaCapDefersTheFourthText: Florida allows three automated texts per 24 hours, so a
// caller texted three times this morning waits until the oldest is a day old.
func TestFloridaCapDefersTheFourthText(t *testing.T) {
	ny := newYork(t)
	noon := time.Date(2026, 11, 20, 12, 0, 0, 0, ny)
	env, rec := newEnvAt(t, noon)
	rec.earlierTexts = []time.Time{noon.Add(-3 * time.Hour), noon.Add(-2 * time.Hour), noon.Add(-time.Hour)}
	in := missedCallInput()
	in.Caller = "+13055550123" // Miami
	in.FirstCall.At = noon
	env.ExecuteWorkflow(Conversation, in)
	result(t, env)
	if len(rec.sent) != 1 {
		t.Fatalf("sent %d texts, want 1", len(rec.sent))
	}
	if want := noon.Add(21 * time.Hour); rec.sentAt[0].Before(want) {
		t.Fatalf("fourth text sent at %v, before the first of three left the 24-hour cap at %v", rec.sentAt[0], want)
	}
}

// TestSendPastTheWindowWaitsAgain: a send retried through a provider outage until after 21:00 is
// refused by the sending activity, and the workflow sleeps until the activity's time.
func TestSendPastTheWindowWaitsAgain(t *testing.T) {
	ny := newYork(t)
	evening := time.Date(2026, 11, 20, 20, 0, 0, 0, ny)
	env, rec := newEnvAt(t, evening)
	morning := time.Date(2026, 11, 21, 8, 0, 0, 0, ny)
	rec.notBefore = []time.Time{morning}
	in := missedCallInput()
	in.FirstCall.At = evening
	env.ExecuteWorkflow(Conversation, in)
	result(t, env)
	if len(rec.sent) != 1 || rec.sentAt[0].Before(morning) {
		t.Fatalf("sent %d texts at %v, want one at or after %v", len(rec.sent), rec.sentAt, morning)
	}
}

// TestOwnersNarrowerWindowIsKept: an owner who texts callers only from 10:00 has a 09:00 call
// answered at 10:00.
func TestOwnersNarrowerWindowIsKept(t *testing.T) {
	ny := newYork(t)
	nine := time.Date(2026, 11, 20, 9, 0, 0, 0, ny)
	env, rec := newEnvAt(t, nine)
	rec.windowStart = quiethours.At(10, 0)
	in := missedCallInput()
	in.FirstCall.At = nine
	env.ExecuteWorkflow(Conversation, in)
	result(t, env)
	if want := time.Date(2026, 11, 20, 10, 0, 0, 0, ny); len(rec.sentAt) != 1 || !rec.sentAt[0].Equal(want) {
		t.Fatalf("sent at %v, want once at %v", rec.sentAt, want)
	}
}

// Left unset, a local activity's schedule-to-close is its start-to-close, and every retry ends
// with the first attempt's timeout: a one-minute Twilio or database outage then failed the
// conversation (make faults showed it). The test environment cannot show this by running the
// activities: it checks local-activity expiry against the wall clock, not the workflow's.
func TestLocalActivitiesRetryThroughAnOutage(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	options := func(ctx workflow.Context) ([]workflow.LocalActivityOptions, error) {
		return []workflow.LocalActivityOptions{
			workflow.GetLocalActivityOptions(localSMSOptions(ctx)),
			workflow.GetLocalActivityOptions(localStoreOptions(ctx)),
		}, nil
	}
	env.RegisterWorkflowWithOptions(options, workflow.RegisterOptions{Name: "options"})
	env.ExecuteWorkflow("options")
	var got []workflow.LocalActivityOptions
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	for i, o := range got {
		if o.RetryPolicy == nil || o.ScheduleToCloseTimeout < 12*time.Hour {
			t.Errorf("local activity options %d: schedule-to-close %s with retry policy %v; want retries for hours", i, o.ScheduleToCloseTimeout, o.RetryPolicy)
		}
	}
}
