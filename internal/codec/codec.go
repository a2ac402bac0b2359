// Package codec encrypts Temporal payloads with AES-256-GCM under per-scope data keys. A scope is
// a tenant (every payload of that tenant's conversations) or the control plane. Each encrypted
// payload names its key in metadata, so decoding needs no context and keeps working after a key
// rotation; destroying a scope's keys (crypto-shredding) makes every payload sealed under them
// unreadable, in open and closed histories alike.
//
// Workflow IDs, search attributes, and the names of workflows, activities, signals and updates
// are not payloads and are never encrypted: they must hold no personal data.
package codec

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/ringback/ringback/internal/envelope"
)

// Metadata written on encrypted payloads.
const (
	MetadataEncodingEncrypted = "binary/encrypted"
	MetadataKeyID             = "encryption-key-id"
)

// ControlScope is the scope of payloads that belong to no single tenant's conversations.
const ControlScope = "control"

// ErrKeyDestroyed is returned for a key that was destroyed: its payloads are gone for good.
var ErrKeyDestroyed = errors.New("data key destroyed")

// Key is one version of a scope's data key.
type Key struct {
	ID     string // "<scope>/v<version>"; stored in payload metadata
	Secret []byte
}

// Keys supplies data keys. Implementations cache: the codec asks for a key on every payload.
type Keys interface {
	// Current returns the key new payloads of scope are sealed with, creating the scope's first
	// key if it has none. It returns ErrKeyDestroyed for a shredded scope.
	Current(ctx context.Context, scope string) (Key, error)
	// ByID returns the key with the given ID, or ErrKeyDestroyed.
	ByID(ctx context.Context, id string) (Key, error)
}

// ScopeOf maps a workflow ID to the scope its payloads are sealed under.
type ScopeOf func(workflowID string) string

// Codec is a converter.PayloadCodec with per-scope keys. Without a serialization context (the
// Web UI's codec endpoint, a bare client) it seals under the control scope.
type Codec struct {
	keys    Keys
	scopeOf ScopeOf
	// timeout bounds a key lookup; PayloadCodec methods carry no context of their own.
	timeout time.Duration
}

// New returns a codec.
func New(keys Keys, scopeOf ScopeOf) *Codec {
	return &Codec{keys: keys, scopeOf: scopeOf, timeout: 10 * time.Second}
}

var _ converter.PayloadCodecWithSerializationContext = (*Codec)(nil)

// WithSerializationContext picks the scope from the workflow the payloads belong to.
func (c *Codec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	switch s := sc.(type) {
	case converter.WorkflowSerializationContext:
		return &scoped{c: c, scope: c.scopeOf(s.WorkflowID)}
	case converter.ActivitySerializationContext:
		if s.WorkflowID != "" {
			return &scoped{c: c, scope: c.scopeOf(s.WorkflowID)}
		}
	}
	return &scoped{c: c, scope: ControlScope}
}

// Encode seals payloads under the control scope.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.encode(payloads, ControlScope)
}

// Decode opens payloads by the key named in their metadata; payloads that were never encrypted
// pass through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || string(p.GetMetadata()[converter.MetadataEncoding]) != MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.Metadata[MetadataKeyID])
		key, err := c.keys.ByID(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("decode payload: key %s: %w", id, err)
		}
		plain, err := envelope.Open(key.Secret, p.Data, []byte(key.ID))
		if err != nil {
			return nil, fmt.Errorf("decode payload: key %s: %w", id, err)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out[i] = &orig
	}
	return out, nil
}

func (c *Codec) encode(payloads []*commonpb.Payload, scope string) ([]*commonpb.Payload, error) {
	if len(payloads) == 0 {
		return payloads, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	key, err := c.keys.Current(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("encode payload: scope key: %w", err)
	}
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if p == nil || string(p.GetMetadata()[converter.MetadataEncoding]) == MetadataEncodingEncrypted {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		sealed, err := envelope.Seal(key.Secret, plain, []byte(key.ID))
		if err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(MetadataEncodingEncrypted),
				MetadataKeyID:              []byte(key.ID),
			},
			Data: sealed,
		}
	}
	return out, nil
}

// scoped is the codec bound to one scope by a serialization context.
type scoped struct {
	c     *Codec
	scope string
}

func (s *scoped) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return s.c.encode(payloads, s.scope)
}

func (s *scoped) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return s.c.Decode(payloads)
}

// DataConverter returns the default data converter wrapped with this codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// KeyID formats a key's ID from its scope and version.
func KeyID(scope string, version int) string { return fmt.Sprintf("%s/v%d", scope, version) }

// ParseKeyID splits a key ID into scope and version.
func ParseKeyID(id string) (scope string, version int, err error) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '/' {
			if _, err := fmt.Sscanf(id[i+1:], "v%d", &version); err != nil || version < 1 || i == 0 || KeyID(id[:i], version) != id {
				break
			}
			return id[:i], version, nil
		}
	}
	return "", 0, fmt.Errorf("malformed key id %q", id)
}
