package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Limit is a rate: at most N events per Per, in bursts of up to N.
type Limit struct {
	N   int
	Per time.Duration
}

// Allow takes one event from bucket under limit and reports whether it fits. It implements the
// generic cell rate algorithm: each event pushes the bucket's theoretical arrival time (TAT) one
// emission interval (Per/N) into the future, and an event is refused when that would put the TAT
// more than Per ahead of now. The check and the update are one statement, so concurrent callers
// on any number of replicas are serialised by the row lock.
func (s *Store) Allow(ctx context.Context, bucket string, limit Limit) (bool, error) {
	if limit.N <= 0 || limit.Per <= 0 {
		return false, errors.New("rate limit: N and Per must be positive")
	}
	interval := limit.Per / time.Duration(limit.N)
	var tat time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO control.rate_buckets AS b (bucket, tat)
		VALUES ($1, clock_timestamp() + $2::interval)
		ON CONFLICT (bucket) DO UPDATE
			SET tat = greatest(b.tat, clock_timestamp()) + $2::interval
			WHERE greatest(b.tat, clock_timestamp()) + $2::interval - clock_timestamp() <= $3::interval
		RETURNING tat`, bucket, interval, limit.Per).Scan(&tat)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rate limit: %w", err)
	}
	return true, nil
}

// PruneRateBuckets deletes buckets idle for longer than olderThan; an idle bucket is full again,
// so deleting it changes no decision.
func (s *Store) PruneRateBuckets(ctx context.Context, olderThan time.Duration) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM control.rate_buckets WHERE tat < clock_timestamp() - $1::interval`, olderThan)
	if err != nil {
		return 0, fmt.Errorf("prune rate buckets: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
