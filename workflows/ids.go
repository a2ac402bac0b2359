// Package workflows holds Ringback's deterministic workflow code. Side effects live in activities;
// time comes only from workflow.Now and timers.
package workflows

import (
	"fmt"
)

// callerHashPrefix is how much of the caller's HMAC goes into a workflow ID: 64 bits, enough to
// keep one tenant's callers apart, short enough to read in the UI.
const callerHashPrefix = 16

// ConversationWorkflowID is the one ID a (tenant, caller) pair's conversation runs under. It holds
// the caller's HMAC, never the number.
func ConversationWorkflowID(tenantID, callerHash string) (string, error) {
	if tenantID == "" || len(callerHash) < callerHashPrefix {
		return "", fmt.Errorf("conversation workflow id: need a tenant id and a caller hash of at least %d characters", callerHashPrefix)
	}
	return "conv/" + tenantID + "/" + callerHash[:callerHashPrefix], nil
}
