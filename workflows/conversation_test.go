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
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/optout"
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
}

func newEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *recorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(Conversation)
	env.RegisterWorkflow(ConsentReply)
	env.RegisterActivity(acts)
	rec := &recorder{tenantActive: true, handledElsewhere: map[string]bool{}}
	env.OnActivity(acts.LoadTenantProfile, mock.Anything, testTenant).Return(
		func(_ context.Context, id string) (activities.TenantProfile, error) {
			return activities.TenantProfile{TenantID: id, Name: "Demo Plumbing", GreetingText: "Hi from {business}!", Active: rec.tenantActive}, nil
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
			rec.sent = append(rec.sent, in)
			return activities.SendSMSResult{ProviderMessageID: "SM" + in.Step}, nil
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

func TestSMSStartedConversationAcknowledges(t *testing.T) {
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
	if len(rec.sent) != 1 || !strings.Contains(rec.sent[0].Body, "Thanks for texting Demo Plumbing") {
		t.Fatalf("sent = %+v", rec.sent)
	}
	if len(rec.calls) != 0 || st.InboundMessages != 1 {
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
