package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays histories recorded from a real dev server (missed call,
// a retried call, an inbound text, idle close; a conversation opened by a text; a conversation
// stopped by STOP and its consent reply; since the conversation answers: a booking through the
// masked fallback and its booking.created delivery, a STOP during a model turn, a STOP during
// quiet hours, an escalation acknowledged through the owner's link) against today's code.
// e2e records them with RINGBACK_RECORD_HISTORIES=1. Histories are saved decoded
// through the codec endpoint, so they replay without the data keys they were sealed under. A change that would break running conversations fails here; such changes must go
// through workflow.GetVersion, and a new history is recorded alongside the old ones.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 9 {
		t.Fatalf("found %d recorded histories in testdata, want at least 9", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(Conversation)
			r.RegisterWorkflow(ConsentReply)
			r.RegisterWorkflow(TenantWebhook)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
