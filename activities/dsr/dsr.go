// Package dsr holds the side effects of data-subject requests: one-time codes to the numbers a
// request names, the record's status and deadlines, and the answer itself — an export, an
// erasure, a correction or a restriction — each recorded in the tenant's audit log.
package dsr

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ringback/ringback/activities"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/subjectexport"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
)

// Temporal is what the requests need of the Temporal client: finding and removing a caller's
// executions.
type Temporal interface {
	ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	TerminateWorkflow(ctx context.Context, workflowID, runID, reason string, details ...any) error
	WorkflowService() workflowservice.WorkflowServiceClient
}

// Requests carries the activities' dependencies.
type Requests struct {
	Store     *store.Store
	Keys      codec.Keys
	Hasher    *phone.Hasher
	Texts     *activities.Activities
	Temporal  Temporal
	Namespace string
	// PublicURL is where export links point (the starter serves /dsr/export/{token}).
	PublicURL string
	// CompliancePhone and PlatformNumber: escalations of deadlines about to be missed.
	CompliancePhone string
	PlatformNumber  string
	Log             *slog.Logger
	Now             func() time.Time
}

func (r *Requests) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Error types the workflow tells apart.
const (
	ErrTypeInvalid      = "InvalidInput"
	ErrTypeNoSuchTenant = "TenantNotFound"
)

// CodeTTL is how long a one-time code is valid.
const CodeTTL = 10 * time.Minute

// SendCodeInput asks for a code to one of the request's numbers.
type SendCodeInput struct {
	RequestID string
	TenantID  string
	Phone     string
	// Step names the text within the workflow (one per code sent), for the outbox key.
	Step       string
	FirstRunID string
}

// SentCode is what the workflow keeps of a code: its salted hash, never the code.
type SentCode struct {
	Salt      string
	Hash      string
	ExpiresAt time.Time
}

// CodeHash is how a code is compared: SHA-256 over the salt and the code. A six-digit code is
// guessable offline from its hash, which is why it lives only in the request's own encrypted
// history, expires in ten minutes and allows five tries.
func CodeHash(salt, code string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + strings.TrimSpace(code)))
	return hex.EncodeToString(sum[:])
}

// SendCode texts a fresh six-digit code to a number the request names, from the business's own
// number. It goes out whatever the number's consent: the text answers the person's own request.
func (r *Requests) SendCode(ctx context.Context, in SendCodeInput) (SentCode, error) {
	from, name, err := r.business(ctx, in.TenantID)
	if err != nil {
		return SentCode{}, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return SentCode{}, err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	var saltBytes [16]byte
	if _, err := rand.Read(saltBytes[:]); err != nil {
		return SentCode{}, err
	}
	salt := hex.EncodeToString(saltBytes[:])
	body := fmt.Sprintf("%s: your code for your privacy request is %s. It expires in 10 minutes. If you did not ask for this, ignore this text.", name, code)
	if err := r.text(ctx, in.TenantID, from, in.Phone, body, in.Step, in.FirstRunID); err != nil {
		return SentCode{}, err
	}
	return SentCode{Salt: salt, Hash: CodeHash(salt, code), ExpiresAt: r.now().Add(CodeTTL)}, nil
}

// NoticeInput is a text to the requester about their request.
type NoticeInput struct {
	TenantID   string
	Phone      string
	Body       string
	Step       string
	FirstRunID string
}

// Notify texts the requester (acknowledgement, extension notice, the answer).
func (r *Requests) Notify(ctx context.Context, in NoticeInput) error {
	from, _, err := r.business(ctx, in.TenantID)
	if err != nil {
		return err
	}
	return r.text(ctx, in.TenantID, from, in.Phone, in.Body, in.Step, in.FirstRunID)
}

func (r *Requests) business(ctx context.Context, tenantID string) (from, name string, err error) {
	t, err := r.Store.Tenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", temporal.NewNonRetryableApplicationError("tenant not found", ErrTypeNoSuchTenant, nil)
	}
	if err != nil {
		return "", "", err
	}
	if len(t.Numbers) == 0 {
		return "", "", temporal.NewNonRetryableApplicationError("the tenant has no number to text from", ErrTypeInvalid, nil)
	}
	return t.Numbers[0], t.Name, nil
}

func (r *Requests) text(ctx context.Context, tenantID, from, to, body, step, firstRunID string) error {
	e164, err := phone.Normalize(to)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("requester's number: "+err.Error(), ErrTypeInvalid, nil)
	}
	// ConsentReply: the person asked for this text through their request, so it reaches them
	// even after a STOP, and at the hour they asked.
	_, err = r.Texts.SendSMS(ctx, activities.SendSMSInput{
		TenantID: tenantID, From: from, To: e164, PhoneHash: r.Hasher.Hash(e164),
		Body: body, Step: step, FirstRunID: firstRunID, ConsentReply: true,
	})
	return err
}

// IdentifierInput names one identifier of a request.
type IdentifierInput struct {
	RequestID string
	Phone     string
	At        time.Time
	// Actor and Reason: an attestation by staff.
	Actor  string
	Reason string
}

// MarkVerified records that the requester answered the code sent to the number.
func (r *Requests) MarkVerified(ctx context.Context, in IdentifierInput) error {
	_, err := r.Store.VerifyDSRIdentifier(store.WithActor(ctx, "requester"), in.RequestID, store.IdentifierPhone, r.hash(in.Phone), in.At)
	return nonRetryableIfClosed(err)
}

// MarkAttested records that a named member of staff vouches for the number, and why.
func (r *Requests) MarkAttested(ctx context.Context, in IdentifierInput) error {
	_, err := r.Store.AttestDSRIdentifier(store.WithActor(ctx, in.Actor), in.RequestID, store.IdentifierPhone, r.hash(in.Phone), in.Reason, in.At)
	if errors.Is(err, store.ErrAttestationNeedsStaff) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, nil)
	}
	return nonRetryableIfClosed(err)
}

func (r *Requests) hash(number string) string {
	e164, err := phone.Normalize(number)
	if err != nil {
		return ""
	}
	return r.Hasher.Hash(e164)
}

func nonRetryableIfClosed(err error) error {
	if errors.Is(err, store.ErrDSRClosed) || errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, nil)
	}
	return err
}

// StatusInput moves the request's record on.
type StatusInput struct {
	RequestID string
	Status    store.DSRStatus
	At        time.Time
}

// SetStatus records the request's status.
func (r *Requests) SetStatus(ctx context.Context, in StatusInput) error {
	_, err := r.Store.SetDSRStatus(ctx, in.RequestID, in.Status, in.At)
	return nonRetryableIfClosed(err)
}

// DeadlinesInput records the request's clock after an extension or a hold.
type DeadlinesInput struct {
	RequestID string
	Clock     legalclock.Clock
}

// SetDeadlines records the deadlines in force.
func (r *Requests) SetDeadlines(ctx context.Context, in DeadlinesInput) error {
	_, err := r.Store.SetDSRDeadlines(ctx, in.RequestID, in.Clock)
	return nonRetryableIfClosed(err)
}

// EscalateInput warns the compliance contact that a deadline is near.
type EscalateInput struct {
	RequestID string
	TenantID  string
	Kind      legalclock.ReminderKind
	Deadline  time.Time
	Step      string
}

// Escalate records the reminder in the tenant's audit log and, for escalations, texts the
// compliance contact when one is configured. The text names the request, never the person.
func (r *Requests) Escalate(ctx context.Context, in EscalateInput) error {
	info := activity.GetInfo(ctx)
	if _, err := r.Store.AppendAudit(ctx, store.AuditEvent{
		LogID: in.TenantID, EventID: "dsr." + string(in.Kind) + "/" + in.RequestID + "/" + in.Step, Actor: "system",
		Action: "dsr." + string(in.Kind), OccurredAt: r.now(),
		Payload: []byte(fmt.Sprintf(`{"request_id":%q,"deadline":%q}`, in.RequestID, in.Deadline.UTC().Format(time.RFC3339))),
	}); err != nil && !errors.Is(err, store.ErrAuditConflict) {
		return err
	}
	if in.Kind != legalclock.Escalate || r.CompliancePhone == "" || r.PlatformNumber == "" {
		if r.Log != nil {
			r.Log.Warn("data-subject request deadline near", slog.String("request_id", in.RequestID), slog.String("kind", string(in.Kind)),
				slog.Time("deadline", in.Deadline))
		}
		return nil
	}
	_, err := r.Texts.SendSMS(ctx, activities.SendSMSInput{
		TenantID: in.TenantID, From: r.PlatformNumber, To: r.CompliancePhone, PhoneHash: r.Hasher.Hash(r.CompliancePhone),
		Body: fmt.Sprintf("Ringback compliance: data-subject request %s (tenant %s) is due %s and is not answered yet.",
			in.RequestID, in.TenantID, in.Deadline.UTC().Format("2006-01-02 15:04 MST")),
		Step: in.Step, FirstRunID: info.WorkflowExecution.RunID, StaffAlert: true,
	})
	return err
}

// SubjectsInput names the verified numbers a request is answered for.
type SubjectsInput struct {
	RequestID string
	TenantID  string
	Phones    []string
}

func (r *Requests) subjects(in SubjectsInput) ([]store.Subject, error) {
	if !tenantspec.ValidID(in.TenantID) {
		return nil, temporal.NewNonRetryableApplicationError("invalid tenant id", ErrTypeInvalid, nil)
	}
	var out []store.Subject
	for _, p := range in.Phones {
		sub, err := store.NewSubject(r.Hasher, in.TenantID, p)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError("subject: "+err.Error(), ErrTypeInvalid, nil)
		}
		out = append(out, sub)
	}
	return out, nil
}

// ExportResult is where the export can be fetched.
type ExportResult struct {
	Token     string
	Link      string
	SHA256    string
	Bytes     int
	ExpiresAt time.Time
}

// ExportTTL is how long an export link works.
const ExportTTL = 7 * 24 * time.Hour

// Export gathers everything the tenant holds about each verified number into a zip (JSON and CSV),
// seals it under the tenant's key and returns its download link: one export per number, so each
// can be handed to the person it is about.
func (r *Requests) Export(ctx context.Context, in SubjectsInput) ([]ExportResult, error) {
	subs, err := r.subjects(in)
	if err != nil {
		return nil, err
	}
	var out []ExportResult
	for _, sub := range subs {
		rec, err := r.Store.SubjectData(ctx, sub)
		if err != nil {
			return out, err
		}
		data, err := subjectexport.Build(rec)
		if err != nil {
			return out, temporal.NewNonRetryableApplicationError("build export: "+err.Error(), ErrTypeInvalid, nil)
		}
		expires := r.now().Add(ExportTTL)
		token, err := r.Store.SaveDSRExport(ctx, r.Keys, in.RequestID, data, expires)
		if err != nil {
			return out, nonRetryableIfClosed(err)
		}
		sum := sha256.Sum256(data)
		out = append(out, ExportResult{
			Token: token, Link: strings.TrimRight(r.PublicURL, "/") + "/dsr/export/" + token,
			SHA256: hex.EncodeToString(sum[:]), Bytes: len(data), ExpiresAt: expires,
		})
	}
	return out, nil
}

// EraseResult is the proof of a caller's erasure.
type EraseResult struct {
	Erased     store.ErasureCounts
	Executions int
	Remaining  map[string]int
	Kept       map[string]int
}

// Erase removes the verified numbers' data from the tenant: their open conversation is ended,
// their rows erased (the suppression HMAC stays when they opted out), their workflow executions
// deleted, and a re-scan proves nothing erasable is left. The proof is in the tenant's audit log.
func (r *Requests) Erase(ctx context.Context, in SubjectsInput) (EraseResult, error) {
	subs, err := r.subjects(in)
	if err != nil {
		return EraseResult{}, err
	}
	res := EraseResult{Erased: store.ErasureCounts{}, Remaining: map[string]int{}, Kept: map[string]int{}}
	for _, sub := range subs {
		deleted, err := r.deleteExecutions(ctx, sub)
		if err != nil {
			return res, err
		}
		res.Executions += deleted
		counts, err := r.Store.EraseSubject(ctx, sub)
		if err != nil {
			return res, err
		}
		for k, v := range counts {
			res.Erased[k] += v
		}
		scan, err := r.Store.ScanSubject(ctx, sub)
		if err != nil {
			return res, err
		}
		for k, v := range scan.Remaining {
			res.Remaining[k] += v
		}
		for k, v := range scan.Kept {
			res.Kept[k] += v
		}
		if !scan.Erased() {
			return res, fmt.Errorf("erasure incomplete: the re-scan still finds rows of the caller (%v)", scan.Remaining)
		}
		if _, err := r.Store.AppendAudit(ctx, store.AuditEvent{
			LogID: in.TenantID, EventID: "dsr.erased/" + in.RequestID + "/" + sub.PhoneHash[:16], Actor: "system",
			Action: "dsr.erased", Subject: sub.PhoneHash, OccurredAt: r.now(),
			Payload: auditJSON(map[string]any{"request_id": in.RequestID, "erased": counts, "executions_deleted": deleted,
				"kept": scan.Kept, "remaining": scan.Remaining}),
		}); err != nil && !errors.Is(err, store.ErrAuditConflict) {
			return res, err
		}
	}
	return res, nil
}

// deleteExecutions ends and deletes the caller's workflow executions: their conversations (every
// run of conv/<tenant>/<hash>) and consent replies. Running ones are terminated first, so no
// turn still in flight texts a caller whose data is gone.
func (r *Requests) deleteExecutions(ctx context.Context, sub store.Subject) (int, error) {
	conv := "conv/" + sub.TenantID + "/" + sub.PhoneHash[:16]
	consent := "consent/" + sub.TenantID + "/" + sub.PhoneHash[:16] + "/"
	q := fmt.Sprintf("TenantID = '%s'", sub.TenantID)
	deleted := 0
	var token []byte
	for {
		resp, err := r.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: r.Namespace, Query: q, PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return deleted, fmt.Errorf("list executions: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			if id != conv && !strings.HasPrefix(id, consent) {
				continue
			}
			_, err := r.Temporal.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
				Namespace: r.Namespace, WorkflowExecution: e.GetExecution(),
			})
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				return deleted, fmt.Errorf("delete execution: %w", err)
			}
			if err := r.awaitDeleted(ctx, e.GetExecution()); err != nil {
				return deleted, err
			}
			deleted++
			activity.RecordHeartbeat(ctx, deleted)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return deleted, nil
		}
	}
}

// CorrectInput is a correction to the caller's data.
type CorrectInput struct {
	SubjectsInput
	Correction store.Correction
}

// Correct applies the correction and records every changed field's before and after in the
// tenant's audit log.
func (r *Requests) Correct(ctx context.Context, in CorrectInput) (int, error) {
	subs, err := r.subjects(in.SubjectsInput)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, sub := range subs {
		before, after, err := r.Store.CorrectSubject(ctx, sub, in.Correction)
		if errors.Is(err, store.ErrNotFound) {
			return changed, temporal.NewNonRetryableApplicationError("correction: no such booking of the caller", ErrTypeInvalid, nil)
		}
		if err != nil {
			return changed, err
		}
		changed += len(after)
		if _, err := r.Store.AppendAudit(ctx, store.AuditEvent{
			LogID: in.TenantID, EventID: "dsr.corrected/" + in.RequestID + "/" + sub.PhoneHash[:16], Actor: "system",
			Action: "dsr.corrected", Subject: sub.PhoneHash, OccurredAt: r.now(),
			Payload: auditJSON(map[string]any{"request_id": in.RequestID, "before": before, "after": after}),
		}); err != nil && !errors.Is(err, store.ErrAuditConflict) {
			return changed, err
		}
	}
	return changed, nil
}

// RestrictInput puts a restriction or an objection in force for the verified numbers.
type RestrictInput struct {
	SubjectsInput
	Kind store.RestrictionKind
}

// Restrict stops AI processing and every text but the required ones for the numbers, until lifted.
func (r *Requests) Restrict(ctx context.Context, in RestrictInput) error {
	subs, err := r.subjects(in.SubjectsInput)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if _, err := r.Store.Restrict(ctx, sub.TenantID, sub.PhoneHash, in.Kind, in.RequestID); err != nil {
			return err
		}
	}
	return nil
}

// auditJSON encodes audit details; the values are IDs, counts and field names with the
// corrected values the audit log is meant to show.
func auditJSON(fields map[string]any) []byte {
	b, err := json.Marshal(fields)
	if err != nil {
		return []byte(`{"encoding_error":true}`)
	}
	return b
}

// awaitDeleted returns once the server no longer has the execution: deletion runs behind the
// call that asks for it, and the caller's rows must not go before their conversation does.
func (r *Requests) awaitDeleted(ctx context.Context, ex *commonpb.WorkflowExecution) error {
	for {
		_, err := r.Temporal.WorkflowService().DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: r.Namespace, Execution: ex,
		})
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("describe execution: %w", err)
		}
		activity.RecordHeartbeat(ctx, ex.GetWorkflowId())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
