package acktoken

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	key = []byte(strings.Repeat("k", 32))
	now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

func TestRoundTrip(t *testing.T) {
	c := Claim{WorkflowID: "conv/abcdefghijklmnop/0123456789abcdef", EscalationID: 7, IssuedAt: now}
	tok, err := Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "/+= ") {
		t.Fatalf("token %q is not URL-safe", tok)
	}
	got, err := Verify(key, tok, now.Add(time.Hour))
	if err != nil || got != c {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, c)
	}
}

func TestRejects(t *testing.T) {
	c := Claim{WorkflowID: "conv/abcdefghijklmnop/0123456789abcdef", EscalationID: 7, IssuedAt: now}
	tok, err := Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Sign([]byte(strings.Repeat("x", 32)), c)
	body, sig, _ := strings.Cut(tok, ".")
	forgedBody, _, _ := strings.Cut(mustSign(t, Claim{WorkflowID: "conv/abcdefghijklmnop/ffffffffffffffff", EscalationID: 7, IssuedAt: now}), ".")
	for name, tc := range map[string]struct {
		token string
		at    time.Time
	}{
		"other key":       {other, now},
		"swapped body":    {forgedBody + "." + sig, now},
		"truncated sig":   {body + "." + sig[:10], now},
		"no dot":          {body + sig, now},
		"expired":         {tok, now.Add(Validity + time.Second)},
		"from the future": {tok, now.Add(-time.Hour)},
		"empty":           {"", now},
		"garbage":         {"%%%.%%%", now},
	} {
		if _, err := Verify(key, tc.token, tc.at); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := Sign(key[:10], c); err == nil {
		t.Error("short key accepted")
	}
	if _, err := Sign(key, Claim{WorkflowID: "a\nb", EscalationID: 1}); err == nil {
		t.Error("newline in workflow id accepted")
	}
}

func mustSign(t *testing.T, c Claim) string {
	t.Helper()
	tok, err := Sign(key, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func FuzzVerify(f *testing.F) {
	f.Add(mustSignF(f))
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := Verify(key, token, now)
		if err == nil {
			// Anything accepted must be exactly what Sign produces for its claim.
			again, serr := Sign(key, c)
			if serr != nil || again != token {
				t.Fatalf("accepted %q, which Sign renders as %q (%v)", token, again, serr)
			}
		}
	})
}

func mustSignF(f *testing.F) string {
	tok, err := Sign(key, Claim{WorkflowID: "conv/x/y", EscalationID: 1, IssuedAt: now})
	if err != nil {
		f.Fatal(err)
	}
	return tok
}

func TestDeriveKey(t *testing.T) {
	a, b := DeriveKey([]byte("secret-one")), DeriveKey([]byte("secret-two"))
	if len(a) < MinKeyLen || string(a) == string(b) || string(a) == "secret-one" {
		t.Fatalf("derived keys %x / %x", a, b)
	}
}
