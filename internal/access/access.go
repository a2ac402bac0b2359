// Package access defines who may do what through Ringback's API and CLI: the roles, the
// principal a request acts as, the rules, and the format of API tokens. Tokens are random
// secrets shown once; only their SHA-256 is stored (a 256-bit random secret needs no slow hash).
package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Role is what a token may do.
type Role string

const (
	// Ops runs the service: manages tenants and tokens, reads decrypted payloads.
	Ops Role = "ops"
	// Compliance handles data-subject requests and audits, across tenants.
	Compliance Role = "compliance"
	// TenantAdmin manages one tenant and nothing else.
	TenantAdmin Role = "tenant-admin"
)

// Roles lists every role.
var Roles = []Role{Ops, Compliance, TenantAdmin}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want ops, compliance or tenant-admin)", s)
}

// Principal is who a request acts as.
type Principal struct {
	TokenID  string
	Role     Role
	TenantID string // set for tenant-admin only
}

// Actor names the principal in audit entries and logs.
func (p Principal) Actor() string { return "token:" + p.TokenID }

// ErrForbidden is wrapped by every refusal, whose text says what was refused and why.
var ErrForbidden = errors.New("forbidden")

func deny(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrForbidden, fmt.Sprintf(format, args...))
}

// CanManageTenants: creating tenants, issuing tokens.
func (p Principal) CanManageTenants() error {
	if p.Role != Ops {
		return deny("role %s cannot manage tenants", p.Role)
	}
	return nil
}

// CanReadTenant: a tenant's profile and its data.
func (p Principal) CanReadTenant(tenantID string) error {
	switch p.Role {
	case Ops, Compliance:
		return nil
	case TenantAdmin:
		if p.TenantID == tenantID {
			return nil
		}
		return deny("a tenant-admin token reaches only its own tenant")
	}
	return deny("role %s cannot read tenants", p.Role)
}

// CanCloseTenant: closing a tenant's account and asking for its early deletion — ops, and the
// tenant-admin of that tenant, whose right it is to leave and be forgotten early.
func (p Principal) CanCloseTenant(tenantID string) error {
	switch {
	case p.Role == Ops:
		return nil
	case p.Role == TenantAdmin && p.TenantID == tenantID:
		return nil
	case p.Role == TenantAdmin:
		return deny("a tenant-admin token reaches only its own tenant")
	}
	return deny("role %s cannot close a tenant's account", p.Role)
}

// CanReactivateTenant: restoring a closing account — ops only; a paying subscription does it
// through the Stripe webhook.
func (p Principal) CanReactivateTenant() error {
	if p.Role != Ops {
		return deny("only ops tokens may reactivate an account")
	}
	return nil
}

// CanHoldTenant: placing and releasing legal holds — ops and compliance. A tenant cannot lift a
// hold placed on its own data.
func (p Principal) CanHoldTenant() error {
	if p.Role != Ops && p.Role != Compliance {
		return deny("role %s cannot place or release legal holds", p.Role)
	}
	return nil
}

// CanFileDSR: filing and reading data-subject requests about one tenant's callers — compliance,
// and the tenant-admin of that tenant, who receives requests from its own customers.
func (p Principal) CanFileDSR(tenantID string) error {
	switch {
	case p.Role == Compliance:
		return nil
	case p.Role == TenantAdmin && p.TenantID == tenantID:
		return nil
	case p.Role == TenantAdmin:
		return deny("a tenant-admin token reaches only its own tenant")
	}
	return deny("role %s cannot handle data-subject requests", p.Role)
}

// CanManageDSR: vouching for a requester's identity, extending, holding, and downloading exports
// — compliance only.
func (p Principal) CanManageDSR() error {
	if p.Role != Compliance {
		return deny("only compliance tokens may attest, extend, hold or download data-subject requests")
	}
	return nil
}

// CanDecodePayloads: reading workflow payloads through the codec endpoint.
func (p Principal) CanDecodePayloads() error {
	if p.Role != Ops {
		return deny("only ops tokens may decode payloads")
	}
	return nil
}

// Token format: rbt_<id>_<secret>. The id is public (it names the token in lists and audit
// entries); the secret is never stored.
const tokenPrefix = "rbt_"

var (
	tokenIDPattern = regexp.MustCompile(`^[a-z2-7]{12}$`)
	secretPattern  = regexp.MustCompile(`^[a-z2-7]{52}$`)
	b32            = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// NewToken returns a fresh token, its id and the hash to store.
func NewToken() (token, id string, hash []byte, err error) {
	idBytes := make([]byte, 8)
	secret := make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return "", "", nil, err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", "", nil, err
	}
	id = strings.ToLower(b32.EncodeToString(idBytes))[:12]
	s := strings.ToLower(b32.EncodeToString(secret))
	return tokenPrefix + id + "_" + s, id, HashSecret(s), nil
}

// ErrMalformedToken is returned for a string that is not a Ringback token at all.
var ErrMalformedToken = errors.New("malformed token")

// ParseToken splits a token into its id and secret.
func ParseToken(token string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", "", ErrMalformedToken
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || !tokenIDPattern.MatchString(id) || !secretPattern.MatchString(secret) {
		return "", "", ErrMalformedToken
	}
	return id, secret, nil
}

// HashSecret is the stored form of a token's secret.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte("ringback api token\x00" + secret))
	return sum[:]
}

// ValidTokenID reports whether id has the shape of a token id.
func ValidTokenID(id string) bool { return tokenIDPattern.MatchString(id) }
