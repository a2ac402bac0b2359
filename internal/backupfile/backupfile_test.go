package backupfile

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
)

var (
	testKey  = bytes.Repeat([]byte{0x42}, KeySize)
	otherKey = bytes.Repeat([]byte{0x24}, KeySize)
)

// seal encrypts plain under key with the given chunk size.
func seal(t testing.TB, key, plain []byte, chunkSize int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := newWriter(&out, key, chunkSize)
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized writes, so chunk boundaries never line up with write boundaries.
	for rest := plain; len(rest) > 0; {
		n := min(len(rest), 7777)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// open decrypts a whole file.
func open(file, key []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(file), key)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func random(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// chunkOffsets returns where each sealed chunk of file starts, and the end of the file.
func chunkOffsets(file []byte, chunkSize int) []int {
	var offs []int
	for off := headerSize; off < len(file); off += chunkSize + tagSize {
		offs = append(offs, off)
	}
	return append(offs, len(file))
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name      string
		size      int
		chunkSize int
		chunks    int
	}{
		{"empty", 0, ChunkSize, 1},
		{"one byte", 1, ChunkSize, 1},
		{"chunk-1", ChunkSize - 1, ChunkSize, 1},
		{"chunk", ChunkSize, ChunkSize, 1},
		{"chunk+1", ChunkSize + 1, ChunkSize, 2},
		{"multi MiB", 3<<20 + 12345, ChunkSize, 49},
		{"tiny chunks", 1000, 16, 63},
		{"one-byte chunks", 40, 1, 40},
	} {
		t.Run(c.name, func(t *testing.T) {
			plain := random(t, c.size)
			file := seal(t, testKey, plain, c.chunkSize)
			if want := headerSize + c.size + c.chunks*tagSize; len(file) != want {
				t.Fatalf("file is %d bytes, want %d (%d chunks)", len(file), want, c.chunks)
			}
			got, err := open(file, testKey)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("round trip changed the data: %d bytes in, %d out", len(plain), len(got))
			}
			if c.size >= 64 && bytes.Contains(file, plain[:64]) {
				t.Fatal("plaintext appears in the file")
			}
		})
	}
}

func TestSmallReadsSeeEveryByte(t *testing.T) {
	plain := random(t, 5000)
	r, err := NewReader(bytes.NewReader(seal(t, testKey, plain, 64)), testKey)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 3)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, plain) {
		t.Fatal("reading three bytes at a time changed the data")
	}
}

func TestSameInputTwiceGivesDifferentFiles(t *testing.T) {
	plain := []byte("+16145550123 called about a leak")
	a, b := seal(t, testKey, plain, ChunkSize), seal(t, testKey, plain, ChunkSize)
	if bytes.Equal(a[headerSize:], b[headerSize:]) {
		t.Fatal("two encryptions of the same data are identical: the salt is not fresh")
	}
}

func TestWrongKey(t *testing.T) {
	file := seal(t, testKey, []byte("secret"), ChunkSize)
	_, err := open(file, otherKey)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), KeyID(testKey)) || !strings.Contains(err.Error(), KeyID(otherKey)) {
		t.Fatalf("the error does not name both keys: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(file), otherKey[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
	if _, err := NewWriter(io.Discard, otherKey[:31]); err == nil {
		t.Fatal("a 31-byte key was accepted")
	}
}

// TestWrongKeyWithForgedKeyID: a header claiming the reader's key id does not let data through;
// the first chunk fails to authenticate under the key the header really was not made with.
func TestWrongKeyWithForgedKeyID(t *testing.T) {
	file := seal(t, testKey, []byte("secret"), ChunkSize)
	copy(file[len(magic)+5:], keyID(otherKey))
	if _, err := open(file, otherKey); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestTruncatedAtEveryChunkBoundary(t *testing.T) {
	const chunk = 100
	file := seal(t, testKey, random(t, 7*chunk+30), chunk)
	offs := chunkOffsets(file, chunk)
	if len(offs) != 9 {
		t.Fatalf("%d chunk offsets, want 8 chunks and the end", len(offs))
	}
	for _, cut := range offs[:len(offs)-1] {
		_, err := open(file[:cut], testKey)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d: err = %v, want ErrTruncated", cut, err)
		}
	}
	// And anywhere inside a chunk or the header.
	for _, cut := range []int{0, 5, headerSize - 1, headerSize + 1, headerSize + tagSize - 1, offs[3] + 50, len(file) - 1} {
		if _, err := open(file[:cut], testKey); err == nil {
			t.Errorf("cut at %d: no error", cut)
		}
	}
}

// TestTruncatedMultiChunkFileAtDefaultSize cuts a file written with the real chunk size.
func TestTruncatedMultiChunkFileAtDefaultSize(t *testing.T) {
	file := seal(t, testKey, random(t, 3*ChunkSize+1), ChunkSize)
	offs := chunkOffsets(file, ChunkSize)
	for _, cut := range offs[:len(offs)-1] {
		if _, err := open(file[:cut], testKey); !errors.Is(err, ErrTruncated) {
			t.Errorf("cut at %d: err = %v, want ErrTruncated", cut, err)
		}
	}
}

func TestFlippedByteAnywhere(t *testing.T) {
	const chunk = 32
	file := seal(t, testKey, random(t, 3*chunk+5), chunk)
	for i := range file {
		bad := bytes.Clone(file)
		bad[i] ^= 0x01
		got, err := open(bad, testKey)
		if err == nil {
			t.Fatalf("flipping byte %d went unnoticed (%d bytes read)", i, len(got))
		}
	}
}

func TestSwappedAndReorderedChunks(t *testing.T) {
	const chunk = 50
	file := seal(t, testKey, random(t, 4*chunk+10), chunk)
	offs := chunkOffsets(file, chunk)
	piece := func(i int) []byte { return file[offs[i]:offs[i+1]] }
	header := file[:headerSize]
	join := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{header}, parts...), nil) }

	for name, bad := range map[string][]byte{
		"first two swapped":     join(piece(1), piece(0), piece(2), piece(3), piece(4)),
		"middle two swapped":    join(piece(0), piece(2), piece(1), piece(3), piece(4)),
		"chunk dropped":         join(piece(0), piece(2), piece(3), piece(4)),
		"chunk repeated":        join(piece(0), piece(1), piece(1), piece(2), piece(3), piece(4)),
		"final moved forward":   join(piece(0), piece(1), piece(2), piece(4)),
		"non-final as the last": join(piece(0), piece(1), piece(3)),
	} {
		if _, err := open(bad, testKey); err == nil {
			t.Errorf("%s: no error", name)
		}
	}

	// A chunk from another file sealed under the same key, at the same position, is rejected
	// too: each file has its own derived key.
	other := seal(t, testKey, random(t, 4*chunk+10), chunk)
	spliced := join(piece(0), other[offs[1]:offs[2]], piece(2), piece(3), piece(4))
	if _, err := open(spliced, testKey); !errors.Is(err, ErrCorrupt) {
		t.Errorf("chunk from another file: err = %v, want ErrCorrupt", err)
	}
}

func TestAppendedGarbage(t *testing.T) {
	for _, size := range []int{0, 10, 64, 200} {
		file := seal(t, testKey, random(t, size), 64)
		for _, extra := range [][]byte{{0}, []byte("garbage"), random(t, 80), random(t, 64+tagSize)} {
			bad := append(bytes.Clone(file), extra...)
			if _, err := open(bad, testKey); !errors.Is(err, ErrCorrupt) {
				t.Errorf("size %d + %d bytes appended: err = %v, want ErrCorrupt", size, len(extra), err)
			}
		}
		// A whole second copy appended is caught as well.
		if _, err := open(append(bytes.Clone(file), file...), testKey); err == nil {
			t.Errorf("size %d: a file followed by itself was accepted", size)
		}
	}
}

func TestHeaderChecks(t *testing.T) {
	file := seal(t, testKey, []byte("x"), ChunkSize)
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotBackup},
		{"a pg_dump archive", []byte("PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00"), ErrNotBackup},
		{"future version", func() []byte { b := bytes.Clone(file); b[len(magic)] = 2; return b }(), ErrUnsupportedVersion},
		{"zero chunk size", func() []byte { b := bytes.Clone(file); copy(b[len(magic)+1:], []byte{0, 0, 0, 0}); return b }(), ErrCorrupt},
		{"huge chunk size", func() []byte { b := bytes.Clone(file); copy(b[len(magic)+1:], []byte{0xff, 0, 0, 0}); return b }(), ErrCorrupt},
		{"header cut short", file[:headerSize-3], ErrTruncated},
	} {
		if _, err := open(c.in, testKey); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	h, err := ReadHeader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != Version || h.ChunkSize != ChunkSize || h.KeyID != KeyID(testKey) || len(h.KeyID) != 2*keyIDSize {
		t.Fatalf("header = %+v", h)
	}
}

func TestWriterErrorsAreSticky(t *testing.T) {
	fw := &failingWriter{okBytes: headerSize + 10}
	w, err := newWriter(fw, testKey, 8)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Write(make([]byte, 100))
	if err == nil {
		t.Fatal("a failing destination went unnoticed")
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("write after a failure succeeded")
	}
	if err := w.Close(); err == nil {
		t.Fatal("close after a failure succeeded")
	}
}

type failingWriter struct{ okBytes int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.okBytes {
		return 0, errors.New("disk full")
	}
	f.okBytes -= len(p)
	return len(p), nil
}

func TestWriteAfterClose(t *testing.T) {
	w, err := NewWriter(io.Discard, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("late")); err == nil {
		t.Fatal("write after close succeeded")
	}
}
