// Package store is Ringback's PostgreSQL data access. Control tables are always schema-qualified
// (control.*); tenant tables are reached only inside InTenant, which pins the transaction's
// search_path to that tenant's schema, so a query written for one tenant cannot see another's rows.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/schema"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// Store wraps a connection pool.
type Store struct {
	pool *pgxpool.Pool
	// auditSigner signs audit checkpoints; set once at start-up by SetAuditSigner.
	auditSigner atomic.Pointer[note.Signer]
}

// DefaultMaxConns is the pool size when DATABASE_URL does not set pool_max_conns. pgx's own
// default, four connections on a small machine, starves a worker whose hundred workflow tasks in
// flight each run a few short transactions in local activities: a wake-up of thousands of
// conversations at 08:00 then queues for connections until tasks outlive their timeout.
const DefaultMaxConns = 16

// Open connects to databaseURL and checks the connection. The pool holds DefaultMaxConns
// connections unless the URL sets pool_max_conns.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The URL may carry a password; do not echo it.
		return nil, errors.New("open database: DATABASE_URL is not a valid PostgreSQL URL")
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close releases the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool to code that owns its own SQL (the sandbox sender).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate applies the control migrations and every tenant schema's migrations.
func (s *Store) Migrate(ctx context.Context) (tenants int, err error) {
	err = s.withConn(ctx, func(conn *pgx.Conn) error {
		tenants, err = schema.MigrateAll(ctx, conn)
		return err
	})
	return tenants, err
}

func (s *Store) withConn(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer c.Release()
	return fn(c.Conn())
}

// InTenant runs fn in a transaction whose search_path is the tenant's schema and nothing else.
// It is the only way Ringback code reaches tenant tables.
func (s *Store) InTenant(ctx context.Context, tenantID string, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return inTenantTx(ctx, tx, tenantID, fn)
	})
}

// inTenantTx narrows an existing transaction to one tenant, for work that must commit control and
// tenant rows together.
func inTenantTx(ctx context.Context, tx pgx.Tx, tenantID string, fn func(pgx.Tx) error) error {
	name, err := tenantspec.SchemaName(tenantID)
	if err != nil {
		return err
	}
	// SET cannot take a bind parameter; the name is validated above and quoted here.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("select tenant schema: %w", err)
	}
	return fn(tx)
}

func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}
