package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/schema"
)

// ErrNumberTaken is returned when a phone number already belongs to a tenant.
var ErrNumberTaken = errors.New("phone number already belongs to a tenant")

// Tenant is a business using Ringback.
type Tenant struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Numbers      []string  `json:"numbers"`
	Timezone     string    `json:"timezone"`
	OwnerPhone   string    `json:"owner_phone"`
	GreetingText string    `json:"greeting_text"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
}

// TenantStatusActive is the status of a tenant whose calls are answered.
const TenantStatusActive = "active"

// CreateTenant validates spec, creates the tenant's schema and registers its numbers.
func (s *Store) CreateTenant(ctx context.Context, spec tenantspec.Spec) (Tenant, error) {
	spec, err := spec.Normalize()
	if err != nil {
		return Tenant{}, err
	}
	var taken int
	if err := s.pool.QueryRow(ctx,
		`SELECT count(*) FROM control.tenant_phone_numbers WHERE e164 = ANY($1)`, spec.Numbers).Scan(&taken); err != nil {
		return Tenant{}, fmt.Errorf("check numbers: %w", err)
	}
	if taken > 0 {
		return Tenant{}, ErrNumberTaken
	}
	id := tenantspec.NewID()
	// The schema comes first: a tenant row must never exist without somewhere to put its data.
	// tern runs each migration in its own transaction, so this cannot share the insert's.
	if err := s.withConn(ctx, func(conn *pgx.Conn) error { return schema.MigrateTenant(ctx, conn, id) }); err != nil {
		s.dropSchemaAfterFailedCreate(id)
		return Tenant{}, fmt.Errorf("create tenant schema: %w", err)
	}
	var t Tenant
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO control.tenants (id, name, timezone, owner_phone, greeting_text)
			VALUES ($1, $2, $3, $4, $5)
			RETURNING id, name, timezone, owner_phone, greeting_text, status, created_at`,
			id, spec.Name, spec.Timezone, spec.OwnerPhone, spec.GreetingText,
		).Scan(&t.ID, &t.Name, &t.Timezone, &t.OwnerPhone, &t.GreetingText, &t.Status, &t.CreatedAt); err != nil {
			return err
		}
		for _, n := range spec.Numbers {
			if _, err := tx.Exec(ctx,
				`INSERT INTO control.tenant_phone_numbers (e164, tenant_id) VALUES ($1, $2)`, n, id); err != nil {
				return err
			}
		}
		t.Numbers = spec.Numbers
		_, err := s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: "tenant.created/" + id, Actor: ActorFrom(ctx),
			Action: "tenant.created", OccurredAt: t.CreatedAt, Payload: details(map[string]any{"tenant_id": id}),
		})
		return err
	})
	if err != nil {
		s.dropSchemaAfterFailedCreate(id)
		if isUniqueViolation(err, "tenant_phone_numbers_pkey") {
			return Tenant{}, ErrNumberTaken
		}
		return Tenant{}, fmt.Errorf("create tenant: %w", err)
	}
	return t, nil
}

// dropSchemaAfterFailedCreate removes the schema of a tenant whose rows were never committed. It
// uses its own context so a cancelled request still cleans up.
func (s *Store) dropSchemaAfterFailedCreate(id string) {
	name, err := tenantspec.SchemaName(id)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = s.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
}

// Tenant returns one tenant.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	if !tenantspec.ValidID(id) {
		return Tenant{}, ErrNotFound
	}
	var t Tenant
	err := s.pool.QueryRow(ctx, `
		SELECT t.id, t.name, t.timezone, t.owner_phone, t.greeting_text, t.status, t.created_at,
		       coalesce(array_agg(n.e164 ORDER BY n.e164) FILTER (WHERE n.e164 IS NOT NULL), '{}')
		FROM control.tenants t LEFT JOIN control.tenant_phone_numbers n ON n.tenant_id = t.id
		WHERE t.id = $1
		GROUP BY t.id`, id,
	).Scan(&t.ID, &t.Name, &t.Timezone, &t.OwnerPhone, &t.GreetingText, &t.Status, &t.CreatedAt, &t.Numbers)
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, ErrNotFound
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("load tenant: %w", err)
	}
	return t, nil
}

// TenantRef is what ingress needs to route a webhook.
type TenantRef struct {
	ID     string
	Status string
}

// TenantByNumber resolves the tenant that owns a called number.
func (s *Store) TenantByNumber(ctx context.Context, e164 string) (TenantRef, error) {
	var r TenantRef
	err := s.pool.QueryRow(ctx, `
		SELECT t.id, t.status FROM control.tenant_phone_numbers n
		JOIN control.tenants t ON t.id = n.tenant_id
		WHERE n.e164 = $1`, e164).Scan(&r.ID, &r.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return TenantRef{}, ErrNotFound
	}
	if err != nil {
		return TenantRef{}, fmt.Errorf("resolve tenant: %w", err)
	}
	return r, nil
}

// OtherTenant is another business on the platform, as the outbound guard needs it: a reply in
// one tenant's conversation must never name another tenant or quote its numbers.
type OtherTenant struct {
	Name    string
	Numbers []string
}

// OtherTenants lists every tenant but one with its numbers.
func (s *Store) OtherTenants(ctx context.Context, exceptID string) ([]OtherTenant, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.name, coalesce(array_agg(n.e164 ORDER BY n.e164) FILTER (WHERE n.e164 IS NOT NULL), '{}')
		FROM control.tenants t LEFT JOIN control.tenant_phone_numbers n ON n.tenant_id = t.id
		WHERE t.id <> $1 AND t.status <> 'closed'
		GROUP BY t.id ORDER BY t.id`, exceptID)
	if err != nil {
		return nil, fmt.Errorf("other tenants: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OtherTenant, error) {
		var o OtherTenant
		err := row.Scan(&o.Name, &o.Numbers)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("other tenants: %w", err)
	}
	return out, nil
}
