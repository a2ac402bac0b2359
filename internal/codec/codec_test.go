package codec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ringback/ringback/internal/envelope"
)

// memKeys is an in-memory Keys with rotation and destruction.
type memKeys struct {
	mu        sync.Mutex
	versions  map[string][][]byte // scope -> secrets by version-1; nil secret = destroyed
	destroyed map[string]bool
}

func newMemKeys() *memKeys {
	return &memKeys{versions: map[string][][]byte{}, destroyed: map[string]bool{}}
}

func (m *memKeys) Current(_ context.Context, scope string) (Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.destroyed[scope] {
		return Key{}, ErrKeyDestroyed
	}
	if len(m.versions[scope]) == 0 {
		k, _ := envelope.NewKey()
		m.versions[scope] = append(m.versions[scope], k)
	}
	v := len(m.versions[scope])
	return Key{ID: KeyID(scope, v), Secret: m.versions[scope][v-1]}, nil
}

func (m *memKeys) ByID(_ context.Context, id string) (Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	scope, v, err := ParseKeyID(id)
	if err != nil {
		return Key{}, err
	}
	if m.destroyed[scope] {
		return Key{}, ErrKeyDestroyed
	}
	if v > len(m.versions[scope]) {
		return Key{}, fmt.Errorf("no key %s", id)
	}
	return Key{ID: id, Secret: m.versions[scope][v-1]}, nil
}

func (m *memKeys) rotate(scope string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, _ := envelope.NewKey()
	m.versions[scope] = append(m.versions[scope], k)
}

func (m *memKeys) destroy(scope string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.destroyed[scope] = true
	m.versions[scope] = nil
}

func tenantScope(workflowID string) string {
	if rest, ok := strings.CutPrefix(workflowID, "conv/"); ok {
		tenant, _, _ := strings.Cut(rest, "/")
		return tenant
	}
	return ControlScope
}

type input struct {
	Caller string
	Body   string
}

var sample = input{Caller: "+16145550123", Body: "my card is 4111 1111 1111 1111"}

func encodeFor(t *testing.T, c *Codec, workflowID string, v any) *commonpb.Payload {
	t.Helper()
	dc := c.DataConverter().(converter.DataConverterWithSerializationContext).
		WithSerializationContext(converter.WorkflowSerializationContext{Namespace: "default", WorkflowID: workflowID})
	p, err := dc.ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeWithoutContext(c *Codec, p *commonpb.Payload) (input, error) {
	var out input
	err := c.DataConverter().FromPayload(p, &out)
	return out, err
}

func TestPayloadsAreSealedUnderTheirTenantsKey(t *testing.T) {
	keys := newMemKeys()
	c := New(keys, tenantScope)
	p := encodeFor(t, c, "conv/aaaaaaaaaaaaaaaa/0123456789abcdef", sample)
	if got := string(p.Metadata[converter.MetadataEncoding]); got != MetadataEncodingEncrypted {
		t.Fatalf("encoding = %q", got)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "aaaaaaaaaaaaaaaa/v1" {
		t.Fatalf("key id = %q", got)
	}
	for _, secret := range []string{"6145550123", "4111", "json/plain", "Caller"} {
		if bytes.Contains(p.Data, []byte(secret)) {
			t.Fatalf("encoded payload shows %q", secret)
		}
	}
	// The Web UI decodes with no context at all.
	got, err := decodeWithoutContext(c, p)
	if err != nil || got != sample {
		t.Fatalf("decode = %+v, %v", got, err)
	}
	// Anything that is not a tenant's conversation is sealed under the control scope.
	ctrl := encodeFor(t, c, "closure/aaaaaaaaaaaaaaaa", sample)
	if got := string(ctrl.Metadata[MetadataKeyID]); got != "control/v1" {
		t.Fatalf("closure key id = %q", got)
	}
	bare, err := c.Encode([]*commonpb.Payload{p, nil})
	if err != nil || bare[0] != p || bare[1] != nil {
		t.Fatal("already encrypted or nil payloads must pass through Encode untouched")
	}
}

func TestActivityContextUsesTheWorkflowsScope(t *testing.T) {
	keys := newMemKeys()
	c := New(keys, tenantScope)
	pc := c.WithSerializationContext(converter.ActivitySerializationContext{WorkflowID: "conv/bbbbbbbbbbbbbbbb/x", ActivityType: "SendSMS"})
	raw, _ := converter.GetDefaultDataConverter().ToPayload(sample)
	out, err := pc.Encode([]*commonpb.Payload{raw})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out[0].Metadata[MetadataKeyID]); got != "bbbbbbbbbbbbbbbb/v1" {
		t.Fatalf("key id = %q", got)
	}
	standalone := c.WithSerializationContext(converter.ActivitySerializationContext{ActivityType: "X"})
	out, _ = standalone.Encode([]*commonpb.Payload{raw})
	if got := string(out[0].Metadata[MetadataKeyID]); got != "control/v1" {
		t.Fatalf("standalone activity key id = %q", got)
	}
}

func TestRotationKeepsOldPayloadsReadable(t *testing.T) {
	keys := newMemKeys()
	c := New(keys, tenantScope)
	old := encodeFor(t, c, "conv/aaaaaaaaaaaaaaaa/1", sample)
	keys.rotate("aaaaaaaaaaaaaaaa")
	fresh := encodeFor(t, c, "conv/aaaaaaaaaaaaaaaa/1", sample)
	if got := string(fresh.Metadata[MetadataKeyID]); got != "aaaaaaaaaaaaaaaa/v2" {
		t.Fatalf("after rotation key id = %q", got)
	}
	for _, p := range []*commonpb.Payload{old, fresh} {
		if got, err := decodeWithoutContext(c, p); err != nil || got != sample {
			t.Fatalf("decode %s = %+v, %v", p.Metadata[MetadataKeyID], got, err)
		}
	}
}

func TestDestroyedKeysShredPayloads(t *testing.T) {
	keys := newMemKeys()
	c := New(keys, tenantScope)
	a := encodeFor(t, c, "conv/aaaaaaaaaaaaaaaa/1", sample)
	b := encodeFor(t, c, "conv/bbbbbbbbbbbbbbbb/1", sample)
	keys.destroy("aaaaaaaaaaaaaaaa")
	if _, err := decodeWithoutContext(c, a); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("decode after destroy: %v", err)
	}
	if _, err := decodeWithoutContext(c, b); err != nil {
		t.Fatalf("another tenant's payload became unreadable: %v", err)
	}
	dc := c.DataConverter().(converter.DataConverterWithSerializationContext).
		WithSerializationContext(converter.WorkflowSerializationContext{WorkflowID: "conv/aaaaaaaaaaaaaaaa/1"})
	if _, err := dc.ToPayload(sample); !errors.Is(err, ErrKeyDestroyed) {
		t.Fatalf("encode for a shredded tenant: %v", err)
	}
}

func TestTamperingAndKeySwapsAreRejected(t *testing.T) {
	keys := newMemKeys()
	c := New(keys, tenantScope)
	p := encodeFor(t, c, "conv/aaaaaaaaaaaaaaaa/1", sample)
	_ = encodeFor(t, c, "conv/bbbbbbbbbbbbbbbb/1", sample)

	flipped := &commonpb.Payload{Metadata: p.Metadata, Data: append([]byte(nil), p.Data...)}
	flipped.Data[len(flipped.Data)/2] ^= 0x40
	if _, err := decodeWithoutContext(c, flipped); !errors.Is(err, envelope.ErrOpen) {
		t.Fatalf("tampered payload: %v", err)
	}
	// Relabelling a payload with another tenant's key id fails even though that key exists.
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{
		converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
		MetadataKeyID:              []byte("bbbbbbbbbbbbbbbb/v1"),
	}, Data: p.Data}
	if _, err := decodeWithoutContext(c, relabelled); err == nil {
		t.Fatal("payload opened under another tenant's key")
	}
}

func TestUnencryptedPayloadsPassThrough(t *testing.T) {
	c := New(newMemKeys(), tenantScope)
	raw, _ := converter.GetDefaultDataConverter().ToPayload(sample)
	got, err := decodeWithoutContext(c, raw)
	if err != nil || got != sample {
		t.Fatalf("plain payload: %+v, %v", got, err)
	}
}

func TestKeyIDs(t *testing.T) {
	for _, ok := range []struct {
		id    string
		scope string
		v     int
	}{{"control/v1", "control", 1}, {"aaaaaaaaaaaaaaaa/v12", "aaaaaaaaaaaaaaaa", 12}} {
		s, v, err := ParseKeyID(ok.id)
		if err != nil || s != ok.scope || v != ok.v {
			t.Errorf("ParseKeyID(%q) = %q %d %v", ok.id, s, v, err)
		}
	}
	for _, bad := range []string{"", "control", "control/v0", "control/1", "control/v1x", "/v1", "control/v01"} {
		if _, _, err := ParseKeyID(bad); err == nil {
			t.Errorf("ParseKeyID(%q) accepted", bad)
		}
	}
}
