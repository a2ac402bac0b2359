// Package acktoken mints and checks the links in an escalation text: the owner (or the backup
// contact) taps one to tell Ringback a person has taken the conversation over. A link names the
// conversation's workflow ID and the escalation, never the caller, and is signed so nobody can
// acknowledge a conversation they were not sent.
package acktoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Validity is how long a link works. An escalation nobody picks up within a week is long over.
const Validity = 7 * 24 * time.Hour

// MinKeyLen is the shortest key accepted.
const MinKeyLen = 32

// ErrInvalid is returned for a token that is malformed, forged or expired; one error for all, so
// the page that checks it reveals nothing about why.
var ErrInvalid = errors.New("acknowledgement link is invalid or expired")

// Claim is what a token vouches for.
type Claim struct {
	WorkflowID   string
	EscalationID int64
	IssuedAt     time.Time
}

// macLen is the truncated HMAC-SHA256 length: 128 bits is beyond guessing and keeps the link
// short enough for one SMS segment with the rest of the message.
const macLen = 16

// Sign returns the token for c under key.
func Sign(key []byte, c Claim) (string, error) {
	if len(key) < MinKeyLen {
		return "", errors.New("acktoken: key too short")
	}
	if c.WorkflowID == "" || strings.Contains(c.WorkflowID, "\n") || c.EscalationID <= 0 {
		return "", errors.New("acktoken: incomplete claim")
	}
	body := c.WorkflowID + "\n" + strconv.FormatInt(c.EscalationID, 10) + "\n" + strconv.FormatInt(c.IssuedAt.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(body)) + "." + enc.EncodeToString(mac(key, body)), nil
}

// Verify checks token under key at now and returns its claim.
func Verify(key []byte, token string, now time.Time) (Claim, error) {
	// Strict: a token has exactly one spelling, so a link cannot be varied to dodge a log search.
	enc := base64.RawURLEncoding.Strict()
	b64, sig64, ok := strings.Cut(token, ".")
	// Strict decoding still skips carriage returns and newlines, so the alphabet is checked
	// first: otherwise "ab\rcd" would be accepted as a second spelling of "abcd".
	if !ok || len(token) > 512 || !base64URL(b64) || !base64URL(sig64) {
		return Claim{}, ErrInvalid
	}
	body, err1 := enc.DecodeString(b64)
	sig, err2 := enc.DecodeString(sig64)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(key, string(body))) {
		return Claim{}, ErrInvalid
	}
	parts := strings.Split(string(body), "\n")
	if len(parts) != 3 {
		return Claim{}, ErrInvalid
	}
	id, err1 := strconv.ParseInt(parts[1], 10, 64)
	issued, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 || parts[0] == "" {
		return Claim{}, ErrInvalid
	}
	c := Claim{WorkflowID: parts[0], EscalationID: id, IssuedAt: time.Unix(issued, 0).UTC()}
	if now.Before(c.IssuedAt.Add(-time.Minute)) || now.After(c.IssuedAt.Add(Validity)) {
		return Claim{}, ErrInvalid
	}
	return c, nil
}

// base64URL reports whether s uses only the unpadded base64url alphabet.
func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func mac(key []byte, body string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("ringback-ack-v1\n"))
	h.Write([]byte(body))
	return h.Sum(nil)[:macLen]
}

// DeriveKey turns a deployment secret both processes already hold (the phone-hash key) into the
// link-signing key, under its own label so the two uses can never be confused.
func DeriveKey(secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("ringback escalation acknowledgement links"))
	return h.Sum(nil)
}
