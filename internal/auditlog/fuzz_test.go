package auditlog_test

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ringback/ringback/internal/auditlog"
)

// fuzzMaxEntries is the size of the largest starting log; FuzzVerify starts from a log of 0 to
// fuzzMaxEntries entries.
const fuzzMaxEntries = 9

// fuzzFixture holds what every FuzzVerify input starts from. Keys are derived from fixed seeds,
// so that a failing input reproduces.
type fuzzFixture struct {
	signer, other note.Signer
	verifiers     note.Verifiers
	logs          []auditlog.Log // by number of entries
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	key := func(seed byte) (note.Signer, string) {
		skey, vkey, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)), auditlog.DefaultKeyName)
		if err != nil {
			t.Fatal(err)
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		return s, vkey
	}
	fx := &fuzzFixture{}
	var vkey string
	fx.signer, vkey = key(1)
	fx.other, _ = key(2)
	var err error
	if fx.verifiers, err = auditlog.NewVerifiers(vkey); err != nil {
		t.Fatal(err)
	}
	m := &memLog{Log: auditlog.Log{ID: "abcdefghijklmnop", Hashes: auditlog.HashMap{}}, signer: fx.signer}
	fx.logs = append(fx.logs, cloneLog(m.Log))
	for i := range fuzzMaxEntries {
		ev := event(i)
		if i%3 == 1 {
			ev.Subject = ""
		}
		m.append(t, ev)
		if i%4 == 2 {
			m.Entries[i].Payload = nil // pruned by retention
		}
		fx.logs = append(fx.logs, cloneLog(m.Log))
	}
	return fx
}

// cloneLog copies the slices and map of a log; the byte slices inside are shared and must be
// copied before they are changed.
func cloneLog(l auditlog.Log) auditlog.Log {
	return auditlog.Log{ID: l.ID, Entries: slices.Clone(l.Entries), Hashes: maps.Clone(l.Hashes), Checkpoints: slices.Clone(l.Checkpoints)}
}

// FuzzVerify tampers with a valid log in ways chosen by the fuzzer and checks that Verify never
// panics and passes the result only if it says what the original said: the same entries (a
// payload may be pruned, a time may be spelled in another zone), the same stored tree, and only
// checkpoints that are true of it, in either signature mode. Without a checkpoint kept elsewhere a
// cut tail is undetectable by design, so there a consistent prefix of the original may pass too.
//
// ops is read four bytes at a time: a mutation and three arguments.
func FuzzVerify(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Add(uint8(9), []byte{}, uint8(0))
	f.Add(uint8(9), []byte{}, uint8(3))
	for kind := range byte(mutations) {
		f.Add(uint8(9), []byte{kind, 4, 7, 1}, uint8(0))
		f.Add(uint8(5), []byte{kind, 2, 130, 0, kind, 3, 1, 9}, uint8(1))
		f.Add(uint8(9), []byte{kind, 8, 0, 200}, uint8(2))
	}
	f.Add(uint8(9), []byte{15, 6, 1, 0}, uint8(0))              // a consistent cut: passes without a kept checkpoint
	f.Add(uint8(9), []byte{15, 6, 1, 0}, uint8(2))              // and fails with one
	f.Add(uint8(9), []byte{14, 3, 0, 0}, uint8(0))              // a true checkpoint re-signed: passes by default
	f.Add(uint8(9), []byte{14, 3, 0, 0}, uint8(1))              // and fails with every signature checked
	f.Add(uint8(9), []byte{4, 2, 128, 0, 4, 3, 0, 0}, uint8(3)) // no-ops: the same instant, another zone
	f.Add(uint8(9), []byte{13, 4, 6, 0, 11, 2, 0, 0}, uint8(4)) // fed in batches of one
	f.Add(uint8(9), []byte{16, 1, 0, 7, 6, 3, 0, 0}, uint8(21)) // reordered, fed in batches of three
	f.Fuzz(func(t *testing.T, size uint8, ops []byte, mode uint8) {
		n := int(size) % len(fx.logs)
		orig := fx.logs[n]
		m := cloneLog(orig)
		for i := 0; i+4 <= len(ops) && i < 4*8; i += 4 {
			fx.mutate(&m, n, ops[i], int(ops[i+1]), int(ops[i+2]), int(ops[i+3]))
		}
		opts := auditlog.VerifyOptions{AllSignatures: mode&1 == 1}
		if mode&2 != 0 && n > 0 {
			opts.External = [][]byte{orig.Checkpoints[n-1]}
		}
		r := auditlog.VerifyWith(m, fx.verifiers, opts)
		if mode&4 != 0 {
			// Fed in small batches, as the store streams it, the log must fare the same.
			if streamed := streamTo(m, fx.verifiers, opts, int(mode>>3)%3+1); !reflect.DeepEqual(streamed, r) {
				t.Fatalf("in batches:\n%+v\nat once:\n%+v", streamed, r)
			}
		}
		if !r.OK() {
			return
		}
		if why := fx.differs(orig, m, opts); why != "" {
			t.Fatalf("verified, but %s", why)
		}
	})
}

const mutations = 17

// streamTo verifies l through a Verifier fed n entries, hashes or checkpoints at a time.
func streamTo(l auditlog.Log, verifiers note.Verifiers, opts auditlog.VerifyOptions, n int) auditlog.Report {
	entries := slices.Clone(l.Entries)
	slices.SortStableFunc(entries, func(a, b auditlog.Entry) int { return cmp.Compare(a.Index, b.Index) })
	v := auditlog.NewVerifier(l.ID, verifiers, opts)
	for lo := 0; lo < len(entries); lo += n {
		v.AddEntries(entries[lo:min(lo+n, len(entries))])
	}
	for _, x := range slices.Sorted(maps.Keys(l.Hashes)) {
		v.AddHash(x, l.Hashes[x])
	}
	for lo := 0; lo < len(l.Checkpoints); lo += n {
		v.AddCheckpoints(l.Checkpoints[lo:min(lo+n, len(l.Checkpoints))])
	}
	return v.Report()
}

// mutate applies one mutation to m, a copy of the fixture's log of n entries.
func (fx *fuzzFixture) mutate(m *auditlog.Log, n int, kind byte, a, b, c int) {
	flip := func(s []byte) []byte {
		if len(s) == 0 {
			return s
		}
		s = bytes.Clone(s)
		s[(b|c<<8)%len(s)] ^= byte(c | 1)
		return s
	}
	entry := func() *auditlog.Entry {
		if len(m.Entries) == 0 {
			return nil
		}
		return &m.Entries[a%len(m.Entries)]
	}
	switch kind % mutations {
	case 0:
		if e := entry(); e != nil {
			e.Record = flip(e.Record)
		}
	case 1:
		if e := entry(); e != nil {
			e.Payload = flip(e.Payload)
		}
	case 2:
		if e := entry(); e != nil {
			e.Payload = nil
		}
	case 3:
		if e := entry(); e != nil {
			field := []*string{&e.EventID, &e.Actor, &e.Action, &e.Subject}[b%4]
			if *field == "" {
				*field = "00000000000000000000"
			} else {
				*field = string(flip([]byte(*field)))
			}
		}
	case 4:
		if e := entry(); e != nil {
			if b == 0 {
				e.OccurredAt = e.OccurredAt.In(time.FixedZone("UTC-7", -7*3600))
			} else {
				e.OccurredAt = e.OccurredAt.Add(time.Duration(b-128) * time.Microsecond)
			}
		}
	case 5:
		if e := entry(); e != nil {
			e.Index += int64(int8(b))
		}
	case 6:
		if len(m.Entries) > 0 {
			m.Entries = slices.Delete(m.Entries, a%len(m.Entries), a%len(m.Entries)+1)
		}
	case 7:
		if e := entry(); e != nil {
			m.Entries = append(m.Entries, *e)
		}
	case 8:
		if len(m.Entries) > 0 {
			e1, e2 := &m.Entries[a%len(m.Entries)], &m.Entries[b%len(m.Entries)]
			e1.Index, e2.Index = e2.Index, e1.Index
		}
	case 9:
		count := tlog.StoredHashCount(int64(n))
		switch x := int64(a); {
		case b%3 == 0 && count > 0:
			h := m.Hashes[x%count]
			h[c%tlog.HashSize] ^= byte(b | 1)
			m.Hashes[x%count] = h
		case b%3 == 1 && count > 0:
			delete(m.Hashes, x%count)
		default:
			m.Hashes[count+x%4] = tlog.Hash{byte(c)}
		}
	case 10:
		if len(m.Checkpoints) > 0 {
			k := a % len(m.Checkpoints)
			m.Checkpoints[k] = flip(m.Checkpoints[k])
		}
	case 11:
		if len(m.Checkpoints) > 0 {
			m.Checkpoints = slices.Delete(m.Checkpoints, a%len(m.Checkpoints), a%len(m.Checkpoints)+1)
		}
	case 12:
		if len(m.Checkpoints) > 0 {
			m.Checkpoints = append(m.Checkpoints, m.Checkpoints[a%len(m.Checkpoints)])
		}
	case 13:
		// A false statement under the real key: a root at the wrong size, or a size that
		// never existed.
		if len(m.Checkpoints) > 0 {
			k := a % len(m.Checkpoints)
			cp, err := auditlog.ReadCheckpoint(m.Checkpoints[k])
			if err != nil {
				return
			}
			switch c % 3 {
			case 0:
				cp.Root = fx.root(b % (fuzzMaxEntries + 1))
			case 1:
				cp.Size = int64(b % (fuzzMaxEntries + 3))
			default:
				cp.LogID = "qrstuvwxyzabcdef"
			}
			m.Checkpoints[k], _ = auditlog.SignCheckpoint(cp, fx.signer)
		}
	case 14:
		// A true statement under another key.
		if len(m.Checkpoints) > 0 {
			k := a % len(m.Checkpoints)
			if cp, err := auditlog.ReadCheckpoint(m.Checkpoints[k]); err == nil {
				m.Checkpoints[k], _ = auditlog.SignCheckpoint(cp, fx.other)
			}
		}
	case 15:
		// Cut the tail: entries, and with b's bits the tree hashes and the checkpoints too.
		k := a % (n + 1)
		m.Entries = slices.DeleteFunc(m.Entries, func(e auditlog.Entry) bool { return e.Index >= int64(k) })
		if b&1 != 0 {
			maps.DeleteFunc(m.Hashes, func(x int64, _ tlog.Hash) bool { return x >= tlog.StoredHashCount(int64(k)) })
		}
		if b&2 == 0 {
			m.Checkpoints = slices.DeleteFunc(m.Checkpoints, func(msg []byte) bool {
				cp, err := auditlog.ReadCheckpoint(msg)
				return err == nil && cp.Size > int64(k)
			})
		}
	case 16:
		// Store the checkpoints, or the entries, in another order.
		if b%2 == 0 && len(m.Checkpoints) > 0 {
			i, j := a%len(m.Checkpoints), c%len(m.Checkpoints)
			m.Checkpoints[i], m.Checkpoints[j] = m.Checkpoints[j], m.Checkpoints[i]
		} else if len(m.Entries) > 0 {
			i, j := a%len(m.Entries), c%len(m.Entries)
			m.Entries[i], m.Entries[j] = m.Entries[j], m.Entries[i]
		}
	}
}

// root is the root of the fixture's log after n entries.
func (fx *fuzzFixture) root(n int) tlog.Hash {
	h, err := tlog.TreeHash(int64(n), fx.logs[len(fx.logs)-1].Hashes)
	if err != nil {
		panic(err)
	}
	return h
}

// differs says how m, which verified, is not the original log (or, with no checkpoint kept
// elsewhere, a prefix of it), or returns "".
func (fx *fuzzFixture) differs(orig, m auditlog.Log, opts auditlog.VerifyOptions) string {
	entries := slices.Clone(m.Entries)
	slices.SortStableFunc(entries, func(a, b auditlog.Entry) int { return cmp.Compare(a.Index, b.Index) })
	k := len(entries)
	switch {
	case k > len(orig.Entries):
		return fmt.Sprintf("%d entries where there were %d", k, len(orig.Entries))
	case opts.External != nil && k != len(orig.Entries):
		return fmt.Sprintf("%d entries, and a kept checkpoint covers %d", k, len(orig.Entries))
	}
	const layout = "2006-01-02T15:04:05.000000Z"
	for i, e := range entries {
		o := orig.Entries[i]
		switch {
		case e.Index != o.Index, e.EventID != o.EventID, e.Actor != o.Actor, e.Action != o.Action, e.Subject != o.Subject,
			e.OccurredAt.UTC().Format(layout) != o.OccurredAt.UTC().Format(layout),
			!bytes.Equal(e.Record, o.Record),
			e.Payload != nil && !bytes.Equal(e.Payload, o.Payload):
			return fmt.Sprintf("entry %d changed: %+v", i, e)
		}
	}
	if count := tlog.StoredHashCount(int64(k)); int64(len(m.Hashes)) != count {
		return fmt.Sprintf("%d stored hashes for %d entries", len(m.Hashes), k)
	}
	for x, h := range m.Hashes {
		if orig.Hashes[x] != h {
			return fmt.Sprintf("stored hash %d changed", x)
		}
	}
	covered := opts.External != nil || k == 0
	for _, msg := range m.Checkpoints {
		// A checkpoint may be one the signer wrote or another true statement about the log
		// (the empty tree, say), but nothing else.
		c, err := auditlog.ReadCheckpoint(msg)
		if err != nil || c.LogID != orig.ID || c.Size > int64(k) || c.Root != fx.root(int(c.Size)) {
			return fmt.Sprintf("a checkpoint that is not true of the log: %q", msg)
		}
		_, err = auditlog.OpenCheckpoint(msg, fx.verifiers)
		if opts.AllSignatures && err != nil {
			return fmt.Sprintf("checkpoint %d has a bad signature: %v", c.Size, err)
		}
		covered = covered || err == nil && c.Size == int64(k)
	}
	if !covered {
		return fmt.Sprintf("no signed checkpoint covers the %d entries", k)
	}
	return ""
}

func TestFuzzFixtureVerifies(t *testing.T) {
	fx := newFuzzFixture(t)
	for n, l := range fx.logs {
		for _, opts := range modes {
			if r := auditlog.VerifyWith(l, fx.verifiers, opts); !r.OK() {
				t.Fatalf("%d entries, %+v: %v", n, opts, r.Problems)
			}
		}
	}
	if why := fx.differs(fx.logs[5], fx.logs[5], auditlog.VerifyOptions{}); why != "" {
		t.Fatal(why)
	}
}
