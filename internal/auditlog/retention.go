package auditlog

import "time"

// RetentionCutoff is the newest time before which entries may lose their payloads at now: audit
// entries keep their details for one year (privacy promise P13). Records, tree hashes and
// checkpoints are kept for good, so verification still passes after a sweep.
func RetentionCutoff(now time.Time) time.Time { return now.AddDate(-1, 0, 0) }
