package auditlog

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"

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
	// Checkpoints are the stored signed notes, in any order; in order of size they let a
	// failure be pinned most precisely.
	Checkpoints [][]byte
}

// VerifyOptions says how much Verify trusts the stored checkpoints.
type VerifyOptions struct {
	// AllSignatures checks the signature of every stored checkpoint. Without it only the
	// checkpoints that carry weight are checked (see the package documentation); the outcome
	// differs only for a stored checkpoint whose statement is true but whose signature is not.
	AllSignatures bool
	// External are signed checkpoints kept outside the database (a receipt, a copy sent to an
	// auditor). Each one's signature is always checked. One is what detects entries cut from
	// the end together with the checkpoints that covered them.
	External [][]byte
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
	// Checkpoint is the largest checkpoint whose signature was checked and that matches the
	// recomputed tree (size 0 and the empty tree's root when there is none).
	Checkpoint Checkpoint
	// Checkpoints is how many checkpoints were examined, stored and external; Signatures how
	// many signatures were checked.
	Checkpoints int64
	Signatures  int64
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

// Verify checks a stored log held in memory with the default options: see VerifyWith.
func Verify(l Log, verifiers note.Verifiers) Report { return VerifyWith(l, verifiers, VerifyOptions{}) }

// VerifyWith checks a stored log held in memory; see Verifier for what is checked.
func VerifyWith(l Log, verifiers note.Verifiers, opts VerifyOptions) Report {
	entries := l.Entries
	byIndex := func(a, b Entry) int { return cmp.Compare(a.Index, b.Index) }
	if !slices.IsSortedFunc(entries, byIndex) {
		entries = slices.Clone(entries)
		slices.SortStableFunc(entries, byIndex)
	}
	v := NewVerifier(l.ID, verifiers, opts)
	const batch = 8192
	for lo := 0; lo < len(entries); lo += batch {
		v.AddEntries(entries[lo:min(lo+batch, len(entries))])
	}
	for x, h := range l.Hashes {
		v.AddHash(x, h)
	}
	for lo := 0; lo < len(l.Checkpoints); lo += batch {
		v.AddCheckpoints(l.Checkpoints[lo:min(lo+batch, len(l.Checkpoints))])
	}
	return v.Report()
}

// Verifier checks a log fed to it in three passes, so that a log of any length can be streamed
// from storage in batches: first the entries in index order (AddEntries), then the stored tree
// hashes in any order (AddHash), then the stored checkpoints (AddCheckpoints; in order of size,
// a failure is pinned most precisely), and finally Report. It checks that
//
//   - each entry's record is canonical, belongs to this log at this index, agrees with the
//     entry's stored fields, and commits to the stored payload (pruned payloads are skipped;
//     the record itself is still checked);
//   - the indexes run 0, 1, 2, … without a gap;
//   - the tree recomputed from the records matches every stored hash;
//   - every stored checkpoint names this log and states the root of the recomputed tree at its
//     size, and none covers entries that are not there;
//   - the signatures that carry weight verify: the latest stored checkpoint's, every external
//     checkpoint's, and any stored checkpoint's whose statement is false (or, with
//     AllSignatures, every one);
//   - a checkpoint with a valid signature covers every entry.
//
// It holds the recomputed tree (64 bytes per entry) and each entry's event ID, never the
// entries themselves. Work on a batch is spread over all CPUs.
type Verifier struct {
	logID     string
	verifiers note.Verifiers
	all       bool
	workers   int
	phase     int // phaseEntries, phaseHashes, phaseCheckpoints, phaseDone
	f         findings
	report    Report

	// Entries.
	pos     int64 // entries seen so far
	gap     bool  // the indexes broke off after the first tree.size entries
	tree    denseTree
	ids     eventIDs // the event IDs of the tree's entries
	idAfter string   // the event ID of the first entry stored at index tree.size, after a gap
	scratch []entryResult

	// Stored hashes, by stored hash index below storedHashCount(tree.size).
	seen, mismatched bitset
	extra            bool

	// Checkpoints.
	external  []Checkpoint // signatures already checked
	diverged  int64        // the smallest signed checkpoint whose root is not the tree's; MaxInt64 if none
	agreeing  []int64      // the sizes of signed checkpoints that match the tree
	beyondOK  bool         // a signed checkpoint covering missing entries has been reported
	latest    pending      // the largest stored checkpoint
	recent    [recentKept]pending
	recentAt  int
	cpScratch []checkpointResult
}

const (
	phaseEntries = iota
	phaseHashes
	phaseCheckpoints
	phaseDone
)

// recentKept is how many of the latest matching checkpoints, signatures unchecked, are kept to
// fall back on: the one just before a signed checkpoint that disagrees pins the first bad entry.
const recentKept = 8

// pending is a stored checkpoint whose signature may still need checking.
type pending struct {
	c       Checkpoint
	msg     []byte
	matches bool // c states the recomputed tree
	ok      bool // c and msg are set
	checked bool
}

// NewVerifier returns a Verifier for the log logID. External checkpoints' signatures are checked
// here.
func NewVerifier(logID string, verifiers note.Verifiers, opts VerifyOptions) *Verifier {
	v := &Verifier{
		logID:     logID,
		verifiers: verifiers,
		all:       opts.AllSignatures,
		workers:   runtime.GOMAXPROCS(0),
		diverged:  math.MaxInt64,
		f:         findings{entries: map[int64]Problem{}},
		report:    Report{LogID: logID, Checkpoint: Checkpoint{LogID: logID, Root: emptyRoot}},
	}
	for _, msg := range opts.External {
		v.report.Checkpoints++
		if c, ok := v.open(msg); ok {
			v.external = append(v.external, c)
		}
	}
	return v
}

// open checks msg's signature and that it is for this log, recording why not.
func (v *Verifier) open(msg []byte) (Checkpoint, bool) {
	v.report.Signatures++
	c, err := OpenCheckpoint(msg, v.verifiers)
	switch {
	case err != nil:
		v.f.checkpoint(claimedSize(msg), err.Error())
		return Checkpoint{}, false
	case c.LogID != v.logID:
		v.f.checkpoint(c.Size, "signed for another log")
		return Checkpoint{}, false
	}
	return c, true
}

// entryResult is what the parallel part of AddEntries learns about one entry.
type entryResult struct {
	leaf   tlog.Hash
	reason string
}

// AddEntries feeds the next entries in index order. The entries are not retained.
func (v *Verifier) AddEntries(batch []Entry) {
	if v.phase != phaseEntries {
		panic("auditlog: AddEntries after AddHash, AddCheckpoints or Report")
	}
	res := slices.Grow(v.scratch[:0], len(batch))[:len(batch)]
	v.scratch = res
	parallel(len(batch), v.workers, func(lo, hi int) {
		var buf []byte
		for i := lo; i < hi; i++ {
			e := &batch[i]
			var ok bool
			if buf, ok = matchesRecord(buf, v.logID, e); ok {
				res[i] = entryResult{leaf: e.RecordHash()}
			} else {
				res[i] = entryResult{leaf: e.RecordHash(), reason: checkEntry(v.logID, *e)}
			}
		}
	})
	for i := range batch {
		e := &batch[i]
		pos := v.pos
		v.pos++
		v.report.Entries++
		if e.Payload == nil {
			v.report.Pruned++
		}
		if r := res[i].reason; r != "" {
			at := e.Index
			if at < 0 {
				at = pos
			}
			v.f.entry(at, e.EventID, r)
		}
		switch {
		case v.gap:
			if e.Index == v.tree.size && v.idAfter == "" {
				v.idAfter = e.EventID
			}
		case e.Index > pos:
			v.gap = true
			v.f.entry(pos, "", fmt.Sprintf("missing: the indexes jump from %d to %d", pos-1, e.Index))
		case e.Index < pos:
			v.gap = true
			at := e.Index
			if at < 0 {
				at = pos
			}
			v.f.entry(at, e.EventID, fmt.Sprintf("index %d is out of sequence (stored twice or negative)", e.Index))
		default:
			v.tree.add(res[i].leaf)
			v.ids.add(e.EventID)
		}
	}
}

// eventID returns the event ID stored for entry i, or "" when no entry is stored there.
func (v *Verifier) eventID(i int64) string {
	switch {
	case i >= 0 && i < v.tree.size:
		return v.ids.get(i)
	case i == v.tree.size:
		return v.idAfter
	}
	return ""
}

// AddHash feeds one stored tree hash, by stored hash index.
func (v *Verifier) AddHash(x int64, h tlog.Hash) {
	v.toPhase(phaseHashes)
	if x < 0 || x >= int64(len(v.tree.hashes)) {
		v.extra = true
		return
	}
	v.seen.set(x)
	if h != v.tree.hashes[x] {
		v.mismatched.set(x)
	}
}

func (v *Verifier) toPhase(p int) {
	if v.phase > p {
		panic("auditlog: Verifier fed out of order (entries, then hashes, then checkpoints, then Report)")
	}
	for v.phase < p {
		switch v.phase {
		case phaseEntries:
			n := int64(len(v.tree.hashes))
			v.seen = newBitset(n)
			v.mismatched = newBitset(n)
		case phaseHashes:
			v.checkStoredHashes()
			v.checkExternal()
		case phaseCheckpoints:
			v.finish()
		}
		v.phase++
	}
}

// checkStoredHashes reports the stored tree's problems. A wrong stored hash makes every stored
// hash above it wrong as well (when the forger recomputed them) or inconsistent (when not); only
// the lowest one says where the damage is.
func (v *Verifier) checkStoredHashes() {
	count := int64(len(v.tree.hashes))
	bad := v.mismatched
	for w := range bad {
		bad[w] |= ^v.seen[w]
	}
	bad.clearFrom(count)
	for x := range bad.all() {
		level, n := tlog.SplitStoredHashIndex(x)
		if level > 0 && (bad.has(tlog.StoredHashIndex(level-1, 2*n)) || bad.has(tlog.StoredHashIndex(level-1, 2*n+1))) {
			continue
		}
		first := n << level
		switch {
		case level == 0 && !v.seen.has(x):
			v.f.entry(first, v.eventID(first), "its hash is missing from the stored tree")
		case level == 0:
			v.f.entry(first, v.eventID(first), "record hash differs from the stored tree")
		default:
			v.f.entry(first, v.eventID(first), fmt.Sprintf("stored tree hash over entries %d–%d is not the hash of its children", first, first+1<<level-1))
		}
	}
	// After a gap the stored tree rightly goes on past the entries that could be recomputed;
	// the gap is already reported.
	if v.extra && !v.gap {
		v.f.entry(v.tree.size, "", "missing: the stored tree has hashes for entries after the last one")
	}
	v.seen, v.mismatched = nil, nil
}

// checkExternal weighs the external checkpoints, whose signatures NewVerifier checked.
func (v *Verifier) checkExternal() {
	for _, c := range v.external {
		v.weigh(c, c.Size <= v.tree.size && c.Root == v.tree.root(c.Size))
	}
}

// weigh takes in a checkpoint whose signature verified; matches says whether it states the
// recomputed tree.
func (v *Verifier) weigh(c Checkpoint, matches bool) {
	switch {
	case c.Size > v.tree.size:
		if !v.beyondOK {
			v.beyondOK = true
			v.f.entry(v.tree.size, v.eventID(v.tree.size), fmt.Sprintf("missing: signed checkpoint %d covers entries up to %d", c.Size, c.Size-1))
		}
	case !matches:
		if c.Size < v.diverged {
			v.diverged = c.Size
			v.checkRecent(c.Size)
		}
	default:
		v.agreeing = append(v.agreeing, c.Size)
		if c.Size >= v.report.Checkpoint.Size {
			v.report.Checkpoint = c
		}
	}
}

// matchedBelow returns the largest signed checkpoint size below size that matches the tree, or 0.
func (v *Verifier) matchedBelow(size int64) int64 {
	best := int64(0)
	for _, s := range v.agreeing {
		if s > best && s < size {
			best = s
		}
	}
	return best
}

// checkRecent checks the signatures of the kept matching checkpoints below size, largest first,
// until one verifies: that one bounds from below where a divergence starts, or how far a log
// whose latest checkpoint is forged is still vouched for. Those no larger than a signed match
// already known are skipped.
func (v *Verifier) checkRecent(size int64) {
	for {
		floor := v.matchedBelow(size)
		var best *pending
		for k := range v.recent {
			p := &v.recent[k]
			if p.ok && !p.checked && p.c.Size < size && p.c.Size > floor && (best == nil || p.c.Size > best.c.Size) {
				best = p
			}
		}
		if best == nil {
			return
		}
		best.checked = true
		if c, ok := v.open(best.msg); ok {
			v.weigh(c, true)
			return
		}
	}
}

// checkpointResult is what the parallel part of AddCheckpoints learns about one checkpoint.
type checkpointResult struct {
	c       Checkpoint
	textErr error
	matches bool // c.Size is within the tree and c.Root is the tree's root at c.Size
	// With AllSignatures: whether the signature was checked and what it said.
	signed  bool
	sigErr  error
	sigText Checkpoint
}

// AddCheckpoints feeds stored checkpoints. The notes are not retained (those that may need
// checking later are copied).
func (v *Verifier) AddCheckpoints(batch [][]byte) {
	v.toPhase(phaseCheckpoints)
	res := slices.Grow(v.cpScratch[:0], len(batch))[:len(batch)]
	v.cpScratch = res
	parallel(len(batch), v.workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := checkpointResult{}
			r.c, r.textErr = ReadCheckpoint(batch[i])
			if r.textErr == nil && r.c.LogID == v.logID && r.c.Size <= v.tree.size {
				r.matches = r.c.Root == v.tree.root(r.c.Size)
			}
			if v.all {
				r.signed = true
				r.sigText, r.sigErr = OpenCheckpoint(batch[i], v.verifiers)
			}
			res[i] = r
		}
	})
	for i, msg := range batch {
		v.stored(msg, res[i])
	}
}

// stored weighs one stored checkpoint.
func (v *Verifier) stored(msg []byte, r checkpointResult) {
	v.report.Checkpoints++
	if r.signed {
		v.report.Signatures++
		switch {
		case r.sigErr != nil:
			v.f.checkpoint(claimedSize(msg), r.sigErr.Error())
		case r.sigText.LogID != v.logID:
			v.f.checkpoint(r.sigText.Size, "signed for another log")
		default:
			// The signed text is the text that was matched against the tree.
			v.weigh(r.sigText, r.matches)
		}
		v.noteLatest(r, msg, true)
		return
	}
	switch {
	case r.textErr != nil:
		v.f.checkpoint(0, r.textErr.Error())
		return
	case r.c.LogID != v.logID:
		v.f.checkpoint(r.c.Size, "states the tree of another log")
		return
	}
	checked := false
	switch c := r.c; {
	case r.matches:
		p := &v.recent[v.recentAt]
		v.recentAt = (v.recentAt + 1) % recentKept
		*p = pending{c: c, msg: append(p.msg[:0], msg...), matches: true, ok: true}
	case c.Size > v.tree.size && !v.beyondOK,
		c.Size <= v.tree.size && c.Size < v.diverged:
		// It claims entries that are missing, or a root that is not the tree's: true only if
		// the signer said so.
		checked = true
		if c, ok := v.open(msg); ok {
			v.weigh(c, false)
		}
	}
	v.noteLatest(r, msg, checked)
}

func (v *Verifier) noteLatest(r checkpointResult, msg []byte, checked bool) {
	if r.textErr != nil || r.c.LogID != v.logID || (v.latest.ok && r.c.Size <= v.latest.c.Size) {
		return
	}
	v.latest = pending{c: r.c, msg: append(v.latest.msg[:0], msg...), matches: r.matches, ok: true, checked: checked}
}

// finish checks the latest stored checkpoint's signature, if nothing has yet, and says how far
// the signed checkpoints vouch for the entries.
func (v *Verifier) finish() {
	if l := &v.latest; l.ok && !l.checked {
		l.checked = true
		for k := range v.recent {
			if p := &v.recent[k]; p.ok && bytes.Equal(p.msg, l.msg) {
				p.checked = true
			}
		}
		if c, ok := v.open(l.msg); ok {
			v.weigh(c, l.matches)
		}
	}
	// When the latest does not vouch for every entry (it is forged, or covers entries that
	// are missing), the newest earlier checkpoint that does is wanted; so is the one just
	// before a divergence.
	v.checkRecent(v.diverged)
	// The largest size up to which signed roots agree with the tree.
	matched := v.matchedBelow(v.diverged)
	if v.diverged < math.MaxInt64 {
		v.f.entry(matched, v.eventID(matched), fmt.Sprintf("the first %d entries no longer hash to the root in signed checkpoint %d", v.diverged, v.diverged))
	}
	if matched < v.report.Entries {
		v.f.entry(matched, v.eventID(matched), "not covered by any signed checkpoint")
	}
}

// Report finishes verification.
func (v *Verifier) Report() Report {
	v.toPhase(phaseDone)
	r := v.report
	r.Problems = v.f.sorted()
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

// eventIDs holds many short strings in one allocation.
type eventIDs struct {
	data []byte
	ends []int
}

func (s *eventIDs) add(id string) {
	s.data = append(s.data, id...)
	s.ends = append(s.ends, len(s.data))
}

func (s *eventIDs) get(i int64) string {
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return string(s.data[start:s.ends[i]])
}

// bitset is a set of small non-negative integers.
type bitset []uint64

func newBitset(n int64) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(x int64)      { b[x/64] |= 1 << (x % 64) }
func (b bitset) has(x int64) bool { return x >= 0 && x/64 < int64(len(b)) && b[x/64]&(1<<(x%64)) != 0 }

// clearFrom removes every member from n on.
func (b bitset) clearFrom(n int64) {
	for x := n; x < int64(len(b))*64; x++ {
		b[x/64] &^= 1 << (x % 64)
	}
}

// all yields the members in increasing order.
func (b bitset) all() func(yield func(int64) bool) {
	return func(yield func(int64) bool) {
		for w, word := range b {
			for word != 0 {
				t := bits.TrailingZeros64(word)
				if !yield(int64(w)*64 + int64(t)) {
					return
				}
				word &^= 1 << t
			}
		}
	}
}

// parallel runs fn over [0, n) split into one range per worker.
func parallel(n, workers int, fn func(lo, hi int)) {
	if workers <= 1 || n < 64 {
		fn(0, n)
		return
	}
	step := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += step {
		wg.Go(func() { fn(lo, min(lo+step, n)) })
	}
	wg.Wait()
}
