package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/activities/incident"
)

func newIncidentEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *[]string, *[]time.Time, *[]incident.NotifyInput) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterActivity(incidentActs)
	var records []string
	var reminders []time.Time
	var notices []incident.NotifyInput
	env.OnActivity(incidentActs.Record, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.RecordInput) error {
			records = append(records, in.Action)
			return nil
		})
	env.OnActivity(incidentActs.Remind, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.RemindInput) error {
			reminders = append(reminders, env.Now())
			return nil
		})
	env.OnActivity(incidentActs.NotifyTenant, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NotifyInput) (bool, error) {
			notices = append(notices, in)
			return true, nil
		})
	return env, &records, &reminders, &notices
}

func TestIncidentRemindsUntilNotifiedThenCloses(t *testing.T) {
	env, records, reminders, notices := newIncidentEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalIncidentNotify, IncidentNotice{Message: "a contractor laptop was lost; no customer data was on it", By: "token:c"})
	}, 50*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalIncidentClose, IncidentNotice{Message: "laptop recovered, disk encrypted", By: "token:c"})
	}, 80*time.Hour)
	env.ExecuteWorkflow(SecurityIncident, IncidentInput{IncidentID: "inc1", Tenants: []string{testTenant, "bbbbbbbbbbbbbbbb"},
		Summary: "lost laptop", OpenedBy: "cli:alex", AwareAt: start})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st IncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	// Reminded at 24 h and 48 h; told at 50 h, so the 66 h reminder never fires.
	if len(*reminders) != 2 || !(*reminders)[0].Equal(start.Add(24*time.Hour)) || !(*reminders)[1].Equal(start.Add(48*time.Hour)) {
		t.Fatalf("reminders at %v", *reminders)
	}
	if len(*notices) != 2 || !st.NotifiedInTime || !st.NotifiedAt.Equal(start.Add(50*time.Hour)) || !st.Closed {
		t.Fatalf("state %+v, notices %d", st, len(*notices))
	}
	if len(*records) != 2 || (*records)[0] != "incident.opened" || (*records)[1] != "incident.closed" {
		t.Fatalf("records %v", *records)
	}
}

func TestIncidentNotifiedLateSaysSo(t *testing.T) {
	env, _, reminders, _ := newIncidentEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalIncidentNotify, IncidentNotice{Message: "notice", By: "token:c"})
		env.SignalWorkflow(SignalIncidentClose, IncidentNotice{Message: "done", By: "token:c"})
	}, 73*time.Hour)
	env.ExecuteWorkflow(SecurityIncident, IncidentInput{IncidentID: "inc2", Tenants: []string{testTenant}, Summary: "x", AwareAt: start})
	var st IncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.NotifiedInTime || len(*reminders) != 3 {
		t.Fatalf("a notice after 72 hours must be recorded as late: %+v, reminders %d", st, len(*reminders))
	}
}
