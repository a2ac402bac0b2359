package store

import (
	"context"
	"encoding/json"
)

type actorKey struct{}

// WithActor records who is acting for the audit entries written under ctx: "token:<id>" for an
// API caller, "cli:<login>" for an operator at the CLI. Without one, entries name "system".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor recorded by WithActor, or "system".
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// details encodes an audit entry's details. Values are IDs and enums, never personal data; a
// value that cannot be encoded is a programming error.
func details(fields map[string]any) json.RawMessage {
	b, err := json.Marshal(fields)
	if err != nil {
		panic("store: audit details: " + err.Error())
	}
	return b
}
