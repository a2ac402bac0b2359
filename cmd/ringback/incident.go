package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// incidentCmd opens a security incident and steers its 72-hour notification clock.
func incidentCmd(ctx context.Context, cfg config.Config, sub string, args []string, out, stderr io.Writer) error {
	fs := newFlags("incident " + sub)
	tenants := fs.String("tenants", "", "affected tenant IDs, comma-separated (open)")
	summary := fs.String("summary", "", "what happened, without personal data (open, close)")
	awareAt := fs.String("aware-at", "", "when Ringback became aware, RFC 3339 (open; default now)")
	id := fs.String("incident", "", "the incident's ID")
	message := fs.String("message", "", "the notice the affected businesses are texted (notify)")
	asJSON := fs.Bool("json", false, "print JSON (status)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: incident %s: unexpected argument %q", errUsage, sub, fs.Arg(0))
	case sub == "open" && (*tenants == "" || *summary == ""):
		return fmt.Errorf("%w: incident open: --tenants and --summary are required", errUsage)
	case sub != "open" && *id == "":
		return fmt.Errorf("%w: incident %s: --incident is required", errUsage, sub)
	case sub == "notify" && *message == "":
		return fmt.Errorf("%w: incident notify: --message is required", errUsage)
	case sub == "close" && *summary == "":
		return fmt.Errorf("%w: incident close: --summary is required", errUsage)
	}
	aware := time.Now().UTC()
	if *awareAt != "" {
		t, err := time.Parse(time.RFC3339, *awareAt)
		if err != nil || t.After(time.Now()) {
			return fmt.Errorf("%w: incident open: --aware-at must be a past RFC 3339 time", errUsage)
		}
		aware = t.UTC()
	}
	var ids []string
	for _, t := range strings.Split(*tenants, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if !tenantspec.ValidID(t) {
				return fmt.Errorf("%w: incident open: %q is not a tenant ID", errUsage, t)
			}
			ids = append(ids, t)
		}
	}
	conn, err := connect.Open(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer conn.Close()
	actor := store.ActorFrom(ctx)
	wid := workflows.IncidentWorkflowID(*id)
	switch sub {
	case "open":
		incidentID := tenantspec.NewID()
		if _, err := conn.Temporal.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{
			ID: workflows.IncidentWorkflowID(incidentID), TaskQueue: cfg.ComplianceTaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		}, workflows.SecurityIncident, workflows.IncidentInput{IncidentID: incidentID, Tenants: ids, Summary: *summary, OpenedBy: actor, AwareAt: aware}); err != nil {
			return fmt.Errorf("incident open: %w", err)
		}
		fmt.Fprintf(out, "incident %s opened: notify the affected businesses by %s\n", incidentID,
			aware.Add(workflows.NotificationWindow).Format(time.RFC3339))
		return nil
	case "notify":
		err = conn.Temporal.SignalWorkflow(ctx, wid, "", workflows.SignalIncidentNotify, workflows.IncidentNotice{Message: *message, By: actor})
	case "close":
		err = conn.Temporal.SignalWorkflow(ctx, wid, "", workflows.SignalIncidentClose, workflows.IncidentNotice{Message: *summary, By: actor})
	case "status":
		v, err := conn.Temporal.QueryWorkflow(ctx, wid, "", workflows.QueryIncident)
		if err != nil {
			return fmt.Errorf("incident status: %w", err)
		}
		var st workflows.IncidentState
		if err := v.Get(&st); err != nil {
			return fmt.Errorf("incident status: %w", err)
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(st)
		}
		fmt.Fprintf(out, "incident %s: %d businesses, notify by %s, notified %s (in time: %t), closed %t\n", st.IncidentID, len(st.Tenants),
			st.Deadline.Format(time.RFC3339), st.NotifiedAt.Format(time.RFC3339), st.NotifiedInTime, st.Closed)
		return nil
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("incident %s: no open incident %s", sub, *id)
	}
	if err != nil {
		return fmt.Errorf("incident %s: %w", sub, err)
	}
	fmt.Fprintf(out, "%s sent to incident %s\n", sub, *id)
	return nil
}
