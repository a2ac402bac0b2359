package envelope

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewKey()
	msg := []byte("+16145550123 called")
	sealed, err := Seal(k, msg, []byte("tenant-a/v1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, msg) || bytes.Contains(sealed, []byte("6145550123")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	again, _ := Seal(k, msg, []byte("tenant-a/v1"))
	if bytes.Equal(sealed, again) {
		t.Fatal("nonce reused: two seals are identical")
	}
	got, err := Open(k, sealed, []byte("tenant-a/v1"))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		key, sealed, aad []byte
	}{
		"wrong key": {other, sealed, []byte("tenant-a/v1")},
		"wrong aad": {k, sealed, []byte("tenant-b/v1")},
		"tampered":  {k, tampered, []byte("tenant-a/v1")},
		"truncated": {k, sealed[:10], []byte("tenant-a/v1")},
		"empty":     {k, nil, []byte("tenant-a/v1")},
	} {
		if _, err := Open(tc.key, tc.sealed, tc.aad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
	if _, err := Seal([]byte("short"), msg, nil); err == nil {
		t.Fatal("short key accepted")
	}
}
