package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/tenantspec"
)

// RestrictionKind is the right a processing restriction comes from.
type RestrictionKind string

// Restriction kinds, matching control.processing_restrictions.kind.
const (
	// ProcessingRestricted: GDPR Art. 18, processing restricted, e.g. while the accuracy of the
	// data is contested.
	ProcessingRestricted RestrictionKind = "restriction"
	// ProcessingObjected: GDPR Art. 21, the caller objected to the processing.
	ProcessingObjected RestrictionKind = "objection"
)

func validRestrictionKind(k RestrictionKind) bool {
	return k == ProcessingRestricted || k == ProcessingObjected
}

func checkTenantAndHash(tenantID, phoneHash string) error {
	if !tenantspec.ValidID(tenantID) {
		return ErrNotFound
	}
	if !hashPattern.MatchString(phoneHash) {
		return errors.New("phone hash: must be 64 lower-case hex digits")
	}
	return nil
}

// Restrict puts a restriction of kind in force for the caller, on behalf of the request that asked
// for it (of the same tenant), with an audit entry in the tenant's log. While it is in force the
// caller gets no AI processing and no texts that are not required. It reports false when a
// restriction of that kind was already in force. An unknown request, or one of another tenant,
// is ErrNotFound.
func (s *Store) Restrict(ctx context.Context, tenantID, phoneHash string, kind RestrictionKind, requestID string) (bool, error) {
	if err := checkTenantAndHash(tenantID, phoneHash); err != nil {
		return false, err
	}
	if !validRestrictionKind(kind) {
		return false, errors.New("restrict: kind must be restriction or objection")
	}
	if !dsrIDPattern.MatchString(requestID) {
		return false, fmt.Errorf("request: %w", ErrNotFound)
	}
	changed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var owner string
		err := tx.QueryRow(ctx, `SELECT tenant_id FROM control.dsr_requests WHERE id = $1`, requestID).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && owner != tenantID {
			return fmt.Errorf("request: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		var id int64
		var since time.Time
		err = tx.QueryRow(ctx, `
			INSERT INTO control.processing_restrictions (tenant_id, phone_hash, kind, request_id, since)
			VALUES ($1, $2, $3, $4, now())
			ON CONFLICT (tenant_id, phone_hash, kind) WHERE lifted_at IS NULL DO NOTHING
			RETURNING id, since`, tenantID, phoneHash, kind, requestID).Scan(&id, &since)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: tenantID, EventID: fmt.Sprintf("processing.%s/%d", kind, id), Actor: ActorFrom(ctx),
			Action: "processing." + string(kind), Subject: phoneHash, OccurredAt: since,
			Payload: details(map[string]any{"request_id": requestID, "restriction_id": id}),
		})
		return err
	})
	if isForeignKeyViolation(err) {
		return false, fmt.Errorf("tenant: %w", ErrNotFound)
	}
	if errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("restrict processing: %w", err)
	}
	return changed, nil
}

// LiftRestriction ends the caller's restriction of kind, with an audit entry; the row stays, for
// the history. It reports false when none was in force.
func (s *Store) LiftRestriction(ctx context.Context, tenantID, phoneHash string, kind RestrictionKind) (bool, error) {
	if err := checkTenantAndHash(tenantID, phoneHash); err != nil {
		return false, err
	}
	if !validRestrictionKind(kind) {
		return false, errors.New("lift restriction: kind must be restriction or objection")
	}
	changed := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		var lifted time.Time
		var requestID *string
		err := tx.QueryRow(ctx, `
			UPDATE control.processing_restrictions SET lifted_at = greatest(now(), since)
			WHERE tenant_id = $1 AND phone_hash = $2 AND kind = $3 AND lifted_at IS NULL
			RETURNING id, lifted_at, request_id`, tenantID, phoneHash, kind).Scan(&id, &lifted, &requestID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: tenantID, EventID: fmt.Sprintf("processing.%s.lifted/%d", kind, id), Actor: ActorFrom(ctx),
			Action: "processing." + string(kind) + ".lifted", Subject: phoneHash, OccurredAt: lifted,
			Payload: details(map[string]any{"restriction_id": id, "request_id": requestID}),
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lift restriction: %w", err)
	}
	return changed, nil
}

// Restricted reports whether a restriction is in force for the caller, and of which kind. An
// objection is reported before a restriction when both are, as the one that lasts.
func (s *Store) Restricted(ctx context.Context, tenantID, phoneHash string) (bool, RestrictionKind, error) {
	if err := checkTenantAndHash(tenantID, phoneHash); err != nil {
		return false, "", err
	}
	var kind RestrictionKind
	err := s.pool.QueryRow(ctx, `
		SELECT kind FROM control.processing_restrictions
		WHERE tenant_id = $1 AND phone_hash = $2 AND lifted_at IS NULL
		ORDER BY kind = 'objection' DESC LIMIT 1`, tenantID, phoneHash).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("check restriction: %w", err)
	}
	return true, kind, nil
}
