package workflows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/activities/dsr"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/store"
)

const (
	dsrPhone  = "+16145550142"
	dsrSecond = "+16145550199"
	dsrCode   = "482913"
)

// dsrRecorder captures what the request asked of its activities.
type dsrRecorder struct {
	env       *testsuite.TestWorkflowEnvironment
	codesTo   []string
	statuses  []store.DSRStatus
	verified  []string
	attested  []string
	exported  [][]string
	erased    [][]string
	restrict  []dsr.RestrictInput
	notices   []dsr.NoticeInput
	reminders []dsr.EscalateInput
	remindAt  []time.Time
	deadlines []legalclock.Clock
	// exportFailsUntil makes Export fail until this instant of the workflow clock.
	exportFailsUntil time.Time
}

func newDSREnv(t *testing.T, received time.Time) (*testsuite.TestWorkflowEnvironment, *dsrRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(received)
	env.RegisterWorkflow(DataSubjectRequest)
	env.RegisterActivity(dsrActs)
	r := &dsrRecorder{env: env}
	env.OnActivity(dsrActs.SendCode, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.SendCodeInput) (dsr.SentCode, error) {
			r.codesTo = append(r.codesTo, in.Phone)
			return dsr.SentCode{Salt: "s" + in.Phone, Hash: dsr.CodeHash("s"+in.Phone, dsrCode), ExpiresAt: env.Now().Add(dsr.CodeTTL)}, nil
		})
	env.OnActivity(dsrActs.SetStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.StatusInput) error {
			r.statuses = append(r.statuses, in.Status)
			return nil
		})
	env.OnActivity(dsrActs.MarkVerified, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.IdentifierInput) error {
			r.verified = append(r.verified, in.Phone)
			return nil
		})
	env.OnActivity(dsrActs.MarkAttested, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.IdentifierInput) error {
			r.attested = append(r.attested, in.Phone+" by "+in.Actor)
			return nil
		})
	env.OnActivity(dsrActs.Export, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.SubjectsInput) ([]dsr.ExportResult, error) {
			if env.Now().Before(r.exportFailsUntil) {
				return nil, errors.New("database unavailable")
			}
			r.exported = append(r.exported, in.Phones)
			return []dsr.ExportResult{{Link: "https://ringback.example/dsr/export/tok"}}, nil
		})
	env.OnActivity(dsrActs.Erase, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.SubjectsInput) (dsr.EraseResult, error) {
			r.erased = append(r.erased, in.Phones)
			return dsr.EraseResult{}, nil
		})
	env.OnActivity(dsrActs.Restrict, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.RestrictInput) error { r.restrict = append(r.restrict, in); return nil })
	env.OnActivity(dsrActs.Notify, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.NoticeInput) error { r.notices = append(r.notices, in); return nil })
	env.OnActivity(dsrActs.Escalate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.EscalateInput) error {
			r.reminders = append(r.reminders, in)
			r.remindAt = append(r.remindAt, env.Now())
			return nil
		})
	env.OnActivity(dsrActs.SetDeadlines, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in dsr.DeadlinesInput) error {
			r.deadlines = append(r.deadlines, in.Clock)
			return nil
		})
	return env, r
}

func dsrInput(t *testing.T, kind store.DSRKind, regime legalclock.Regime, received time.Time, phones ...string) DSRInput {
	t.Helper()
	c, err := legalclock.New(regime, received, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return DSRInput{RequestID: "reqabcdefghijklm", TenantID: testTenant, Kind: kind, Clock: c, Phones: phones}
}

func runDSR(t *testing.T, env *testsuite.TestWorkflowEnvironment, in DSRInput) DSRState {
	t.Helper()
	env.ExecuteWorkflow(DataSubjectRequest, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("request did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("request failed: %v", err)
	}
	var st DSRState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// answerCode sends the requester's code for phone after delay, and records the outcome.
func answerCode(env *testsuite.TestWorkflowEnvironment, delay time.Duration, phone, code string, outcome *[]string) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateVerifyCode, fmt.Sprintf("%s-%s-%d", phone, code, delay), &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { *outcome = append(*outcome, "rejected: "+err.Error()) },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { *outcome = append(*outcome, errString(err)) },
		}, VerifyCode{Phone: phone, Code: code})
	}, delay)
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func TestUnverifiedSecondNumberIsLeftOutOfTheExport(t *testing.T) {
	received := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	var outcomes []string
	answerCode(env, 2*time.Minute, dsrPhone, dsrCode, &outcomes)
	st := runDSR(t, env, dsrInput(t, store.DSRAccess, legalclock.CCPA, received, dsrPhone, dsrSecond))

	if !slices.Equal(r.codesTo, []string{dsrPhone, dsrSecond}) {
		t.Fatalf("codes sent to %v, want both numbers", r.codesTo)
	}
	if !slices.Equal(outcomes, []string{"ok"}) || !slices.Equal(r.verified, []string{dsrPhone}) {
		t.Fatalf("verification outcomes %v, verified %v", outcomes, r.verified)
	}
	// P17: the second number never answered its code, so it must not widen the export.
	if len(r.exported) != 1 || !slices.Equal(r.exported[0], []string{dsrPhone}) {
		t.Fatalf("exported %v, want only the verified number", r.exported)
	}
	if st.Ignored != 1 || st.Status != store.DSRCompleted {
		t.Fatalf("state %+v", st)
	}
	if n := r.notices[len(r.notices)-1]; n.Phone != dsrPhone || !strings.Contains(n.Body, "/dsr/export/") {
		t.Fatalf("final notice %+v", n)
	}
	want := []store.DSRStatus{store.DSRVerifying, store.DSRInProgress, store.DSRCompleted}
	if !slices.Equal(r.statuses, want) {
		t.Fatalf("statuses %v, want %v", r.statuses, want)
	}
}

func TestWrongCodesRunOutAndTheRequestIsRejected(t *testing.T) {
	received := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	var outcomes []string
	for i := range MaxCodeAttempts {
		answerCode(env, time.Duration(i+1)*time.Minute, dsrPhone, "000000", &outcomes)
	}
	st := runDSR(t, env, dsrInput(t, store.DSRDeletion, legalclock.GDPR, received, dsrPhone))
	if len(r.erased) != 0 || st.Status != store.DSRRejected || st.RejectReason == "" {
		t.Fatalf("erased %v, state %+v: an unverified request must not be acted on", r.erased, st)
	}
	if len(outcomes) != MaxCodeAttempts || !strings.Contains(outcomes[MaxCodeAttempts-1], "no attempts left") {
		t.Fatalf("outcomes %v", outcomes)
	}
}

func TestExpiredCodeIsRefused(t *testing.T) {
	received := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	var outcomes []string
	answerCode(env, dsr.CodeTTL+time.Minute, dsrPhone, dsrCode, &outcomes)
	st := runDSR(t, env, dsrInput(t, store.DSRAccess, legalclock.CCPA, received, dsrPhone))
	if len(r.exported) != 0 || st.Status != store.DSRRejected {
		t.Fatalf("a code answered after it expired verified the request: %+v", st)
	}
}

func TestAttestedDeletionErasesWithoutCodes(t *testing.T) {
	received := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	in := dsrInput(t, store.DSRDeletion, legalclock.CCPA, received, dsrPhone)
	in.AttestedBy, in.AttestReason = "token:compliance1", "verified by callback to the number on file"
	st := runDSR(t, env, in)
	if len(r.codesTo) != 0 || !slices.Equal(r.attested, []string{dsrPhone + " by token:compliance1"}) {
		t.Fatalf("codes %v, attested %v", r.codesTo, r.attested)
	}
	if len(r.erased) != 1 || st.Status != store.DSRCompleted || st.Erased == nil {
		t.Fatalf("erased %v, state %+v", r.erased, st)
	}
}

func TestRestrictionAndObjectionPutTheirKindInForce(t *testing.T) {
	for kind, want := range map[store.DSRKind]store.RestrictionKind{
		store.DSRRestriction: store.ProcessingRestricted, store.DSRObjection: store.ProcessingObjected,
	} {
		received := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
		env, r := newDSREnv(t, received)
		in := dsrInput(t, kind, legalclock.GDPR, received, dsrPhone)
		in.AttestedBy, in.AttestReason = "token:c", "in person"
		runDSR(t, env, in)
		if len(r.restrict) != 1 || r.restrict[0].Kind != want || !slices.Equal(r.restrict[0].Phones, []string{dsrPhone}) {
			t.Fatalf("%s: restrict %+v", kind, r.restrict)
		}
	}
}

// TestStuckRequestRemindsThenEscalates: an answer that cannot be produced (the database is down
// for weeks) reminds staff 7 and 2 days before the GDPR deadline and escalates the day before.
// Received 31 January, the month ends 28 February.
func TestStuckRequestRemindsThenEscalates(t *testing.T) {
	received := time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	r.exportFailsUntil = time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC)
	in := dsrInput(t, store.DSRAccess, legalclock.GDPR, received, dsrPhone)
	in.AttestedBy, in.AttestReason = "token:c", "in person"
	runDSR(t, env, in)
	var got []string
	for i, rem := range r.reminders {
		got = append(got, string(rem.Kind)+"@"+r.remindAt[i].Format("01-02"))
	}
	want := []string{"reminder@02-21", "reminder@02-26", "escalation@02-27"}
	if !slices.Equal(got, want) {
		t.Fatalf("reminders %v, want %v", got, want)
	}
	if len(r.exported) != 1 {
		t.Fatal("the export never went through once the database was back")
	}
}

func TestExtensionNeedsNoticeBeforeTheDeadline(t *testing.T) {
	received := time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	r.exportFailsUntil = time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)
	in := dsrInput(t, store.DSRAccess, legalclock.GDPR, received, dsrPhone)
	in.AttestedBy, in.AttestReason = "token:c", "in person"
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalExtend, ClosureSignal{By: "token:c", Reason: "the records are in a backup being restored"})
	}, 20*24*time.Hour)
	st := runDSR(t, env, in)
	if !st.Extended || len(r.deadlines) != 1 || !r.deadlines[0].Extended {
		t.Fatalf("state %+v, deadlines %+v", st, r.deadlines)
	}
	var notice string
	for _, n := range r.notices {
		if n.Step == "notice-extension" {
			notice = n.Body
		}
	}
	// Two further months from 28 February: 28 April.
	if !strings.Contains(notice, "backup being restored") || !strings.Contains(notice, "April 28, 2027") {
		t.Fatalf("extension notice %q", notice)
	}
}

func TestExtensionOnTheDeadlineDayIsRefused(t *testing.T) {
	received := time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)
	env, r := newDSREnv(t, received)
	r.exportFailsUntil = time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)
	in := dsrInput(t, store.DSRAccess, legalclock.GDPR, received, dsrPhone)
	in.AttestedBy, in.AttestReason = "token:c", "in person"
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalExtend, ClosureSignal{By: "token:c", Reason: "too late"})
	}, time.Date(2027, 2, 28, 9, 0, 0, 0, time.UTC).Sub(received))
	st := runDSR(t, env, in)
	if st.Extended || len(r.deadlines) != 0 {
		t.Fatalf("an extension announced on the deadline day was taken: %+v", st)
	}
}
