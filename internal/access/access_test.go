package access

import (
	"errors"
	"strings"
	"testing"
)

func TestTokensRoundTrip(t *testing.T) {
	tok, id, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	gotID, secret, err := ParseToken(tok)
	if err != nil || gotID != id {
		t.Fatalf("ParseToken = %q, %v", gotID, err)
	}
	if string(HashSecret(secret)) != string(hash) {
		t.Fatal("hash of the parsed secret differs")
	}
	if strings.Contains(string(hash), secret) {
		t.Fatal("hash holds the secret")
	}
	tok2, id2, _, _ := NewToken()
	if tok2 == tok || id2 == id {
		t.Fatal("tokens repeat")
	}
	for _, bad := range []string{"", tok[4:], "rbt_" + id, "rbt_" + id + "_short", "rbt_ABCDEFGHIJKL_" + secret, "Bearer " + tok, tok + "x"} {
		if _, _, err := ParseToken(bad); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("ParseToken(%.30q) = %v", bad, err)
		}
	}
}

func TestRules(t *testing.T) {
	ops := Principal{TokenID: "a", Role: Ops}
	comp := Principal{TokenID: "b", Role: Compliance}
	admin := Principal{TokenID: "c", Role: TenantAdmin, TenantID: "t1"}
	cases := []struct {
		name string
		err  error
		ok   bool
	}{
		{"ops manages tenants", ops.CanManageTenants(), true},
		{"compliance cannot manage tenants", comp.CanManageTenants(), false},
		{"tenant-admin cannot manage tenants", admin.CanManageTenants(), false},
		{"ops reads any tenant", ops.CanReadTenant("t2"), true},
		{"compliance reads any tenant", comp.CanReadTenant("t2"), true},
		{"tenant-admin reads its own", admin.CanReadTenant("t1"), true},
		{"tenant-admin cannot read another", admin.CanReadTenant("t2"), false},
		{"ops decodes payloads", ops.CanDecodePayloads(), true},
		{"compliance cannot decode payloads", comp.CanDecodePayloads(), false},
		{"tenant-admin cannot decode payloads", admin.CanDecodePayloads(), false},
		{"unknown role reads nothing", Principal{Role: "guest"}.CanReadTenant("t1"), false},
		{"ops closes any tenant", ops.CanCloseTenant("t2"), true},
		{"tenant-admin closes its own", admin.CanCloseTenant("t1"), true},
		{"tenant-admin cannot close another", admin.CanCloseTenant("t2"), false},
		{"compliance cannot close a tenant", comp.CanCloseTenant("t1"), false},
		{"ops reactivates", ops.CanReactivateTenant(), true},
		{"compliance cannot reactivate", comp.CanReactivateTenant(), false},
		{"tenant-admin cannot reactivate", admin.CanReactivateTenant(), false},
		{"ops places holds", ops.CanHoldTenant(), true},
		{"compliance places holds", comp.CanHoldTenant(), true},
		{"tenant-admin cannot lift a hold", admin.CanHoldTenant(), false},
		{"compliance files requests for any tenant", comp.CanFileDSR("t2"), true},
		{"tenant-admin files for its own", admin.CanFileDSR("t1"), true},
		{"tenant-admin cannot file for another", admin.CanFileDSR("t2"), false},
		{"ops does not handle requests", ops.CanFileDSR("t1"), false},
		{"compliance manages requests", comp.CanManageDSR(), true},
		{"tenant-admin cannot attest", admin.CanManageDSR(), false},
	}
	for _, c := range cases {
		if (c.err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, c.err)
		}
		if c.err != nil && !errors.Is(c.err, ErrForbidden) {
			t.Errorf("%s: error does not wrap ErrForbidden", c.name)
		}
	}
	if _, err := ParseRole("admin"); err == nil {
		t.Error("unknown role parsed")
	}
	if r, err := ParseRole("tenant-admin"); err != nil || r != TenantAdmin {
		t.Error("tenant-admin did not parse")
	}
}
