package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities/incident"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/internal/tenantspec"
)

// Names of the incident workflow's messages.
const (
	// SignalIncidentNotify sends the approved notice to every affected business.
	SignalIncidentNotify = "notify"
	// SignalIncidentClose closes the incident with its final summary.
	SignalIncidentClose = "close"
	// QueryIncident returns the IncidentState.
	QueryIncident = "incident"
)

// NotificationWindow is how long after becoming aware of a breach the affected must be told
// (GDPR Art. 33(1): 72 hours for the supervisory authority; the businesses, as controllers,
// need the notice in time to make theirs).
const NotificationWindow = 72 * time.Hour

// incidentReminders are how long after opening staff are reminded, while nobody was notified.
var incidentReminders = []time.Duration{24 * time.Hour, 48 * time.Hour, 66 * time.Hour}

// IncidentWorkflowID names an incident's workflow.
func IncidentWorkflowID(incidentID string) string { return "incident/" + incidentID }

// IncidentInput opens an incident. Summary is staff's description, without personal data.
type IncidentInput struct {
	IncidentID string
	Tenants    []string
	Summary    string
	OpenedBy   string
	// AwareAt is when Ringback became aware of the incident; the clock runs from it.
	AwareAt time.Time
}

// IncidentNotice is the notify signal: the approved text, and who approved it.
type IncidentNotice struct {
	Message string
	By      string
}

// IncidentState is what the query returns.
type IncidentState struct {
	IncidentID string
	Tenants    []string
	Deadline   time.Time
	NotifiedAt time.Time
	// NotifiedInTime is true when the notice went out before the deadline.
	NotifiedInTime bool
	Notified       int
	Reminders      int
	Closed         bool
	ClosedAt       time.Time
}

var incidentActs *incident.Incidents

// SecurityIncident holds an incident's 72-hour notification clock: it reminds staff until the
// affected businesses are told, sends them the approved notice, and keeps the record — opened,
// notified, closed — in the audit log.
func SecurityIncident(ctx workflow.Context, in IncidentInput) (IncidentState, error) {
	if in.IncidentID == "" || len(in.Tenants) == 0 || in.Summary == "" || in.AwareAt.IsZero() {
		return IncidentState{}, temporal.NewNonRetryableApplicationError("incident: an id, affected tenants, a summary and a time of awareness are required", "InvalidInput", nil)
	}
	for _, t := range in.Tenants {
		if !tenantspec.ValidID(t) {
			return IncidentState{}, temporal.NewNonRetryableApplicationError("incident: invalid tenant id", "InvalidInput", nil)
		}
	}
	st := IncidentState{IncidentID: in.IncidentID, Tenants: in.Tenants, Deadline: in.AwareAt.Add(NotificationWindow)}
	if err := workflow.SetQueryHandler(ctx, QueryIncident, func() (IncidentState, error) { return st, nil }); err != nil {
		return st, err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, searchattr.DueAt.ValueSet(st.Deadline), searchattr.Stage.ValueSet("open")); err != nil {
		return st, err
	}
	actx := incidentOptions(ctx)
	record := func(ctx workflow.Context, action, by, step string, details map[string]any) error {
		return workflow.ExecuteActivity(actx, incidentActs.Record, incident.RecordInput{
			IncidentID: in.IncidentID, LogID: auditlog.ControlLog, Action: action, Actor: by, Step: step, At: workflow.Now(ctx), Details: details,
		}).Get(ctx, nil)
	}
	if err := record(ctx, "incident.opened", in.OpenedBy, "opened", map[string]any{
		"tenants": in.Tenants, "summary": in.Summary, "aware_at": in.AwareAt.UTC().Format(time.RFC3339), "deadline": st.Deadline.UTC().Format(time.RFC3339),
	}); err != nil {
		return st, err
	}

	notifyCh := workflow.GetSignalChannel(ctx, SignalIncidentNotify)
	closeCh := workflow.GetSignalChannel(ctx, SignalIncidentClose)
	next := 0
	for !st.Closed {
		sel := workflow.NewSelector(ctx)
		timerCtx, cancel := workflow.WithCancel(ctx)
		for next < len(incidentReminders) && !in.AwareAt.Add(incidentReminders[next]).After(workflow.Now(ctx)) {
			next++ // reminders already past when the incident was opened late
		}
		if st.NotifiedAt.IsZero() && next < len(incidentReminders) {
			at := in.AwareAt.Add(incidentReminders[next])
			sel.AddFuture(workflow.NewTimer(timerCtx, at.Sub(workflow.Now(ctx))), func(workflow.Future) {
				step := fmt.Sprintf("reminder-%d", next)
				next++
				st.Reminders++
				if err := workflow.ExecuteActivity(actx, incidentActs.Remind, incident.RemindInput{
					IncidentID: in.IncidentID, TenantID: in.Tenants[0], Deadline: st.Deadline, Step: step, At: workflow.Now(ctx),
				}).Get(ctx, nil); err != nil {
					workflow.GetLogger(ctx).Warn("incident reminder failed", "error", err.Error())
				}
			})
		}
		var failure error
		sel.AddReceive(notifyCh, func(ch workflow.ReceiveChannel, _ bool) {
			var n IncidentNotice
			ch.Receive(ctx, &n)
			if n.Message == "" {
				return
			}
			st.Notified++
			for _, t := range in.Tenants {
				if err := workflow.ExecuteActivity(actx, incidentActs.NotifyTenant, incident.NotifyInput{
					IncidentID: in.IncidentID, TenantID: t, Message: n.Message, Actor: n.By,
					Step: fmt.Sprintf("notice-%d", st.Notified), At: workflow.Now(ctx),
				}).Get(ctx, nil); err != nil {
					failure = err
					return
				}
			}
			if st.NotifiedAt.IsZero() {
				st.NotifiedAt = workflow.Now(ctx)
				st.NotifiedInTime = !st.NotifiedAt.After(st.Deadline)
			}
		})
		sel.AddReceive(closeCh, func(ch workflow.ReceiveChannel, _ bool) {
			var n IncidentNotice
			ch.Receive(ctx, &n)
			st.Closed, st.ClosedAt = true, workflow.Now(ctx)
			failure = record(ctx, "incident.closed", n.By, "closed", map[string]any{
				"summary": n.Message, "notified_at": st.NotifiedAt, "notified_in_time": st.NotifiedInTime, "reminders": st.Reminders,
			})
		})
		sel.Select(ctx)
		cancel()
		if failure != nil {
			return st, failure
		}
	}
	return st, workflow.UpsertTypedSearchAttributes(ctx, searchattr.Stage.ValueSet("closed"))
}

func incidentOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
}
