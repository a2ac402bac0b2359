package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// ErrNoRequest is returned for a request ID with no workflow.
var ErrNoRequest = errors.New("no such data-subject request")

// ErrCodeRefused wraps a one-time code the request did not accept (wrong, expired, out of tries).
var ErrCodeRefused = errors.New("code refused")

// RequestTemporal is the part of the client the requests use.
type RequestTemporal interface {
	Temporal
	UpdateWorkflow(ctx context.Context, options sdkclient.UpdateWorkflowOptions) (sdkclient.WorkflowUpdateHandle, error)
}

// Requests files data-subject requests and steers them, for the compliance API and the CLI.
type Requests struct {
	Store     *store.Store
	Temporal  RequestTemporal
	TaskQueue string
	Hasher    *phone.Hasher
	// Zone is the compliance team's, in which legal deadlines are counted by date.
	Zone *time.Location
	Now  func() time.Time
}

// NewRequest is a request as staff file it.
type NewRequest struct {
	TenantID string
	Kind     store.DSRKind
	// Regime: "" picks CCPA for North American numbers and GDPR for the rest.
	Regime legalclock.Regime
	// Phones are the numbers the request is about; the first is the requester's own.
	Phones []string
	// AttestReason, when set, is the filer vouching for every number (they verified the person
	// another way); it is recorded with their name. Empty: each number gets a one-time code.
	AttestReason string
	Correction   *store.Correction
}

// Start records the request and starts its workflow, dsr/<id>, under actor.
func (r *Requests) Start(ctx context.Context, actor string, in NewRequest) (store.DSRRequest, error) {
	if !tenantspec.ValidID(in.TenantID) {
		return store.DSRRequest{}, fmt.Errorf("%w: not a tenant id", ErrInvalid)
	}
	if _, err := store.ParseDSRKind(string(in.Kind)); err != nil {
		return store.DSRRequest{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(in.Phones) == 0 || len(in.Phones) > 5 {
		return store.DSRRequest{}, fmt.Errorf("%w: one to five phone numbers", ErrInvalid)
	}
	if in.Kind == store.DSRCorrection && (in.Correction == nil || strings.TrimSpace(in.Correction.Name) == "") {
		return store.DSRRequest{}, fmt.Errorf("%w: a correction request needs the corrected name", ErrInvalid)
	}
	if len(in.AttestReason) > store.MaxAttestReasonLen {
		return store.DSRRequest{}, fmt.Errorf("%w: the attestation reason is too long", ErrInvalid)
	}
	var phones []string
	var ids []store.DSRIdentifier
	for i, p := range in.Phones {
		e164, err := phone.Normalize(p)
		if err != nil {
			return store.DSRRequest{}, fmt.Errorf("%w: phone %d: %v", ErrInvalid, i+1, err)
		}
		phones = append(phones, e164)
		ids = append(ids, store.DSRIdentifier{Kind: store.IdentifierPhone, Hash: r.Hasher.Hash(e164)})
	}
	regime := in.Regime
	if regime == "" {
		regime = legalclock.GDPR
		if strings.HasPrefix(phones[0], "+1") {
			regime = legalclock.CCPA
		}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	clock, err := legalclock.New(regime, now(), r.Zone)
	if err != nil {
		return store.DSRRequest{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req, err := r.Store.CreateDSR(store.WithActor(ctx, actor), store.NewDSR{TenantID: in.TenantID, Kind: in.Kind, Clock: clock, Identifiers: ids})
	if err != nil {
		return store.DSRRequest{}, err
	}
	input := workflows.DSRInput{RequestID: req.ID, TenantID: in.TenantID, Kind: in.Kind, Clock: clock, Phones: phones, Correction: in.Correction}
	if in.AttestReason != "" {
		input.AttestedBy, input.AttestReason = actor, in.AttestReason
	}
	if _, err := r.Temporal.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{
		ID: workflows.DSRWorkflowID(req.ID), TaskQueue: r.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.DataSubjectRequest, input); err != nil {
		return req, fmt.Errorf("start request workflow: %w", err)
	}
	return req, nil
}

// VerifyCode hands the requester's code to the request; ErrCodeRefused says why it was not
// accepted.
func (r *Requests) VerifyCode(ctx context.Context, requestID, number, code string) error {
	h, err := r.Temporal.UpdateWorkflow(ctx, sdkclient.UpdateWorkflowOptions{
		WorkflowID: workflows.DSRWorkflowID(requestID), UpdateName: workflows.UpdateVerifyCode,
		Args: []any{workflows.VerifyCode{Phone: number, Code: code}}, WaitForStage: sdkclient.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if isNotFound(err) {
		return ErrNoRequest
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return fmt.Errorf("%w: %s", ErrCodeRefused, appErr.Message())
	}
	if err != nil {
		return fmt.Errorf("verify code: %w", err)
	}
	return nil
}

// Attest records staff vouching for one number of the request.
func (r *Requests) Attest(ctx context.Context, requestID, number, actor, reason string) error {
	if strings.TrimSpace(reason) == "" || len(reason) > store.MaxAttestReasonLen {
		return fmt.Errorf("%w: an attestation needs a reason", ErrInvalid)
	}
	return r.signal(ctx, requestID, workflows.SignalAttest, workflows.Attestation{Phone: number, By: actor, Reason: reason})
}

// Extend announces the request's one extension, with the reason the requester is told.
func (r *Requests) Extend(ctx context.Context, requestID, actor, reason string) error {
	if strings.TrimSpace(reason) == "" || len(reason) > 200 {
		return fmt.Errorf("%w: an extension needs a reason of at most 200 characters", ErrInvalid)
	}
	return r.signal(ctx, requestID, workflows.SignalExtend, workflows.ClosureSignal{By: actor, Reason: reason})
}

// Hold pauses the request's clock and its answer; Release resumes both.
func (r *Requests) Hold(ctx context.Context, requestID, actor, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: a legal hold needs a reason", ErrInvalid)
	}
	return r.signal(ctx, requestID, workflows.SignalLegalHold, workflows.ClosureSignal{By: actor, Reason: reason})
}

// Release ends a legal hold.
func (r *Requests) Release(ctx context.Context, requestID, actor string) error {
	return r.signal(ctx, requestID, workflows.SignalReleaseHold, workflows.ClosureSignal{By: actor})
}

// State returns the request's workflow state.
func (r *Requests) State(ctx context.Context, requestID string) (workflows.DSRState, error) {
	v, err := r.Temporal.QueryWorkflow(ctx, workflows.DSRWorkflowID(requestID), "", workflows.QueryDSR)
	if isNotFound(err) {
		return workflows.DSRState{}, ErrNoRequest
	}
	if err != nil {
		return workflows.DSRState{}, fmt.Errorf("query request: %w", err)
	}
	var st workflows.DSRState
	if err := v.Get(&st); err != nil {
		return workflows.DSRState{}, fmt.Errorf("query request: %w", err)
	}
	return st, nil
}

func (r *Requests) signal(ctx context.Context, requestID, name string, arg any) error {
	err := r.Temporal.SignalWorkflow(ctx, workflows.DSRWorkflowID(requestID), "", name, arg)
	if isNotFound(err) {
		return ErrNoRequest
	}
	if err != nil {
		return fmt.Errorf("signal request: %w", err)
	}
	return nil
}
