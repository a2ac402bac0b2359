// Package backupfile is the encrypted container Ringback writes database backups into. It streams:
// neither side ever holds more than one chunk, so a dump of any size passes through in constant
// memory.
//
// A file is a header followed by the plaintext cut into chunks, each sealed with AES-256-GCM:
//
//	header  magic "RBBACKUP" | version (1 byte) | chunk size (uint32) | key id (8) | salt (32)
//	chunk   ciphertext of chunk-size plaintext bytes | GCM tag (16)
//	...
//	final   ciphertext of 0..chunk-size bytes | GCM tag (16)
//
// Each file gets its own AES key, derived with HKDF-SHA256 from the backup key and the header's
// random salt, so the chunk nonces can be a plain counter without ever repeating under one key,
// however many backups share the backup key. A chunk's nonce is its index (11 bytes, big endian)
// and a final-chunk flag (1 byte); its additional data is the whole header. So a chunk that is
// reordered, swapped in from another file, or presented as the last one when it was not, does not
// authenticate, and neither does any chunk after a change to the header. Only the final chunk may
// be short, and it is empty only when the whole plaintext is: a file cut at a chunk boundary
// therefore ends in a chunk sealed as not final, which the reader reports as truncation.
//
// The key id is a fingerprint of the backup key (an HMAC of a fixed label under it), so a restore
// with the wrong key fails with ErrWrongKey before reading any data, and a listing can say which
// key each file needs. It reveals nothing about the key.
package backupfile

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

const (
	// KeySize is the length of a backup key in bytes (AES-256).
	KeySize = 32
	// ChunkSize is how much plaintext one chunk of a new file holds.
	ChunkSize = 64 << 10
	// MaxChunkSize bounds the chunk size a reader accepts, and so what it allocates for a header
	// it cannot authenticate until the first chunk is read.
	MaxChunkSize = 1 << 20
	// Version is the format version NewWriter writes.
	Version = 1

	magic      = "RBBACKUP"
	keyIDSize  = 8
	saltSize   = 32
	headerSize = len(magic) + 1 + 4 + keyIDSize + saltSize
	tagSize    = 16
	nonceSize  = 12
	// keyIDLabel and fileKeyInfo separate the two uses of the backup key.
	keyIDLabel  = "ringback backup key id v1"
	fileKeyInfo = "ringback backup file key v1"
)

var (
	// ErrNotBackup is returned for input that does not start with a backup header.
	ErrNotBackup = errors.New("backupfile: not a Ringback backup")
	// ErrUnsupportedVersion is returned for a backup written by a newer format version.
	ErrUnsupportedVersion = errors.New("backupfile: unsupported format version")
	// ErrWrongKey is returned when the backup was encrypted under another key.
	ErrWrongKey = errors.New("backupfile: backup was encrypted under another key")
	// ErrTruncated is returned when the input ends before the final chunk.
	ErrTruncated = errors.New("backupfile: backup is truncated")
	// ErrCorrupt is returned when a chunk does not authenticate: the file was changed, cut inside
	// a chunk, chunks were moved, or bytes follow the final chunk.
	ErrCorrupt = errors.New("backupfile: backup is damaged or was tampered with")
)

// Header is what a backup's header says about it.
type Header struct {
	Version   int
	ChunkSize int
	// KeyID is the fingerprint of the key the backup was encrypted under (hex).
	KeyID string
	// salt feeds the derivation of the file's own key.
	salt []byte
	raw  []byte
}

// KeyID returns the fingerprint of key as it appears in Header.KeyID.
func KeyID(key []byte) string { return hex.EncodeToString(keyID(key)) }

func keyID(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(keyIDLabel))
	return m.Sum(nil)[:keyIDSize]
}

func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("backupfile: key must be %d bytes, got %d", KeySize, len(key))
	}
	return nil
}

// fileAEAD derives the file's own key from the backup key and the header's salt.
func fileAEAD(key, salt []byte) (cipher.AEAD, error) {
	fileKey, err := hkdf.Key(sha256.New, key, salt, fileKeyInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("backupfile: derive file key: %w", err)
	}
	block, err := aes.NewCipher(fileKey)
	if err != nil {
		return nil, fmt.Errorf("backupfile: %w", err)
	}
	return cipher.NewGCM(block)
}

// chunkNonce is the nonce of chunk index: the index, then 1 for the final chunk and 0 otherwise.
func chunkNonce(dst []byte, index uint64, final bool) []byte {
	clear(dst[:nonceSize])
	binary.BigEndian.PutUint64(dst[nonceSize-9:nonceSize-1], index)
	if final {
		dst[nonceSize-1] = 1
	}
	return dst[:nonceSize]
}

// ReadHeader reads and checks a backup's header without needing its key.
func ReadHeader(r io.Reader) (Header, error) {
	raw := make([]byte, headerSize)
	if n, err := io.ReadFull(r, raw); err != nil {
		if n >= len(magic) && string(raw[:len(magic)]) == magic {
			return Header{}, fmt.Errorf("%w: the header is incomplete", ErrTruncated)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Header{}, ErrNotBackup
		}
		return Header{}, fmt.Errorf("backupfile: read header: %w", err)
	}
	if string(raw[:len(magic)]) != magic {
		return Header{}, ErrNotBackup
	}
	rest := raw[len(magic):]
	h := Header{Version: int(rest[0]), raw: raw}
	if h.Version != Version {
		return Header{}, fmt.Errorf("%w: %d (this build reads %d)", ErrUnsupportedVersion, h.Version, Version)
	}
	size := binary.BigEndian.Uint32(rest[1:5])
	if size == 0 || size > MaxChunkSize {
		return Header{}, fmt.Errorf("%w: chunk size %d", ErrCorrupt, size)
	}
	h.ChunkSize = int(size)
	h.KeyID = hex.EncodeToString(rest[5 : 5+keyIDSize])
	h.salt = rest[5+keyIDSize:]
	return h, nil
}

// NewWriter returns a writer that encrypts what is written to it under key into w. The header is
// written at once; Close seals the final chunk and must be called, or the file is truncated. Close
// does not close w.
func NewWriter(w io.Writer, key []byte) (io.WriteCloser, error) {
	return newWriter(w, key, ChunkSize)
}

func newWriter(w io.Writer, key []byte, chunkSize int) (*writer, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if chunkSize <= 0 || chunkSize > MaxChunkSize {
		return nil, fmt.Errorf("backupfile: chunk size %d out of range", chunkSize)
	}
	header := make([]byte, 0, headerSize)
	header = append(header, magic...)
	header = append(header, Version)
	header = binary.BigEndian.AppendUint32(header, uint32(chunkSize))
	header = append(header, keyID(key)...)
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("backupfile: random salt: %w", err)
	}
	header = append(header, salt...)
	aead, err := fileAEAD(key, salt)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(header); err != nil {
		return nil, fmt.Errorf("backupfile: write header: %w", err)
	}
	return &writer{
		w: w, aead: aead, header: header,
		buf: make([]byte, 0, chunkSize), out: make([]byte, 0, chunkSize+tagSize),
	}, nil
}

type writer struct {
	w      io.Writer
	aead   cipher.AEAD
	header []byte
	buf    []byte // plaintext of the chunk being filled
	out    []byte // sealed chunk
	nonce  [nonceSize]byte
	index  uint64
	err    error // sticky: after a failed write the output is unusable
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("backupfile: write after close")
	}
	written := 0
	for len(p) > 0 {
		// A full chunk is sealed only once more data arrives: until then it may be the final one.
		if len(w.buf) == cap(w.buf) {
			if err := w.seal(false); err != nil {
				return written, err
			}
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		written += n
	}
	return written, nil
}

func (w *writer) seal(final bool) error {
	w.out = w.aead.Seal(w.out[:0], chunkNonce(w.nonce[:], w.index, final), w.buf, w.header)
	if _, err := w.w.Write(w.out); err != nil {
		w.err = fmt.Errorf("backupfile: write chunk %d: %w", w.index, err)
		return w.err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

// Close seals what is buffered as the final chunk.
func (w *writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil
	}
	w.closed = true
	return w.seal(true)
}

// NewReader reads the header from r, checks that the backup was encrypted under key, and returns
// a reader of the plaintext. The plaintext reader returns io.EOF only after the final chunk has
// authenticated; a truncated, reordered or altered file yields ErrTruncated or ErrCorrupt
// instead, so a consumer that reads to io.EOF has read exactly what was written. Data handed out
// before such an error did authenticate, chunk by chunk.
func NewReader(r io.Reader, key []byte) (io.Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	if want := KeyID(key); h.KeyID != want {
		return nil, fmt.Errorf("%w: the file needs key %s, this key is %s", ErrWrongKey, h.KeyID, want)
	}
	aead, err := fileAEAD(key, h.salt)
	if err != nil {
		return nil, err
	}
	return &reader{
		r: r, aead: aead, header: h.raw,
		// One byte more than a full chunk: whether it arrives tells a full chunk that is the
		// last one from one that is followed by more.
		in: make([]byte, h.ChunkSize+tagSize+1),
	}, nil
}

type reader struct {
	r      io.Reader
	aead   cipher.AEAD
	header []byte
	in     []byte // sealed input; plain is decrypted in place inside it
	plain  []byte // authenticated plaintext not yet returned
	nonce  [nonceSize]byte
	index  uint64

	// carry is the first byte of the next chunk, read ahead with the previous one; pending says
	// whether there is one.
	carry   byte
	pending int
	done    bool  // the final chunk has authenticated
	err     error // sticky
}

func (r *reader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.next()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// next reads and opens one chunk into r.plain.
func (r *reader) next() error {
	r.in[0] = r.carry
	n, err := io.ReadFull(r.r, r.in[r.pending:])
	n += r.pending
	r.pending = 0
	switch {
	case err == nil:
		// More input follows, so this chunk must not be the final one. The extra byte starts
		// the next chunk.
		sealed := r.in[:len(r.in)-1]
		plain, err := r.aead.Open(sealed[:0], chunkNonce(r.nonce[:], r.index, false), sealed, r.header)
		if err != nil {
			return fmt.Errorf("%w (chunk %d)", ErrCorrupt, r.index)
		}
		r.plain = plain
		r.carry, r.pending = r.in[len(r.in)-1], 1
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if n < tagSize {
			return fmt.Errorf("%w: the input ends before the final chunk", ErrTruncated)
		}
		sealed := r.in[:n]
		// The last chunk in the input must open as the final one. If it opens as an ordinary
		// chunk instead, the file was cut right after it: say so rather than "corrupt".
		plain, err := r.aead.Open(nil, chunkNonce(r.nonce[:], r.index, true), sealed, r.header)
		if err != nil {
			if _, notFinal := r.aead.Open(nil, chunkNonce(r.nonce[:], r.index, false), sealed, r.header); notFinal == nil {
				return fmt.Errorf("%w: the input ends after chunk %d, which is not the last", ErrTruncated, r.index)
			}
			return fmt.Errorf("%w (chunk %d)", ErrCorrupt, r.index)
		}
		r.plain = plain
		r.done = true
	default:
		return fmt.Errorf("backupfile: read chunk %d: %w", r.index, err)
	}
	r.index++
	return nil
}
