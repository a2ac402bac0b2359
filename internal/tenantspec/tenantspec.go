// Package tenantspec validates and normalises what an operator supplies to create a tenant, so the
// CLI and the HTTP API accept exactly the same input and report the same errors.
package tenantspec

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ringback/ringback/internal/greeting"
	"github.com/ringback/ringback/internal/phone"
)

// Spec is a tenant as requested.
type Spec struct {
	Name         string   `json:"name"`
	Numbers      []string `json:"numbers"`
	Timezone     string   `json:"timezone"`
	OwnerPhone   string   `json:"owner_phone"`
	GreetingText string   `json:"greeting_text,omitempty"`
}

// MaxNameLen bounds the business name, which is quoted in texts.
const MaxNameLen = 80

// Normalize validates s and returns it with phone numbers in E.164 and defaults filled in. All
// problems are reported at once so an operator can fix them in one go.
func (s Spec) Normalize() (Spec, error) {
	var errs []error
	out := Spec{
		Name:         strings.TrimSpace(s.Name),
		Timezone:     strings.TrimSpace(s.Timezone),
		GreetingText: s.GreetingText,
	}
	switch n := utf8.RuneCountInString(out.Name); {
	case !utf8.ValidString(out.Name):
		errs = append(errs, errors.New("name: not valid UTF-8"))
	case n == 0:
		errs = append(errs, errors.New("name: required"))
	case n > MaxNameLen:
		errs = append(errs, fmt.Errorf("name: %d characters, the limit is %d", n, MaxNameLen))
	case strings.ContainsAny(out.Name, "\r\n\t"):
		errs = append(errs, errors.New("name: must be a single line"))
	}
	if len(s.Numbers) == 0 {
		errs = append(errs, errors.New("numbers: at least one Twilio number is required"))
	}
	seen := map[string]bool{}
	for i, raw := range s.Numbers {
		e164, err := phone.Normalize(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("numbers[%d]: %w", i, err))
			continue
		}
		if seen[e164] {
			errs = append(errs, fmt.Errorf("numbers[%d]: listed twice", i))
			continue
		}
		seen[e164] = true
		out.Numbers = append(out.Numbers, e164)
	}
	if out.Timezone == "" {
		errs = append(errs, errors.New("timezone: required (an IANA name such as America/New_York)"))
	} else if _, err := time.LoadLocation(out.Timezone); err != nil || out.Timezone == "Local" {
		errs = append(errs, fmt.Errorf("timezone: %q is not an IANA time zone name", out.Timezone))
	}
	owner, err := phone.Normalize(s.OwnerPhone)
	if err != nil {
		errs = append(errs, fmt.Errorf("owner_phone: %w", err))
	}
	out.OwnerPhone = owner
	if out.GreetingText == "" {
		out.GreetingText = greeting.MissedCall
	}
	if err := greeting.Validate(out.GreetingText); err != nil {
		errs = append(errs, fmt.Errorf("greeting_text: %w", err))
	}
	if len(errs) > 0 {
		return Spec{}, &ValidationError{Problems: errs}
	}
	return out, nil
}

// ValidationError lists everything wrong with a Spec. Its text names fields and rules, never the
// submitted phone numbers.
type ValidationError struct {
	Problems []error
}

func (e *ValidationError) Error() string { return errors.Join(e.Problems...).Error() }

// Unwrap exposes the individual problems to errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error { return e.Problems }

// idPattern is what NewID produces. Tenant IDs become PostgreSQL schema names (t_<id>), so they
// are restricted to characters that never need quoting.
var idPattern = regexp.MustCompile(`^[a-z2-7]{16}$`)

// NewID returns a random tenant ID: 80 bits, lower-case base32.
func NewID() string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("tenantspec: crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// ValidID reports whether id has the shape of a tenant ID.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// SchemaName is the PostgreSQL schema holding a tenant's data. It returns an error for anything
// that is not a tenant ID, so no caller can build a schema name from unchecked input.
func SchemaName(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("invalid tenant id")
	}
	return "t_" + id, nil
}
