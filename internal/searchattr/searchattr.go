// Package searchattr names the custom search attributes Ringback's workflows set. Values are
// opaque IDs and enums only: search attributes are stored unencrypted and shown in the Web UI.
package searchattr

import "go.temporal.io/sdk/temporal"

var (
	// TenantID is the tenant a workflow belongs to.
	TenantID = temporal.NewSearchAttributeKeyKeyword("TenantID")
	// Stage is where a conversation is (internal/conversation.Stage).
	Stage = temporal.NewSearchAttributeKeyKeyword("Stage")
)

// ToRegister lists the attributes a server needs before Ringback's workflows run; only the keys
// and types matter.
func ToRegister() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(TenantID.ValueSet(""), Stage.ValueSet(""))
}
