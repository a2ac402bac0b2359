package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/envelope"
	"github.com/ringback/ringback/internal/stdwebhook"
	"github.com/ringback/ringback/internal/tenantspec"
)

func TestTenantProfileDefaultsAndRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 1)

	got, err := s.TenantProfile(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tenantspec.DefaultProfile()) {
		t.Errorf("profile of a new tenant = %+v, want the default", got)
	}

	in := tenantspec.Profile{
		Services:    []tenantspec.Service{{Name: " Haircut ", Minutes: 45, PriceCents: 3500}, {Name: "Colour", Minutes: 120, Description: "Ask about patch tests"}},
		Hours:       tenantspec.Hours{Tue: []string{"13:00-18:00", "9:00-12:00"}, Sat: []string{"10:00-14:00"}},
		Closures:    []tenantspec.Closure{{Date: "2026-12-25", Reason: "Christmas"}},
		Tone:        "warm, a little playful",
		BackupPhone: "614-555-0177",
	}
	saved, err := s.SetTenantProfile(WithActor(ctx, "cli:owner"), tn.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := in.Normalize()
	if !reflect.DeepEqual(saved, want) {
		t.Errorf("SetTenantProfile returned %+v, want %+v", saved, want)
	}
	loaded, err := s.TenantProfile(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, want) {
		t.Errorf("round trip = %+v, want %+v", loaded, want)
	}

	// A second save is a second revision with its own audit entry, which names the actor and
	// never the backup phone.
	in.Tone = "brisk"
	if _, err := s.SetTenantProfile(WithActor(ctx, "cli:owner"), tn.ID, in); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT revision FROM control.tenant_profiles WHERE tenant_id = $1`, tn.ID); n != 2 {
		t.Errorf("revision = %d, want 2", n)
	}
	if n := count(t, s, `SELECT count(*) FROM control.audit_entries WHERE log_id = 'control' AND action = 'tenant.profile.updated' AND actor = 'cli:owner'`); n != 2 {
		t.Errorf("%d profile audit entries, want 2", n)
	}
	if n := count(t, s, `SELECT count(*) FROM control.audit_entries WHERE payload::text LIKE '%5550177%'`); n != 0 {
		t.Errorf("the backup phone is in %d audit entries", n)
	}
}

func TestSetTenantProfileRefusesInvalidAndUnknown(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 1)

	bad := tenantspec.DefaultProfile()
	bad.Services = append(bad.Services, tenantspec.Service{Name: "APPOINTMENT", Minutes: 1})
	_, err := s.SetTenantProfile(ctx, tn.ID, bad)
	var ve *tenantspec.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Errorf("invalid profile: %v, want a ValidationError with two problems", err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.tenant_profiles`); n != 0 {
		t.Errorf("%d profiles saved after a refusal", n)
	}
	for _, id := range []string{"aaaaaaaaaaaaaaaa", "not-an-id"} {
		if _, err := s.SetTenantProfile(ctx, id, tenantspec.DefaultProfile()); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetTenantProfile(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.TenantProfile(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("TenantProfile(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// fakeKeys is a codec.Keys with one key per scope, destroyable.
type fakeKeys struct {
	mu        sync.Mutex
	keys      map[string]codec.Key
	destroyed map[string]bool
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[string]codec.Key{}, destroyed: map[string]bool{}}
}

func (k *fakeKeys) Current(_ context.Context, scope string) (codec.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.destroyed[scope] {
		return codec.Key{}, codec.ErrKeyDestroyed
	}
	if key, ok := k.keys[scope]; ok {
		return key, nil
	}
	secret, err := envelope.NewKey()
	if err != nil {
		return codec.Key{}, err
	}
	key := codec.Key{ID: codec.KeyID(scope, 1), Secret: secret}
	k.keys[scope] = key
	return key, nil
}

func (k *fakeKeys) ByID(_ context.Context, id string) (codec.Key, error) {
	scope, _, err := codec.ParseKeyID(id)
	if err != nil {
		return codec.Key{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.destroyed[scope] {
		return codec.Key{}, codec.ErrKeyDestroyed
	}
	return k.keys[scope], nil
}

func TestTenantWebhook(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	keys := newFakeKeys()
	a, b := createTenant(t, s, 1), createTenant(t, s, 2)

	if _, err := s.TenantWebhook(ctx, keys, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("webhook before any is set: %v", err)
	}
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	set, err := s.SetTenantWebhook(ctx, keys, a.ID, "https://example.com/hooks/ringback", secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.TenantWebhook(ctx, keys, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://example.com/hooks/ringback" || got.Secret != secret || !got.UpdatedAt.Equal(set.UpdatedAt) {
		t.Errorf("webhook = %+v", got)
	}
	// The secret is sealed at rest, not stored in any readable form.
	if n := count(t, s, `SELECT count(*) FROM control.tenant_webhooks WHERE position(convert_to($1, 'UTF8') in secret_sealed) > 0`, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); n != 0 {
		t.Error("the secret is stored in plain text")
	}

	// An empty secret generates one; replacing keeps one row.
	gen, err := s.SetTenantWebhook(ctx, keys, a.ID, "http://127.0.0.1:8080/hook", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stdwebhook.ParseSecret(gen.Secret); err != nil || gen.Secret == secret {
		t.Errorf("generated secret %q: %v", gen.Secret, err)
	}
	if got, _ := s.TenantWebhook(ctx, keys, a.ID); got.Secret != gen.Secret || got.URL != "http://127.0.0.1:8080/hook" {
		t.Errorf("after replacing: %+v", got)
	}

	// A sealed secret moved to another tenant's row does not open.
	if _, err := s.SetTenantWebhook(ctx, keys, b.ID, "https://b.example/hook", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE control.tenant_webhooks SET secret_sealed = (SELECT secret_sealed FROM control.tenant_webhooks WHERE tenant_id = $1) WHERE tenant_id = $2`, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TenantWebhook(ctx, keys, b.ID); err == nil {
		t.Error("a secret sealed for tenant A opened as tenant B's")
	}

	// Destroying the tenant's keys shreds the secret.
	keys.destroyed[a.ID] = true
	if _, err := s.TenantWebhook(ctx, keys, a.ID); !errors.Is(err, codec.ErrKeyDestroyed) {
		t.Errorf("after destroying the key: %v, want ErrKeyDestroyed", err)
	}

	if err := s.DeleteTenantWebhook(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenantWebhook(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	// Set, set again, delete: three audit entries for tenant A, none with the secret.
	if n := count(t, s, `SELECT count(*) FROM control.audit_entries WHERE action LIKE 'tenant.webhook.%' AND payload->>'tenant_id' = $1`, a.ID); n != 3 {
		t.Errorf("%d webhook audit entries for tenant A, want 3", n)
	}
	if n := count(t, s, `SELECT count(*) FROM control.audit_entries WHERE payload::text LIKE '%whsec%'`); n != 0 {
		t.Errorf("a secret is in %d audit entries", n)
	}
}

func TestSetTenantWebhookRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	keys := newFakeKeys()
	tn := createTenant(t, s, 1)
	for _, c := range []struct{ url, secret, want string }{
		{"http://example.com/hook", "", "https"},
		{"ftp://example.com/hook", "", "https"},
		{"https://user:pw@example.com/hook", "", "user name"},
		{"/relative", "", "absolute"},
		{"https://example.com/" + strings.Repeat("x", MaxWebhookURLLen), "", "longer"},
		{"https://example.com/hook", "not-a-secret", "webhook secret"},
		{"https://example.com/hook", "whsec_c2hvcnQ=", "webhook secret"},
	} {
		if _, err := s.SetTenantWebhook(ctx, keys, tn.ID, c.url, c.secret); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetTenantWebhook(%q, %q) = %v, want an error about %q", c.url, c.secret, err, c.want)
		}
	}
	if _, err := s.SetTenantWebhook(ctx, keys, "aaaaaaaaaaaaaaaa", "https://example.com/hook", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.tenant_webhooks`); n != 0 {
		t.Errorf("%d webhooks stored after refusals", n)
	}
}
