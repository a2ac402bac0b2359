package auditlog

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Log is everything stored for one log, as Verify needs it.
type Log struct {
	ID string
	// Entries in any order; Verify sorts them by index.
	Entries []Entry
	// Hashes are the tree's stored hashes by stored hash index.
	Hashes HashMap
	// Checkpoints are signed notes: the stored ones, plus any kept elsewhere (which is what
	// detects a tail cut off together with its checkpoints).
	Checkpoints [][]byte
}

// Problem is one way a log fails verification.
type Problem struct {
	// Entry is the index of the entry concerned, or -1 when the problem is a checkpoint that
	// does not verify.
	Entry int64
	// EventID is the stored event ID of that entry; empty when the entry is missing.
	EventID string
	// Checkpoint is the size of the checkpoint concerned, if any (0 when unknown).
	Checkpoint int64
	Reason     string
}

func (p Problem) String() string {
	if p.Entry < 0 {
		return fmt.Sprintf("checkpoint %d: %s", p.Checkpoint, p.Reason)
	}
	id := p.EventID
	if id == "" {
		id = "?"
	}
	return fmt.Sprintf("entry %d (%s): %s", p.Entry, id, p.Reason)
}

// position orders problems: by the earliest entry they concern, an entry's own problem before a
// checkpoint's, and a checkpoint too damaged to say what it covers last.
func (p Problem) position() (int64, int) {
	if p.Entry >= 0 {
		return p.Entry, 0
	}
	if p.Checkpoint > 0 {
		return p.Checkpoint - 1, 1
	}
	return math.MaxInt64, 1
}

// Report is the outcome of Verify.
type Report struct {
	LogID string
	// Entries is how many entries are stored; Pruned how many of them have lost their payload
	// to retention (their records still verify).
	Entries int64
	Pruned  int64
	// Checkpoint is the largest signed checkpoint that matches the recomputed tree (size 0 and
	// the empty tree's root when there is none).
	Checkpoint Checkpoint
	// Problems in log order; the first names the first bad entry.
	Problems []Problem
}

// OK reports whether the log verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// First returns the earliest problem, if any.
func (r Report) First() (Problem, bool) {
	if len(r.Problems) == 0 {
		return Problem{}, false
	}
	return r.Problems[0], true
}

// Verify checks a stored log from its records up:
//
//   - each entry's record is canonical, belongs to this log at this index, agrees with the
//     entry's stored fields, and commits to the stored payload (pruned payloads are skipped;
//     the record itself is still checked);
//   - the indexes run 0, 1, 2, … without a gap;
//   - the tree recomputed from the records matches every stored hash;
//   - every checkpoint carries a valid signature from verifiers, names this log, and has the
//     root of the recomputed tree at its size;
//   - the largest valid checkpoint covers every entry, and no checkpoint covers entries that
//     are not there.
//
// Because a checkpoint is written after every append, the smallest checkpoint that disagrees
// with the recomputed tree pins a tampered entry exactly even when every stored hash was
// rewritten to match it.
func Verify(l Log, verifiers note.Verifiers) Report {
	entries := slices.Clone(l.Entries)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Index < entries[j].Index })
	r := Report{LogID: l.ID, Entries: int64(len(entries))}
	f := findings{entries: map[int64]Problem{}}
	eventID := map[int64]string{}
	for _, e := range entries {
		if _, ok := eventID[e.Index]; !ok {
			eventID[e.Index] = e.EventID
		}
	}

	// Records, and the contiguous prefix they form: only that prefix has a tree to recompute.
	var leaves []tlog.Hash
	gap := false
	for pos, e := range entries {
		if reason := checkEntry(l.ID, e); reason != "" {
			f.entry(e.Index, e.EventID, reason)
		}
		if e.Payload == nil {
			r.Pruned++
		}
		switch {
		case gap:
		case e.Index > int64(pos):
			gap = true
			f.entry(int64(pos), "", fmt.Sprintf("missing: the indexes jump from %d to %d", pos-1, e.Index))
		case e.Index < int64(pos):
			gap = true
			at := e.Index
			if at < 0 {
				at = int64(pos)
			}
			f.entry(at, e.EventID, fmt.Sprintf("index %d is out of sequence (stored twice or negative)", e.Index))
		default:
			leaves = append(leaves, e.RecordHash())
		}
	}
	size := int64(len(leaves))

	computed := HashMap{}
	for i, leaf := range leaves {
		hashes, err := tlog.StoredHashesForRecordHash(int64(i), leaf, computed)
		if err != nil {
			// computed holds everything earlier records stored, so this cannot happen.
			panic("auditlog: recompute tree: " + err.Error())
		}
		first := tlog.StoredHashIndex(0, int64(i))
		for j, h := range hashes {
			computed[first+int64(j)] = h
		}
	}
	checkStoredHashes(l.Hashes, computed, size, !gap, eventID, &f)

	r.Checkpoint = Checkpoint{LogID: l.ID, Root: mustTreeHash(0, computed)}
	var valid []Checkpoint
	for _, msg := range l.Checkpoints {
		c, err := OpenCheckpoint(msg, verifiers)
		switch {
		case err != nil:
			f.checkpoint(claimedSize(msg), err.Error())
		case c.LogID != l.ID:
			f.checkpoint(c.Size, "signed for another log")
		default:
			valid = append(valid, c)
		}
	}
	sort.SliceStable(valid, func(i, j int) bool { return valid[i].Size < valid[j].Size })
	matched := int64(0) // the largest size up to which the signed roots agree with the tree
	diverged := false
	for _, c := range valid {
		if c.Size > size {
			f.entry(size, eventID[size], fmt.Sprintf("missing: signed checkpoint %d covers entries up to %d", c.Size, c.Size-1))
			continue
		}
		if c.Root != mustTreeHash(c.Size, computed) {
			if !diverged {
				f.entry(matched, eventID[matched], fmt.Sprintf("the first %d entries no longer hash to the root in signed checkpoint %d", c.Size, c.Size))
				diverged = true
			}
			continue
		}
		if !diverged {
			matched = c.Size
		}
		if c.Size >= r.Checkpoint.Size {
			r.Checkpoint = c
		}
	}
	if matched < r.Entries {
		f.entry(matched, eventID[matched], "not covered by any signed checkpoint")
	}
	r.Problems = f.sorted()
	return r
}

// checkEntry returns why e's stored fields disagree with its record, or "".
func checkEntry(logID string, e Entry) string {
	rec, err := decodeRecord(e.Record)
	if err != nil {
		return err.Error()
	}
	switch {
	case rec.Log != logID:
		return "record belongs to another log"
	case rec.Index != e.Index:
		return fmt.Sprintf("record was written at index %d", rec.Index)
	case rec.EventID != e.EventID:
		return "event id differs from the record"
	case rec.Actor != e.Actor:
		return "actor differs from the record"
	case rec.Action != e.Action:
		return "action differs from the record"
	case rec.Subject != e.Subject:
		return "subject differs from the record"
	case rec.OccurredAt != e.OccurredAt.UTC().Format(timeLayout):
		return "occurred_at differs from the record"
	}
	if e.Payload != nil {
		sum := sha256.Sum256(e.Payload)
		if hex.EncodeToString(sum[:]) != rec.PayloadSHA256 {
			return "payload differs from the hash in the record"
		}
	}
	return ""
}

// checkStoredHashes compares the stored tree with the recomputed one over the first size
// records. A wrong stored hash makes every stored hash above it wrong as well (when the forger
// recomputed them) or inconsistent (when not); only the lowest one says where the damage is.
func checkStoredHashes(stored, computed HashMap, size int64, complete bool, eventID map[int64]string, f *findings) {
	count := tlog.StoredHashCount(size)
	bad := map[int64]bool{}
	for x := int64(0); x < count; x++ {
		if h, ok := stored[x]; !ok || h != computed[x] {
			bad[x] = true
		}
	}
	for x := int64(0); x < count; x++ {
		if !bad[x] {
			continue
		}
		level, n := tlog.SplitStoredHashIndex(x)
		if level > 0 && (bad[tlog.StoredHashIndex(level-1, 2*n)] || bad[tlog.StoredHashIndex(level-1, 2*n+1)]) {
			continue
		}
		first := n << level
		switch _, ok := stored[x]; {
		case level == 0 && !ok:
			f.entry(first, eventID[first], "its hash is missing from the stored tree")
		case level == 0:
			f.entry(first, eventID[first], "record hash differs from the stored tree")
		default:
			f.entry(first, eventID[first], fmt.Sprintf("stored tree hash over entries %d–%d is not the hash of its children", first, first+1<<level-1))
		}
	}
	if !complete {
		return // the missing entry is already reported
	}
	for x := range stored {
		if x >= count {
			f.entry(size, "", "missing: the stored tree has hashes for entries after the last one")
			return
		}
	}
}

func mustTreeHash(n int64, computed HashMap) tlog.Hash {
	h, err := tlog.TreeHash(n, computed)
	if err != nil {
		// Only called for sizes whose hashes were all computed.
		panic("auditlog: tree hash: " + err.Error())
	}
	return h
}

// findings keeps the first problem found for each entry, so that a symptom found later (a
// checkpoint mismatch caused by an edited payload, say) does not hide the cause.
type findings struct {
	entries     map[int64]Problem
	checkpoints []Problem
}

func (f *findings) entry(i int64, eventID, reason string) {
	if _, ok := f.entries[i]; !ok {
		f.entries[i] = Problem{Entry: i, EventID: eventID, Reason: reason}
	}
}

func (f *findings) checkpoint(size int64, reason string) {
	f.checkpoints = append(f.checkpoints, Problem{Entry: -1, Checkpoint: size, Reason: reason})
}

func (f *findings) sorted() []Problem {
	out := append(slices.Collect(maps.Values(f.entries)), f.checkpoints...)
	sort.SliceStable(out, func(i, j int) bool {
		pi, ki := out[i].position()
		pj, kj := out[j].position()
		if pi != pj {
			return pi < pj
		}
		return ki < kj
	})
	return out
}
