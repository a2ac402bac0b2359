// Package auditlog defines Ringback's tamper-evident audit log: how an audit event becomes the
// bytes that are hashed, how those hashes form a Merkle tree, how the tree's root is signed, and
// how a stored log is checked. It does no I/O; the store keeps the rows and this package judges
// them.
//
// The design is the transparency log of Certificate Transparency (RFC 6962) and the Go checksum
// database (https://research.swtch.com/tlog), built from the same parts the Go checksum database
// uses: golang.org/x/mod/sumdb/tlog for the tree and golang.org/x/mod/sumdb/note for signed
// checkpoints. Every log (one per tenant, one for the control plane) is an append-only sequence
// of records. Each record's hash is a leaf of the tree; after every append the new root is signed
// into a checkpoint. Whoever can rewrite the database cannot produce a signature, so editing,
// deleting, reordering or inserting a record changes a root that some signed checkpoint already
// committed to, and [Verify] names the first entry that no longer matches.
//
// A record commits to its payload by SHA-256 rather than by value. Retention can then delete an
// old payload while the record, and with it the actor, action, subject and time of the event,
// stays verifiable for as long as the log exists.
//
// What the database alone cannot prove is that nothing was cut from the end together with the
// checkpoints that covered it: detecting that needs a checkpoint kept somewhere else, which
// [Verify] accepts alongside the stored ones.
package auditlog
