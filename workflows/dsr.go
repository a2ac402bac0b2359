package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ringback/ringback/activities/dsr"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/searchattr"
	"github.com/ringback/ringback/store"
)

// Names of the data-subject request workflow's messages.
const (
	// UpdateVerifyCode delivers a one-time code the requester received; it fails with the reason
	// when the code is wrong, expired or out of attempts.
	UpdateVerifyCode = "verify-code"
	// SignalAttest records a member of staff vouching for one of the request's numbers.
	SignalAttest = "attest"
	// SignalExtend announces the one extension the law allows, with its reason.
	SignalExtend = "extend"
	// QueryDSR returns the DSRState.
	QueryDSR = "dsr"
)

// DSRWorkflowID is the one workflow a request runs under. Requests carry no TenantID search
// attribute: their records outlive an erasure of the tenant.
func DSRWorkflowID(requestID string) string { return "dsr/" + requestID }

// MaxCodeAttempts bounds the guesses at one code.
const MaxCodeAttempts = 5

// DSRInput starts a request. The numbers travel in the workflow's input, encrypted by the payload
// codec; the request's record holds only their HMACs.
type DSRInput struct {
	RequestID string
	TenantID  string
	Kind      store.DSRKind
	Clock     legalclock.Clock
	// Phones are the numbers the request is about, in E.164; the first is the requester's own,
	// where notices go.
	Phones []string
	// AttestedBy and AttestReason: staff vouched for every number when they filed the request.
	AttestedBy   string
	AttestReason string
	// Correction is what a correction request changes.
	Correction *store.Correction
}

// VerifyCode is the requester's answer to a code.
type VerifyCode struct {
	Phone string
	Code  string
}

// Attestation is staff vouching for a number, with the reason.
type Attestation struct {
	Phone  string
	By     string
	Reason string
}

// Identifier is one number of the request as the state shows it: masked.
type Identifier struct {
	Phone    string
	Verified bool
	How      string
	// Settled is true once the number is verified or can no longer be (code expired or out of
	// attempts): the request waits for every number to settle, then acts on the verified ones.
	Settled  bool
	Attempts int
}

// DSRState is what the query returns.
type DSRState struct {
	RequestID   string
	TenantID    string
	Kind        store.DSRKind
	Status      store.DSRStatus
	Deadline    time.Time
	Extended    bool
	OnHold      bool
	Identifiers []Identifier
	// Ignored counts numbers that were never verified and so were left out of the answer.
	Ignored      int
	Exports      []dsr.ExportResult
	Erased       *dsr.EraseResult
	Corrected    int
	RejectReason string
}

var dsrActs *dsr.Requests

// deletionNotice is the last text a deletion request sends, just before the erasure.
const deletionNotice = "We are deleting your data now, as you asked; this is our last text. If you had asked us to stop texting you, we keep only a one-way code of your number so we never text you again."

var codePattern = regexp.MustCompile(`^[0-9]{6}$`)

type dsrRun struct {
	in     DSRInput
	clock  legalclock.Clock
	state  DSRState
	codes  []dsr.SentCode
	phones []string // normalized
	runID  string
	heldAt time.Time
	done   bool
	// reminded marks reminders already sent, by deadline and kind.
	reminded map[string]bool
	sends    int
}

// DataSubjectRequest answers an access, portability, deletion, correction, restriction or
// objection request on its legal clock: it verifies every number the request names (a one-time
// code, or staff attestation), acts only on the verified ones, and completes within the deadline
// — reminding staff before it, escalating to the compliance contact the day before, extending
// once with notice, pausing for a legal hold.
func DataSubjectRequest(ctx workflow.Context, in DSRInput) (DSRState, error) {
	if in.RequestID == "" || in.TenantID == "" || len(in.Phones) == 0 || !in.Clock.Regime.Valid() {
		return DSRState{}, temporal.NewNonRetryableApplicationError("dsr: a request id, a tenant, a number and a clock are required", "InvalidInput", nil)
	}
	r := &dsrRun{in: in, clock: in.Clock, reminded: map[string]bool{}, runID: firstRunID(ctx)}
	for _, p := range in.Phones {
		e164, err := phone.Normalize(p)
		if err != nil {
			return DSRState{}, temporal.NewNonRetryableApplicationError("dsr: "+err.Error(), "InvalidInput", nil)
		}
		r.phones = append(r.phones, e164)
		r.state.Identifiers = append(r.state.Identifiers, Identifier{Phone: phone.Mask(e164)})
	}
	r.codes = make([]dsr.SentCode, len(r.phones))
	r.state.RequestID, r.state.TenantID, r.state.Kind = in.RequestID, in.TenantID, in.Kind
	r.state.Status, r.state.Deadline = store.DSRReceived, r.clock.Deadline()
	return r.run(ctx)
}

func (r *dsrRun) run(ctx workflow.Context) (DSRState, error) {
	if err := workflow.SetQueryHandler(ctx, QueryDSR, func() (DSRState, error) { return r.state, nil }); err != nil {
		return r.state, err
	}
	if err := r.registerHandlers(ctx); err != nil {
		return r.state, err
	}
	if err := r.upsertAttributes(ctx); err != nil {
		return r.state, err
	}
	workflow.Go(ctx, r.watchClock)

	if err := r.setStatus(ctx, store.DSRVerifying); err != nil {
		return r.state, err
	}
	for i := range r.phones {
		if r.in.AttestedBy != "" {
			if err := r.attest(ctx, i, Attestation{Phone: r.phones[i], By: r.in.AttestedBy, Reason: r.in.AttestReason}); err != nil {
				return r.state, err
			}
			continue
		}
		if err := r.sendCode(ctx, i); err != nil {
			return r.state, err
		}
	}
	if err := r.awaitSettled(ctx); err != nil {
		return r.state, err
	}
	var verified []string
	for i, id := range r.state.Identifiers {
		if id.Verified {
			verified = append(verified, r.phones[i])
		} else {
			r.state.Ignored++
		}
	}
	if len(verified) == 0 {
		r.state.RejectReason = "no number on the request could be verified"
		if err := r.setStatus(ctx, store.DSRRejected); err != nil {
			return r.state, err
		}
		r.done = true
		return r.state, nil
	}
	// A legal hold stops the answer too: nothing is exported or erased while it is on.
	if err := workflow.Await(ctx, func() bool { return !r.state.OnHold }); err != nil {
		return r.state, err
	}
	if err := r.setStatus(ctx, store.DSRInProgress); err != nil {
		return r.state, err
	}
	if r.in.Kind == store.DSRDeletion {
		// Told first: the erasure then removes the record of this text with everything else.
		if err := r.notify(ctx, verified[0], "done", deletionNotice); err != nil {
			return r.state, err
		}
	}
	notice, err := r.answerPersistently(ctx, verified)
	if err != nil {
		return r.state, err
	}
	// The requester is told before the request counts as answered.
	if r.in.Kind != store.DSRDeletion {
		if err := r.notify(ctx, verified[0], "done", notice); err != nil {
			return r.state, err
		}
	}
	if err := r.setStatus(ctx, store.DSRCompleted); err != nil {
		return r.state, err
	}
	r.done = true
	return r.state, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// answerPersistently retries the answer hourly while it fails for a reason that may pass (the
// database, Temporal, a provider down), however long that takes: the reminders and the escalation
// before the deadline tell people meanwhile. A failure that cannot pass fails the request.
func (r *dsrRun) answerPersistently(ctx workflow.Context, verified []string) (string, error) {
	for {
		notice, err := r.answer(ctx, verified)
		var appErr *temporal.ApplicationError
		if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
			return notice, err
		}
		workflow.GetLogger(ctx).Warn("answering the request failed; trying again in an hour", "error", err.Error())
		if err := workflow.Sleep(ctx, time.Hour); err != nil {
			return "", err
		}
	}
}

// answer carries the request out for the verified numbers and words the notice to the requester.
func (r *dsrRun) answer(ctx workflow.Context, verified []string) (string, error) {
	subjects := dsr.SubjectsInput{RequestID: r.in.RequestID, TenantID: r.in.TenantID, Phones: verified}
	actx := dsrOptions(ctx)
	switch r.in.Kind {
	case store.DSRAccess, store.DSRPortability:
		if err := workflow.ExecuteActivity(actx, dsrActs.Export, subjects).Get(ctx, &r.state.Exports); err != nil {
			return "", err
		}
		links := ""
		for _, e := range r.state.Exports {
			links += " " + e.Link
		}
		return fmt.Sprintf("Your data is ready to download (JSON and CSV; the link works once, for 7 days):%s", links), nil
	case store.DSRDeletion:
		var res dsr.EraseResult
		if err := workflow.ExecuteActivity(deletionOptions(ctx), dsrActs.Erase, subjects).Get(ctx, &res); err != nil {
			return "", err
		}
		r.state.Erased = &res
		return deletionNotice, nil
	case store.DSRCorrection:
		if r.in.Correction == nil {
			return "", temporal.NewNonRetryableApplicationError("dsr: a correction request needs the correction", "InvalidInput", nil)
		}
		if err := workflow.ExecuteActivity(actx, dsrActs.Correct, dsr.CorrectInput{SubjectsInput: subjects, Correction: *r.in.Correction}).Get(ctx, &r.state.Corrected); err != nil {
			return "", err
		}
		return "Your details have been corrected.", nil
	case store.DSRRestriction, store.DSRObjection:
		kind := store.ProcessingRestricted
		if r.in.Kind == store.DSRObjection {
			kind = store.ProcessingObjected
		}
		if err := workflow.ExecuteActivity(actx, dsrActs.Restrict, dsr.RestrictInput{SubjectsInput: subjects, Kind: kind}).Get(ctx, nil); err != nil {
			return "", err
		}
		return "Done: our assistant will no longer process your messages, and you will get no automated texts until you ask us to lift this.", nil
	}
	return "", temporal.NewNonRetryableApplicationError("dsr: unknown request kind", "InvalidInput", nil)
}

func (r *dsrRun) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerifyCode, func(ctx workflow.Context, v VerifyCode) error {
		i := r.index(v.Phone)
		id := &r.state.Identifiers[i]
		code := r.codes[i]
		if workflow.Now(ctx).After(code.ExpiresAt) {
			id.Settled = true
			return temporal.NewApplicationError("the code has expired", "CodeExpired")
		}
		id.Attempts++
		if dsr.CodeHash(code.Salt, v.Code) != code.Hash {
			if id.Attempts >= MaxCodeAttempts {
				id.Settled = true
				return temporal.NewApplicationError("wrong code; no attempts left", "CodeRejected")
			}
			return temporal.NewApplicationError(fmt.Sprintf("wrong code; %d attempts left", MaxCodeAttempts-id.Attempts), "CodeRejected")
		}
		err := workflow.ExecuteActivity(dsrOptions(ctx), dsrActs.MarkVerified, dsr.IdentifierInput{
			RequestID: r.in.RequestID, Phone: r.phones[i], At: workflow.Now(ctx),
		}).Get(ctx, nil)
		if err != nil {
			return err
		}
		id.Verified, id.How, id.Settled = true, string(store.VerifiedCode), true
		return nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v VerifyCode) error {
		i := r.index(v.Phone)
		switch {
		case i < 0:
			return errors.New("the number is not on this request")
		case r.state.Identifiers[i].Settled:
			return errors.New("the number is already settled (verified, or out of attempts)")
		case r.codes[i].Hash == "":
			return errors.New("no code has been sent to the number yet")
		case !codePattern.MatchString(v.Code):
			return errors.New("the code is six digits")
		}
		return nil
	}}); err != nil {
		return err
	}
	attestCh := workflow.GetSignalChannel(ctx, SignalAttest)
	extendCh := workflow.GetSignalChannel(ctx, SignalExtend)
	holdCh := workflow.GetSignalChannel(ctx, SignalLegalHold)
	releaseCh := workflow.GetSignalChannel(ctx, SignalReleaseHold)
	// The callbacks run in the signal coroutine and block there (activities), so they use its
	// context, set below before the first Select.
	hctx := ctx
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(attestCh, func(ch workflow.ReceiveChannel, _ bool) {
		var a Attestation
		ch.Receive(hctx, &a)
		if i := r.index(a.Phone); i >= 0 && !r.state.Identifiers[i].Settled && a.By != "" && a.Reason != "" {
			if err := r.attest(hctx, i, a); err != nil {
				workflow.GetLogger(hctx).Warn("attestation not recorded", "error", err.Error())
			}
		}
	})
	sel.AddReceive(extendCh, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(hctx, &s)
		r.extend(hctx, s)
	})
	sel.AddReceive(holdCh, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(hctx, &s)
		if !r.state.OnHold && !r.done {
			r.state.OnHold, r.heldAt = true, workflow.Now(hctx)
			_ = r.setStatus(hctx, store.DSROnHold)
		}
	})
	sel.AddReceive(releaseCh, func(ch workflow.ReceiveChannel, _ bool) {
		var s ClosureSignal
		ch.Receive(hctx, &s)
		if r.state.OnHold {
			r.state.OnHold = false
			r.clock = r.clock.Paused(workflow.Now(hctx).Sub(r.heldAt))
			r.deadlinesChanged(hctx)
			_ = r.setStatus(hctx, store.DSRInProgress)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		hctx = ctx
		for {
			sel.Select(ctx)
		}
	})
	return nil
}

func (r *dsrRun) index(p string) int {
	e164, err := phone.Normalize(p)
	if err != nil {
		return -1
	}
	for i, q := range r.phones {
		if q == e164 {
			return i
		}
	}
	return -1
}

func (r *dsrRun) sendCode(ctx workflow.Context, i int) error {
	r.sends++
	return workflow.ExecuteActivity(smsOptions(ctx), dsrActs.SendCode, dsr.SendCodeInput{
		RequestID: r.in.RequestID, TenantID: r.in.TenantID, Phone: r.phones[i],
		Step: fmt.Sprintf("code-%d-%d", i, r.sends), FirstRunID: r.runID,
	}).Get(ctx, &r.codes[i])
}

func (r *dsrRun) attest(ctx workflow.Context, i int, a Attestation) error {
	if err := workflow.ExecuteActivity(dsrOptions(ctx), dsrActs.MarkAttested, dsr.IdentifierInput{
		RequestID: r.in.RequestID, Phone: r.phones[i], At: workflow.Now(ctx), Actor: a.By, Reason: a.Reason,
	}).Get(ctx, nil); err != nil {
		return err
	}
	id := &r.state.Identifiers[i]
	id.Verified, id.How, id.Settled = true, string(store.Attested), true
	return nil
}

// awaitSettled waits until every number is verified or can no longer be: its code expired or
// ran out of attempts.
func (r *dsrRun) awaitSettled(ctx workflow.Context) error {
	for {
		now := workflow.Now(ctx)
		next := time.Time{}
		all := true
		for i := range r.state.Identifiers {
			id := &r.state.Identifiers[i]
			if id.Settled {
				continue
			}
			if !now.Before(r.codes[i].ExpiresAt) {
				id.Settled = true
				continue
			}
			all = false
			if next.IsZero() || r.codes[i].ExpiresAt.Before(next) {
				next = r.codes[i].ExpiresAt
			}
		}
		if all {
			return nil
		}
		if _, err := workflow.AwaitWithTimeout(ctx, next.Sub(now), func() bool {
			for _, id := range r.state.Identifiers {
				if !id.Settled {
					return false
				}
			}
			return true
		}); err != nil {
			return err
		}
	}
}

// watchClock sends each reminder of the deadline in force, and the escalation the day before,
// while the request is open. An extension or a hold changes the deadline; the next pass picks
// up its reminders.
func (r *dsrRun) watchClock(ctx workflow.Context) {
	for !r.done {
		deadline := r.clock.Deadline()
		var next *legalclock.Reminder
		for _, rem := range r.clock.Reminders() {
			key := fmt.Sprintf("%s-%d-%d", rem.Kind, rem.DaysBefore, deadline.Unix())
			if r.reminded[key] || rem.At.Before(workflow.Now(ctx)) {
				continue
			}
			rem := rem
			next = &rem
			break
		}
		if next == nil {
			// Nothing left to remind of; wake if the deadline moves.
			_ = workflow.Await(ctx, func() bool { return r.done || !r.clock.Deadline().Equal(deadline) })
			continue
		}
		fired, err := workflow.AwaitWithTimeout(ctx, next.At.Sub(workflow.Now(ctx)), func() bool {
			return r.done || !r.clock.Deadline().Equal(deadline)
		})
		if err != nil || fired {
			continue
		}
		key := fmt.Sprintf("%s-%d-%d", next.Kind, next.DaysBefore, deadline.Unix())
		r.reminded[key] = true
		if r.state.OnHold {
			continue
		}
		if err := workflow.ExecuteActivity(dsrOptions(ctx), dsrActs.Escalate, dsr.EscalateInput{
			RequestID: r.in.RequestID, TenantID: r.in.TenantID, Kind: next.Kind, Deadline: deadline, Step: key,
		}).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("deadline reminder failed", "error", err.Error())
		}
	}
}

// extend takes the one extension, if it can still be announced, and tells the requester why.
func (r *dsrRun) extend(ctx workflow.Context, s ClosureSignal) {
	now := workflow.Now(ctx)
	if r.done || r.clock.Extended || !r.clock.CanExtend(now) || s.Reason == "" {
		workflow.GetLogger(ctx).Warn("extension refused", "extended_already", r.clock.Extended, "in_time", r.clock.CanExtend(now))
		return
	}
	c, err := r.clock.Extend(now)
	if err != nil {
		return
	}
	r.clock = c
	r.state.Extended = true
	r.deadlinesChanged(ctx)
	_ = r.setStatus(ctx, store.DSRExtended)
	body := fmt.Sprintf("We need more time to answer your privacy request: %s. We will answer by %s.", s.Reason,
		r.clock.Deadline().In(r.clock.Loc).Format("January 2, 2006"))
	if err := r.notify(ctx, r.phones[0], "extension", body); err != nil {
		workflow.GetLogger(ctx).Warn("extension notice failed", "error", err.Error())
	}
}

func (r *dsrRun) deadlinesChanged(ctx workflow.Context) {
	r.state.Deadline = r.clock.Deadline()
	if err := workflow.ExecuteActivity(dsrOptions(ctx), dsrActs.SetDeadlines, dsr.DeadlinesInput{
		RequestID: r.in.RequestID, Clock: r.clock,
	}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("deadlines not recorded", "error", err.Error())
	}
	_ = r.upsertAttributes(ctx)
}

func (r *dsrRun) notify(ctx workflow.Context, p, step, body string) error {
	return workflow.ExecuteActivity(smsOptions(ctx), dsrActs.Notify, dsr.NoticeInput{
		TenantID: r.in.TenantID, Phone: p, Body: body, Step: "notice-" + step, FirstRunID: r.runID,
	}).Get(ctx, nil)
}

func (r *dsrRun) setStatus(ctx workflow.Context, s store.DSRStatus) error {
	r.state.Status = s
	return workflow.ExecuteActivity(dsrOptions(ctx), dsrActs.SetStatus, dsr.StatusInput{
		RequestID: r.in.RequestID, Status: s, At: workflow.Now(ctx),
	}).Get(ctx, nil)
}

func (r *dsrRun) upsertAttributes(ctx workflow.Context) error {
	return workflow.UpsertTypedSearchAttributes(ctx, searchattr.DSRKind.ValueSet(string(r.in.Kind)), searchattr.DueAt.ValueSet(r.clock.Deadline()))
}

func dsrOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		// Bounded, so a long outage comes back to the workflow, which keeps trying hourly.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			MaximumAttempts: 8, NonRetryableErrorTypes: []string{dsr.ErrTypeInvalid, dsr.ErrTypeNoSuchTenant}},
	})
}
