package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/envelope"
)

// DSRExport is an export as its download hands it out.
type DSRExport struct {
	ID        int64
	RequestID string
	TenantID  string
	// Data is the export (internal/subjectexport's zip), opened.
	Data      []byte
	SHA256    [32]byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// exportAAD binds a sealed export to its request, so bytes copied to another request's row do not
// open.
func exportAAD(requestID string) []byte { return []byte("dsr_exports.sealed/" + requestID) }

// exportTokenHash is what is stored of a download token.
func exportTokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// SaveDSRExport stores an export for the request, sealed under its tenant's current data key from
// keys, until expiresAt, with an audit entry naming its SHA-256. It returns the download token,
// which is shown only here: the store keeps its hash. A closed request is ErrDSRClosed.
func (s *Store) SaveDSRExport(ctx context.Context, keys codec.Keys, requestID string, data []byte, expiresAt time.Time) (string, error) {
	r, err := s.DSR(ctx, requestID)
	if err != nil {
		return "", err
	}
	if r.Status.Closed() {
		return "", ErrDSRClosed
	}
	key, err := keys.Current(ctx, r.TenantID)
	if err != nil {
		return "", fmt.Errorf("save export: tenant key: %w", err)
	}
	sealed, err := envelope.Seal(key.Secret, data, exportAAD(requestID))
	if err != nil {
		return "", fmt.Errorf("save export: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("save export: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256(data)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		var created time.Time
		if err := tx.QueryRow(ctx, `
			INSERT INTO control.dsr_exports (request_id, tenant_id, sealed, key_id, sha256, size_bytes, token_hash, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, created_at`,
			requestID, r.TenantID, sealed, key.ID, sum[:], len(data), exportTokenHash(token), expiresAt).Scan(&id, &created); err != nil {
			return err
		}
		_, err := s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: r.TenantID, EventID: fmt.Sprintf("dsr.export.created/%s/%d", requestID, id), Actor: ActorFrom(ctx),
			Action: "dsr.export.created", Subject: r.subject(), OccurredAt: created,
			Payload: details(map[string]any{
				"request_id": requestID, "export_id": id, "sha256": hex.EncodeToString(sum[:]),
				"size_bytes": len(data), "expires_at": expiresAt,
			}),
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("save export: %w", err)
	}
	return token, nil
}

// OpenDSRExport hands out the export whose download token this is, once: it opens the sealed
// bytes, checks them against their SHA-256, marks the export downloaded at now, removes the bytes
// and appends an audit entry naming the actor (P22), all in one transaction. An unknown token, an
// export already downloaded and an expired one are all ErrNotFound, so a caller probing links
// learns nothing. An export whose tenant's keys were destroyed fails with codec.ErrKeyDestroyed
// and stays as it was.
func (s *Store) OpenDSRExport(ctx context.Context, keys codec.Keys, token string, now time.Time) (DSRExport, error) {
	if token == "" {
		return DSRExport{}, ErrNotFound
	}
	var e DSRExport
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var sealed, sum []byte
		var keyID string
		err := tx.QueryRow(ctx, `
			SELECT id, request_id, tenant_id, sealed, key_id, sha256, created_at, expires_at
			FROM control.dsr_exports
			WHERE token_hash = $1 AND sealed IS NOT NULL AND expires_at > $2
			FOR UPDATE`, exportTokenHash(token), now,
		).Scan(&e.ID, &e.RequestID, &e.TenantID, &sealed, &keyID, &sum, &e.CreatedAt, &e.ExpiresAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		key, err := keys.ByID(ctx, keyID)
		if err != nil {
			return fmt.Errorf("tenant key: %w", err)
		}
		if e.Data, err = envelope.Open(key.Secret, sealed, exportAAD(e.RequestID)); err != nil {
			return err
		}
		e.SHA256 = sha256.Sum256(e.Data)
		if !bytes.Equal(e.SHA256[:], sum) {
			return errors.New("the opened export does not match its recorded SHA-256")
		}
		if _, err := tx.Exec(ctx, `UPDATE control.dsr_exports SET sealed = NULL, downloaded_at = $2 WHERE id = $1`, e.ID, now); err != nil {
			return err
		}
		var subject string
		if err := tx.QueryRow(ctx, `
			SELECT coalesce((SELECT identifier_hash FROM control.dsr_identifiers WHERE request_id = $1
			                 ORDER BY kind <> 'phone', created_at, identifier_hash LIMIT 1), '')`, e.RequestID).Scan(&subject); err != nil {
			return err
		}
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: e.TenantID, EventID: fmt.Sprintf("dsr.export.downloaded/%s/%d", e.RequestID, e.ID), Actor: ActorFrom(ctx),
			Action: "dsr.export.downloaded", Subject: subject, OccurredAt: now,
			Payload: details(map[string]any{"request_id": e.RequestID, "export_id": e.ID, "sha256": hex.EncodeToString(e.SHA256[:])}),
		})
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return DSRExport{}, err
	}
	if err != nil {
		return DSRExport{}, fmt.Errorf("open export: %w", err)
	}
	return e, nil
}

// PurgeExpiredDSRExports removes the bytes of every export that expired by now without being
// downloaded, and returns how many it purged. The rows stay as the record of what was made.
func (s *Store) PurgeExpiredDSRExports(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE control.dsr_exports SET sealed = NULL WHERE sealed IS NOT NULL AND expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge expired exports: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
