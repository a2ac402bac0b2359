package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

var codeInText = regexp.MustCompile(`request is (\d{6})`)
var exportLink = regexp.MustCompile(`https?://\S+/dsr/export/\S+`)

// cliJSON runs the CLI and decodes its stdout.
func (st *stack) cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(st.cli, args...)
	cmd.Env = st.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ringback %v: %v\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ringback %v printed %q: %v", args, out, err)
	}
}

func (st *stack) requestStatus(t *testing.T, id string) store.DSRStatus {
	t.Helper()
	var s struct {
		Request store.DSRRequest `json:"request"`
	}
	st.cliJSON(t, &s, "dsr", "status", "--request", id, "--json")
	return s.Request.Status
}

func (st *stack) text(t *testing.T, from, body string) {
	t.Helper()
	if out, err := run(t, st.cli, st.env, "simulate", "sms", "--from", from, "--to", "+15005550006", "--body", body); err != nil {
		t.Fatalf("simulate sms: %v\n%s", err, out)
	}
}

func (st *stack) waitCompleted(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for st.requestStatus(t, id) != store.DSRCompleted {
		if time.Now().After(deadline) {
			t.Fatalf("request %s not completed: %s", id, st.requestStatus(t, id))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAccessRequestExportsOnlyTheVerifiedNumber: an access request names two numbers; the first
// answers its code through the public endpoint, the second gets it wrong until it runs out. The
// export, fetched through the texted link, holds exactly what was stored about the first and
// nothing of the second, and its download is in the audit log.
func TestAccessRequestExportsOnlyTheVerifiedNumber(t *testing.T) {
	testenv.RequireIntegration(t)
	model := newModelFake(t, false)
	st := startStack(t, "RINGBACK_MODEL_URL="+model.srv.URL+"/v1")
	const alice, bob = "+16145550131", "+16145550132"
	st.text(t, alice, "Hi, do you open on Saturdays? Alice here")
	st.text(t, bob, "Bob's secret question about prices")
	eventually(t, "both callers answered", func() bool { return len(st.textsTo(alice)) >= 1 && len(st.textsTo(bob)) >= 1 })

	var req store.DSRRequest
	st.cliJSON(t, &req, "dsr", "start", "--kind", "access", "--tenant", st.tenant.ID, "--phone", alice, "--phone", bob, "--json")
	if req.ID == "" || req.Regime != "ccpa" || len(req.Identifiers) != 2 {
		t.Fatalf("request %+v", req)
	}
	codeFor := func(number string) string {
		var code string
		eventually(t, "a code to "+number, func() bool {
			for _, b := range st.textsTo(number) {
				if m := codeInText.FindStringSubmatch(b); m != nil {
					code = m[1]
				}
			}
			return code != ""
		})
		return code
	}
	verify := func(number, code string) int {
		body, _ := json.Marshal(map[string]string{"phone": number, "code": code})
		resp, err := http.Post(st.base+"/dsr/"+req.ID+"/verify", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	aliceCode, bobCode := codeFor(alice), codeFor(bob)
	if got := verify(alice, aliceCode); got != http.StatusOK {
		t.Fatalf("alice's code answered %d", got)
	}
	wrong := "000000"
	if bobCode == wrong {
		wrong = "111111"
	}
	for i := range workflows.MaxCodeAttempts {
		if got := verify(bob, wrong); got != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d answered %d", i, got)
		}
	}
	st.waitCompleted(t, req.ID)

	var link string
	eventually(t, "the export link to alice", func() bool {
		for _, b := range st.textsTo(alice) {
			if l := exportLink.FindString(b); l != "" {
				link = l
			}
		}
		return link != ""
	})
	for _, b := range st.textsTo(bob) {
		if exportLink.MatchString(b) {
			t.Fatalf("the unverified number got an export link: %q", b)
		}
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export download: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		all.Write(b)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ".json") }) ||
		!slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ".csv") }) {
		t.Fatalf("export files %v: want JSON and CSV", names)
	}
	// What was stored about alice, read straight from her tenant's tables, is in the export.
	conn, err := pgx.Connect(context.Background(), st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT m.body FROM `+pgx.Identifier{"t_" + st.tenant.ID}.Sanitize()+`.messages m
		JOIN `+pgx.Identifier{"t_" + st.tenant.ID}.Sanitize()+`.conversations c ON c.id = m.conversation_id
		JOIN `+pgx.Identifier{"t_" + st.tenant.ID}.Sanitize()+`.contacts k ON k.id = c.contact_id WHERE k.phone_e164 = $1`, alice)
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(bodies) < 2 {
		t.Fatalf("alice's stored messages %q (%v)", bodies, err)
	}
	for _, b := range bodies {
		// JSON escapes some characters; each stored body appears verbatim in the CSV.
		if !strings.Contains(all.String(), b) {
			t.Fatalf("stored message %q is missing from the export", b)
		}
	}
	if strings.Contains(all.String(), "Bob's secret") || strings.Contains(all.String(), strings.TrimPrefix(bob, "+")) {
		t.Fatal("the export holds data of the unverified second number")
	}
	var downloads int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM control.audit_entries WHERE log_id = $1 AND action = 'dsr.export.downloaded'`,
		st.tenant.ID).Scan(&downloads); err != nil || downloads != 1 {
		t.Fatalf("export downloads audited: %d (%v)", downloads, err)
	}
}

// TestDeletionLeavesOnlyTheSuppressionAndRestrictionStopsTheAI: a caller who opted out is
// erased on an attested request, and nothing of the number is left but the suppression HMAC;
// another caller restricts processing, and their next text reaches no model and gets no reply.
func TestDeletionLeavesOnlyTheSuppressionAndRestrictionStopsTheAI(t *testing.T) {
	testenv.RequireIntegration(t)
	model := newModelFake(t, false)
	st := startStack(t, "RINGBACK_MODEL_URL="+model.srv.URL+"/v1")
	const carol, dave = "+16145550141", "+16145550142"
	ctx := context.Background()

	st.text(t, carol, "Hello, Carol asking about a booking")
	eventually(t, "carol answered", func() bool { return len(st.textsTo(carol)) >= 1 })
	st.text(t, carol, "STOP")
	eventually(t, "carol's opt-out confirmed", func() bool {
		return slices.ContainsFunc(st.textsTo(carol), func(b string) bool {
			return strings.Contains(strings.ToLower(b), "unsubscribed") || strings.Contains(strings.ToLower(b), "no more")
		})
	})
	convID := st.conversationID(t, carol)

	var req store.DSRRequest
	cmd := exec.Command(st.cli, "delete-customer", carol, "--tenant", st.tenant.ID, "--attest", "verified by a callback to the number")
	cmd.Env = st.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("delete-customer: %v\n%s", err, out)
	}
	var list []store.DSRRequest
	st.cliJSON(t, &list, "dsr", "list", "--tenant", st.tenant.ID, "--json")
	if len(list) != 1 || list[0].Kind != store.DSRDeletion {
		t.Fatalf("requests %+v", list)
	}
	req = list[0]
	st.waitCompleted(t, req.ID)

	conn, err := pgx.Connect(ctx, st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The number itself is nowhere.
	if found := leftovers(t, conn, carol, strings.TrimPrefix(carol, "+1")); len(found) > 0 {
		t.Fatalf("carol's number is still in: %v", found)
	}
	// Her HMAC only in the suppression list (and the consent event it points to).
	hasher, err := phone.NewHasher([]byte(e2ePhoneHashKey))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range leftovers(t, conn, hasher.Hash(carol)) {
		if !strings.HasPrefix(f, `"control"."suppressions"`) && !strings.HasPrefix(f, `"control"."consent_events"`) {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		t.Fatalf("carol's HMAC is still in: %v", found)
	}
	var suppressed int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM control.suppressions WHERE tenant_id = $1 AND phone_hash = $2`,
		st.tenant.ID, hasher.Hash(carol)).Scan(&suppressed); err != nil || suppressed != 1 {
		t.Fatalf("carol must stay opted out: %d (%v)", suppressed, err)
	}
	tc, err := sdkclient.Dial(sdkclient.Options{HostPort: st.temporal, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	var nf *serviceerror.NotFound
	if _, err := tc.DescribeWorkflowExecution(ctx, convID, ""); !errors.As(err, &nf) {
		t.Fatalf("carol's conversation history is still there: %v", err)
	}

	// Dave restricts processing; his next text is stored for people and answered by nobody.
	st.text(t, dave, "Dave here, what are your prices?")
	eventually(t, "dave answered", func() bool { return len(st.textsTo(dave)) >= 1 })
	st.cliJSON(t, &req, "dsr", "start", "--kind", "restriction", "--tenant", st.tenant.ID, "--phone", dave,
		"--attest", "asked in person at the counter", "--json")
	st.waitCompleted(t, req.ID)
	textsBefore, modelBefore := len(st.textsTo(dave)), len(model.seen())
	st.text(t, dave, "Are you still there?")
	daveConv := st.conversationID(t, dave)
	eventually(t, "dave's conversation to close as restricted", func() bool {
		d, err := tc.DescribeWorkflowExecution(ctx, daveConv, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	})
	if got := len(model.seen()); got != modelBefore {
		t.Fatalf("the model saw %d more requests after the restriction", got-modelBefore)
	}
	// The restriction notice itself is the one required text; nothing after it.
	if got := st.textsTo(dave); len(got) != textsBefore {
		t.Fatalf("dave got %d more texts after the restriction: %q", len(got)-textsBefore, got[textsBefore:])
	}

	// Dave lifts it: the flag goes, and the lift is on record.
	if out, err := run(t, st.cli, st.env, "dsr", "lift", "--tenant", st.tenant.ID, "--phone", dave, "--kind", "restriction"); err != nil || !strings.Contains(out, "restriction lifted") {
		t.Fatalf("dsr lift: %v\n%s", err, out)
	}
	db, err := store.Open(ctx, st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if restricted, _, err := db.Restricted(ctx, st.tenant.ID, hasher.Hash(dave)); err != nil || restricted {
		t.Fatalf("still restricted after the lift: %v %v", restricted, err)
	}
}
