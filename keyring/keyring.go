// Package keyring manages the data keys that encrypt workflow payloads: one series of versions
// per scope (a tenant, or the control plane), each stored wrapped under the master key. It
// implements codec.Keys with an in-memory cache, creates a scope's first key on demand, rotates
// (new payloads use the newest version; older versions keep decoding) and destroys
// (crypto-shredding).
package keyring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/envelope"
	"github.com/ringback/ringback/store"
)

// Store persists wrapped keys.
type Store interface {
	DataKeys(ctx context.Context, scope string) ([]store.DataKeyRow, error)
	InsertDataKey(ctx context.Context, scope string, version int, wrapped []byte, masterKeyID string) (bool, error)
	DestroyDataKeys(ctx context.Context, scope string) (int, error)
}

// DefaultCacheTTL bounds how long another process may keep using a key after it was destroyed
// or rotated elsewhere. The process that destroys a key forgets it at once.
const DefaultCacheTTL = 30 * time.Second

// Keyring unwraps and caches data keys.
type Keyring struct {
	master   []byte
	masterID string
	store    Store
	ttl      time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]scopeKeys
}

type scopeKeys struct {
	loaded    time.Time
	destroyed bool
	secrets   map[int][]byte
	newest    int
}

var _ codec.Keys = (*Keyring)(nil)

// New returns a keyring whose keys are wrapped under master (32 bytes).
func New(master []byte, st Store) (*Keyring, error) {
	if len(master) != envelope.KeySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", envelope.KeySize, len(master))
	}
	return &Keyring{
		master: append([]byte(nil), master...), masterID: MasterKeyID(master),
		store: st, ttl: DefaultCacheTTL, now: time.Now, cache: map[string]scopeKeys{},
	}, nil
}

// MasterKeyID identifies a master key without revealing it, so a key wrapped under a different
// master key is reported as such rather than as corruption.
func MasterKeyID(master []byte) string {
	sum := sha256.Sum256(append([]byte("ringback master key id\x00"), master...))
	return hex.EncodeToString(sum[:8])
}

var tenantScope = regexp.MustCompile(`^[a-z2-7]{16}$`)

// ValidScope reports whether scope names the control plane or a tenant.
func ValidScope(scope string) bool {
	return scope == codec.ControlScope || tenantScope.MatchString(scope)
}

// Current returns the newest key of scope, creating version 1 if the scope has none.
func (k *Keyring) Current(ctx context.Context, scope string) (codec.Key, error) {
	sk, err := k.load(ctx, scope, false)
	if err != nil {
		return codec.Key{}, err
	}
	if sk.newest == 0 {
		if err := k.create(ctx, scope, 1); err != nil {
			return codec.Key{}, err
		}
		if sk, err = k.load(ctx, scope, true); err != nil {
			return codec.Key{}, err
		}
		if sk.newest == 0 {
			return codec.Key{}, fmt.Errorf("scope %s: key creation did not persist", scope)
		}
	}
	return codec.Key{ID: codec.KeyID(scope, sk.newest), Secret: sk.secrets[sk.newest]}, nil
}

// ByID returns a specific version.
func (k *Keyring) ByID(ctx context.Context, id string) (codec.Key, error) {
	scope, version, err := codec.ParseKeyID(id)
	if err != nil {
		return codec.Key{}, err
	}
	sk, err := k.load(ctx, scope, false)
	if err != nil {
		return codec.Key{}, err
	}
	secret, ok := sk.secrets[version]
	if !ok {
		// Possibly created by another process since the cache was filled.
		if sk, err = k.load(ctx, scope, true); err != nil {
			return codec.Key{}, err
		}
		if secret, ok = sk.secrets[version]; !ok {
			return codec.Key{}, fmt.Errorf("no data key %s", id)
		}
	}
	return codec.Key{ID: id, Secret: secret}, nil
}

// Rotate adds a new version for scope; new payloads use it, older ones still decode.
func (k *Keyring) Rotate(ctx context.Context, scope string) (codec.Key, error) {
	sk, err := k.load(ctx, scope, true)
	if err != nil {
		return codec.Key{}, err
	}
	if err := k.create(ctx, scope, sk.newest+1); err != nil {
		return codec.Key{}, err
	}
	if sk, err = k.load(ctx, scope, true); err != nil {
		return codec.Key{}, err
	}
	return codec.Key{ID: codec.KeyID(scope, sk.newest), Secret: sk.secrets[sk.newest]}, nil
}

// Destroy erases every version of scope's key. Payloads sealed under them can never be read
// again, and the scope never gets a new key.
func (k *Keyring) Destroy(ctx context.Context, scope string) error {
	if !ValidScope(scope) {
		return fmt.Errorf("invalid key scope")
	}
	if _, err := k.store.DestroyDataKeys(ctx, scope); err != nil {
		return err
	}
	k.mu.Lock()
	delete(k.cache, scope)
	k.mu.Unlock()
	return nil
}

func (k *Keyring) create(ctx context.Context, scope string, version int) error {
	secret, err := envelope.NewKey()
	if err != nil {
		return err
	}
	wrapped, err := envelope.Seal(k.master, secret, []byte(codec.KeyID(scope, version)))
	if err != nil {
		return err
	}
	// Losing the race to another process is fine: the reload picks up its key.
	_, err = k.store.InsertDataKey(ctx, scope, version, wrapped, k.masterID)
	return err
}

func (k *Keyring) load(ctx context.Context, scope string, force bool) (scopeKeys, error) {
	if !ValidScope(scope) {
		return scopeKeys{}, fmt.Errorf("invalid key scope")
	}
	k.mu.Lock()
	sk, ok := k.cache[scope]
	k.mu.Unlock()
	if ok && !force && k.now().Sub(sk.loaded) < k.ttl {
		if sk.destroyed {
			return scopeKeys{}, codec.ErrKeyDestroyed
		}
		return sk, nil
	}
	rows, err := k.store.DataKeys(ctx, scope)
	if err != nil {
		return scopeKeys{}, err
	}
	sk = scopeKeys{loaded: k.now(), secrets: map[int][]byte{}}
	for _, r := range rows {
		if r.DestroyedAt != nil {
			sk.destroyed = true
			continue
		}
		if r.MasterKeyID != k.masterID {
			return scopeKeys{}, fmt.Errorf("data key %s is wrapped under master key %s, not the configured %s",
				codec.KeyID(scope, r.Version), r.MasterKeyID, k.masterID)
		}
		secret, err := envelope.Open(k.master, r.Wrapped, []byte(codec.KeyID(scope, r.Version)))
		if err != nil {
			return scopeKeys{}, fmt.Errorf("unwrap data key %s: %w", codec.KeyID(scope, r.Version), err)
		}
		sk.secrets[r.Version] = secret
		sk.newest = max(sk.newest, r.Version)
	}
	if sk.destroyed {
		sk.secrets, sk.newest = nil, 0
	}
	k.mu.Lock()
	k.cache[scope] = sk
	k.mu.Unlock()
	if sk.destroyed {
		return scopeKeys{}, codec.ErrKeyDestroyed
	}
	return sk, nil
}
