// Package schema holds Ringback's SQL migrations and applies them with tern: the control schema
// once per database, and the tenant template once per tenant schema (t_<tenant id>).
package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/ringback/ringback/internal/tenantspec"
)

//go:embed control/*.sql tenant/*.sql
var migrations embed.FS

// ControlSchema is the schema holding tenants, consent, outbox and other cross-tenant tables.
const ControlSchema = "control"

// MigrateControl brings the control schema up to date. It is idempotent and safe to run from
// several processes at once: tern serialises migrators with an advisory lock.
func MigrateControl(ctx context.Context, conn *pgx.Conn) error {
	return apply(ctx, conn, ControlSchema, "control", nil)
}

// MigrateTenant creates the tenant's schema if needed and brings it up to date.
func MigrateTenant(ctx context.Context, conn *pgx.Conn, tenantID string) error {
	name, err := tenantspec.SchemaName(tenantID)
	if err != nil {
		return err
	}
	return apply(ctx, conn, name, "tenant", map[string]any{"Schema": name})
}

// MigrateAll migrates the control schema and then every tenant schema; `ringback migrate` runs it.
// It returns the number of tenant schemas it checked.
func MigrateAll(ctx context.Context, conn *pgx.Conn) (int, error) {
	if err := MigrateControl(ctx, conn); err != nil {
		return 0, err
	}
	rows, err := conn.Query(ctx, `SELECT id FROM control.tenants ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("list tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("list tenants: %w", err)
	}
	for _, id := range ids {
		if err := MigrateTenant(ctx, conn, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func apply(ctx context.Context, conn *pgx.Conn, schemaName, dir string, data map[string]any) error {
	ident := pgx.Identifier{schemaName}.Sanitize()
	// tern keeps its version table inside the schema it migrates, so the schema must exist first.
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident); err != nil {
		return fmt.Errorf("create schema %s: %w", schemaName, err)
	}
	m, err := migrate.NewMigrator(ctx, conn, ident+".schema_version")
	if err != nil {
		return fmt.Errorf("migrator for %s: %w", schemaName, err)
	}
	for k, v := range data {
		m.Data[k] = v
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("load %s migrations: %w", dir, err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", schemaName, err)
	}
	return nil
}
