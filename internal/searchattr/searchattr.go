// Package searchattr names the custom search attributes Ringback's workflows set. Values are
// opaque IDs and enums only: search attributes are stored unencrypted and shown in the Web UI.
package searchattr

import (
	"time"

	"go.temporal.io/sdk/temporal"
)

var (
	// TenantID is the tenant a workflow belongs to. Erasing a tenant deletes every execution
	// that carries it, so workflows that must outlive the tenant's data (its closure, data-subject
	// requests about it) do not set it.
	TenantID = temporal.NewSearchAttributeKeyKeyword("TenantID")
	// Stage is where a conversation or a closure is (internal/conversation.Stage, closure stages).
	Stage = temporal.NewSearchAttributeKeyKeyword("Stage")
	// DSRKind is the kind of a data-subject request (access, deletion, …).
	DSRKind = temporal.NewSearchAttributeKeyKeyword("DSRKind")
	// DueAt is the legal deadline a workflow runs against: a data-subject request's response
	// date, a closure's deletion date.
	DueAt = temporal.NewSearchAttributeKeyTime("DueAt")
)

// ToRegister lists the attributes a server needs before Ringback's workflows run; only the keys
// and types matter.
func ToRegister() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(TenantID.ValueSet(""), Stage.ValueSet(""), DSRKind.ValueSet(""), DueAt.ValueSet(time.Time{}))
}
