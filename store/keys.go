package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ringback/ringback/internal/auditlog"
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
	var inserted bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var createdAt time.Time
		err := tx.QueryRow(ctx, `
			INSERT INTO control.data_keys (scope, version, wrapped, master_key_id)
			SELECT $1, $2, $3, $4
			WHERE NOT EXISTS (SELECT 1 FROM control.data_keys WHERE scope = $1 AND destroyed_at IS NOT NULL)
			ON CONFLICT (scope, version) DO NOTHING
			RETURNING created_at`, scope, version, wrapped, masterKeyID).Scan(&createdAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		inserted = true
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: fmt.Sprintf("key.created/%s/v%d", scope, version), Actor: ActorFrom(ctx),
			Action: "key.created", OccurredAt: createdAt,
			Payload: details(map[string]any{"scope": scope, "version": version, "master_key_id": masterKeyID}),
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("insert data key: %w", err)
	}
	return inserted, nil
}

// DestroyDataKeys erases every wrapped version of a scope's key and returns how many it erased.
func (s *Store) DestroyDataKeys(ctx context.Context, scope string) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE control.data_keys SET wrapped = NULL, destroyed_at = now()
			WHERE scope = $1 AND destroyed_at IS NULL`, scope)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		// A scope that never had a key still gets a tombstone, so none is ever created for it later.
		if n == 0 {
			tag, err = tx.Exec(ctx, `
				INSERT INTO control.data_keys (scope, version, wrapped, master_key_id, destroyed_at)
				VALUES ($1, 1, NULL, 'none', now()) ON CONFLICT DO NOTHING`, scope)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return nil // already destroyed: nothing happened, nothing to record
			}
		}
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: "key.destroyed/" + scope, Actor: ActorFrom(ctx),
			Action: "key.destroyed", OccurredAt: time.Now().UTC(),
			Payload: details(map[string]any{"scope": scope, "versions": n}),
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("destroy data keys: %w", err)
	}
	return n, nil
}
