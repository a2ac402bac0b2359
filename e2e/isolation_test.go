package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/store"
)

// TestAHungProviderDoesNotHoldUpDataSubjectRequests: Twilio hangs while more conversations than
// the worker has task slots wait on their first text, each holding a workflow task slot while
// its send is in flight. A data-subject request started then (attested, so it needs no code by
// text) still reaches its answer within the usual wait, and `ringback dsr status` (a query to
// its workflow) still answers: compliance work has a task queue and task slots of its own.
// When everything shared one queue, the request waited 73 s here for the conversations' retries
// to back off far enough to let go of their slots, and the status query timed out.
func TestAHungProviderDoesNotHoldUpDataSubjectRequests(t *testing.T) {
	testenv.RequireIntegration(t)
	const slots = 4
	st := startStack(t, "RINGBACK_MODEL_URL=none", fmt.Sprintf("RINGBACK_WORKER_CONCURRENCY=%d", slots))
	st.twilio.SetFault(twiliofake.Hang)
	t.Cleanup(func() { st.twilio.SetFault(twiliofake.Healthy) })

	for i := range 2 * slots {
		caller := fmt.Sprintf("+1614555%04d", 120+i)
		if out, err := run(t, st.cli, st.env, "simulate", "call", "--from", caller, "--to", "+15005550006"); err != nil {
			t.Fatalf("simulate call: %v\n%s", err, out)
		}
	}
	// Some of the worker's slots go to its polls; the rest hold conversations whose sends hang.
	eventually(t, "conversations holding hung sends", func() bool {
		posts, _ := st.twilio.Requests()
		return posts >= slots/2
	})

	var req struct{ ID string }
	st.cliJSON(t, &req, "dsr", "start", "--kind", "access", "--tenant", st.tenant.ID, "--phone", "+16145550199",
		"--attest", "asked in person at the counter", "--json")
	started := time.Now()
	eventually(t, "the request to be answered while Twilio hangs", func() bool {
		s := st.requestStatus(t, req.ID)
		return s == store.DSRInProgress || s == store.DSRCompleted
	})
	t.Logf("in progress %s after the start", time.Since(started).Round(time.Millisecond))
	if got := st.twilio.Texts(); len(got) != 0 {
		t.Fatalf("the hung fake accepted %d texts", len(got))
	}
}
