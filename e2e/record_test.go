package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/workflows"
)

// e2ePhoneHashKey is RINGBACK_PHONE_HASH_KEY in every stack these tests start.
const e2ePhoneHashKey = "e2e-phone-hash-key-0123456789abcdef"

// conversationID is the workflow ID the stack gives a caller's conversation.
func (st *stack) conversationID(t *testing.T, caller string) string {
	t.Helper()
	h, err := phone.NewHasher([]byte(e2ePhoneHashKey))
	if err != nil {
		t.Fatal(err)
	}
	id, err := workflows.ConversationWorkflowID(st.tenant.ID, h.Hash(caller))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// recordHistory saves a workflow's history into workflows/testdata for the replay test, decoded
// through the starter's codec endpoint so it replays without the keys it was sealed under. It
// runs only when RINGBACK_RECORD_HISTORIES=1: recording is a deliberate act after a workflow
// change, reviewed like code.
func (st *stack) recordHistory(t *testing.T, workflowID, name string) {
	t.Helper()
	if os.Getenv("RINGBACK_RECORD_HISTORIES") != "1" {
		return
	}
	out, err := run(t, st.cli, st.env, "token", "create", "--role", "ops", "--name", "history-recorder", "--json")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, out)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.TemporalCLI(), "workflow", "show", "--address", st.temporal, "--namespace", "default",
		"--workflow-id", workflowID, "--output", "json", "--codec-endpoint", st.base+"/codec", "--codec-auth", "Bearer "+tok.Token)
	history, err := cmd.Output()
	if err != nil {
		t.Fatalf("workflow show %s: %v", workflowID, err)
	}
	dst := filepath.Join(testenv.RepoRoot(), "workflows", "testdata", name+".json")
	if err := os.WriteFile(dst, history, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s", dst)
}
