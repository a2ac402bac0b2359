// Package faults breaks Ringback's parts while conversations are in flight and counts, per
// conversation, the texts the Twilio fake accepted: none may be lost and none sent twice. make
// faults runs it at full size (500 conversations per scenario, a one-minute Twilio outage); make
// test runs the same scenarios smaller.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/twiliofake"
	"github.com/ringback/ringback/store"
)

var (
	conversations = flag.Int("conversations", 50, "conversations started per scenario (make faults: 500)")
	// A minute in both forms: an outage must outlast one send attempt's timeout (45 s) to show
	// that the retries outlast it too.
	outage   = flag.Duration("outage", time.Minute, "how long the Twilio fake fails: 500s for the first half, hung requests for the second")
	tableOut = flag.String("table", "", "also write the results table to this file")
	only     = flag.String("only", "", "run only the scenarios whose names match this regular expression")
)

// inFlight is how many webhooks are delivered at once, about what one business's Twilio number
// produces in a burst.
const inFlight = 16

// result is one row of the table.
type result struct {
	scenario      string
	conversations int
	lost, twice   int
	recovery      time.Duration
}

func TestFaults(t *testing.T) {
	selected, err := regexp.Compile(*only)
	if err != nil {
		t.Fatalf("-only: %v", err)
	}
	st := startStack(t)
	callers := newCallerPool(t)
	n := *conversations
	var results []result
	record := func(r result) {
		results = append(results, r)
		t.Logf("%s: %d conversations, %d lost, %d duplicated, recovered in %s", r.scenario, r.conversations, r.lost, r.twice, r.recovery.Round(time.Millisecond))
	}
	total := 0

	// Each scenario starts its own conversations, breaks something while they are in flight
	// (or, with brokenFrom, before the first of them arrives), mends it, and counts what reached
	// the Twilio fake once everything has settled.
	var brokenFrom twiliofake.Fault
	scenario := func(name string, deliveries int, fault func(b *batch) (mended time.Time)) {
		t.Helper()
		defer func() { brokenFrom = twiliofake.Healthy }()
		if !selected.MatchString(name) {
			return
		}
		st.twilio.SetFault(brokenFrom)
		b := st.newBatch(t, callers.take(n))
		b.deliver(deliveries)
		mended := fault(b)
		total += n
		record(b.settle(name, mended, total))
	}

	scenario("none (baseline)", 1, func(b *batch) time.Time { return b.started })
	scenario("every Twilio webhook delivered 3 times", 3, func(b *batch) time.Time { return b.started })
	scenario("worker killed (SIGKILL) and restarted", 1, func(b *batch) time.Time {
		b.waitForShare(0.2)
		st.worker.Kill(t)
		st.worker.Restart(t)
		return time.Now()
	})
	scenario("Temporal dev server restarted", 1, func(b *batch) time.Time {
		b.waitForShare(0.2)
		if err := st.dev.Stop(); err != nil {
			t.Fatalf("stop the dev server: %v", err)
		}
		st.startTemporal()
		return time.Now()
	})
	scenario("PostgreSQL restarted", 1, func(b *batch) time.Time {
		b.waitForShare(0.2)
		st.pg.stop(t)
		st.pg.start(t)
		return time.Now()
	})
	brokenFrom = twiliofake.ServerErrors
	scenario(fmt.Sprintf("Twilio answers 500s, then times out, for %s", *outage), 1, func(b *batch) time.Time {
		time.Sleep(*outage / 2) // the outage itself: nothing to poll for
		st.twilio.SetFault(twiliofake.Hang)
		time.Sleep(*outage / 2)
		st.twilio.SetFault(twiliofake.Healthy)
		return time.Now()
	})
	brokenFrom = twiliofake.AcceptThenDrop
	scenario("Twilio accepts, the answer is lost", 1, func(b *batch) time.Time {
		// Every first attempt reaches Twilio and loses its answer; the retries must find the
		// accepted texts instead of sending them again.
		b.waitForShare(1)
		st.twilio.SetFault(twiliofake.Healthy)
		return time.Now()
	})
	if name := "every Stripe webhook delivered 3 times (billing records)"; selected.MatchString(name) {
		record(st.stripeTriplicates(t, name, min(n, 100)))
	}

	table := renderTable(results)
	fmt.Print("\n" + table)
	if *tableOut != "" {
		if err := os.WriteFile(*tableOut, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, r := range results {
		if r.lost != 0 || r.twice != 0 {
			t.Errorf("%s: %d lost, %d duplicated; want none", r.scenario, r.lost, r.twice)
		}
	}
}

// batch is one scenario's conversations.
type batch struct {
	t       *testing.T
	st      *stack
	callers []string
	before  map[string]int // texts per caller before the batch (always zero: callers are fresh)
	started time.Time
}

func (st *stack) newBatch(t *testing.T, callers []string) *batch {
	return &batch{t: t, st: st, callers: callers, before: st.textsPerCaller()}
}

// deliver sends each caller's missed-call webhook times times (concurrently, with the same
// CallSid, as a retrying Twilio would) and requires every delivery to be accepted.
func (b *batch) deliver(times int) {
	b.t.Helper()
	b.started = time.Now()
	var failed atomic.Int64
	var firstErr atomic.Value
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for i := range jobs {
				sid := fmt.Sprintf("CA%032x", b.started.UnixNano()+int64(i))
				var inner sync.WaitGroup
				for range times {
					inner.Go(func() {
						code, err := b.st.missedCall(b.callers[i], sid)
						if err != nil || code != http.StatusOK {
							failed.Add(1)
							firstErr.CompareAndSwap(nil, fmt.Sprintf("status %d, %v", code, err))
						}
					})
				}
				inner.Wait()
			}
		})
	}
	for i := range b.callers {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.t.Fatalf("%d of %d webhook deliveries were refused (first: %v)", n, len(b.callers)*times, firstErr.Load())
	}
}

// reached counts the batch's callers who have at least one text.
func (b *batch) reached() int {
	got := b.st.textsPerCaller()
	n := 0
	for _, c := range b.callers {
		if got[c] > b.before[c] {
			n++
		}
	}
	return n
}

// waitForShare waits until share of the batch has its first text, so that the fault strikes
// with conversations both done and in flight.
func (b *batch) waitForShare(share float64) {
	b.t.Helper()
	want := max(1, int(share*float64(len(b.callers))))
	deadline := time.Now().Add(5 * time.Minute)
	for b.reached() < want {
		if time.Now().After(deadline) {
			b.t.Fatalf("only %d of %d conversations texted before the fault", b.reached(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits until every caller of the batch has a text and every conversation so far shows
// awaiting_reply (the designed resting state after the first text), or until nothing has changed
// for two minutes; then it counts.
func (b *batch) settle(name string, mended time.Time, conversationsSoFar int) result {
	b.t.Helper()
	r := result{scenario: name, conversations: len(b.callers)}
	var last time.Time
	lastProgress, lastCount := time.Now(), -1
	for {
		got := b.reached()
		if got != lastCount {
			lastCount, lastProgress, last = got, time.Now(), time.Now()
		}
		if got == len(b.callers) && b.st.conversationsAtRest() == conversationsSoFar {
			break
		}
		if time.Since(lastProgress) > 2*time.Minute {
			b.t.Errorf("%s: %d of %d texted and %d of %d conversations at rest after two minutes without progress",
				name, got, len(b.callers), b.st.conversationsAtRest(), conversationsSoFar)
			b.st.explainStall(b.t)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	counts := b.st.textsPerCaller()
	for _, c := range b.callers {
		switch k := counts[c] - b.before[c]; {
		case k == 0:
			r.lost++
		case k > 1:
			r.twice++
		}
	}
	if last.After(mended) {
		r.recovery = last.Sub(mended)
	}
	if err := b.st.outboxAllSent(); err != nil {
		b.t.Errorf("%s: %v", name, err)
	}
	return r
}

// conversationsAtRest counts conversations waiting for the caller's reply, through visibility;
// any other outcome (failed, terminated, still opening) keeps the count short.
func (st *stack) conversationsAtRest() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := st.temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Query: "WorkflowType = 'Conversation' AND ExecutionStatus = 'Running' AND Stage = 'awaiting_reply'"})
	if err != nil {
		return -1
	}
	return int(c.GetCount())
}

// outboxAllSent checks the outbox has no text left pending or failed.
func (st *stack) outboxAllSent() error {
	db, err := store.Open(context.Background(), st.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var pending, failed int
	if err := db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed') FROM control.outbox`).Scan(&pending, &failed); err != nil {
		return err
	}
	if pending+failed > 0 {
		return fmt.Errorf("outbox: %d texts pending and %d failed once the scenario settled", pending, failed)
	}
	return nil
}

// stripeTriplicates delivers k signed invoice.paid events three times each, concurrently, and
// counts the billing records they made: one per event is right.
func (st *stack) stripeTriplicates(t *testing.T, name string, k int) result {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const customer, subscription = "cus_Faults0000001", "sub_Faults0000001"
	if err := db.UpsertBillingAccount(ctx, store.BillingAccount{TenantID: st.tenantID, CustomerID: customer,
		SubscriptionID: subscription, SubscriptionStatus: "active"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var refused atomic.Int64
	sem := make(chan struct{}, inFlight)
	for i := range k {
		for range 3 {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				if code, err := st.postStripe(fmt.Sprintf("evt_Faults%08d", i), "invoice.paid", map[string]any{
					"id": fmt.Sprintf("in_Faults%08d", i), "object": "invoice", "customer": customer, "subscription": subscription,
					"amount_due": 2900, "amount_paid": 2900, "currency": "usd", "status": "paid",
				}); err != nil || code != http.StatusOK {
					refused.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if n := refused.Load(); n > 0 {
		t.Errorf("%d of %d Stripe deliveries refused", n, 3*k)
	}
	var records int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM control.billing_records WHERE tenant_id = $1`, st.tenantID).Scan(&records); err != nil {
		t.Fatal(err)
	}
	r := result{scenario: name, conversations: k}
	switch {
	case records < k:
		r.lost = k - records
	case records > k:
		r.twice = records - k
	}
	return r
}

func (st *stack) postStripe(id, typ string, object map[string]any) (int, error) {
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "created": time.Now().Unix(),
		"type": typ, "livemode": false, "data": map[string]any{"object": object},
	})
	if err != nil {
		return 0, err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: stripeSecret, Timestamp: time.Now()})
	req, err := http.NewRequest(http.MethodPost, st.base+"/stripe/webhook", bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// callerPool hands out valid US mobile-format numbers that have never called.
type callerPool struct {
	t    *testing.T
	next int
}

func newCallerPool(t *testing.T) *callerPool { return &callerPool{t: t, next: 2_000_000} }

func (p *callerPool) take(n int) []string {
	p.t.Helper()
	var out []string
	for len(out) < n {
		p.next++
		if p.next > 9_999_999 {
			p.t.Fatal("out of caller numbers")
		}
		raw := fmt.Sprintf("+1614%07d", p.next)
		if e164, err := phone.Normalize(raw); err == nil && e164 == raw {
			out = append(out, raw)
		}
	}
	return out
}

func renderTable(rs []result) string {
	var s strings.Builder
	// Recovery runs from the moment the broken part was mended (for the scenarios without a
	// fault, from the first delivery) to the last conversation's first text.
	fmt.Fprintf(&s, "| scenario | conversations | lost | duplicated | max recovery time |\n|---|---|---|---|---|\n")
	for _, r := range rs {
		rec := "—"
		if r.recovery > 0 {
			rec = r.recovery.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(&s, "| %s | %d | %d | %d | %s |\n", r.scenario, r.conversations, r.lost, r.twice, rec)
	}
	return s.String()
}

// explainStall logs how the conversations not at rest stand (by status and stage) and what the
// first few of them last did, from their histories, so that a stalled run says where it stalled.
func (st *stack) explainStall(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Filtered here rather than in the query: a conversation that has not set its stage yet has
	// none, and visibility's != does not match a missing value.
	var stalled []*workflowpb.WorkflowExecutionInfo
	tally := map[string]int{}
	var token []byte
	for {
		page, err := st.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: 1000, NextPageToken: token, Query: "WorkflowType = 'Conversation'"})
		if err != nil {
			t.Logf("list conversations: %v", err)
			return
		}
		for _, wf := range page.GetExecutions() {
			var stage string
			if p := wf.GetSearchAttributes().GetIndexedFields()["Stage"]; p != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &stage)
			}
			if wf.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && stage == "awaiting_reply" {
				continue
			}
			tally[fmt.Sprintf("%s/%q", wf.GetStatus(), stage)]++
			stalled = append(stalled, wf)
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	t.Logf("conversations not at rest, by status and stage: %v", tally)
	for _, wf := range stalled[:min(3, len(stalled))] {
		var lines []string
		it := st.temporal.GetWorkflowHistory(ctx, wf.GetExecution().GetWorkflowId(), wf.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				lines = append(lines, "history: "+err.Error())
				break
			}
			line := fmt.Sprintf("%4d %s %s", ev.GetEventId(), ev.GetEventTime().AsTime().Format("15:04:05.000"), ev.GetEventType())
			if a := ev.GetMarkerRecordedEventAttributes(); a != nil && a.GetFailure() != nil {
				line += ": " + a.GetFailure().GetMessage()
			}
			if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil {
				line += ": " + a.GetCause().String() + " " + a.GetFailure().GetMessage()
			}
			if a := ev.GetWorkflowExecutionFailedEventAttributes(); a != nil {
				line += ": " + a.GetFailure().GetMessage()
			}
			if a := ev.GetTimerStartedEventAttributes(); a != nil {
				line += " " + a.GetStartToFireTimeout().AsDuration().String()
			}
			lines = append(lines, line)
		}
		if len(lines) > 25 {
			lines = append([]string{fmt.Sprintf("(%d earlier events)", len(lines)-25)}, lines[len(lines)-25:]...)
		}
		t.Logf("conversation %s (%s), its last events:\n%s", wf.GetExecution().GetWorkflowId(), wf.GetStatus(), strings.Join(lines, "\n"))
	}
}
