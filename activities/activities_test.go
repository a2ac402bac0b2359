package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ringback/ringback/activities/sms"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

const (
	business = "+16145550100"
	caller   = "+16145550123"
)

// fakeSender records what it was asked to send and answers with err, or a provider ID.
type fakeSender struct {
	mu   sync.Mutex
	sent []sms.Message
	err  error
	// loseReply makes the provider accept a text and the answer never arrive, as when the
	// worker dies or the connection drops between the two.
	loseReply bool
	accepted  []sms.Message
	lookups   int
}

func (f *fakeSender) Send(_ context.Context, m sms.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	if f.err != nil {
		return "", f.err
	}
	f.accepted = append(f.accepted, m)
	if f.loseReply {
		return "", errors.New("twilio: transport: read: connection reset by peer")
	}
	return "SM-fake-" + m.IdempotencyKey, nil
}

// Find answers from what the provider accepted, as Twilio's message list does.
func (f *fakeSender) Find(_ context.Context, m sms.Message, _ time.Time) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	for _, a := range f.accepted {
		if a.To == m.To && a.From == m.From && a.Body == m.Body {
			return "SM-fake-" + a.IdempotencyKey, true, nil
		}
	}
	return "", false, nil
}

func (f *fakeSender) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// fixture is a migrated test database with one tenant, and activities wired to it.
type fixture struct {
	store  *store.Store
	tenant store.Tenant
	sender *fakeSender
	acts   *Activities
	env    *testsuite.TestActivityEnvironment
	// workflowID is the ID the activity environment reports to activities.
	workflowID string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	tn, err := st.CreateTenant(ctx, tenantspec.Spec{
		Name: "Demo Plumbing", Numbers: []string{business}, Timezone: "America/New_York", OwnerPhone: "+16145550199",
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, tenant: tn, sender: &fakeSender{}}
	f.acts = &Activities{Store: st, SMS: f.sender, Now: func() time.Time { return time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC) }}

	var suite testsuite.WorkflowTestSuite
	f.env = suite.NewTestActivityEnvironment()
	f.env.RegisterActivity(f.acts)
	workflowID := func(ctx context.Context) (string, error) { return activity.GetInfo(ctx).WorkflowExecution.ID, nil }
	f.env.RegisterActivityWithOptions(workflowID, activity.RegisterOptions{Name: "TestWorkflowID"})
	v, err := f.env.ExecuteActivity("TestWorkflowID")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&f.workflowID); err != nil || f.workflowID == "" {
		t.Fatalf("workflow ID from activity info: %q, %v", f.workflowID, err)
	}
	return f
}

func hashOf(e164 string) string {
	sum := sha256.Sum256([]byte(e164))
	return hex.EncodeToString(sum[:])
}

func (f *fixture) openConversation(t *testing.T, firstRunID string) int64 {
	t.Helper()
	v, err := f.env.ExecuteActivity(f.acts.OpenConversation, OpenConversationInput{
		TenantID: f.tenant.ID, Caller: caller, PhoneHash: hashOf(caller),
		Trigger: conversation.TriggerMissedCall, Stage: conversation.StageOpening, FirstRunID: firstRunID,
	})
	if err != nil {
		t.Fatalf("open conversation: %v", err)
	}
	var id int64
	if err := v.Get(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) sendSMS(conv int64, step string) (SendSMSResult, error) {
	v, err := f.env.ExecuteActivity(f.acts.SendSMS, SendSMSInput{
		TenantID: f.tenant.ID, ConversationID: conv, From: business, To: caller,
		PhoneHash: hashOf(caller), TenantTimezone: "America/New_York", Body: "Sorry we missed your call!", Step: step, FirstRunID: "run-1",
	})
	if err != nil {
		return SendSMSResult{}, err
	}
	var res SendSMSResult
	err = v.Get(&res)
	return res, err
}

func (f *fixture) outboxStatus(t *testing.T, key string) string {
	t.Helper()
	var status string
	if err := f.store.Pool().QueryRow(context.Background(),
		`SELECT status FROM control.outbox WHERE idempotency_key = $1`, key).Scan(&status); err != nil {
		t.Fatalf("outbox row %s: %v", key, err)
	}
	return status
}

// outboundMessages counts the tenant's stored outbound messages with the given dedupe key.
func (f *fixture) outboundMessages(t *testing.T, key string) int {
	t.Helper()
	var n int
	err := f.store.InTenant(context.Background(), f.tenant.ID, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(),
			`SELECT count(*) FROM messages WHERE direction = 'outbound' AND dedupe_key = $1`, key).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// applicationError returns err as a Temporal application error, failing t if it is not one.
func applicationError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("error %v (%T) is not an ApplicationError", err, err)
	}
	return appErr
}

func TestSendSMSSendsOncePerStep(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	key := IdempotencyKey(f.workflowID, "run-1", "first-text")

	res, err := f.sendSMS(conv, "first-text")
	if err != nil {
		t.Fatalf("first send: %v", err)
	}
	if res.AlreadySent || res.ProviderMessageID != "SM-fake-"+key {
		t.Errorf("first send = %+v", res)
	}
	if f.sender.count() != 1 {
		t.Fatalf("sender called %d times, want 1", f.sender.count())
	}
	if got := f.sender.sent[0]; got != (sms.Message{TenantID: f.tenant.ID, From: business, To: caller, Body: "Sorry we missed your call!", IdempotencyKey: key}) {
		t.Errorf("sent %+v", got)
	}
	if s := f.outboxStatus(t, key); s != store.OutboxSent {
		t.Errorf("outbox status = %q, want sent", s)
	}
	if n := f.outboundMessages(t, key); n != 1 {
		t.Errorf("%d outbound messages recorded, want 1", n)
	}

	again, err := f.sendSMS(conv, "first-text")
	if err != nil {
		t.Fatalf("retried send: %v", err)
	}
	if !again.AlreadySent || again.ProviderMessageID != res.ProviderMessageID {
		t.Errorf("retried send = %+v, want AlreadySent with %q", again, res.ProviderMessageID)
	}
	if f.sender.count() != 1 {
		t.Errorf("retry reached the sender: %d sends", f.sender.count())
	}
	if n := f.outboundMessages(t, key); n != 1 {
		t.Errorf("%d outbound messages after the retry, want 1", n)
	}

	if _, err := f.sendSMS(conv, "reply-1"); err != nil {
		t.Fatalf("next step: %v", err)
	}
	if f.sender.count() != 2 {
		t.Errorf("a new step sent %d texts in total, want 2", f.sender.count())
	}
}

func TestSendSMSPermanentRejection(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	key := IdempotencyKey(f.workflowID, "run-1", "first-text")
	f.sender.err = &sms.PermanentError{Status: 400, Code: 21610, Reason: "recipient unsubscribed"}

	_, err := f.sendSMS(conv, "first-text")
	appErr := applicationError(t, err)
	if !appErr.NonRetryable() || appErr.Type() != ErrTypeSMSRejected {
		t.Errorf("error type %q non-retryable %v, want %q non-retryable", appErr.Type(), appErr.NonRetryable(), ErrTypeSMSRejected)
	}
	if strings.Contains(err.Error(), caller) {
		t.Errorf("error quotes the recipient: %v", err)
	}
	if s := f.outboxStatus(t, key); s != store.OutboxFailed {
		t.Errorf("outbox status = %q, want failed", s)
	}

	// A retry, even once the provider would accept, must not text a number that refused.
	f.sender.err = nil
	_, err = f.sendSMS(conv, "first-text")
	appErr = applicationError(t, err)
	if !appErr.NonRetryable() || appErr.Type() != ErrTypeSMSRejected {
		t.Errorf("retry: error type %q non-retryable %v", appErr.Type(), appErr.NonRetryable())
	}
	if f.sender.count() != 1 {
		t.Errorf("sender called %d times, want 1", f.sender.count())
	}
	if n := f.outboundMessages(t, key); n != 0 {
		t.Errorf("a rejected text was recorded as sent %d times", n)
	}
}

func TestSendSMSTransientFailure(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	key := IdempotencyKey(f.workflowID, "run-1", "first-text")
	f.sender.err = errors.New("twilio: http 503, code 20503")

	_, err := f.sendSMS(conv, "first-text")
	if err == nil {
		t.Fatal("send succeeded")
	}
	if appErr := applicationError(t, err); appErr.NonRetryable() {
		t.Errorf("transient failure marked non-retryable: %v", err)
	}
	if s := f.outboxStatus(t, key); s != store.OutboxPending {
		t.Errorf("outbox status = %q, want pending", s)
	}
	if n := f.outboundMessages(t, key); n != 0 {
		t.Errorf("an unsent text was recorded %d times", n)
	}

	// The retry sends.
	f.sender.err = nil
	res, err := f.sendSMS(conv, "first-text")
	if err != nil || res.AlreadySent {
		t.Fatalf("retry = %+v, %v", res, err)
	}
	if f.sender.count() != 2 || f.outboxStatus(t, key) != store.OutboxSent || f.outboundMessages(t, key) != 1 {
		t.Errorf("after the retry: %d sends, outbox %q, %d messages", f.sender.count(), f.outboxStatus(t, key), f.outboundMessages(t, key))
	}
}

// TestSendSMSReconcilesALostAcceptance: the provider accepted the first attempt but its answer
// was lost, so the outbox row stayed pending. The retry finds the accepted text at the provider,
// records it, and does not text the caller again.
func TestSendSMSReconcilesALostAcceptance(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	key := IdempotencyKey(f.workflowID, "run-1", "first-text")
	f.sender.loseReply = true
	if _, err := f.sendSMS(conv, "first-text"); err == nil {
		t.Fatal("the first attempt succeeded; its answer was meant to be lost")
	}
	if s := f.outboxStatus(t, key); s != store.OutboxPending {
		t.Fatalf("outbox status after the lost answer = %q, want pending", s)
	}

	f.sender.loseReply = false
	res, err := f.sendSMS(conv, "first-text")
	if err != nil {
		t.Fatal(err)
	}
	if !res.AlreadySent || res.ProviderMessageID != "SM-fake-"+key {
		t.Fatalf("retry = %+v, want the first attempt's message, already sent", res)
	}
	if n := f.sender.count(); n != 1 {
		t.Fatalf("the provider was asked to send %d times, want once", n)
	}
	if f.outboxStatus(t, key) != store.OutboxSent || f.outboundMessages(t, key) != 1 {
		t.Fatalf("outbox %q with %d stored messages, want sent and one", f.outboxStatus(t, key), f.outboundMessages(t, key))
	}
	// A first attempt asks nothing of the provider's list: lookups are for retries only.
	if f.sender.lookups != 1 {
		t.Fatalf("%d lookups, want the retry's one", f.sender.lookups)
	}
}

func TestSendSMSRequiresStep(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")

	_, err := f.sendSMS(conv, "")
	if appErr := applicationError(t, err); !appErr.NonRetryable() {
		t.Errorf("empty step: retryable error %v", err)
	}
	if f.sender.count() != 0 {
		t.Errorf("sender called %d times", f.sender.count())
	}
	var n int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM control.outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("empty step claimed %d outbox rows", n)
	}
}

func TestLoadTenantProfile(t *testing.T) {
	f := newFixture(t)

	for _, id := range []string{tenantspec.NewID(), "not a tenant"} {
		_, err := f.env.ExecuteActivity(f.acts.LoadTenantProfile, id)
		appErr := applicationError(t, err)
		if !appErr.NonRetryable() || appErr.Type() != ErrTypeTenantNotFound {
			t.Errorf("tenant %q: error type %q non-retryable %v, want %q non-retryable", id, appErr.Type(), appErr.NonRetryable(), ErrTypeTenantNotFound)
		}
	}

	v, err := f.env.ExecuteActivity(f.acts.LoadTenantProfile, f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	var p TenantProfile
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	if p.TenantID != f.tenant.ID || p.Name != "Demo Plumbing" || p.Timezone != "America/New_York" ||
		p.GreetingText != f.tenant.GreetingText || !p.Active || !slices.Equal(p.Numbers, f.tenant.Numbers) {
		t.Errorf("profile = %+v, want the tenant's", p)
	}
	// No saved profile: the defaults, turned into what the assistant may say.
	if len(p.Business.Services) != 1 || p.Business.Name != "Demo Plumbing" || p.Business.HoursText == "" ||
		p.EscalationTimeout != 15*time.Minute || p.FollowUpAfter != 2*time.Hour || p.HasBackup {
		t.Errorf("business facts = %+v", p)
	}
}

func TestRecordMissedCallHandledElsewhere(t *testing.T) {
	f := newFixture(t)
	conv1 := f.openConversation(t, "run-1")
	if again := f.openConversation(t, "run-1"); again != conv1 {
		t.Fatalf("retried OpenConversation returned %d, want %d", again, conv1)
	}
	conv2 := f.openConversation(t, "run-2")
	if conv2 == conv1 {
		t.Fatal("a second workflow chain reused the first conversation")
	}

	steps := []struct {
		conv    int64
		callSid string
		want    bool
	}{
		{conv1, "CA1", false},
		{conv1, "CA1", false}, // the same webhook retried within the conversation
		{conv2, "CA1", true},  // retried after the first conversation ended
		{conv2, "CA2", false},
	}
	for i, st := range steps {
		v, err := f.env.ExecuteActivity(f.acts.RecordMissedCall, RecordMissedCallInput{
			TenantID: f.tenant.ID, ConversationID: st.conv, PhoneHash: hashOf(caller),
			CallSid: st.callSid, Status: "no-answer", OccurredAt: time.Date(2026, 11, 20, 13, 59, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var res RecordMissedCallResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		if res.HandledElsewhere != st.want {
			t.Errorf("step %d: %s on conversation %d: HandledElsewhere = %v, want %v", i, st.callSid, st.conv, res.HandledElsewhere, st.want)
		}
	}
}

// TestSendSMSKeysByConversation: a caller's next conversation reuses the workflow ID, and its
// first text must go out even though the last conversation's first text did.
func TestSendSMSKeysByConversation(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	for _, run := range []string{"run-1", "run-2"} {
		_, err := f.env.ExecuteActivity(f.acts.SendSMS, SendSMSInput{
			TenantID: f.tenant.ID, ConversationID: conv, From: business, To: caller,
			PhoneHash: hashOf(caller), TenantTimezone: "America/New_York", Body: "Hi again", Step: "first-text", FirstRunID: run,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.sender.count(); n != 2 {
		t.Fatalf("sent %d texts for two conversations, want 2", n)
	}
	_, err := f.env.ExecuteActivity(f.acts.SendSMS, SendSMSInput{
		TenantID: f.tenant.ID, ConversationID: conv, From: business, To: caller,
		PhoneHash: hashOf(caller), TenantTimezone: "America/New_York", Body: "Hi again", Step: "first-text",
	})
	if appErr := applicationError(t, err); !appErr.NonRetryable() {
		t.Fatalf("missing first run id: %v", err)
	}
}

// TestSendSMSHonoursSuppression: a text to a caller who opted out is never handed to the
// provider, except the one consent reply.
func TestSendSMSHonoursSuppression(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	if _, err := f.store.RecordOptOut(context.Background(), store.ConsentChange{TenantID: f.tenant.ID, PhoneHash: hashOf(caller), MessageSid: "SMstop", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	v, err := f.env.ExecuteActivity(f.acts.SendSMS, SendSMSInput{
		TenantID: f.tenant.ID, ConversationID: conv, From: business, To: caller,
		PhoneHash: hashOf(caller), TenantTimezone: "America/New_York", Body: "Hello?", Step: "first-text", FirstRunID: "run-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	var res SendSMSResult
	if err := v.Get(&res); err != nil || !res.Suppressed || f.sender.count() != 0 {
		t.Fatalf("suppressed send: %+v, sent %d", res, f.sender.count())
	}
	if _, err := f.env.ExecuteActivity(f.acts.SendSMS, SendSMSInput{
		TenantID: f.tenant.ID, From: business, To: caller, PhoneHash: hashOf(caller),
		Body: "You're unsubscribed", Step: "consent-reply", FirstRunID: "run-9", ConsentReply: true,
	}); err != nil {
		t.Fatal(err)
	}
	if n := f.sender.count(); n != 1 {
		t.Fatalf("consent reply sent %d times, want 1", n)
	}
}

// TestSendSMSRefusesOutsideTheWindow: a send that reaches the activity after the caller's window
// has closed (a retry through a provider outage) sends nothing, claims nothing, and says when to
// try again.
func TestSendSMSRefusesOutsideTheWindow(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	f.acts.Now = func() time.Time { return time.Date(2026, 11, 20, 21, 5, 0, 0, ny) }
	res, err := f.sendSMS(conv, "reply-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 21, 8, 0, 0, 0, ny); !res.NotBefore.Equal(want) || f.sender.count() != 0 {
		t.Fatalf("result %+v, sent %d; want nothing sent and NotBefore %v", res, f.sender.count(), want)
	}
	var n int
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM control.outbox`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("outbox rows %d (%v): a deferred send must not claim", n, err)
	}
	f.acts.IgnoreQuietHours = true
	if res, err := f.sendSMS(conv, "reply-1"); err != nil || !res.NotBefore.IsZero() || f.sender.count() != 1 {
		t.Fatalf("with quiet hours off: %+v %v, sent %d", res, err, f.sender.count())
	}
}

// TestLoadSendPolicyCountsRecentTexts: the state caps count every text the provider accepted for
// the caller in the last 24 hours, in any conversation, and nothing older or for anyone else.
func TestLoadSendPolicyCountsRecentTexts(t *testing.T) {
	f := newFixture(t)
	conv := f.openConversation(t, "run-1")
	for _, step := range []string{"first-text", "reply-1"} {
		if _, err := f.sendSMS(conv, step); err != nil {
			t.Fatal(err)
		}
	}
	get := func(now time.Time) SendPolicy {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.LoadSendPolicy, SendPolicyInput{TenantID: f.tenant.ID, PhoneHash: hashOf(caller), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		var p SendPolicy
		if err := v.Get(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := get(time.Now()); !p.Enforce || len(p.SentInLast24h) != 2 {
		t.Fatalf("policy now = %+v, want enforced with 2 texts", p)
	}
	if p := get(time.Now().Add(25 * time.Hour)); len(p.SentInLast24h) != 0 {
		t.Fatalf("policy a day later = %+v, want no recent texts", p)
	}
	v, err := f.env.ExecuteActivity(f.acts.LoadSendPolicy, SendPolicyInput{TenantID: f.tenant.ID, PhoneHash: hashOf("+16145559999"), Now: time.Now()})
	var p SendPolicy
	if err == nil {
		err = v.Get(&p)
	}
	if err != nil || len(p.SentInLast24h) != 0 {
		t.Fatalf("another caller's policy = %+v (%v)", p, err)
	}
}

// TestSendSMSHonoursARestriction: a caller who restricted processing (a data-subject request)
// gets no automated text until the restriction is lifted; a required reply still goes out.
func TestSendSMSHonoursARestriction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	conv := f.openConversation(t, "run-1")
	clock, err := legalclock.New(legalclock.CCPA, time.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	req, err := f.store.CreateDSR(store.WithActor(ctx, "token:compliance"), store.NewDSR{TenantID: f.tenant.ID, Kind: store.DSRRestriction,
		Clock: clock, Identifiers: []store.DSRIdentifier{{Kind: store.IdentifierPhone, Hash: hashOf(caller)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Restrict(ctx, f.tenant.ID, hashOf(caller), store.ProcessingRestricted, req.ID); err != nil {
		t.Fatal(err)
	}
	send := func(step string, consentReply bool) SendSMSResult {
		t.Helper()
		v, err := f.env.ExecuteActivity(f.acts.SendSMS, SendSMSInput{
			TenantID: f.tenant.ID, ConversationID: conv, From: business, To: caller, PhoneHash: hashOf(caller),
			TenantTimezone: "America/New_York", Body: "Hello?", Step: step, FirstRunID: "run-1", ConsentReply: consentReply,
		})
		if err != nil {
			t.Fatal(err)
		}
		var res SendSMSResult
		if err := v.Get(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := send("reply-1", false); !res.Suppressed || !res.Restricted || f.sender.count() != 0 {
		t.Fatalf("restricted send: %+v, sent %d", res, f.sender.count())
	}
	if res := send("consent-reply", true); res.Suppressed || f.sender.count() != 1 {
		t.Fatalf("a required reply was held back: %+v", res)
	}
	if _, err := f.store.LiftRestriction(ctx, f.tenant.ID, hashOf(caller), store.ProcessingRestricted); err != nil {
		t.Fatal(err)
	}
	if res := send("reply-2", false); res.Suppressed || f.sender.count() != 2 {
		t.Fatalf("send after the lift: %+v, sent %d", res, f.sender.count())
	}
}
