package workflows

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/activities/closure"
	"github.com/ringback/ringback/store"
)

const day = 24 * time.Hour

// closureRecorder captures what the closure asked of its activities, and when (workflow clock).
type closureRecorder struct {
	env     *testsuite.TestWorkflowEnvironment
	steps   []string
	notices []activities.OwnerNoticeInput
	// noticeAt is the workflow clock at each notice.
	noticeAt []time.Time
	records  []closure.RecordInput
	erasedAt time.Time
	cert     *store.DeletionCertificate
	// dirtyScans makes the first n scans find something left.
	dirtyScans int
}

func (r *closureRecorder) step(name string) { r.steps = append(r.steps, name) }

func (r *closureRecorder) actions() []string {
	var out []string
	for _, rec := range r.records {
		out = append(out, rec.Action)
	}
	return out
}

func (r *closureRecorder) noticeKinds() []string {
	var out []string
	for _, n := range r.notices {
		out = append(out, n.Kind)
	}
	return out
}

func newClosureEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *closureRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterWorkflow(AccountClosure)
	env.RegisterActivity(acts)
	env.RegisterActivity(closureActs)
	r := &closureRecorder{env: env}
	env.OnActivity(closureActs.BeginClosure, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in closure.BeginInput) (closure.BeginResult, error) {
			r.step("begin")
			r.records = append(r.records, closure.RecordInput{Action: closure.ActionClosureStarted, Actor: in.RequestedBy, EventID: in.EventID})
			return closure.BeginResult{Changed: true}, nil
		})
	env.OnActivity(closureActs.CloseTenantConversations, mock.Anything, testTenant).Return(
		func(context.Context, string) (int, error) { r.step("close-conversations"); return 3, nil })
	env.OnActivity(closureActs.RecordClosureEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in closure.RecordInput) error { r.records = append(r.records, in); return nil })
	env.OnActivity(closureActs.ReactivateTenant, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in closure.RecordInput) error {
			r.step("reactivate")
			r.records = append(r.records, closure.RecordInput{Action: closure.ActionReactivated, Actor: in.Actor})
			return nil
		})
	env.OnActivity(acts.NotifyOwner, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.OwnerNoticeInput) (activities.OwnerNoticeResult, error) {
			r.notices = append(r.notices, in)
			r.noticeAt = append(r.noticeAt, env.Now())
			return activities.OwnerNoticeResult{Sent: true}, nil
		})
	env.OnActivity(closureActs.DropTenantSchema, mock.Anything, testTenant).Return(
		func(context.Context, string) (bool, error) {
			r.step("drop-schema")
			r.erasedAt = env.Now()
			return true, nil
		})
	env.OnActivity(closureActs.DestroyTenantKeys, mock.Anything, testTenant).Return(
		func(context.Context, string) error { r.step("destroy-keys"); return nil })
	env.OnActivity(closureActs.DeleteTenantExecutions, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in closure.DeleteExecutionsInput) (closure.DeleteExecutionsResult, error) {
			r.step("delete-executions")
			return closure.DeleteExecutionsResult{Found: 7}, nil
		})
	env.OnActivity(closureActs.PurgeTenantRows, mock.Anything, testTenant).Return(
		func(context.Context, string) (map[string]int64, error) {
			r.step("purge-rows")
			return map[string]int64{"tenants": 1, "consent_events": 4}, nil
		})
	env.OnActivity(closureActs.ScanTenant, mock.Anything, testTenant).Return(
		func(context.Context, string) (closure.ScanResult, error) {
			r.step("scan")
			res := closure.ScanResult{Database: store.TenantScan{Remaining: map[string]int64{}, Retained: map[string]int64{"billing_records": 2}}}
			if r.dirtyScans > 0 {
				r.dirtyScans--
				res.Executions = 1
			}
			return res, nil
		})
	env.OnActivity(closureActs.CertifyErasure, mock.Anything, mock.Anything).Return(
		func(_ context.Context, cert store.DeletionCertificate) (closure.CertifyResult, error) {
			r.step("certify")
			r.cert = &cert
			return closure.CertifyResult{AuditIndex: 12}, nil
		})
	return env, r
}

func closureInput(retention time.Duration) ClosureInput {
	return ClosureInput{TenantID: testTenant, Reason: ClosureReasonSubscriptionDeleted, RequestedBy: "stripe:evt_1", Retention: retention}
}

func runClosure(t *testing.T, env *testsuite.TestWorkflowEnvironment, in ClosureInput) ClosureState {
	t.Helper()
	env.ExecuteWorkflow(AccountClosure, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("closure did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("closure failed: %v", err)
	}
	var st ClosureState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

var erasureSteps = []string{"drop-schema", "destroy-keys", "delete-executions", "purge-rows", "scan", "certify"}

func TestClosureErasesWhenTheRetentionPeriodEnds(t *testing.T) {
	env, r := newClosureEnv(t)
	st := runClosure(t, env, closureInput(90*day))

	want := append([]string{"begin", "close-conversations"}, erasureSteps...)
	if !slices.Equal(r.steps, want) {
		t.Fatalf("steps %v, want %v", r.steps, want)
	}
	if got := r.erasedAt.Sub(start); got != 90*day {
		t.Fatalf("erased %v after the closure began, want 90 days", got)
	}
	if st.Stage != ClosureErased || st.AuditCert != 12 || st.Early {
		t.Fatalf("state %+v", st)
	}
	// Told at the start, 7 days and 1 day before, and after the erasure.
	wantKinds := []string{activities.NoticeClosureStarted, activities.NoticeDeletionSoon, activities.NoticeDeletionSoon, activities.NoticeErased}
	if !slices.Equal(r.noticeKinds(), wantKinds) {
		t.Fatalf("notices %v, want %v", r.noticeKinds(), wantKinds)
	}
	for i, before := range []time.Duration{7 * day, day} {
		if got := r.noticeAt[i+1]; !got.Equal(start.Add(90*day - before)) {
			t.Errorf("reminder %d sent at %v, want %v before deletion", i, got, before)
		}
	}
	deleteAt := start.Add(90 * day)
	for _, n := range r.notices {
		if !n.DeleteAt.Equal(deleteAt) {
			t.Errorf("notice %s names deletion at %v, want %v", n.Kind, n.DeleteAt, deleteAt)
		}
	}
	if r.cert == nil || !r.cert.SchemaDropped || !r.cert.KeysDestroyed || r.cert.ExecutionsDeleted != 7 ||
		r.cert.RowsPurged["consent_events"] != 4 || r.cert.Scan.Retained["billing_records"] != 2 ||
		r.cert.RequestedBy != "stripe:evt_1" || !r.cert.ClosureStartedAt.Equal(start) || !r.cert.ErasedAt.Equal(deleteAt) {
		t.Fatalf("certificate %+v", r.cert)
	}
}

func TestClosureRetentionIsConfigurable(t *testing.T) {
	env, r := newClosureEnv(t)
	runClosure(t, env, closureInput(30*day))
	if got := r.erasedAt.Sub(start); got != 30*day {
		t.Fatalf("erased after %v, want 30 days", got)
	}
}

func TestShortRetentionSendsOneReminder(t *testing.T) {
	env, r := newClosureEnv(t)
	runClosure(t, env, closureInput(3*day))
	// The 7-day reminder is already past at the start; only the 1-day one goes out.
	want := []string{activities.NoticeClosureStarted, activities.NoticeDeletionSoon, activities.NoticeErased}
	if !slices.Equal(r.noticeKinds(), want) {
		t.Fatalf("notices %v, want %v", r.noticeKinds(), want)
	}
	if got := r.noticeAt[1]; !got.Equal(start.Add(2 * day)) {
		t.Fatalf("reminder at %v, want one day before deletion", got)
	}
}

func TestReactivateRestoresServiceAndEndsTheClosure(t *testing.T) {
	env, r := newClosureEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalReactivate, ClosureSignal{By: "stripe:evt_2"})
	}, 10*day)
	st := runClosure(t, env, closureInput(90*day))
	if st.Stage != ClosureReactivated {
		t.Fatalf("stage %s, want reactivated", st.Stage)
	}
	if !slices.Equal(r.steps, []string{"begin", "close-conversations", "reactivate"}) {
		t.Fatalf("steps %v: nothing may be erased after a reactivation", r.steps)
	}
	if !slices.Equal(r.noticeKinds(), []string{activities.NoticeClosureStarted, activities.NoticeReactivated}) {
		t.Fatalf("notices %v", r.noticeKinds())
	}
	if got := r.records[len(r.records)-1]; got.Action != closure.ActionReactivated || got.Actor != "stripe:evt_2" {
		t.Fatalf("last audit record %+v", got)
	}
}

func TestDeleteNowErasesWithoutWaiting(t *testing.T) {
	env, r := newClosureEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalDeleteNow, ClosureSignal{By: "token:owner"})
	}, 5*day)
	st := runClosure(t, env, closureInput(90*day))
	if got := r.erasedAt.Sub(start); got != 5*day {
		t.Fatalf("erased after %v, want at the delete-now (5 days)", got)
	}
	if !st.Early || !r.cert.Early {
		t.Fatalf("an early erasure must say so: state %+v, certificate %+v", st, r.cert)
	}
	if !slices.Contains(r.actions(), closure.ActionDeleteNow) {
		t.Fatalf("delete-now not in the audit records: %v", r.actions())
	}
	if slices.Contains(r.noticeKinds(), activities.NoticeDeletionSoon) {
		t.Fatalf("no reminder was due before day 5: %v", r.noticeKinds())
	}
}

func TestLegalHoldPausesTheClock(t *testing.T) {
	env, r := newClosureEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalLegalHold, ClosureSignal{By: "token:compliance", Reason: "litigation 2026-17"})
	}, 80*day)
	// Past the original deletion date, while held: nothing may happen, and delete-now is refused.
	env.RegisterDelayedCallback(func() {
		var st ClosureState
		v, err := env.QueryWorkflow(QueryClosure)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		if err := v.Get(&st); err != nil {
			t.Errorf("query result: %v", err)
			return
		}
		if st.Stage != ClosureLegalHold || !st.OnHold || st.HoldReason != "litigation 2026-17" {
			t.Errorf("state on hold %+v", st)
		}
		env.SignalWorkflow(SignalDeleteNow, ClosureSignal{By: "token:owner"})
	}, 100*day)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalReleaseHold, ClosureSignal{By: "token:compliance"})
	}, 110*day)
	st := runClosure(t, env, closureInput(90*day))

	// 30 days on hold push the deletion from day 90 to day 120.
	if got := r.erasedAt.Sub(start); got != 120*day {
		t.Fatalf("erased after %v, want 120 days (90 plus 30 on hold)", got)
	}
	if st.HeldFor != 30*day || st.Early {
		t.Fatalf("state %+v", st)
	}
	for _, a := range []string{closure.ActionLegalHold, closure.ActionDeleteRefused, closure.ActionHoldReleased} {
		if !slices.Contains(r.actions(), a) {
			t.Fatalf("audit records %v lack %s", r.actions(), a)
		}
	}
	// The hold began on day 80, before the 7-day reminder (day 83) was due; after the release
	// the deletion date is day 120, so the reminders go out on days 113 and 119.
	var reminders []time.Time
	for i, n := range r.notices {
		if n.Kind == activities.NoticeDeletionSoon {
			reminders = append(reminders, r.noticeAt[i])
		}
	}
	want := []time.Time{start.Add(113 * day), start.Add(119 * day)}
	if !slices.EqualFunc(reminders, want, time.Time.Equal) {
		t.Fatalf("reminders at %v, want %v", reminders, want)
	}
}

func TestErasureRunsAgainUntilTheScanIsClean(t *testing.T) {
	env, r := newClosureEnv(t)
	r.dirtyScans = 1
	st := runClosure(t, env, closureInput(day))
	if n := slices.Index(r.steps, "certify"); n < 0 || st.Stage != ClosureErased {
		t.Fatalf("never certified: %v", r.steps)
	}
	scans := 0
	for _, s := range r.steps {
		if s == "scan" {
			scans++
		}
	}
	if scans != 2 {
		t.Fatalf("%d scans, want a second round after the dirty one", scans)
	}
	if slices.Index(r.steps, "certify") < slices.Index(r.steps, "scan") {
		t.Fatal("certified before the scan")
	}
}

func TestErasureThatStaysIncompleteFailsVisibly(t *testing.T) {
	env, r := newClosureEnv(t)
	r.dirtyScans = closureScanAttempts
	env.ExecuteWorkflow(AccountClosure, closureInput(day))
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("an erasure the scan keeps finding data of must fail, not certify")
	}
	if slices.Contains(r.steps, "certify") {
		t.Fatal("certified an incomplete erasure")
	}
	if !slices.Contains(r.actions(), closure.ActionErasureIncomplete) {
		t.Fatalf("incomplete erasure not audited: %v", r.actions())
	}
}

func TestClosureRefusesBadInput(t *testing.T) {
	for _, in := range []ClosureInput{
		{TenantID: "nope", Reason: ClosureReasonOps, Retention: day},
		{TenantID: testTenant, Reason: "whim", Retention: day},
		{TenantID: testTenant, Reason: ClosureReasonOps},
	} {
		env, r := newClosureEnv(t)
		env.ExecuteWorkflow(AccountClosure, in)
		if env.GetWorkflowError() == nil || len(r.steps) > 0 {
			t.Fatalf("input %+v accepted (steps %v)", in, r.steps)
		}
	}
}
