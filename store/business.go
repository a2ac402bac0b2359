package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/envelope"
	"github.com/ringback/ringback/internal/stdwebhook"
	"github.com/ringback/ringback/internal/tenantspec"
)

// TenantProfile returns the tenant's business profile, or tenantspec.DefaultProfile when the
// owner has not saved one. It returns ErrNotFound for an unknown tenant.
func (s *Store) TenantProfile(ctx context.Context, tenantID string) (tenantspec.Profile, error) {
	if !tenantspec.ValidID(tenantID) {
		return tenantspec.Profile{}, ErrNotFound
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, `
		SELECT p.profile FROM control.tenants t
		LEFT JOIN control.tenant_profiles p ON p.tenant_id = t.id
		WHERE t.id = $1`, tenantID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenantspec.Profile{}, ErrNotFound
	}
	if err != nil {
		return tenantspec.Profile{}, fmt.Errorf("load tenant profile: %w", err)
	}
	if raw == nil {
		return tenantspec.DefaultProfile(), nil
	}
	// Decoded leniently and normalized again: a field added since the save gets its default, a
	// field removed since is ignored, and a rule tightened since is reported rather than assumed.
	var p tenantspec.Profile
	if err := json.Unmarshal(raw, &p); err != nil {
		return tenantspec.Profile{}, fmt.Errorf("load tenant profile: %w", err)
	}
	p, err = p.Normalize()
	if err != nil {
		return tenantspec.Profile{}, fmt.Errorf("load tenant profile: the saved profile is no longer valid: %w", err)
	}
	return p, nil
}

// SetTenantProfile normalizes p and saves it as the tenant's profile, with an audit entry in the
// control log, and returns what was saved. Problems with p come back as a
// *tenantspec.ValidationError; an unknown tenant is ErrNotFound.
func (s *Store) SetTenantProfile(ctx context.Context, tenantID string, p tenantspec.Profile) (tenantspec.Profile, error) {
	if !tenantspec.ValidID(tenantID) {
		return tenantspec.Profile{}, ErrNotFound
	}
	p, err := p.Normalize()
	if err != nil {
		return tenantspec.Profile{}, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return tenantspec.Profile{}, fmt.Errorf("save tenant profile: %w", err)
	}
	sum := sha256.Sum256(raw)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var revision int
		var updatedAt time.Time
		if err := tx.QueryRow(ctx, `
			INSERT INTO control.tenant_profiles (tenant_id, profile) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO UPDATE
			SET profile = EXCLUDED.profile, revision = tenant_profiles.revision + 1, updated_at = now()
			RETURNING revision, updated_at`, tenantID, raw).Scan(&revision, &updatedAt); err != nil {
			return err
		}
		// The profile may hold the backup phone, so the entry commits to it by hash only.
		_, err := s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: fmt.Sprintf("tenant.profile.updated/%s/r%d", tenantID, revision),
			Actor: ActorFrom(ctx), Action: "tenant.profile.updated", OccurredAt: updatedAt,
			Payload: details(map[string]any{"tenant_id": tenantID, "revision": revision, "profile_sha256": hex.EncodeToString(sum[:])}),
		})
		return err
	})
	if isForeignKeyViolation(err) {
		return tenantspec.Profile{}, ErrNotFound
	}
	if err != nil {
		return tenantspec.Profile{}, fmt.Errorf("save tenant profile: %w", err)
	}
	return p, nil
}

// TenantWebhook is where a tenant receives signed outbound webhooks.
type TenantWebhook struct {
	TenantID string `json:"tenant_id"`
	URL      string `json:"url"`
	// Secret is the Standard Webhooks "whsec_…" signing secret. It is never encoded to JSON, so
	// that showing it (once, when it is set) is always a deliberate act.
	Secret    string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxWebhookURLLen bounds a webhook URL.
const MaxWebhookURLLen = 2000

// ValidateWebhookURL checks a tenant's webhook endpoint: an absolute https URL without
// credentials (http is accepted for loopback hosts, for local development). Whether the address
// may be reached at all is decided when delivering, where DNS is resolved.
func ValidateWebhookURL(raw string) error {
	if len(raw) > MaxWebhookURLLen {
		return fmt.Errorf("webhook url: longer than %d characters", MaxWebhookURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("webhook url: not an absolute http(s) URL")
	}
	if u.User != nil {
		return errors.New("webhook url: must not carry a user name or password")
	}
	if u.Fragment != "" || strings.ContainsAny(raw, " \t\r\n") {
		return errors.New("webhook url: must not contain a fragment or spaces")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return errors.New("webhook url: must use https")
	}
	return errors.New("webhook url: must use https")
}

// webhookSecretAAD binds a sealed secret to its tenant, so a row copied to another tenant does
// not open.
func webhookSecretAAD(tenantID string) []byte { return []byte("tenant_webhooks.secret/" + tenantID) }

// SetTenantWebhook sets (or replaces) the tenant's webhook endpoint, with an audit entry in the
// control log. An empty secret means "generate one"; either way the returned webhook carries the
// secret, which is stored sealed under the tenant's current data key from keys and never in plain
// text. An unknown tenant is ErrNotFound.
func (s *Store) SetTenantWebhook(ctx context.Context, keys codec.Keys, tenantID, rawURL, secret string) (TenantWebhook, error) {
	if !tenantspec.ValidID(tenantID) {
		return TenantWebhook{}, ErrNotFound
	}
	if err := ValidateWebhookURL(rawURL); err != nil {
		return TenantWebhook{}, err
	}
	generated := secret == ""
	if generated {
		var err error
		if secret, err = stdwebhook.NewSecret(rand.Reader); err != nil {
			return TenantWebhook{}, fmt.Errorf("set webhook: %w", err)
		}
	} else if _, err := stdwebhook.ParseSecret(secret); err != nil {
		return TenantWebhook{}, fmt.Errorf("webhook secret: %w", err)
	}
	key, err := keys.Current(ctx, tenantID)
	if err != nil {
		return TenantWebhook{}, fmt.Errorf("set webhook: tenant key: %w", err)
	}
	sealed, err := envelope.Seal(key.Secret, []byte(secret), webhookSecretAAD(tenantID))
	if err != nil {
		return TenantWebhook{}, fmt.Errorf("set webhook: %w", err)
	}
	w := TenantWebhook{TenantID: tenantID, URL: rawURL, Secret: secret}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO control.tenant_webhooks (tenant_id, url, secret_sealed, secret_key_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id) DO UPDATE
			SET url = EXCLUDED.url, secret_sealed = EXCLUDED.secret_sealed, secret_key_id = EXCLUDED.secret_key_id, updated_at = now()
			RETURNING created_at, updated_at`, tenantID, rawURL, sealed, key.ID).Scan(&w.CreatedAt, &w.UpdatedAt); err != nil {
			return err
		}
		_, err := s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: "tenant.webhook.set/" + tenantID + "/" + randomSuffix(),
			Actor: ActorFrom(ctx), Action: "tenant.webhook.set", OccurredAt: w.UpdatedAt,
			Payload: details(map[string]any{"tenant_id": tenantID, "secret_generated": generated}),
		})
		return err
	})
	if isForeignKeyViolation(err) {
		return TenantWebhook{}, ErrNotFound
	}
	if err != nil {
		return TenantWebhook{}, fmt.Errorf("set webhook: %w", err)
	}
	return w, nil
}

// TenantWebhook returns the tenant's webhook endpoint with its secret opened, or ErrNotFound when
// the tenant has none. A tenant whose keys were destroyed gets an error wrapping
// codec.ErrKeyDestroyed.
func (s *Store) TenantWebhook(ctx context.Context, keys codec.Keys, tenantID string) (TenantWebhook, error) {
	if !tenantspec.ValidID(tenantID) {
		return TenantWebhook{}, ErrNotFound
	}
	w := TenantWebhook{TenantID: tenantID}
	var sealed []byte
	var keyID string
	err := s.pool.QueryRow(ctx, `
		SELECT url, secret_sealed, secret_key_id, created_at, updated_at
		FROM control.tenant_webhooks WHERE tenant_id = $1`, tenantID).Scan(&w.URL, &sealed, &keyID, &w.CreatedAt, &w.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return TenantWebhook{}, ErrNotFound
	}
	if err != nil {
		return TenantWebhook{}, fmt.Errorf("load webhook: %w", err)
	}
	key, err := keys.ByID(ctx, keyID)
	if err != nil {
		return TenantWebhook{}, fmt.Errorf("load webhook: tenant key: %w", err)
	}
	secret, err := envelope.Open(key.Secret, sealed, webhookSecretAAD(tenantID))
	if err != nil {
		return TenantWebhook{}, fmt.Errorf("load webhook: %w", err)
	}
	w.Secret = string(secret)
	return w, nil
}

// DeleteTenantWebhook removes the tenant's webhook endpoint, with an audit entry; ErrNotFound when
// there is none.
func (s *Store) DeleteTenantWebhook(ctx context.Context, tenantID string) error {
	if !tenantspec.ValidID(tenantID) {
		return ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var now time.Time
		err := tx.QueryRow(ctx, `DELETE FROM control.tenant_webhooks WHERE tenant_id = $1 RETURNING now()`, tenantID).Scan(&now)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = s.AppendAuditTx(ctx, tx, AuditEvent{
			LogID: auditlog.ControlLog, EventID: "tenant.webhook.deleted/" + tenantID + "/" + randomSuffix(),
			Actor: ActorFrom(ctx), Action: "tenant.webhook.deleted", OccurredAt: now,
			Payload: details(map[string]any{"tenant_id": tenantID}),
		})
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// randomSuffix tells apart audit event IDs of operator actions that have no natural key: a
// webhook can be set, deleted and set again, and each is its own event.
func randomSuffix() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
