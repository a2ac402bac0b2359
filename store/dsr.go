package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/tenantspec"
)

// DSRKind is what a data-subject request asks for.
type DSRKind string

// Request kinds, matching control.dsr_requests.kind.
const (
	DSRAccess      DSRKind = "access"
	DSRCorrection  DSRKind = "correction"
	DSRDeletion    DSRKind = "deletion"
	DSRPortability DSRKind = "portability"
	DSRRestriction DSRKind = "restriction"
	DSRObjection   DSRKind = "objection"
)

var dsrKinds = []DSRKind{DSRAccess, DSRCorrection, DSRDeletion, DSRPortability, DSRRestriction, DSRObjection}

// ParseDSRKind reads a request kind.
func ParseDSRKind(s string) (DSRKind, error) {
	if k := DSRKind(strings.ToLower(strings.TrimSpace(s))); slices.Contains(dsrKinds, k) {
		return k, nil
	}
	return "", errors.New("unknown request kind (want access, correction, deletion, portability, restriction or objection)")
}

// DSRStatus is where a request stands.
type DSRStatus string

// Request statuses, matching control.dsr_requests.status. Completed and rejected close a request.
const (
	DSRReceived   DSRStatus = "received"
	DSRVerifying  DSRStatus = "verifying"
	DSRInProgress DSRStatus = "in_progress"
	DSRExtended   DSRStatus = "extended"
	DSROnHold     DSRStatus = "on_hold"
	DSRCompleted  DSRStatus = "completed"
	DSRRejected   DSRStatus = "rejected"
)

var dsrStatuses = []DSRStatus{DSRReceived, DSRVerifying, DSRInProgress, DSRExtended, DSROnHold, DSRCompleted, DSRRejected}

// ParseDSRStatus reads a request status.
func ParseDSRStatus(s string) (DSRStatus, error) {
	if st := DSRStatus(strings.ToLower(strings.TrimSpace(s))); slices.Contains(dsrStatuses, st) {
		return st, nil
	}
	return "", errors.New("unknown request status")
}

// Closed reports whether the request is finished; a closed request never changes again.
func (s DSRStatus) Closed() bool { return s == DSRCompleted || s == DSRRejected }

// IdentifierKind is what an identifier on a request is.
type IdentifierKind string

// Identifier kinds, matching control.dsr_identifiers.kind.
const (
	IdentifierPhone IdentifierKind = "phone"
	IdentifierEmail IdentifierKind = "email"
)

// Verification says how an identifier on a request was proven to be the requester's.
type Verification string

// Verification states, matching control.dsr_identifiers.verification.
const (
	Unverified Verification = "unverified"
	// VerifiedCode: the requester answered a one-time code sent to the identifier.
	VerifiedCode Verification = "verified_code"
	// Attested: a named member of staff vouched for it, with a reason.
	Attested Verification = "attested"
)

var (
	// ErrDSRClosed is returned for a change to a completed or rejected request.
	ErrDSRClosed = errors.New("the request is closed")
	// ErrDSRRetention is returned for a sweep that would remove request records younger than the
	// 24 months they are kept.
	ErrDSRRetention = errors.New("request records are kept for 24 months after they close")
	// ErrAttestationNeedsStaff is returned for an attestation without a named actor
	// (store.WithActor): "system" cannot vouch for anyone.
	ErrAttestationNeedsStaff = errors.New("an attestation must name the member of staff making it")
)

// DSRRetentionMonths is how long a closed request's record is kept (11 CCR § 7101(a)).
const DSRRetentionMonths = 24

// DSRRetentionCutoff is the latest cutoff PruneDSRRecords accepts at now.
func DSRRetentionCutoff(now time.Time) time.Time { return now.AddDate(0, -DSRRetentionMonths, 0) }

// DSRIdentifier is one identifier a request names, by HMAC.
type DSRIdentifier struct {
	Kind         IdentifierKind `json:"kind"`
	Hash         string         `json:"hash"`
	Verification Verification   `json:"verification"`
	AttestedBy   string         `json:"attested_by,omitempty"`
	AttestReason string         `json:"attest_reason,omitempty"`
	VerifiedAt   *time.Time     `json:"verified_at,omitempty"`
}

// Verified reports whether the identifier was proven to be the requester's.
func (i DSRIdentifier) Verified() bool {
	return i.Verification == VerifiedCode || i.Verification == Attested
}

// DSRRequest is a data-subject request's record.
type DSRRequest struct {
	ID       string            `json:"id"`
	TenantID string            `json:"tenant_id"`
	Kind     DSRKind           `json:"kind"`
	Regime   legalclock.Regime `json:"regime"`
	Status   DSRStatus         `json:"status"`
	// The deadlines in force (see legalclock). ExtendedDue is set once the request was extended.
	ReceivedAt  time.Time  `json:"received_at"`
	AckDue      time.Time  `json:"ack_due"`
	DueAt       time.Time  `json:"due_at"`
	ExtendedDue *time.Time `json:"extended_due,omitempty"`
	// CompletedAt is when the request was completed or rejected.
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	// RequestedBy is the actor who filed it ("token:<id>", "cli:<login>").
	RequestedBy string          `json:"requested_by"`
	Revision    int             `json:"revision"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Identifiers []DSRIdentifier `json:"identifiers"`
}

// Verified reports whether every identifier on the request is verified. A request is acted on
// only when it is (P17): an unverified second identifier must never widen what is exported or
// erased.
func (r DSRRequest) Verified() bool {
	for _, i := range r.Identifiers {
		if !i.Verified() {
			return false
		}
	}
	return len(r.Identifiers) > 0
}

// Deadline is the answer's deadline in force: the extended one once extended.
func (r DSRRequest) Deadline() time.Time {
	if r.ExtendedDue != nil {
		return *r.ExtendedDue
	}
	return r.DueAt
}

// subject is the HMAC the request's audit entries are filed under: its first phone identifier,
// or its first identifier of any kind.
func (r DSRRequest) subject() string {
	for _, i := range r.Identifiers {
		if i.Kind == IdentifierPhone {
			return i.Hash
		}
	}
	if len(r.Identifiers) > 0 {
		return r.Identifiers[0].Hash
	}
	return ""
}

// NewDSR is a request to record.
type NewDSR struct {
	TenantID string
	Kind     DSRKind
	// Clock gives the regime, the receipt time and the deadlines.
	Clock legalclock.Clock
	// Identifiers are the HMACs the request is about (Kind and Hash; each starts unverified).
	Identifiers []DSRIdentifier
}

var hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// dsrIDPattern is the shape of request IDs, the same as tenant IDs': opaque, random, no PII, fit
// for the workflow ID dsr/<id>.
var dsrIDPattern = regexp.MustCompile(`^[a-z2-7]{16}$`)

func newDSRID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// CreateDSR records a new request, received and with its identifiers unverified, and its audit
// entry in the tenant's log. The actor (WithActor) is recorded as the requester. An unknown
// tenant is ErrNotFound.
func (s *Store) CreateDSR(ctx context.Context, in NewDSR) (DSRRequest, error) {
	if !tenantspec.ValidID(in.TenantID) {
		return DSRRequest{}, ErrNotFound
	}
	if !slices.Contains(dsrKinds, in.Kind) {
		return DSRRequest{}, errors.New("create request: unknown request kind")
	}
	c := in.Clock
	if !c.Regime.Valid() || c.Received.IsZero() || c.Loc == nil {
		return DSRRequest{}, errors.New("create request: the clock needs a regime, a receipt time and a zone (legalclock.New)")
	}
	if len(in.Identifiers) == 0 {
		return DSRRequest{}, errors.New("create request: at least one identifier")
	}
	seen := map[DSRIdentifier]bool{}
	var kinds, hashes []string
	for _, id := range in.Identifiers {
		if id.Kind != IdentifierPhone && id.Kind != IdentifierEmail {
			return DSRRequest{}, errors.New("create request: identifier kind must be phone or email")
		}
		if !hashPattern.MatchString(id.Hash) {
			return DSRRequest{}, errors.New("create request: identifier must be a 64-digit lower-case hex HMAC")
		}
		key := DSRIdentifier{Kind: id.Kind, Hash: id.Hash}
		if seen[key] {
			continue
		}
		seen[key] = true
		kinds, hashes = append(kinds, string(id.Kind)), append(hashes, id.Hash)
	}
	var extended *time.Time
	if c.Extended {
		e := c.ExtendedDue()
		extended = &e
	}
	id := newDSRID()
	var r DSRRequest
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		r, err = scanDSR(tx.QueryRow(ctx, `
			INSERT INTO control.dsr_requests (id, tenant_id, kind, regime, received_at, ack_due, due_at, extended_due, requested_by)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM control.tenants WHERE id = $2)
			RETURNING `+dsrColumns,
			id, in.TenantID, in.Kind, c.Regime, c.Received, c.AckDue(), c.Due(), extended, ActorFrom(ctx)))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("tenant: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO control.dsr_identifiers (request_id, kind, identifier_hash)
			SELECT $1, k, h FROM unnest($2::text[], $3::text[]) AS i (k, h)`, id, kinds, hashes); err != nil {
			return err
		}
		if r.Identifiers, err = dsrIdentifiers(ctx, tx, id); err != nil {
			return err
		}
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: r.TenantID, EventID: "dsr.received/" + id, Actor: ActorFrom(ctx),
			Action: "dsr.received", Subject: r.subject(), OccurredAt: r.CreatedAt,
			Payload: details(map[string]any{
				"request_id": id, "kind": string(r.Kind), "regime": string(r.Regime),
				"received_at": r.ReceivedAt, "ack_due": r.AckDue, "due_at": r.DueAt, "identifiers": len(r.Identifiers),
			}),
		})
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return DSRRequest{}, err
	}
	if err != nil {
		return DSRRequest{}, fmt.Errorf("create request: %w", err)
	}
	return r, nil
}

// dsrColumns selects a DSRRequest, without its identifiers, in scanDSR's order.
const dsrColumns = `id, tenant_id, kind, regime, status, received_at, ack_due, due_at, extended_due, completed_at,
	requested_by, revision, created_at, updated_at`

func scanDSR(row pgx.Row) (DSRRequest, error) {
	var r DSRRequest
	err := row.Scan(&r.ID, &r.TenantID, &r.Kind, &r.Regime, &r.Status, &r.ReceivedAt, &r.AckDue, &r.DueAt,
		&r.ExtendedDue, &r.CompletedAt, &r.RequestedBy, &r.Revision, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// identifierColumns selects a DSRIdentifier, in scanIdentifier's order.
const identifierColumns = `kind, identifier_hash, verification, coalesce(attested_by, ''), coalesce(attest_reason, ''), verified_at`

func scanIdentifier(row pgx.CollectableRow) (DSRIdentifier, error) {
	var i DSRIdentifier
	err := row.Scan(&i.Kind, &i.Hash, &i.Verification, &i.AttestedBy, &i.AttestReason, &i.VerifiedAt)
	return i, err
}

// dsrIdentifiers lists a request's identifiers, phones first, in a stable order.
func dsrIdentifiers(ctx context.Context, q pgx.Tx, requestID string) ([]DSRIdentifier, error) {
	rows, err := q.Query(ctx, `
		SELECT `+identifierColumns+` FROM control.dsr_identifiers WHERE request_id = $1
		ORDER BY kind <> 'phone', created_at, identifier_hash`, requestID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanIdentifier)
}

// DSR returns one request with its identifiers, or ErrNotFound.
func (s *Store) DSR(ctx context.Context, id string) (DSRRequest, error) {
	if !dsrIDPattern.MatchString(id) {
		return DSRRequest{}, ErrNotFound
	}
	var r DSRRequest
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if r, err = scanDSR(tx.QueryRow(ctx, `SELECT `+dsrColumns+` FROM control.dsr_requests WHERE id = $1`, id)); err != nil {
			return err
		}
		r.Identifiers, err = dsrIdentifiers(ctx, tx, id)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return DSRRequest{}, ErrNotFound
	}
	if err != nil {
		return DSRRequest{}, fmt.Errorf("load request: %w", err)
	}
	return r, nil
}

// DSRFilter narrows ListDSRs; zero fields match everything.
type DSRFilter struct {
	TenantID string
	Status   DSRStatus
	// Open keeps only requests that are not closed.
	Open bool
}

// ListDSRs returns the requests matching f with their identifiers, oldest first.
func (s *Store) ListDSRs(ctx context.Context, f DSRFilter) ([]DSRRequest, error) {
	var out []DSRRequest
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT `+dsrColumns+` FROM control.dsr_requests
			WHERE ($1 = '' OR tenant_id = $1) AND ($2 = '' OR status = $2) AND (NOT $3 OR completed_at IS NULL)
			ORDER BY received_at, id`, f.TenantID, string(f.Status), f.Open)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DSRRequest, error) { return scanDSR(row) })
		if err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		at := make(map[string]int, len(out))
		for i, r := range out {
			ids[i], at[r.ID] = r.ID, i
		}
		rows, err = tx.Query(ctx, `
			SELECT request_id, `+identifierColumns+` FROM control.dsr_identifiers WHERE request_id = ANY($1)
			ORDER BY request_id, kind <> 'phone', created_at, identifier_hash`, ids)
		if err != nil {
			return err
		}
		type owned struct {
			requestID string
			DSRIdentifier
		}
		idents, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (owned, error) {
			var o owned
			err := row.Scan(&o.requestID, &o.Kind, &o.Hash, &o.Verification, &o.AttestedBy, &o.AttestReason, &o.VerifiedAt)
			return o, err
		})
		for _, o := range idents {
			r := &out[at[o.requestID]]
			r.Identifiers = append(r.Identifiers, o.DSRIdentifier)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// lockDSR loads a request with its identifiers and locks its row until tx ends, so changes to one
// request are serialised and each gets the next revision.
func lockDSR(ctx context.Context, tx pgx.Tx, id string) (DSRRequest, error) {
	if !dsrIDPattern.MatchString(id) {
		return DSRRequest{}, ErrNotFound
	}
	r, err := scanDSR(tx.QueryRow(ctx, `SELECT `+dsrColumns+` FROM control.dsr_requests WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return DSRRequest{}, ErrNotFound
	}
	if err != nil {
		return DSRRequest{}, err
	}
	r.Identifiers, err = dsrIdentifiers(ctx, tx, id)
	return r, err
}

// changeDSR runs change on the locked request and, when it reports a change, bumps the
// revision and appends the audit entry it describes (its EventID gets "/r<revision>" appended).
func (s *Store) changeDSR(ctx context.Context, id string, change func(tx pgx.Tx, r DSRRequest) (*AuditEvent, error)) (bool, error) {
	changed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lockDSR(ctx, tx, id)
		if err != nil {
			return err
		}
		ev, err := change(tx, r)
		if err != nil || ev == nil {
			return err
		}
		var revision int
		var at time.Time
		if err := tx.QueryRow(ctx, `
			UPDATE control.dsr_requests SET revision = revision + 1, updated_at = now()
			WHERE id = $1 RETURNING revision, updated_at`, id).Scan(&revision, &at); err != nil {
			return err
		}
		ev.LogID, ev.Actor = r.TenantID, ActorFrom(ctx)
		if ev.Subject == "" {
			ev.Subject = r.subject()
		}
		ev.EventID = fmt.Sprintf("%s/%s/r%d", ev.Action, id, revision)
		if ev.OccurredAt.IsZero() {
			ev.OccurredAt = at
		}
		changed = true
		_, err = s.AppendAuditTx(ctx, tx, *ev)
		return err
	})
	return changed, err
}

// SetDSRStatus moves a request to status, with an audit entry. Completing or rejecting it closes
// it at at; a closed request refuses every change (ErrDSRClosed). It reports false when the
// request already had that status, so a retried activity is harmless.
func (s *Store) SetDSRStatus(ctx context.Context, id string, status DSRStatus, at time.Time) (bool, error) {
	if !slices.Contains(dsrStatuses, status) {
		return false, errors.New("set request status: unknown status")
	}
	if status.Closed() && at.IsZero() {
		return false, errors.New("set request status: closing a request needs its time")
	}
	changed, err := s.changeDSR(ctx, id, func(tx pgx.Tx, r DSRRequest) (*AuditEvent, error) {
		if r.Status == status {
			return nil, nil
		}
		if r.Status.Closed() {
			return nil, ErrDSRClosed
		}
		var completed *time.Time
		if status.Closed() {
			completed = &at
		}
		if _, err := tx.Exec(ctx, `UPDATE control.dsr_requests SET status = $2, completed_at = $3 WHERE id = $1`,
			r.ID, status, completed); err != nil {
			return nil, err
		}
		return &AuditEvent{Action: "dsr." + string(status), OccurredAt: completedOrZero(completed),
			Payload: details(map[string]any{"request_id": r.ID, "from": string(r.Status), "to": string(status)})}, nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDSRClosed) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("set request status: %w", err)
	}
	return changed, nil
}

func completedOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// SetDSRDeadlines records the deadlines of c, the request's clock after an extension or a hold,
// with an audit entry. c must be the request's own clock (same regime and receipt time). It
// reports false when nothing changed.
func (s *Store) SetDSRDeadlines(ctx context.Context, id string, c legalclock.Clock) (bool, error) {
	changed, err := s.changeDSR(ctx, id, func(tx pgx.Tx, r DSRRequest) (*AuditEvent, error) {
		if r.Status.Closed() {
			return nil, ErrDSRClosed
		}
		if c.Regime != r.Regime || !c.Received.Truncate(time.Microsecond).Equal(r.ReceivedAt) {
			return nil, errors.New("the clock is not this request's (regime or receipt time differ)")
		}
		var extended *time.Time
		if c.Extended {
			e := c.ExtendedDue()
			extended = &e
		}
		tag, err := tx.Exec(ctx, `
			UPDATE control.dsr_requests SET ack_due = $2, due_at = $3, extended_due = $4
			WHERE id = $1 AND (ack_due, due_at, extended_due) IS DISTINCT FROM ($2, $3, $4)`,
			r.ID, c.AckDue(), c.Due(), extended)
		if err != nil || tag.RowsAffected() == 0 {
			return nil, err
		}
		return &AuditEvent{Action: "dsr.deadlines",
			Payload: details(map[string]any{
				"request_id": r.ID, "ack_due": c.AckDue(), "due_at": c.Due(), "extended": c.Extended,
				"deadline": c.Deadline(), "held_seconds": int64(c.Held / time.Second),
			})}, nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDSRClosed) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("set request deadlines: %w", err)
	}
	return changed, nil
}

// VerifyDSRIdentifier records that the requester answered the one-time code sent to one of the
// request's identifiers, with an audit entry. It reports false when the identifier was verified
// already; an identifier the request does not name is ErrNotFound.
func (s *Store) VerifyDSRIdentifier(ctx context.Context, id string, kind IdentifierKind, hash string, at time.Time) (bool, error) {
	return s.verifyIdentifier(ctx, id, kind, hash, VerifiedCode, "", at)
}

// MaxAttestReasonLen bounds the reason given for an attestation.
const MaxAttestReasonLen = 500

// AttestDSRIdentifier records that the acting member of staff (WithActor) vouches that one of the
// request's identifiers is the requester's, and why, with an audit entry that names them (P17).
// Without a named actor it is ErrAttestationNeedsStaff. It reports false when the identifier was
// verified already.
func (s *Store) AttestDSRIdentifier(ctx context.Context, id string, kind IdentifierKind, hash, reason string, at time.Time) (bool, error) {
	if ActorFrom(ctx) == "system" {
		return false, ErrAttestationNeedsStaff
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxAttestReasonLen {
		return false, fmt.Errorf("attest identifier: a reason of 1 to %d characters", MaxAttestReasonLen)
	}
	return s.verifyIdentifier(ctx, id, kind, hash, Attested, reason, at)
}

func (s *Store) verifyIdentifier(ctx context.Context, id string, kind IdentifierKind, hash string, how Verification, reason string, at time.Time) (bool, error) {
	if at.IsZero() {
		return false, errors.New("verify identifier: no time")
	}
	changed, err := s.changeDSR(ctx, id, func(tx pgx.Tx, r DSRRequest) (*AuditEvent, error) {
		if r.Status.Closed() {
			return nil, ErrDSRClosed
		}
		var current *DSRIdentifier
		for i := range r.Identifiers {
			if r.Identifiers[i].Kind == kind && r.Identifiers[i].Hash == hash {
				current = &r.Identifiers[i]
			}
		}
		if current == nil {
			return nil, fmt.Errorf("identifier: %w", ErrNotFound)
		}
		if current.Verified() {
			return nil, nil
		}
		var attestedBy, attestReason *string
		if how == Attested {
			actor := ActorFrom(ctx)
			attestedBy, attestReason = &actor, &reason
		}
		if _, err := tx.Exec(ctx, `
			UPDATE control.dsr_identifiers SET verification = $4, verified_at = $5, attested_by = $6, attest_reason = $7
			WHERE request_id = $1 AND kind = $2 AND identifier_hash = $3`,
			r.ID, kind, hash, how, at, attestedBy, attestReason); err != nil {
			return nil, err
		}
		payload := map[string]any{"request_id": r.ID, "identifier_kind": string(kind), "verification": string(how)}
		if how == Attested {
			payload["reason"] = reason
		}
		// The entry is filed under the identifier verified, so a look-up by that HMAC finds it.
		ev := &AuditEvent{Action: "dsr.identifier." + string(how), Subject: hash, OccurredAt: at, Payload: details(payload)}
		return ev, nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrDSRClosed) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("verify identifier: %w", err)
	}
	return changed, nil
}

// PruneDSRRecords deletes the records of requests closed before olderThan, with their
// identifiers and exports, and returns how many requests it deleted. Restrictions they put in
// force stay in force. A cutoff later than DSRRetentionCutoff(now) is ErrDSRRetention.
func (s *Store) PruneDSRRecords(ctx context.Context, olderThan time.Time) (int, error) {
	if olderThan.After(DSRRetentionCutoff(time.Now())) {
		return 0, ErrDSRRetention
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM control.dsr_requests WHERE completed_at < $1`, olderThan)
	if err != nil {
		return 0, fmt.Errorf("prune request records: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
