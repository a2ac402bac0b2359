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
// deleting, reordering or inserting a record changes a root that a signed checkpoint already
// committed to, and [Verify] names the first entry that no longer matches.
//
// A record commits to its payload by SHA-256 rather than by value. Retention can then delete an
// old payload while the record, and with it the actor, action, subject and time of the event,
// stays verifiable for as long as the log exists.
//
// # What verification trusts
//
// Verification recomputes the tree from the records and compares it with everything stored. Only
// signatures are trusted, and one signature is enough to vouch for a whole log: a checkpoint
// commits to every record below its size through the root, so if the largest checkpoint's
// signature verifies and its root is the recomputed one, every stored record is exactly what was
// signed (finding two record sequences with one root means finding a SHA-256 collision). Checking
// an Ed25519 signature costs about 50 µs, far more than everything else an entry needs, so there
// are two modes.
//
// By default ([VerifyOptions] zero) verification checks
//
//   - every entry against its record, the indexes for gaps, and every stored tree hash against
//     the recomputed tree;
//   - the text of every stored checkpoint: it must name this log, and its root must be the
//     recomputed tree's at its size;
//   - the signature of the latest (largest) stored checkpoint, of every external checkpoint,
//     and of every stored checkpoint whose text is false: one claiming a root the tree does not
//     have or entries that are not there. A false checkpoint with a bad signature is reported as
//     forged; one with a good signature proves the entries changed since it was signed;
//   - and that a checkpoint with a verified signature covers every entry.
//
// This detects every change to the entries, their order or their number, and to the stored tree
// (everything the latest checkpoint covers; for the one exception, see below), and every stored
// checkpoint that says something untrue. It also pins the first changed entry when the checkpoints are intact: the smallest
// checkpoint that disagrees with the tree is signed, and so is the one just before it (the
// verifier keeps the last few matching checkpoints to check when it needs one). What it does not
// look at is the signature on a stored checkpoint whose text is true: replacing that signature
// with garbage, or re-signing the same text with another key, changes nothing the log says, and
// passes. The time is linear in the entries, a few microseconds each, spread over all CPUs.
//
// With AllSignatures (`ringback audit verify --all-signatures`) every stored checkpoint's
// signature is checked as well, which also catches those, and pins the first changed entry even
// when a forger rewrote the stored checkpoints after it too (by default the forged ones are
// reported, and entries are blamed from the newest checkpoint whose signature was checked and
// verified). It costs the signature check per entry.
//
// # What neither mode can detect
//
// A tail cut off together with the checkpoints that covered it leaves a shorter log that is
// consistent and signed. Detecting that needs a checkpoint kept somewhere else (a receipt, a copy
// sent to an auditor), which [VerifyOptions].External accepts and always checks. Nor can
// verification catch whoever holds the signing key: they can sign anything.
package auditlog
