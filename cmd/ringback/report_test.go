package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// openFixtureStore opens the fixture's database directly, to put rows in it.
func (f *cliFixture) openStore() *store.Store {
	f.t.Helper()
	db, err := store.Open(context.Background(), f.env["DATABASE_URL"])
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(db.Close)
	db.SetAuditSigner(testenv.AuditSigner(f.t))
	return db
}

func TestReportCommand(t *testing.T) {
	ctx := context.Background()
	f := newCLIFixture(t)
	db := f.openStore()
	hash := fmt.Sprintf("%x", sha256.Sum256([]byte("+16145550123")))
	conv, err := db.OpenConversation(ctx, store.OpenConversation{
		TenantID: f.tenant, PhoneE164: "+16145550123", PhoneHash: hash, WorkflowID: "conv/" + f.tenant + "/" + hash[:16],
		FirstRunID: "run", Trigger: conversation.TriggerMissedCall, Stage: conversation.StageOpening,
	})
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	// Two missed calls on the last day of October in New York (one of them after midnight UTC),
	// one on the first of November.
	for i, at := range []time.Time{
		time.Date(2026, 10, 31, 9, 0, 0, 0, ny), time.Date(2026, 10, 31, 23, 30, 0, 0, ny), time.Date(2026, 11, 1, 0, 0, 0, 0, ny),
	} {
		if _, err := db.RecordMissedCall(ctx, store.MissedCall{TenantID: f.tenant, ConversationID: conv, PhoneHash: hash,
			CallSid: fmt.Sprintf("CA%032d", i), Status: "busy", OccurredAt: at}); err != nil {
			t.Fatal(err)
		}
	}

	out, err := f.run("report", "--tenant", f.tenant, "--from", "2026-10-01", "--to", "2026-10-31")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "usage of Settings Co (tenant "+f.tenant+"), 2026-10-01 to 2026-10-31, America/New_York") {
		t.Errorf("heading: %q", out)
	}
	// An aligned table: every count starts in the same column.
	var column int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		at := strings.LastIndex(line, " ") + 1
		if column == 0 {
			column = at
		} else if at != column {
			t.Errorf("misaligned row %q in\n%s", line, out)
		}
	}
	if !strings.Contains(out, "missed calls") || !strings.Contains(out, "texts sent") {
		t.Errorf("rows missing:\n%s", out)
	}
	if fields := strings.Fields(lineWith(out, "missed calls")); fields[len(fields)-1] != "2" {
		t.Errorf("missed calls in October: %q", lineWith(out, "missed calls"))
	}

	out, err = f.run("report", "--tenant", f.tenant, "--from", "2026-11-01", "--to", "2026-11-01", "--json")
	var report store.UsageReport
	if err != nil || json.Unmarshal([]byte(out), &report) != nil {
		t.Fatalf("--json: %v %q", err, out)
	}
	if report.MissedCalls != 1 || report.From != "2026-11-01" || report.To != "2026-11-01" || report.TenantID != f.tenant {
		t.Errorf("1 November: %+v", report)
	}
	// The default is the last 30 days, ending today.
	out, err = f.run("report", "--tenant", f.tenant, "--json")
	if err != nil || json.Unmarshal([]byte(out), &report) != nil || report.To != time.Now().In(ny).Format(time.DateOnly) {
		t.Fatalf("default period: %v %q", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tenant", f.tenant, "--from", "2026-11-31"}, `--from: "2026-11-31" is not a date`},
		{[]string{"--tenant", f.tenant, "--from", "2026-11-02", "--to", "2026-11-01"}, "is after to"},
		{[]string{"--from", "2026-11-01"}, "--tenant must be a tenant ID"},
	} {
		if _, err := f.run(append([]string{"report"}, c.args...)...); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error with %q", c.args, err, c.want)
		}
	}
	if _, err := f.run("report", "--tenant", "zzzzzzzzzzzzzzzz"); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Errorf("unknown tenant: %v", err)
	}
}

func lineWith(out, s string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

func TestEscalationAckCommand(t *testing.T) {
	ctx := context.Background()
	dev := testenv.Temporal(t)
	t.Setenv("TEMPORAL_ADDRESS", dev.FrontendHostPort())
	t.Setenv("TEMPORAL_NAMESPACE", "default")
	f := newCLIFixture(t)
	db := f.openStore()
	workflowID := "conv/" + f.tenant + "/0123456789abcdef"

	// A running execution under the conversation's ID is all a signal needs; no worker runs it.
	raw := dev.Client()
	run, err := raw.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{ID: workflowID, TaskQueue: "nobody-polls"}, "Conversation")
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.run("escalation", "ack", "--workflow", workflowID, "--escalation", "4")
	if err != nil || !strings.Contains(out, "acknowledged escalation 4") {
		t.Fatalf("ack: %v %q", err, out)
	}
	var signals []string
	iter := raw.GetWorkflowHistory(ctx, workflowID, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if s := ev.GetWorkflowExecutionSignaledEventAttributes(); s != nil {
			signals = append(signals, s.GetSignalName())
			// The acknowledgement is a payload, sealed like every other.
			for _, p := range s.GetInput().GetPayloads() {
				if enc := string(p.GetMetadata()["encoding"]); enc != "binary/encrypted" {
					t.Errorf("signal payload encoding %q", enc)
				}
			}
		}
	}
	if len(signals) != 1 || signals[0] != workflows.SignalAcknowledge {
		t.Fatalf("signals in the history: %v", signals)
	}
	l, err := db.LoadAuditLog(ctx, f.tenant)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, e := range l.Entries {
		if strings.HasPrefix(e.Action, "escalation.") {
			audited = append(audited, e.Action+" by "+e.Actor)
		}
	}
	if len(audited) != 1 || !strings.HasPrefix(audited[0], "escalation.acknowledge by cli:") {
		t.Fatalf("audit entries: %v", audited)
	}

	if err := raw.TerminateWorkflow(ctx, workflowID, "", "test over"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run("escalation", "ack", "--workflow", workflowID, "--escalation", "4"); err == nil || !strings.Contains(err.Error(), "the conversation has ended") {
		t.Fatalf("ack of an ended conversation: %v", err)
	}
	for _, args := range [][]string{
		{"--workflow", "closure/" + f.tenant, "--escalation", "4"},
		{"--workflow", workflowID},
		{"--workflow", workflowID, "--escalation", "-1"},
		{"--escalation", "4"},
	} {
		if _, err := f.run(append([]string{"escalation", "ack"}, args...)...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if _, err := f.run("escalation", "ack", "--workflow", "conv/zzzzzzzzzzzzzzzz/0123456789abcdef", "--escalation", "4"); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Errorf("unknown tenant: %v", err)
	}
}
