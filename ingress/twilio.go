package ingress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/callstatus"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/guard"
	"github.com/ringback/ringback/internal/optout"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/internal/twiml"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// maxWebhookBody caps a Twilio webhook body. Real ones are a few KB even with ten media URLs.
const maxWebhookBody = 64 << 10

// maxFormParams caps how many parameters a webhook may carry, well above Twilio's ~40.
const maxFormParams = 200

// workflowStarter is the part of the Temporal client the ingress uses.
type workflowStarter interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID, signalName string, signalArg any,
		options sdkclient.StartWorkflowOptions, workflow any, workflowArgs ...any) (sdkclient.WorkflowRun, error)
	NewWithStartWorkflowOperation(options sdkclient.StartWorkflowOptions, workflow any, args ...any) sdkclient.WithStartWorkflowOperation
	UpdateWithStartWorkflow(ctx context.Context, options sdkclient.UpdateWithStartWorkflowOptions) (sdkclient.WorkflowUpdateHandle, error)
}

// consentRecorder records keyword consent changes synchronously, before the webhook answers.
type consentRecorder interface {
	RecordOptOut(ctx context.Context, c store.ConsentChange) (store.ConsentResult, error)
	RecordOptIn(ctx context.Context, c store.ConsentChange) (store.ConsentResult, error)
	Suppressed(ctx context.Context, tenantID, phoneHash string) (bool, error)
}

// workflowSignaler tells a running conversation about an opt-out.
type workflowSignaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	ExecuteWorkflow(ctx context.Context, options sdkclient.StartWorkflowOptions, workflow any, args ...any) (sdkclient.WorkflowRun, error)
}

// rateLimiter takes events from shared buckets (PostgreSQL, so every replica sees the same counts).
type rateLimiter interface {
	Allow(ctx context.Context, bucket string, limit store.Limit) (bool, error)
}

// tenantResolver finds the tenant that owns a called number.
type tenantResolver interface {
	TenantByNumber(ctx context.Context, e164 string) (store.TenantRef, error)
}

// twilioIngress handles Twilio's voice and messaging webhooks.
type twilioIngress struct {
	publicURL   string
	validator   client.RequestValidator
	temporal    workflowStarter
	tenants     tenantResolver
	hasher      *phone.Hasher
	taskQueue   string
	idleTimeout time.Duration
	log         *slog.Logger
	now         func() time.Time
	// closingRetry bounds how long an inbound text waits for a closing conversation to finish
	// before a new one can take it; Twilio gives up on a webhook after 15 s.
	closingRetry time.Duration
	// payloads encrypts with the codec; nil leaves arguments to the client's converter.
	payloads converter.DataConverter
	limits   rateLimiter
	audit    auditAppender
	consent  consentRecorder
	signals  workflowSignaler
	// callerTexts and tenantInbound are the configured limits (config.Rate).
	callerTexts, tenantInbound store.Limit
}

// throttled checks the request against its buckets and reports whether it must be dropped. A
// throttled webhook is still answered 200, so Twilio does not retry what was refused on purpose.
// The first refusal of each bucket per period is audited; the rest are only logged, so a flood
// cannot flood the audit log as well.
func (in *twilioIngress) throttled(ctx context.Context, p party, kind string) (bool, error) {
	checks := []struct {
		bucket string
		limit  store.Limit
	}{{"inbound:" + p.tenantID, in.tenantInbound}}
	if kind == "sms" {
		checks = append(checks, struct {
			bucket string
			limit  store.Limit
		}{"text:" + p.tenantID + ":" + p.callerHash[:32], in.callerTexts})
	}
	for _, c := range checks {
		ok, err := in.limits.Allow(ctx, c.bucket, c.limit)
		if err != nil {
			return false, err
		}
		if ok {
			continue
		}
		scope := strings.SplitN(c.bucket, ":", 2)[0]
		in.log.Warn("inbound throttled", slog.String("tenant_id", p.tenantID), slog.String("workflow_id", p.workflowID),
			slog.String("kind", kind), slog.String("limit", scope))
		if first, err := in.limits.Allow(ctx, "audit-once:"+c.bucket, store.Limit{N: 1, Per: c.limit.Per}); err == nil && first {
			if err := recordAccess(store.WithActor(ctx, "system"), in.audit, p.tenantID, "rate_limit.exceeded",
				map[string]any{"kind": kind, "limit": scope, "workflow_id": p.workflowID}); err != nil {
				in.log.Error("audit rate_limit.exceeded failed", slog.String("error", err.Error()))
			}
		}
		return true, nil
	}
	return false, nil
}

// sealFor encodes v under workflowID's key scope. The SDK client encodes update arguments without
// a serialization context, which would seal a caller's text under the control key, where erasing
// the tenant's key could not reach it; a pre-sealed raw value passes through untouched.
func (in *twilioIngress) sealFor(workflowID string, v any) (any, error) {
	if in.payloads == nil {
		return v, nil
	}
	dc := in.payloads
	if scoped, ok := dc.(converter.DataConverterWithSerializationContext); ok {
		dc = scoped.WithSerializationContext(converter.WorkflowSerializationContext{WorkflowID: workflowID})
	}
	p, err := dc.ToPayload(v)
	if err != nil {
		return nil, fmt.Errorf("seal update argument: %w", err)
	}
	return converter.NewRawValue(p), nil
}

// httpError is a failure with the status and reason the client should see.
type httpError struct {
	status int
	reason string
}

func (e *httpError) Error() string { return e.reason }

func fail(status int, format string, args ...any) *httpError {
	return &httpError{status: status, reason: fmt.Sprintf(format, args...)}
}

// signed wraps a webhook handler with the checks every Twilio request passes first: method,
// content type, body size, form syntax and the X-Twilio-Signature over the public URL and every
// parameter received. Nothing else runs for a request that fails them.
func (in *twilioIngress) signed(next func(w http.ResponseWriter, r *http.Request, form map[string]string) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			sig := r.Header.Get("X-Twilio-Signature")
			if sig == "" {
				return fail(http.StatusForbidden, "missing X-Twilio-Signature")
			}
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/x-www-form-urlencoded" {
				return fail(http.StatusUnsupportedMediaType, "content type must be application/x-www-form-urlencoded")
			}
			form, err := readForm(w, r)
			if err != nil {
				return err
			}
			if !in.validator.Validate(in.publicURL+r.URL.RequestURI(), form, sig) {
				return fail(http.StatusForbidden, "invalid X-Twilio-Signature")
			}
			return next(w, r, form)
		}()
		if err != nil {
			in.writeError(w, r, err)
		}
	})
}

// readForm parses a urlencoded body into a flat map. A parameter sent twice is refused: Twilio
// never does it, and the signature algorithm cannot bind both values to one key.
func readForm(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fail(http.StatusRequestEntityTooLarge, "body exceeds %d bytes", maxWebhookBody)
		}
		return nil, fail(http.StatusBadRequest, "could not read body")
	}
	if bytes.Count(data, []byte("&"))+1 > maxFormParams {
		return nil, fail(http.StatusBadRequest, "more than %d parameters", maxFormParams)
	}
	values, err := url.ParseQuery(string(data))
	if err != nil {
		return nil, fail(http.StatusBadRequest, "malformed form body")
	}
	form := make(map[string]string, len(values))
	for k, v := range values {
		if len(v) != 1 {
			return nil, fail(http.StatusBadRequest, "parameter %q sent %d times", truncate(k, 40), len(v))
		}
		form[k] = v[0]
	}
	return form, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// writeError answers with a plain-text reason. The reason never holds a phone number or body.
func (in *twilioIngress) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		in.log.Error("webhook failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		he = fail(http.StatusServiceUnavailable, "temporarily unable to handle the request")
	} else if he.status >= 500 {
		in.log.Error("webhook failed", slog.String("path", r.URL.Path), slog.String("error", he.reason))
	} else {
		in.log.Warn("webhook refused", slog.String("path", r.URL.Path), slog.Int("status", he.status), slog.String("reason", he.reason))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(he.status)
	fmt.Fprintln(w, he.reason)
}

func writeTwiML(w http.ResponseWriter, doc []byte) error {
	w.Header().Set("Content-Type", twiml.ContentType)
	_, err := w.Write(doc)
	return err
}

// party is a resolved (tenant, caller) pair from a webhook's To and From.
type party struct {
	tenantID       string
	caller         string
	callerHash     string
	businessNumber string
	workflowID     string
	// active is false for a tenant whose account is closing: nothing of it is answered but
	// opt-out, opt-in and help keywords.
	active bool
}

// resolve maps To to the tenant and From to the caller. errWithheld means a caller hid their
// number: there is nobody to text, which is not the request's fault.
func (in *twilioIngress) resolve(ctx context.Context, form map[string]string) (party, error) {
	to, err := phone.Normalize(form["To"])
	if err != nil {
		return party{}, fail(http.StatusBadRequest, "To: %v", err)
	}
	from, err := phone.Normalize(form["From"])
	if err != nil {
		if errors.Is(err, phone.ErrWithheld) {
			return party{}, err
		}
		return party{}, fail(http.StatusBadRequest, "From: %v", err)
	}
	t, err := in.tenants.TenantByNumber(ctx, to)
	if errors.Is(err, store.ErrNotFound) {
		return party{}, fail(http.StatusNotFound, "the called number is not configured in Ringback")
	}
	if err != nil {
		return party{}, err
	}
	hash := in.hasher.Hash(from)
	id, err := workflows.ConversationWorkflowID(t.ID, hash)
	if err != nil {
		return party{}, err
	}
	return party{tenantID: t.ID, caller: from, callerHash: hash, businessNumber: to, workflowID: id,
		active: t.Status == store.TenantStatusActive}, nil
}

func (in *twilioIngress) startOptions(p party) sdkclient.StartWorkflowOptions {
	return sdkclient.StartWorkflowOptions{
		ID:        p.workflowID,
		TaskQueue: in.taskQueue,
		// One conversation per (tenant, caller): a retried or second webhook joins the open one.
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(searchattr.TenantID.ValueSet(p.tenantID)),
	}
}

// voiceStatus handles the call's status callback.
func (in *twilioIngress) voiceStatus(w http.ResponseWriter, r *http.Request, form map[string]string) error {
	if _, err := in.handleCallOutcome(r.Context(), form, "CallStatus"); err != nil {
		return err
	}
	return writeTwiML(w, twiml.Empty())
}

// voiceDial handles a <Dial action> callback: the business's phones rang out. The caller is still
// on the line, so they hear that a text is coming.
func (in *twilioIngress) voiceDial(w http.ResponseWriter, r *http.Request, form map[string]string) error {
	missed, err := in.handleCallOutcome(r.Context(), form, "DialCallStatus")
	if err != nil {
		return err
	}
	if missed {
		return writeTwiML(w, twiml.SayThenHangup("Sorry we missed your call. We'll text you right away."))
	}
	return writeTwiML(w, twiml.Hangup())
}

// handleCallOutcome starts or signals the caller's conversation when the call was missed, and
// reports whether it was.
func (in *twilioIngress) handleCallOutcome(ctx context.Context, form map[string]string, statusField string) (bool, error) {
	status := form[statusField]
	if err := callstatus.Validate(status); err != nil {
		return false, fail(http.StatusBadRequest, "%s: %v", statusField, err)
	}
	callSid := form["CallSid"]
	if !validSid(callSid, "CA") {
		return false, fail(http.StatusBadRequest, "CallSid: missing or malformed")
	}
	if !callstatus.Missed(status) {
		return false, nil
	}
	p, err := in.resolve(ctx, form)
	if errors.Is(err, phone.ErrWithheld) {
		in.log.Info("missed call from a withheld number: nobody to text", slog.String("call_sid", callSid))
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !p.active {
		in.log.Info("missed call for a closing account: not answered", slog.String("tenant_id", p.tenantID), slog.String("call_sid", callSid))
		return true, nil
	}
	if drop, err := in.throttled(ctx, p, "call"); err != nil || drop {
		return true, err
	}
	call := workflows.MissedCall{CallSid: callSid, Status: status, At: in.now().UTC()}
	input := workflows.ConversationInput{
		TenantID: p.tenantID, Caller: p.caller, CallerHash: p.callerHash, BusinessNumber: p.businessNumber,
		Trigger: conversation.TriggerMissedCall, FirstCall: &call, IdleTimeout: in.idleTimeout,
	}
	run, err := in.temporal.SignalWithStartWorkflow(ctx, p.workflowID, workflows.SignalMissedCall, call,
		in.startOptions(p), workflows.Conversation, input)
	if err != nil {
		return false, fmt.Errorf("start conversation: %w", err)
	}
	in.log.Info("missed call", slog.String("tenant_id", p.tenantID), slog.String("workflow_id", p.workflowID),
		slog.String("run_id", run.GetRunID()), slog.String("call_sid", callSid), slog.String("status", status))
	return true, nil
}

// sms delivers an inbound text to the caller's conversation, starting one if none is open, and
// answers only after the workflow has stored it.
func (in *twilioIngress) sms(w http.ResponseWriter, r *http.Request, form map[string]string) error {
	ctx := r.Context()
	sid := form["MessageSid"]
	if !validSid(sid, "SM") && !validSid(sid, "MM") {
		return fail(http.StatusBadRequest, "MessageSid: missing or malformed")
	}
	body, ok := form["Body"]
	if !ok {
		return fail(http.StatusBadRequest, "Body: missing")
	}
	numMedia := 0
	if v := form["NumMedia"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return fail(http.StatusBadRequest, "NumMedia: not a count between 0 and 10")
		}
		numMedia = n
	}
	if n := len([]rune(body)); n > workflows.MaxInboundBodyRunes {
		return fail(http.StatusBadRequest, "Body: %d characters exceeds %d", n, workflows.MaxInboundBodyRunes)
	}
	p, err := in.resolve(ctx, form)
	if errors.Is(err, phone.ErrWithheld) {
		return fail(http.StatusBadRequest, "From: %v", err)
	}
	if err != nil {
		return err
	}
	// The conversation sees, stores and will show a model only the cleaned text: normalised,
	// without control or invisible characters. The injection verdict travels with it, so the AI
	// turn can take tools away, and is logged by rule name only.
	verdict := guard.Inbound(body, guard.InboundOptions{})
	if verdict.Injection != guard.None || verdict.Removed > 0 {
		in.log.Warn("inbound text flagged", slog.String("tenant_id", p.tenantID), slog.String("message_sid", sid),
			slog.String("injection", verdict.Injection.String()), slog.Any("rules", verdict.Rules),
			slog.Int("removed_characters", verdict.Removed))
	}
	// Keywords come before everything else, throttling included: STOP is honoured however
	// many texts a caller sends, and recorded before Twilio gets its answer.
	if handled, err := in.handleKeyword(ctx, p, sid, verdict.Clean); err != nil {
		return err
	} else if handled {
		return writeTwiML(w, twiml.Empty())
	}
	if !p.active {
		in.log.Info("text for a closing account: not answered", slog.String("tenant_id", p.tenantID), slog.String("message_sid", sid))
		return writeTwiML(w, twiml.Empty())
	}
	if drop, err := in.throttled(ctx, p, "sms"); err != nil {
		return err
	} else if drop {
		return writeTwiML(w, twiml.Empty())
	}
	msg := workflows.InboundSMS{MessageSid: sid, Body: verdict.Clean, NumMedia: numMedia, ReceivedAt: in.now().UTC(),
		Injection: verdict.Injection, InjectionRules: verdict.Rules}
	input := workflows.ConversationInput{
		TenantID: p.tenantID, Caller: p.caller, CallerHash: p.callerHash, BusinessNumber: p.businessNumber,
		Trigger: conversation.TriggerInboundSMS, IdleTimeout: in.idleTimeout,
	}
	arg, err := in.sealFor(p.workflowID, msg)
	if err != nil {
		return err
	}
	deadline := in.now().Add(in.closingRetry)
	for attempt := 1; ; attempt++ {
		// A with-start operation is single use: build a new one per attempt.
		op := in.temporal.NewWithStartWorkflowOperation(in.startOptions(p), workflows.Conversation, input)
		handle, err := in.temporal.UpdateWithStartWorkflow(ctx, sdkclient.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: op,
			UpdateOptions: sdkclient.UpdateWorkflowOptions{
				UpdateName:   workflows.UpdateInboundSMS,
				UpdateID:     sid,
				Args:         []any{arg},
				WaitForStage: sdkclient.WorkflowUpdateStageCompleted,
			},
		})
		var res workflows.InboundResult
		if err == nil {
			err = handle.Get(ctx, &res)
		}
		if err == nil {
			in.log.Info("inbound sms", slog.String("tenant_id", p.tenantID), slog.String("workflow_id", p.workflowID),
				slog.String("message_sid", sid), slog.Bool("stored", res.Stored))
			return writeTwiML(w, twiml.Empty())
		}
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == workflows.ErrTypeConversationClosing && in.now().Before(deadline) {
			// The open conversation is finishing; once it has, the next attempt starts a new one.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
			continue
		}
		return fmt.Errorf("deliver inbound sms: %w", err)
	}
}

// handleKeyword applies STOP, START and HELP (optout.Parse) and reports whether the text was one.
// The consent change is committed, with its ledger and audit entries, before this returns; the
// one reply it earns is a ConsentReply workflow keyed by the message, so a retried webhook never
// earns a second. A bare YES re-subscribes only a caller who is opted out; otherwise it is an
// ordinary answer and goes to the conversation.
func (in *twilioIngress) handleKeyword(ctx context.Context, p party, messageSid, text string) (bool, error) {
	intent := optout.Parse(text)
	change := store.ConsentChange{TenantID: p.tenantID, PhoneHash: p.callerHash, MessageSid: messageSid, At: in.now().UTC()}
	reply := false
	switch intent.Kind {
	case optout.None:
		return false, nil
	case optout.OptOut:
		res, err := in.consent.RecordOptOut(ctx, change)
		if err != nil {
			return false, err
		}
		reply = res.Changed
		// Stop the open conversation, if any; the send-time check covers the race with a text
		// already on its way.
		if err := in.signals.SignalWorkflow(ctx, p.workflowID, "", workflows.SignalOptedOut, nil); err != nil {
			var notFound *serviceerror.NotFound
			if !errors.As(err, &notFound) {
				return false, fmt.Errorf("stop conversation: %w", err)
			}
		}
	case optout.OptIn:
		if intent.Keyword == "YES" {
			suppressed, err := in.consent.Suppressed(ctx, p.tenantID, p.callerHash)
			if err != nil || !suppressed {
				return false, err
			}
		}
		res, err := in.consent.RecordOptIn(ctx, change)
		if err != nil {
			return false, err
		}
		reply = res.Changed
	case optout.Help:
		reply = true
	}
	in.log.Info("keyword", slog.String("tenant_id", p.tenantID), slog.String("message_sid", messageSid),
		slog.String("intent", intent.Kind.String()), slog.String("keyword", intent.Keyword), slog.Bool("reply", reply))
	if !reply {
		return true, nil
	}
	id, err := workflows.ConsentReplyWorkflowID(p.tenantID, p.callerHash, messageSid)
	if err != nil {
		return false, err
	}
	_, err = in.signals.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{
		ID: id, TaskQueue: in.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(searchattr.TenantID.ValueSet(p.tenantID)),
	}, workflows.ConsentReply, workflows.ConsentReplyInput{
		TenantID: p.tenantID, Caller: p.caller, CallerHash: p.callerHash, BusinessNumber: p.businessNumber, Kind: intent.Kind,
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return false, fmt.Errorf("start consent reply: %w", err)
	}
	return true, nil
}

// validSid checks a Twilio resource SID: a two-letter prefix and 32 hex digits.
func validSid(sid, prefix string) bool {
	if len(sid) != 34 || !strings.HasPrefix(sid, prefix) {
		return false
	}
	for _, c := range sid[2:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}
