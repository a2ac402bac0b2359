package auditlog

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Extend computes what appending the record with hash leaf at position n adds to a tree whose
// earlier stored hashes r can read: the hashes to store, starting at tlog.StoredHashIndex(0, n),
// and the root of the tree of n+1 records. It reads at most about 2·log₂ n hashes, so an append
// costs the same however long the log is.
func Extend(n int64, leaf tlog.Hash, r tlog.HashReader) (stored []tlog.Hash, root tlog.Hash, err error) {
	stored, err = tlog.StoredHashesForRecordHash(n, leaf, r)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("stored hashes for entry %d: %w", n, err)
	}
	// The new root needs the subtree just completed, which is not stored yet: serve it from
	// stored and everything else from r.
	first := tlog.StoredHashIndex(0, n)
	withNew := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var older []int64
		var at []int
		for i, x := range indexes {
			if x >= first && x < first+int64(len(stored)) {
				out[i] = stored[x-first]
				continue
			}
			older = append(older, x)
			at = append(at, i)
		}
		if len(older) > 0 {
			got, err := r.ReadHashes(older)
			if err != nil {
				return nil, err
			}
			if len(got) != len(older) {
				return nil, fmt.Errorf("read %d stored hashes, got %d", len(older), len(got))
			}
			for j, i := range at {
				out[i] = got[j]
			}
		}
		return out, nil
	})
	root, err = tlog.TreeHash(n+1, withNew)
	if err != nil {
		return nil, tlog.Hash{}, fmt.Errorf("tree hash at size %d: %w", n+1, err)
	}
	return stored, root, nil
}

// HashMap is a tlog.HashReader over hashes held in memory, keyed by stored hash index.
type HashMap map[int64]tlog.Hash

// ReadHashes implements tlog.HashReader.
func (m HashMap) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("stored hash %d is missing", x)
		}
		out[i] = h
	}
	return out, nil
}

// emptyRoot is the root of a tree with no records.
var emptyRoot, _ = tlog.TreeHash(0, HashMap{})

// denseTree is a tree recomputed from records, its stored hashes held in one slice by stored hash
// index. Appending records in order fills that slice in order, so it has no gaps and needs no
// map: about 64 bytes per record.
type denseTree struct {
	size   int64
	hashes []tlog.Hash
}

// add appends the record whose leaf hash is leaf, as tlog.StoredHashesForRecordHash would.
func (t *denseTree) add(leaf tlog.Hash) {
	n := t.size
	t.hashes = append(t.hashes, leaf)
	h := leaf
	for level := 0; (n>>level)&1 == 1; level++ {
		h = tlog.NodeHash(t.hashes[tlog.StoredHashIndex(level, n>>level-1)], h)
		t.hashes = append(t.hashes, h)
	}
	t.size++
}

// root returns the root of the first n ≤ t.size records: the complete subtrees that the binary
// digits of n select, largest first, folded from the right as tlog.TreeHash does.
func (t *denseTree) root(n int64) tlog.Hash {
	if n <= 0 {
		return emptyRoot
	}
	var parts [64]tlog.Hash
	k := 0
	start := int64(0)
	for level := 62; level >= 0; level-- {
		if n>>level&1 == 1 {
			parts[k] = t.hashes[tlog.StoredHashIndex(level, start>>level)]
			k++
			start += 1 << level
		}
	}
	h := parts[k-1]
	for i := k - 2; i >= 0; i-- {
		h = tlog.NodeHash(parts[i], h)
	}
	return h
}
