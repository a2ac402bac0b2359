// Package workflows holds Ringback's deterministic workflow code. Side effects live in activities;
// time comes only from workflow.Now and timers.
package workflows

import (
	"fmt"
	"strings"
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

// ControlKeyScope is the key scope of workflows that belong to no single tenant's conversations.
const ControlKeyScope = "control"

// KeyScope names the data key a workflow's payloads are sealed under: the tenant's key for its
// conversations, consent replies and webhook events, so destroying that key erases them, and the
// control key for everything else — including a tenant's closure, which must stay readable while
// it destroys the tenant's key.
func KeyScope(workflowID string) string {
	for _, prefix := range []string{"conv/", "consent/", "webhook/"} {
		if rest, ok := strings.CutPrefix(workflowID, prefix); ok {
			if tenant, _, ok := strings.Cut(rest, "/"); ok && tenant != "" {
				return tenant
			}
		}
	}
	return ControlKeyScope
}
