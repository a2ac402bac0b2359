// Package connect opens what every long-running Ringback process needs, the same way in each:
// the database (with the audit log's checkpoint signer), the keyring and payload codec, and a
// Temporal client that encrypts through that codec. The worker and the starter wire the rest.
package connect

import (
	"context"
	"fmt"
	"log/slog"

	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/temporalclient"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

// Conn holds the opened dependencies.
type Conn struct {
	Store    *store.Store
	Temporal sdkclient.Client
	Codec    *codec.Codec
	// Keys are the data keys behind Codec; stored secrets (tenant webhook secrets) are sealed
	// under them too.
	Keys *keyring.Keyring
	// Namespace is the Temporal namespace the client works in, for raw service calls (batch
	// deletion, visibility) that name it explicitly.
	Namespace string
}

// Open connects in dependency order and undoes what it did if a later step fails. Development
// defaults for the master key and the audit signing key are announced in the log, loudly.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Conn, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	c, err := open(ctx, cfg, log, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

func open(ctx context.Context, cfg config.Config, log *slog.Logger, db *store.Store) (*Conn, error) {
	signer, _, err := auditlog.NewSigner(cfg.AuditSigningKey)
	if err != nil {
		return nil, err
	}
	db.SetAuditSigner(signer)
	if cfg.AuditSigningKeyIsDevDefault {
		log.Warn("DEV AUDIT KEY: audit checkpoints are signed with the published development key; set RINGBACK_AUDIT_SIGNING_KEY")
	}
	keys, err := keyring.New(cfg.MasterKey, db)
	if err != nil {
		return nil, err
	}
	if cfg.MasterKeyIsDevDefault {
		log.Warn("DEV MASTER KEY: payloads are encrypted under the published development key; set RINGBACK_MASTER_KEY")
	}
	payloadCodec := codec.New(keys, workflows.KeyScope)
	opts, err := temporalclient.Options(log, payloadCodec)
	if err != nil {
		return nil, err
	}
	tc, err := sdkclient.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
	}
	return &Conn{Store: db, Temporal: tc, Codec: payloadCodec, Keys: keys, Namespace: opts.Namespace}, nil
}

// Close releases the Temporal client and the database pool.
func (c *Conn) Close() {
	c.Temporal.Close()
	c.Store.Close()
}
