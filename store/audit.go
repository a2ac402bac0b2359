package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/tenantspec"
)

// AuditEvent is what AppendAudit records. It is auditlog.Event, named here so that callers of the
// store need not import auditlog to build one.
type AuditEvent = auditlog.Event

// AuditReceipt says where an event sits in its log and carries the signed checkpoint written
// when it was appended, which commits to it.
type AuditReceipt struct {
	LogID      string
	Index      int64
	EventID    string
	RecordHash tlog.Hash
	// TreeSize is Index+1: the checkpoint is the one written by this event's append.
	TreeSize   int64
	TreeRoot   tlog.Hash
	Checkpoint []byte
}

var (
	// ErrAuditConflict is returned when an event ID is already in the log with other content:
	// an idempotency key reused for a different event.
	ErrAuditConflict = errors.New("audit event id already recorded with different content")
	// ErrNoAuditSigner is returned by appends on a Store that was given no checkpoint signer.
	ErrNoAuditSigner = errors.New("audit log: no checkpoint signer (set RINGBACK_AUDIT_SIGNING_KEY)")
	// ErrAuditRetention is returned for a retention cutoff that would cut payloads short of
	// their retention period.
	ErrAuditRetention = errors.New("audit retention: payloads are kept for one year")
)

// SetAuditSigner gives the Store the key that signs audit checkpoints. Call it once, before the
// first append.
func (s *Store) SetAuditSigner(signer note.Signer) { s.auditSigner.Store(&signer) }

func (s *Store) checkpointSigner() (note.Signer, error) {
	if v := s.auditSigner.Load(); v != nil {
		return *v, nil
	}
	return nil, ErrNoAuditSigner
}

// ValidAuditLogID reports whether id names a log: auditlog.ControlLog or a tenant ID.
func ValidAuditLogID(id string) bool { return id == auditlog.ControlLog || tenantspec.ValidID(id) }

// AppendAudit records ev in its log in a transaction of its own; see AppendAuditTx.
func (s *Store) AppendAudit(ctx context.Context, ev AuditEvent) (AuditReceipt, error) {
	var rc AuditReceipt
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		rc, err = s.AppendAuditTx(ctx, tx, ev)
		return err
	})
	return rc, err
}

// AppendAuditTx records ev in its log inside tx, so that a change and the audit entry that
// describes it commit or roll back together. It locks the log until tx ends: appends to one log
// are serialised, appends to different logs are not.
//
// Appending an event ID that is already in the log returns the original receipt if the event is
// the same, and ErrAuditConflict if it is not.
//
// tx should be READ COMMITTED (pgx's default). Under REPEATABLE READ or SERIALIZABLE an append
// that waited for another append to the same log fails with a serialization error, and the
// caller retries the whole transaction.
func (s *Store) AppendAuditTx(ctx context.Context, tx pgx.Tx, ev AuditEvent) (AuditReceipt, error) {
	signer, err := s.checkpointSigner()
	if err != nil {
		return AuditReceipt{}, err
	}
	if !ValidAuditLogID(ev.LogID) {
		return AuditReceipt{}, errors.New("append audit: log id must be \"control\" or a tenant id")
	}
	// Validate before taking the lock, so a bad event never holds up the log.
	if _, err := auditlog.Seal(ev, 0); err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit: %w", err)
	}
	size, err := lockAuditLog(ctx, tx, ev.LogID)
	if err != nil {
		return AuditReceipt{}, err
	}

	// Looked up only under the lock: a concurrent append of the same event has committed by now.
	var idx int64
	var record []byte
	err = tx.QueryRow(ctx, `
		SELECT idx, record FROM control.audit_entries WHERE log_id = $1 AND event_id = $2`,
		ev.LogID, ev.EventID).Scan(&idx, &record)
	switch {
	case err == nil:
		again, err := auditlog.Seal(ev, idx)
		if err != nil {
			return AuditReceipt{}, fmt.Errorf("append audit: %w", err)
		}
		if !bytes.Equal(again.Record, record) {
			return AuditReceipt{}, fmt.Errorf("append audit to %s (entry %d): %w", ev.LogID, idx, ErrAuditConflict)
		}
		return auditReceipt(ctx, tx, ev.LogID, ev.EventID, idx, record)
	case !errors.Is(err, pgx.ErrNoRows):
		return AuditReceipt{}, fmt.Errorf("append audit: look up event: %w", err)
	}

	e, err := auditlog.Seal(ev, size)
	if err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit: %w", err)
	}
	stored, root, err := auditlog.Extend(size, e.RecordHash(), auditHashReader(ctx, tx, ev.LogID))
	if err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit to %s: %w", ev.LogID, err)
	}
	cp := auditlog.Checkpoint{LogID: ev.LogID, Size: size + 1, Root: root}
	signed, err := auditlog.SignCheckpoint(cp, signer)
	if err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit to %s: %w", ev.LogID, err)
	}
	hashes := make([][]byte, len(stored))
	for i := range stored {
		hashes[i] = stored[i][:]
	}

	b := &pgx.Batch{}
	b.Queue(`
		INSERT INTO control.audit_entries (log_id, idx, event_id, actor, action, subject, occurred_at, payload, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ev.LogID, e.Index, e.EventID, e.Actor, e.Action, e.Subject, e.OccurredAt, string(e.Payload), e.Record)
	b.Queue(`
		INSERT INTO control.audit_hashes (log_id, idx, hash)
		SELECT $1, $2 + h.ord - 1, h.hash FROM unnest($3::bytea[]) WITH ORDINALITY AS h (hash, ord)`,
		ev.LogID, tlog.StoredHashIndex(0, size), hashes)
	b.Queue(`INSERT INTO control.audit_checkpoints (log_id, size, note) VALUES ($1, $2, $3)`,
		ev.LogID, cp.Size, string(signed))
	b.Queue(`UPDATE control.audit_logs SET size = $2 WHERE log_id = $1`, ev.LogID, cp.Size)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit to %s: write entry %d: %w", ev.LogID, size, err)
	}
	return AuditReceipt{
		LogID:      ev.LogID,
		Index:      size,
		EventID:    e.EventID,
		RecordHash: e.RecordHash(),
		TreeSize:   cp.Size,
		TreeRoot:   root,
		Checkpoint: signed,
	}, nil
}

// lockAuditLog locks the log's row, creating it on the log's first append, and returns its size.
func lockAuditLog(ctx context.Context, tx pgx.Tx, logID string) (int64, error) {
	const lock = `SELECT size FROM control.audit_logs WHERE log_id = $1 FOR NO KEY UPDATE`
	var size int64
	err := tx.QueryRow(ctx, lock, logID).Scan(&size)
	if errors.Is(err, pgx.ErrNoRows) {
		// Two first appends race here: the loser's insert waits for the winner and does nothing.
		if _, err := tx.Exec(ctx, `INSERT INTO control.audit_logs (log_id) VALUES ($1) ON CONFLICT DO NOTHING`, logID); err != nil {
			return 0, fmt.Errorf("append audit: create log %s: %w", logID, err)
		}
		err = tx.QueryRow(ctx, lock, logID).Scan(&size)
	}
	if err != nil {
		return 0, fmt.Errorf("append audit: lock log %s: %w", logID, err)
	}
	return size, nil
}

// auditHashReader reads a log's stored tree hashes inside tx.
func auditHashReader(ctx context.Context, tx pgx.Tx, logID string) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		if len(indexes) == 0 {
			return nil, nil
		}
		rows, err := tx.Query(ctx, `
			SELECT idx, hash FROM control.audit_hashes WHERE log_id = $1 AND idx = ANY($2)`, logID, indexes)
		if err != nil {
			return nil, fmt.Errorf("read tree hashes: %w", err)
		}
		found, err := collectHashes(rows)
		if err != nil {
			return nil, fmt.Errorf("read tree hashes: %w", err)
		}
		return found.ReadHashes(indexes)
	})
}

func collectHashes(rows pgx.Rows) (auditlog.HashMap, error) {
	m := auditlog.HashMap{}
	var idx int64
	var h []byte
	_, err := pgx.ForEachRow(rows, []any{&idx, &h}, func() error {
		if len(h) != tlog.HashSize {
			return fmt.Errorf("stored hash %d has %d bytes", idx, len(h))
		}
		m[idx] = tlog.Hash(h)
		return nil
	})
	return m, err
}

// auditReceipt rebuilds the receipt of an entry already in the log.
func auditReceipt(ctx context.Context, tx pgx.Tx, logID, eventID string, idx int64, record []byte) (AuditReceipt, error) {
	var signed string
	if err := tx.QueryRow(ctx, `
		SELECT note FROM control.audit_checkpoints WHERE log_id = $1 AND size = $2`, logID, idx+1).Scan(&signed); err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit: checkpoint %d of %s: %w", idx+1, logID, err)
	}
	cp, err := auditlog.ReadCheckpoint([]byte(signed))
	if err != nil {
		return AuditReceipt{}, fmt.Errorf("append audit: checkpoint %d of %s: %w", idx+1, logID, err)
	}
	return AuditReceipt{
		LogID:      logID,
		Index:      idx,
		EventID:    eventID,
		RecordHash: tlog.RecordHash(record),
		TreeSize:   cp.Size,
		TreeRoot:   cp.Root,
		Checkpoint: []byte(signed),
	}, nil
}

// AuditLogIDs lists the logs that have entries, the control log first.
func (s *Store) AuditLogIDs(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT log_id FROM control.audit_logs ORDER BY log_id <> $1, log_id`, auditlog.ControlLog)
	if err != nil {
		return nil, fmt.Errorf("list audit logs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list audit logs: %w", err)
	}
	return ids, nil
}

// auditBatchSize is how many rows are read before they are handed on: enough to keep every CPU
// busy verifying, few enough that reading takes the same memory however long the log is.
var auditBatchSize = 4096

// auditSink receives one log as readAuditLog streams it: all entries in index order, then all
// stored tree hashes, then all checkpoints in order of size. A sink must not keep the slices it
// is given.
type auditSink interface {
	AddEntries([]auditlog.Entry)
	AddHash(int64, tlog.Hash)
	AddCheckpoints([][]byte)
}

// auditBatch is one batch of rows of one of the three tables.
type auditBatch struct {
	entries []auditlog.Entry
	hashes  []storedHash
	notes   [][]byte
}

type storedHash struct {
	idx  int64
	hash tlog.Hash
}

func (b *auditBatch) len() int { return len(b.entries) + len(b.hashes) + len(b.notes) }

// readAuditLog streams everything stored for one log into sink from a single snapshot, so that
// appends running meanwhile cannot look like tampering. The sink works on one batch in a
// goroutine of its own while the next is read.
func (s *Store) readAuditLog(ctx context.Context, logID string, sink auditSink) error {
	if !ValidAuditLogID(logID) {
		return errors.New("log id must be \"control\" or a tenant id")
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		full, free := make(chan *auditBatch), make(chan *auditBatch, 2)
		free <- &auditBatch{}
		free <- &auditBatch{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for b := range full {
				switch {
				case len(b.entries) > 0:
					sink.AddEntries(b.entries)
				case len(b.hashes) > 0:
					for _, h := range b.hashes {
						sink.AddHash(h.idx, h.hash)
					}
				default:
					sink.AddCheckpoints(b.notes)
				}
				free <- b
			}
		}()
		r := auditReader{full: full, free: free}
		err := r.read(ctx, tx, logID)
		close(full)
		<-done
		return err
	})
}

// auditReader fills batches from the three tables in turn.
type auditReader struct {
	full chan<- *auditBatch
	free <-chan *auditBatch
	b    *auditBatch
}

// room returns a batch with room for one more row, handing on the current one if it is full.
func (r *auditReader) room() *auditBatch {
	if r.b != nil && r.b.len() >= auditBatchSize {
		r.flush()
	}
	if r.b == nil {
		r.b = <-r.free
		r.b.entries, r.b.hashes, r.b.notes = r.b.entries[:0], r.b.hashes[:0], r.b.notes[:0]
	}
	return r.b
}

// flush hands on the current batch, if any: the end of a table.
func (r *auditReader) flush() {
	if r.b != nil && r.b.len() > 0 {
		r.full <- r.b
		r.b = nil
	}
}

func (r *auditReader) read(ctx context.Context, tx pgx.Tx, logID string) error {
	rows, err := tx.Query(ctx, `
		SELECT idx, event_id, actor, action, subject, occurred_at, payload::text, record
		FROM control.audit_entries WHERE log_id = $1 ORDER BY idx`, logID)
	if err != nil {
		return fmt.Errorf("entries: %w", err)
	}
	for rows.Next() {
		b := r.room()
		b.entries = append(b.entries, auditlog.Entry{})
		e := &b.entries[len(b.entries)-1]
		if err := rows.Scan(&e.Index, &e.EventID, &e.Actor, &e.Action, &e.Subject, &e.OccurredAt, &e.Payload, &e.Record); err != nil {
			rows.Close()
			return fmt.Errorf("entries: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("entries: %w", err)
	}
	r.flush()

	rows, err = tx.Query(ctx, `SELECT idx, hash FROM control.audit_hashes WHERE log_id = $1`, logID)
	if err != nil {
		return fmt.Errorf("tree hashes: %w", err)
	}
	for rows.Next() {
		b := r.room()
		var idx int64
		var h pgtype.DriverBytes // read in place: copied into the hash just below
		if err := rows.Scan(&idx, &h); err != nil {
			rows.Close()
			return fmt.Errorf("tree hashes: %w", err)
		}
		if len(h) != tlog.HashSize {
			rows.Close()
			return fmt.Errorf("tree hashes: stored hash %d has %d bytes", idx, len(h))
		}
		b.hashes = append(b.hashes, storedHash{idx: idx, hash: tlog.Hash(h)})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tree hashes: %w", err)
	}
	r.flush()

	rows, err = tx.Query(ctx, `SELECT note FROM control.audit_checkpoints WHERE log_id = $1 ORDER BY size`, logID)
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	for rows.Next() {
		b := r.room()
		var n []byte
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("checkpoints: %w", err)
		}
		b.notes = append(b.notes, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	r.flush()
	return nil
}

// auditCollector keeps a streamed log in memory.
type auditCollector struct{ l auditlog.Log }

func (c *auditCollector) AddEntries(es []auditlog.Entry) { c.l.Entries = append(c.l.Entries, es...) }
func (c *auditCollector) AddHash(x int64, h tlog.Hash)   { c.l.Hashes[x] = h }
func (c *auditCollector) AddCheckpoints(ns [][]byte) {
	for _, n := range ns {
		c.l.Checkpoints = append(c.l.Checkpoints, bytes.Clone(n))
	}
}

// LoadAuditLog reads everything stored for one log, from a single snapshot, into memory. A log
// that was never appended to is empty. VerifyAudit streams instead; this is for callers that
// need the rows themselves.
func (s *Store) LoadAuditLog(ctx context.Context, logID string) (auditlog.Log, error) {
	c := &auditCollector{l: auditlog.Log{ID: logID, Hashes: auditlog.HashMap{}}}
	if err := s.readAuditLog(ctx, logID, c); err != nil {
		return auditlog.Log{}, fmt.Errorf("load audit log %s: %w", logID, err)
	}
	return c.l, nil
}

// VerifyAudit verifies one log with auditlog's default options: see VerifyAuditWith.
func (s *Store) VerifyAudit(ctx context.Context, logID string, verifiers note.Verifiers) (auditlog.Report, error) {
	return s.VerifyAuditWith(ctx, logID, verifiers, auditlog.VerifyOptions{})
}

// VerifyAuditWith streams one log through auditlog's Verifier: the log is never held in memory,
// only the recomputed tree (64 bytes per entry) and the event IDs. The error is for failing to
// read the log; what verification found is in the report.
func (s *Store) VerifyAuditWith(ctx context.Context, logID string, verifiers note.Verifiers, opts auditlog.VerifyOptions) (auditlog.Report, error) {
	v := auditlog.NewVerifier(logID, verifiers, opts)
	if err := s.readAuditLog(ctx, logID, v); err != nil {
		return auditlog.Report{}, fmt.Errorf("verify audit log %s: %w", logID, err)
	}
	return v.Report(), nil
}

// PruneAuditPayloads removes the payloads of entries, in every log, that occurred before
// olderThan, and returns how many it removed. Records, tree hashes and checkpoints stay, so the
// logs still verify. The database lets only this path change an entry, and only in this way: it
// declares the cutoff for its transaction and the trigger holds it to it.
func (s *Store) PruneAuditPayloads(ctx context.Context, olderThan time.Time) (int, error) {
	// PostgreSQL keeps microseconds; truncating here keeps the trigger's cutoff and the
	// query's the same instant.
	olderThan = olderThan.UTC().Truncate(time.Microsecond)
	if olderThan.After(auditlog.RetentionCutoff(time.Now())) {
		return 0, ErrAuditRetention
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			SELECT set_config('ringback.audit_retention', 'on', true),
			       set_config('ringback.audit_retention_cutoff', $1, true)`,
			olderThan.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE control.audit_entries SET payload = NULL
			WHERE occurred_at < $1 AND payload IS NOT NULL`, olderThan)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune audit payloads: %w", err)
	}
	return int(n), nil
}
