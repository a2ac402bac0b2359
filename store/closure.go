package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/tenantspec"
)

// TenantStatusClosing is the status of a cancelled tenant inside its retention period: its calls
// and texts are no longer answered, its data is kept for reactivation.
const TenantStatusClosing = "closing"

// ErrTenantNotActive is returned when a closure is asked of a tenant that is not active (already
// closing), and ErrTenantNotClosing when a reactivation is asked of one that is not closing.
var (
	ErrTenantNotActive  = errors.New("tenant is not active")
	ErrTenantNotClosing = errors.New("tenant is not closing")
)

// MarkTenantClosing moves an active tenant to closing. It reports false, without error, when the
// tenant is closing already, so a retried activity is harmless.
func (s *Store) MarkTenantClosing(ctx context.Context, tenantID string) (changed bool, err error) {
	return s.setTenantStatus(ctx, tenantID, TenantStatusActive, TenantStatusClosing)
}

// ReactivateTenant moves a closing tenant back to active; false when it is active already.
func (s *Store) ReactivateTenant(ctx context.Context, tenantID string) (changed bool, err error) {
	return s.setTenantStatus(ctx, tenantID, TenantStatusClosing, TenantStatusActive)
}

func (s *Store) setTenantStatus(ctx context.Context, tenantID, from, to string) (bool, error) {
	if !tenantspec.ValidID(tenantID) {
		return false, ErrNotFound
	}
	var current string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT status FROM control.tenants WHERE id = $1 FOR UPDATE`, tenantID).Scan(&current); err != nil {
			return err
		}
		if current != from {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE control.tenants SET status = $2 WHERE id = $1`, tenantID, to)
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, ErrNotFound
	case err != nil:
		return false, fmt.Errorf("tenant status: %w", err)
	case current == from:
		return true, nil
	case current == to:
		return false, nil
	case from == TenantStatusActive:
		return false, ErrTenantNotActive
	default:
		return false, ErrTenantNotClosing
	}
}

// OwnerContact is how a tenant's owner is told about its closure: from the business's own number.
type OwnerContact struct {
	Name       string
	OwnerPhone string
	// From is the tenant's first number, empty when it has none.
	From     string
	Timezone string
}

// TenantOwnerContact loads the owner's contact.
func (s *Store) TenantOwnerContact(ctx context.Context, tenantID string) (OwnerContact, error) {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return OwnerContact{}, err
	}
	c := OwnerContact{Name: t.Name, OwnerPhone: t.OwnerPhone, Timezone: t.Timezone}
	if len(t.Numbers) > 0 {
		c.From = t.Numbers[0]
	}
	return c, nil
}

// DropTenantSchema drops the tenant's schema with everything in it: contacts, conversations,
// messages, calls, bookings, escalations. It reports whether the schema existed.
func (s *Store) DropTenantSchema(ctx context.Context, tenantID string) (existed bool, err error) {
	name, err := tenantspec.SchemaName(tenantID)
	if err != nil {
		return false, err
	}
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, name).Scan(&existed); err != nil {
		return false, fmt.Errorf("drop tenant schema: %w", err)
	}
	// DROP SCHEMA cannot take a bind parameter; the name is validated and quoted.
	if _, err := s.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		return false, fmt.Errorf("drop tenant schema: %w", err)
	}
	return existed, nil
}

// retainedTenantTables are the control tables whose rows about a tenant outlive its erasure,
// each for a promise: billing records for 7 years (P14), data-subject request records for 24
// months (CCPA record keeping). The audit log is kept too; its tables are keyed by log, not
// tenant, and refuse deletion.
var retainedTenantTables = []string{"billing_accounts", "billing_records", "dsr_requests"}

// tenantTables lists the control tables with a tenant_id column, so that a table added later is
// purged and scanned without anyone remembering to list it here.
func tenantTables(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'control' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// rateBucketPatterns match the rate-limit buckets that name a tenant (ingress: "inbound:<id>",
// "text:<id>:<caller>", and their "audit-once:" twins).
func rateBucketPatterns(tenantID string) []string {
	return []string{"inbound:" + tenantID, "text:" + tenantID + ":%", "audit-once:inbound:" + tenantID, "audit-once:text:" + tenantID + ":%"}
}

// PurgeTenantRows deletes every control row of the tenant except the retained ones: its tenant
// row and numbers, consent ledger, suppressions, outbox, profile, webhook, tokens, rate buckets
// and anything else keyed by tenant_id. It returns the rows deleted per table. Run it after the
// schema is dropped and the keys destroyed: it removes the tenant row those steps look up.
func (s *Store) PurgeTenantRows(ctx context.Context, tenantID string) (map[string]int64, error) {
	if !tenantspec.ValidID(tenantID) {
		return nil, ErrNotFound
	}
	purged := map[string]int64{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tables, err := tenantTables(ctx, tx)
		if err != nil {
			return err
		}
		// Counted first: the tenant row's cascade removes most of them in one statement.
		for _, table := range tables {
			if slices.Contains(retainedTenantTables, table) || table == "tenants" {
				continue
			}
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM control."+pgx.Identifier{table}.Sanitize()+" WHERE tenant_id = $1", tenantID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				purged[table] = n
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM control.tenants WHERE id = $1`, tenantID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			purged["tenants"] = tag.RowsAffected()
		}
		// Tables without a cascading foreign key.
		for _, table := range tables {
			if slices.Contains(retainedTenantTables, table) || table == "tenants" {
				continue
			}
			if _, err := tx.Exec(ctx, "DELETE FROM control."+pgx.Identifier{table}.Sanitize()+" WHERE tenant_id = $1", tenantID); err != nil {
				return err
			}
		}
		tag, err = tx.Exec(ctx, `DELETE FROM control.rate_buckets WHERE bucket LIKE ANY ($1)`, rateBucketPatterns(tenantID))
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			purged["rate_buckets"] = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("purge tenant rows: %w", err)
	}
	return purged, nil
}

// TenantScan is what a re-scan of the database found of an erased tenant.
type TenantScan struct {
	// SchemaExists is true while the tenant's schema is still there.
	SchemaExists bool `json:"schema_exists"`
	// LiveKeys counts data keys not yet destroyed. Destroyed keys leave a tombstone, which is
	// not data: it stops a fresh key from ever making the tenant's histories readable again.
	LiveKeys int64 `json:"live_keys"`
	// Remaining counts rows per control table (and rate_buckets) still keyed by the tenant,
	// retained tables excluded.
	Remaining map[string]int64 `json:"remaining"`
	// Retained counts the rows kept on purpose, per table.
	Retained map[string]int64 `json:"retained"`
}

// Clean reports whether nothing of the tenant is left but what is retained on purpose.
func (sc TenantScan) Clean() bool {
	return !sc.SchemaExists && sc.LiveKeys == 0 && len(sc.Remaining) == 0
}

// ScanTenant looks everywhere in the database for what is left of a tenant: the proof of erasure.
func (s *Store) ScanTenant(ctx context.Context, tenantID string) (TenantScan, error) {
	name, err := tenantspec.SchemaName(tenantID)
	if err != nil {
		return TenantScan{}, err
	}
	sc := TenantScan{Remaining: map[string]int64{}, Retained: map[string]int64{}}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, name).Scan(&sc.SchemaExists); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM control.data_keys WHERE scope = $1 AND wrapped IS NOT NULL`, tenantID).Scan(&sc.LiveKeys); err != nil {
			return err
		}
		tables, err := tenantTables(ctx, tx)
		if err != nil {
			return err
		}
		for _, table := range tables {
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM control."+pgx.Identifier{table}.Sanitize()+" WHERE tenant_id = $1", tenantID).Scan(&n); err != nil {
				return err
			}
			switch {
			case n == 0:
			case slices.Contains(retainedTenantTables, table):
				sc.Retained[table] = n
			default:
				sc.Remaining[table] = n
			}
		}
		var n int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM control.rate_buckets WHERE bucket LIKE ANY ($1)`, rateBucketPatterns(tenantID)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			sc.Remaining["rate_buckets"] = n
		}
		return nil
	})
	if err != nil {
		return TenantScan{}, fmt.Errorf("scan tenant: %w", err)
	}
	return sc, nil
}

// AuditHead is the size and latest signed checkpoint of one audit log: what a deletion certificate
// quotes, so the tenant's audit trail it leaves behind is pinned.
type AuditHead struct {
	Size       int64  `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// AuditLogHead returns a log's head; a log with no entries has size 0.
func (s *Store) AuditLogHead(ctx context.Context, logID string) (AuditHead, error) {
	if !ValidAuditLogID(logID) {
		return AuditHead{}, fmt.Errorf("audit head: invalid log id")
	}
	var h AuditHead
	err := s.pool.QueryRow(ctx, `
		SELECT size, note FROM control.audit_checkpoints WHERE log_id = $1 ORDER BY size DESC LIMIT 1`, logID).Scan(&h.Size, &h.Checkpoint)
	if errors.Is(err, pgx.ErrNoRows) {
		return AuditHead{}, nil
	}
	if err != nil {
		return AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	return h, nil
}

// DeletionCertificate is the control log's record that a tenant was erased: what was asked, by
// whom, what was removed and what the re-scan found.
type DeletionCertificate struct {
	TenantID           string           `json:"tenant_id"`
	Reason             string           `json:"reason"`
	RequestedBy        string           `json:"requested_by"`
	ClosureStartedAt   time.Time        `json:"closure_started_at"`
	ErasedAt           time.Time        `json:"erased_at"`
	Early              bool             `json:"early"`
	SchemaDropped      bool             `json:"schema_dropped"`
	KeysDestroyed      bool             `json:"keys_destroyed"`
	ExecutionsDeleted  int64            `json:"executions_deleted"`
	ExecutionsLeft     int64            `json:"executions_left"`
	RowsPurged         map[string]int64 `json:"rows_purged"`
	Scan               TenantScan       `json:"scan"`
	TenantAuditLogHead AuditHead        `json:"tenant_audit_log_head"`
}

// ActionTenantErased is the audit action of a deletion certificate.
const ActionTenantErased = "tenant.erased"

// CertifyErasure appends the certificate to the control log, once per tenant.
func (s *Store) CertifyErasure(ctx context.Context, c DeletionCertificate) (AuditReceipt, error) {
	return s.AppendAudit(ctx, AuditEvent{
		LogID: auditlog.ControlLog, EventID: ActionTenantErased + "/" + c.TenantID, Actor: ActorFrom(ctx),
		Action: ActionTenantErased, OccurredAt: c.ErasedAt, Payload: details(map[string]any{"certificate": c}),
	})
}

// CertifiedErasure is a deletion certificate as the control log holds it.
type CertifiedErasure struct {
	Index       int64
	Certificate DeletionCertificate
	// Pruned is true once audit retention removed the payload; the entry's hash remains.
	Pruned bool
}

// DeletionCertificates lists the certificates in the control log, oldest first.
func (s *Store) DeletionCertificates(ctx context.Context) ([]CertifiedErasure, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT idx, payload::text FROM control.audit_entries
		WHERE log_id = $1 AND action = $2 ORDER BY idx`, auditlog.ControlLog, ActionTenantErased)
	if err != nil {
		return nil, fmt.Errorf("deletion certificates: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CertifiedErasure, error) {
		var c CertifiedErasure
		var payload *string
		if err := row.Scan(&c.Index, &payload); err != nil {
			return c, err
		}
		if payload == nil {
			c.Pruned = true
			return c, nil
		}
		var body struct {
			Certificate DeletionCertificate `json:"certificate"`
		}
		if err := json.Unmarshal([]byte(*payload), &body); err != nil {
			return c, fmt.Errorf("entry %d: %w", c.Index, err)
		}
		c.Certificate = body.Certificate
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("deletion certificates: %w", err)
	}
	return out, nil
}
