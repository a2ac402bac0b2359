package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TenantIDs lists every tenant that still has data (active or closing).
func (s *Store) TenantIDs(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM control.tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ids, nil
}

// BlankMessageBodies removes the text of the tenant's messages that occurred before olderThan.
// The rows stay — dates, directions and provider IDs are the owner's history and feed the usage
// counts — but what was said is gone. It returns how many bodies it blanked.
func (s *Store) BlankMessageBodies(ctx context.Context, tenantID string, olderThan time.Time) (int64, error) {
	var n int64
	err := s.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE messages SET body = '' WHERE occurred_at < $1 AND body <> ''`, olderThan)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("blank message bodies: %w", err)
	}
	return n, nil
}
