// Package incident holds the side effects of a security incident: its record in the audit log,
// the notices to the businesses it affects, and the reminders of the 72-hour notification clock.
package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/store"
)

// Incidents carries the activities' dependencies.
type Incidents struct {
	Store           *store.Store
	Texts           *activities.Activities
	Hasher          *phone.Hasher
	CompliancePhone string
	PlatformNumber  string
}

// RecordInput is one event of an incident.
type RecordInput struct {
	IncidentID string
	// LogID is the control log, or an affected tenant's log.
	LogID   string
	Action  string
	Actor   string
	Step    string
	At      time.Time
	Details map[string]any
}

// Record appends an incident event to an audit log, once per step.
func (i *Incidents) Record(ctx context.Context, in RecordInput) error {
	fields := map[string]any{"incident_id": in.IncidentID}
	for k, v := range in.Details {
		fields[k] = v
	}
	payload, err := json.Marshal(fields)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("incident audit: "+err.Error(), "InvalidInput", nil)
	}
	actor := in.Actor
	if actor == "" {
		actor = "system"
	}
	_, err = i.Store.AppendAudit(ctx, store.AuditEvent{
		LogID: in.LogID, EventID: in.Action + "/" + in.IncidentID + "/" + in.Step, Actor: actor,
		Action: in.Action, OccurredAt: in.At, Payload: payload,
	})
	if errors.Is(err, store.ErrAuditConflict) {
		return nil
	}
	return err
}

// NotifyInput is the notice to one affected business.
type NotifyInput struct {
	IncidentID string
	TenantID   string
	Message    string
	Actor      string
	Step       string
	At         time.Time
}

// NotifyTenant texts the business's owner the approved notice, from the business's own number,
// and records it in the tenant's audit log. A tenant erased since is skipped.
func (i *Incidents) NotifyTenant(ctx context.Context, in NotifyInput) (bool, error) {
	c, err := i.Store.TenantOwnerContact(ctx, in.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	sent := false
	if c.From != "" && c.OwnerPhone != "" {
		res, err := i.Texts.SendSMS(ctx, activities.SendSMSInput{
			TenantID: in.TenantID, From: c.From, To: c.OwnerPhone, PhoneHash: i.Hasher.Hash(c.OwnerPhone),
			Body: "Ringback security notice: " + in.Message, Step: in.Step,
			FirstRunID: activity.GetInfo(ctx).WorkflowExecution.RunID, StaffAlert: true,
		})
		if err != nil {
			return false, err
		}
		sent = !res.Suppressed
	}
	return sent, i.Record(ctx, RecordInput{
		IncidentID: in.IncidentID, LogID: in.TenantID, Action: "incident.notified", Actor: in.Actor, Step: in.Step, At: in.At,
		Details: map[string]any{"texted_owner": sent},
	})
}

// RemindInput is a reminder of the notification deadline.
type RemindInput struct {
	IncidentID string
	TenantID   string
	Deadline   time.Time
	Step       string
	At         time.Time
}

// Remind records the reminder in the control log and texts the compliance contact, if any.
func (i *Incidents) Remind(ctx context.Context, in RemindInput) error {
	if err := i.Record(ctx, RecordInput{
		IncidentID: in.IncidentID, LogID: auditlog.ControlLog, Action: "incident.reminder", Step: in.Step, At: in.At,
		Details: map[string]any{"deadline": in.Deadline.UTC().Format(time.RFC3339)},
	}); err != nil {
		return err
	}
	if i.CompliancePhone == "" || i.PlatformNumber == "" {
		return nil
	}
	// Claimed in the first affected tenant's outbox: the text is about that tenant, and the
	// outbox is what keeps a retried reminder from going out twice.
	_, err := i.Texts.SendSMS(ctx, activities.SendSMSInput{
		TenantID: in.TenantID, From: i.PlatformNumber, To: i.CompliancePhone, PhoneHash: i.Hasher.Hash(i.CompliancePhone),
		Body: fmt.Sprintf("Ringback incident %s: affected businesses must be notified by %s.", in.IncidentID,
			in.Deadline.UTC().Format("2006-01-02 15:04 MST")),
		Step: in.Step, FirstRunID: activity.GetInfo(ctx).WorkflowExecution.RunID, StaffAlert: true,
	})
	return err
}
