package backupfile

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary files to the reader under a fixed key. The reader must never panic,
// must end every input with io.EOF or an error, and may only return plaintext that was sealed, so
// its output can never be longer than its input. The seeds (testdata/fuzz/FuzzReader, and the
// ones added below) are valid files with small chunks, which the fuzzer mutates into truncated,
// spliced and altered ones.
func FuzzReader(f *testing.F) {
	for _, c := range []struct{ size, chunk int }{{0, 16}, {1, 16}, {16, 16}, {40, 16}, {100, 7}} {
		f.Add(seal(f, testKey, bytes.Repeat([]byte("+16145550123 "), c.size)[:c.size], c.chunk))
	}
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, file []byte) {
		r, err := NewReader(bytes.NewReader(file), testKey)
		if err != nil {
			if r != nil {
				t.Fatal("a reader returned with an error")
			}
			return
		}
		got, err := io.ReadAll(io.LimitReader(r, int64(len(file))+1))
		if len(got) > max(0, len(file)-headerSize-tagSize) {
			t.Fatalf("%d plaintext bytes out of a %d-byte file", len(got), len(file))
		}
		if err == nil {
			// A file that decrypts completely must survive a round trip through the writer.
			h, herr := ReadHeader(bytes.NewReader(file))
			if herr != nil {
				t.Fatalf("reader accepted a header that ReadHeader rejects: %v", herr)
			}
			again, oerr := open(seal(t, testKey, got, h.ChunkSize), testKey)
			if oerr != nil || !bytes.Equal(again, got) {
				t.Fatalf("re-sealing the plaintext: %v", oerr)
			}
			return
		}
		if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("unexpected error type: %v", err)
		}
	})
}
