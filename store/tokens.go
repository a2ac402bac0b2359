package store

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/tenantspec"
)

// ErrUnauthenticated is returned for a token that is malformed, unknown, wrong or revoked; the
// cases are not told apart, so a caller learns nothing by probing.
var ErrUnauthenticated = errors.New("invalid or revoked token")

// APIToken describes a token; the secret is never part of it.
type APIToken struct {
	ID         string      `json:"id"`
	Role       access.Role `json:"role"`
	TenantID   string      `json:"tenant_id,omitempty"`
	Name       string      `json:"name"`
	CreatedAt  time.Time   `json:"created_at"`
	LastUsedAt *time.Time  `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time  `json:"revoked_at,omitempty"`
}

// NewAPIToken is a token to issue.
type NewAPIToken struct {
	Role     access.Role
	TenantID string
	Name     string
}

// CreateToken issues a token and returns it in full; this is the only time it is visible.
func (s *Store) CreateToken(ctx context.Context, in NewAPIToken) (string, APIToken, error) {
	if _, err := access.ParseRole(string(in.Role)); err != nil {
		return "", APIToken{}, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 80 || !utf8.ValidString(name) {
		return "", APIToken{}, errors.New("token name: 1 to 80 characters of text")
	}
	if (in.Role == access.TenantAdmin) != (in.TenantID != "") {
		return "", APIToken{}, errors.New("a tenant-admin token needs a tenant, and only a tenant-admin token may have one")
	}
	var tenant *string
	if in.TenantID != "" {
		if !tenantspec.ValidID(in.TenantID) {
			return "", APIToken{}, ErrNotFound
		}
		tenant = &in.TenantID
	}
	token, id, hash, err := access.NewToken()
	if err != nil {
		return "", APIToken{}, err
	}
	t := APIToken{ID: id, Role: in.Role, TenantID: in.TenantID, Name: name}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO control.api_tokens (id, role, tenant_id, name, secret_hash)
			VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, id, in.Role, tenant, name, hash).Scan(&t.CreatedAt); err != nil {
			return err
		}
		_, err := s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: "token.created/" + id, Actor: ActorFrom(ctx),
			Action: "token.created", OccurredAt: t.CreatedAt,
			Payload: details(map[string]any{"token_id": id, "role": string(in.Role), "tenant_id": in.TenantID}),
		})
		return err
	})
	if isForeignKeyViolation(err) {
		return "", APIToken{}, fmt.Errorf("tenant: %w", ErrNotFound)
	}
	if err != nil {
		return "", APIToken{}, fmt.Errorf("create token: %w", err)
	}
	return token, t, nil
}

// Authenticate resolves a presented token to the principal it stands for.
func (s *Store) Authenticate(ctx context.Context, token string) (access.Principal, error) {
	id, secret, err := access.ParseToken(token)
	if err != nil {
		return access.Principal{}, ErrUnauthenticated
	}
	var role string
	var tenant *string
	var hash []byte
	var revoked *time.Time
	err = s.pool.QueryRow(ctx, `
		SELECT role, tenant_id, secret_hash, revoked_at FROM control.api_tokens WHERE id = $1`, id).Scan(&role, &tenant, &hash, &revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return access.Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return access.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(hash, access.HashSecret(secret)) != 1 || revoked != nil {
		return access.Principal{}, ErrUnauthenticated
	}
	// Only a successful use is recorded, so probing a known id cannot make it look active.
	if _, err := s.pool.Exec(ctx, `UPDATE control.api_tokens SET last_used_at = now() WHERE id = $1`, id); err != nil {
		return access.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	p := access.Principal{TokenID: id, Role: access.Role(role)}
	if tenant != nil {
		p.TenantID = *tenant
	}
	return p, nil
}

// ListTokens lists tokens, newest first; tenantID filters to one tenant's when set.
func (s *Store) ListTokens(ctx context.Context, tenantID string) ([]APIToken, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, role, coalesce(tenant_id, ''), name, created_at, last_used_at, revoked_at
		FROM control.api_tokens WHERE $1 = '' OR tenant_id = $1
		ORDER BY created_at DESC, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[APIToken])
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token at once; revoking twice is harmless.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if !access.ValidTokenID(id) {
		return ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var revokedAt time.Time
		err := tx.QueryRow(ctx, `
			UPDATE control.api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
			RETURNING revoked_at`, id).Scan(&revokedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM control.api_tokens WHERE id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return ErrNotFound
			}
			return nil // already revoked: nothing happened, nothing to record
		}
		if err != nil {
			return err
		}
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: "token.revoked/" + id, Actor: ActorFrom(ctx),
			Action: "token.revoked", OccurredAt: revokedAt, Payload: details(map[string]any{"token_id": id}),
		})
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}
