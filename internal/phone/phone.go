// Package phone normalises phone numbers to E.164 and derives the keyed hashes that stand in for
// them wherever a number must not appear: workflow IDs, search attributes, logs, suppression lists.
package phone

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is used for numbers written without a country code. Ringback's tenants are North
// American businesses, and Twilio always sends E.164, so this only matters for operator input.
const DefaultRegion = "US"

// ErrInvalid is returned for input that is not a valid, dialable phone number.
var ErrInvalid = errors.New("not a valid phone number")

// ErrWithheld is returned for the placeholder numbers carriers send when the caller hides their
// number; there is nobody to text back.
var ErrWithheld = errors.New("caller number withheld")

// withheld lists the From values Twilio documents for anonymous, restricted and unavailable
// callers. They parse as numbers in some regions, so they are checked before parsing.
var withheld = map[string]bool{
	"anonymous":    true,
	"restricted":   true,
	"unavailable":  true,
	"unknown":      true,
	"private":      true,
	"+266696687":   true, // "ANONYMOUS" on a keypad
	"+7378742833":  true, // "RESTRICTED"
	"+2562533":     true, // "BLOCKED"
	"+8656696":     true, // "UNKNOWN"
	"+86282452253": true, // "UNAVAILABLE"
}

// Normalize returns the E.164 form of raw or an error naming why it is unusable. The error never
// contains the input, so it can be logged and returned to HTTP clients.
func Normalize(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalid)
	}
	if withheld[strings.ToLower(s)] {
		return "", ErrWithheld
	}
	if len(s) > 32 {
		return "", fmt.Errorf("%w: too long", ErrInvalid)
	}
	num, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil {
		return "", fmt.Errorf("%w: unparseable", ErrInvalid)
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", fmt.Errorf("%w: no such number range", ErrInvalid)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Display renders an E.164 number the way people dial it: national format for US numbers
// ("(614) 555-0123"), international for the rest. Anything unparseable comes back unchanged.
func Display(e164 string) string {
	num, err := phonenumbers.Parse(e164, DefaultRegion)
	if err != nil {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(num) == DefaultRegion {
		return phonenumbers.Format(num, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// Mask renders a number for human eyes in logs and the sandbox: the country code and the last two
// digits survive, enough to tell test numbers apart and useless for contacting anyone.
func Mask(e164 string) string {
	if len(e164) < 6 || e164[0] != '+' {
		return "***"
	}
	num, err := phonenumbers.Parse(e164, DefaultRegion)
	cc := "+"
	if err == nil {
		cc = fmt.Sprintf("+%d", num.GetCountryCode())
	}
	return cc + strings.Repeat("•", len(e164)-len(cc)-2) + e164[len(e164)-2:]
}

// Hasher computes keyed hashes of E.164 numbers. The key keeps the hash from being reversed by
// enumerating the (small) space of phone numbers.
type Hasher struct {
	key []byte
}

// MinKeyLen is the shortest accepted hashing key, in bytes.
const MinKeyLen = 32

// NewHasher returns a Hasher for key, which must be at least MinKeyLen bytes.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("phone hash key: need at least %d bytes, got %d", MinKeyLen, len(key))
	}
	return &Hasher{key: append([]byte(nil), key...)}, nil
}

// Hash returns the hex HMAC-SHA256 of an E.164 number.
func (h *Hasher) Hash(e164 string) string {
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte(e164))
	return hex.EncodeToString(mac.Sum(nil))
}
