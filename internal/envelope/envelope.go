// Package envelope seals and opens byte strings with AES-256-GCM. Ringback uses it twice: data
// keys are sealed under the master key (key wrapping), and workflow payloads are sealed under a
// tenant's data key. Associated data binds each ciphertext to where it belongs (a key id, a
// scope), so a ciphertext moved elsewhere fails to open instead of decrypting in the wrong place.
package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the key length in bytes (AES-256).
const KeySize = 32

// ErrOpen is returned when a ciphertext does not authenticate: wrong key, wrong associated data,
// or tampering. The cause is deliberately not distinguished.
var ErrOpen = errors.New("envelope: ciphertext does not authenticate")

// NewKey returns a random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("envelope: random key: %w", err)
	}
	return k, nil
}

// Seal encrypts plaintext and returns nonce || ciphertext || tag.
func Seal(key, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("envelope: random nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

// Open reverses Seal.
func Open(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize()+gcm.Overhead() {
		return nil, ErrOpen
	}
	nonce, ct := sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():]
	out, err := gcm.Open(nil, nonce, ct, aad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("envelope: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return cipher.NewGCM(block)
}
