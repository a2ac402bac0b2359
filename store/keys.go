package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DataKeyRow is one stored version of a scope's data key. Wrapped is nil once destroyed.
type DataKeyRow struct {
	Scope       string
	Version     int
	Wrapped     []byte
	MasterKeyID string
	CreatedAt   time.Time
	DestroyedAt *time.Time
}

// DataKeys returns every version of a scope's key, oldest first.
func (s *Store) DataKeys(ctx context.Context, scope string) ([]DataKeyRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT scope, version, wrapped, master_key_id, created_at, destroyed_at
		FROM control.data_keys WHERE scope = $1 ORDER BY version`, scope)
	if err != nil {
		return nil, fmt.Errorf("load data keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DataKeyRow])
	if err != nil {
		return nil, fmt.Errorf("load data keys: %w", err)
	}
	return keys, nil
}

// InsertDataKey stores a new version unless that version exists (another process created it
// first), reporting whether this call inserted it. A scope with a destroyed key never gets a new
// one.
func (s *Store) InsertDataKey(ctx context.Context, scope string, version int, wrapped []byte, masterKeyID string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO control.data_keys (scope, version, wrapped, master_key_id)
		SELECT $1, $2, $3, $4
		WHERE NOT EXISTS (SELECT 1 FROM control.data_keys WHERE scope = $1 AND destroyed_at IS NOT NULL)
		ON CONFLICT (scope, version) DO NOTHING`, scope, version, wrapped, masterKeyID)
	if err != nil {
		return false, fmt.Errorf("insert data key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DestroyDataKeys erases every wrapped version of a scope's key and returns how many it erased.
func (s *Store) DestroyDataKeys(ctx context.Context, scope string) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE control.data_keys SET wrapped = NULL, destroyed_at = now()
		WHERE scope = $1 AND destroyed_at IS NULL`, scope)
	if err != nil {
		return 0, fmt.Errorf("destroy data keys: %w", err)
	}
	// A scope that never had a key still gets a tombstone, so none is ever created for it later.
	if tag.RowsAffected() == 0 {
		if _, err := s.pool.Exec(ctx, `
			INSERT INTO control.data_keys (scope, version, wrapped, master_key_id, destroyed_at)
			VALUES ($1, 1, NULL, 'none', now()) ON CONFLICT DO NOTHING`, scope); err != nil {
			return 0, fmt.Errorf("destroy data keys: %w", err)
		}
	}
	return int(tag.RowsAffected()), nil
}
