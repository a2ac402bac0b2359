package auditlog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// DefaultKeyName names keys made by `ringback audit keygen`. The name appears in every
// checkpoint's signature line.
const DefaultKeyName = "ringback-audit"

// errSigningKey never includes the key: it is a secret.
var errSigningKey = errors.New("audit signing key: not a note signing key (PRIVATE+KEY+<name>+<hash>+<key>, as made by `ringback audit keygen`)")

// GenerateKey returns a new Ed25519 signing key and its verifier key, in the note package's
// encodings.
func GenerateKey(name string) (signingKey, verifierKey string, err error) {
	signingKey, verifierKey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("generate audit key: %w", err)
	}
	return signingKey, verifierKey, nil
}

// NewSigner parses a signing key and returns its signer together with the verifier key that
// checks its signatures. The note package's Ed25519 signing key holds the private seed, and the
// public key follows from the seed, so a deployment configures one secret and can still hand out
// the verifier key to anyone who audits it.
func NewSigner(signingKey string) (note.Signer, string, error) {
	signingKey = strings.TrimSpace(signingKey)
	signer, err := note.NewSigner(signingKey)
	if err != nil {
		return nil, "", errSigningKey
	}
	// PRIVATE+KEY+name+hash+key; the base64 key may itself contain '+'.
	parts := strings.SplitN(signingKey, "+", 5)
	if len(parts) != 5 {
		return nil, "", errSigningKey
	}
	key, err := base64.StdEncoding.DecodeString(parts[4])
	// note.NewSigner has accepted it, so it is one algorithm byte (1, Ed25519) and a seed.
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return nil, "", errSigningKey
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	verifierKey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return nil, "", errSigningKey
	}
	v, err := note.NewVerifier(verifierKey)
	if err != nil || v.KeyHash() != signer.KeyHash() {
		return nil, "", errSigningKey
	}
	return signer, verifierKey, nil
}

// NewVerifiers returns the verifiers for the given verifier keys. Several keys let checkpoints
// signed before a key rotation keep verifying.
func NewVerifiers(verifierKeys ...string) (note.Verifiers, error) {
	if len(verifierKeys) == 0 {
		return nil, errors.New("audit verifier: no key given")
	}
	vs := make([]note.Verifier, 0, len(verifierKeys))
	for i, k := range verifierKeys {
		v, err := note.NewVerifier(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("audit verifier key %d: %w", i+1, err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...), nil
}
