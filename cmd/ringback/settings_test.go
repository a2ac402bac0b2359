package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/stdwebhook"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
)

// cliFixture is a migrated database with one tenant, and a way to run the CLI against it.
type cliFixture struct {
	t      *testing.T
	env    map[string]string
	tenant string
}

func newCLIFixture(t *testing.T) *cliFixture {
	t.Helper()
	f := &cliFixture{t: t, env: map[string]string{
		"DATABASE_URL": testenv.Database(t), "RINGBACK_ENV": "dev",
		"RINGBACK_MASTER_KEY": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("K", 32))),
	}}
	if _, err := f.run("migrate"); err != nil {
		t.Fatal(err)
	}
	out, err := f.run("tenant", "create", "--name", "Settings Co", "--number", "+15005550006", "--timezone", "America/New_York", "--owner-phone", "+16145550100", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var tn struct{ ID string }
	if err := json.Unmarshal([]byte(out), &tn); err != nil {
		t.Fatal(err)
	}
	f.tenant = tn.ID
	return f
}

func (f *cliFixture) run(args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, &out, &bytes.Buffer{}, config.FromMap(f.env))
	return out.String(), err
}

func TestTenantProfileCommands(t *testing.T) {
	f := newCLIFixture(t)
	out, err := f.run("tenant", "profile", "show", "--tenant", f.tenant)
	var shown tenantspec.Profile
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown.Services[0].Name != "Appointment" {
		t.Fatalf("show the default: %v %q", err, out)
	}

	// What show prints, edited, is what set takes.
	shown.Services = append(shown.Services, tenantspec.Service{Name: "Consultation", Minutes: 45, PriceCents: 5000})
	shown.Hours.Sat = []string{"10:00-14:00"}
	edited, _ := json.Marshal(shown)
	file := filepath.Join(t.TempDir(), "profile.json")
	if err := os.WriteFile(file, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := f.run("tenant", "profile", "set", "--tenant", f.tenant, "--file", file); err != nil || !strings.Contains(out, "saved") || !strings.Contains(out, "Consultation") {
		t.Fatalf("set from a file: %v %q", err, out)
	}
	if out, _ := f.run("tenant", "profile", "show", "--tenant", f.tenant); !strings.Contains(out, `"10:00-14:00"`) {
		t.Fatalf("show after set: %q", out)
	}

	stdin = strings.NewReader(`{"services":[{"name":"Tune-up","minutes":60}],"hours":{"tue":["08:00-12:00"]}}`)
	t.Cleanup(func() { stdin = os.Stdin })
	if out, err := f.run("tenant", "profile", "set", "--tenant", f.tenant, "--file", "-"); err != nil || !strings.Contains(out, "Tune-up") {
		t.Fatalf("set from stdin: %v %q", err, out)
	}

	for _, c := range []struct {
		input, want string
	}{
		{`{"services":[{"name":"X","minutes":30}],"hours":{"monday":["09:00-17:00"]}}`, `unknown field "monday"`},
		{`{"services":[],"hours":{},"booking_horizon_days":500}`, "services: at least one service is required\n  hours: the business is never open"},
		{`{"services":[{"name":"X","minutes":30}],"hours":{"mon":["09:00-17:00"]}} {}`, "more than one JSON value"},
	} {
		stdin = strings.NewReader(c.input)
		if _, err := f.run("tenant", "profile", "set", "--tenant", f.tenant, "--file", "-"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.input, err, c.want)
		}
	}
	stdin = strings.NewReader(string(edited))
	if _, err := f.run("tenant", "profile", "set", "--tenant", "zzzzzzzzzzzzzzzz", "--file", "-"); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Errorf("unknown tenant: %v", err)
	}
	for _, args := range [][]string{
		{"tenant", "profile"},
		{"tenant", "profile", "edit", "--tenant", f.tenant},
		{"tenant", "profile", "show"},
		{"tenant", "profile", "set", "--tenant", f.tenant},
		{"tenant", "profile", "show", "--tenant", f.tenant, "extra"},
	} {
		if _, err := f.run(args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestTenantWebhookCommands(t *testing.T) {
	f := newCLIFixture(t)
	secretPattern := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)
	set := func() string {
		t.Helper()
		out, err := f.run("tenant", "webhook", "set", "--tenant", f.tenant, "--url", "https://hooks.example.com/in")
		if err != nil {
			t.Fatalf("set: %v", err)
		}
		secrets := secretPattern.FindAllString(out, -1)
		if len(secrets) != 1 || !strings.Contains(out, "only this once") {
			t.Fatalf("set printed %q", out)
		}
		if _, err := stdwebhook.ParseSecret(secrets[0]); err != nil {
			t.Fatalf("printed secret: %v", err)
		}
		return secrets[0]
	}
	first := set()
	out, err := f.run("tenant", "webhook", "show", "--tenant", f.tenant)
	if err != nil || !strings.Contains(out, "https://hooks.example.com/in") || strings.Contains(out, "whsec_") {
		t.Fatalf("show: %v %q", err, out)
	}
	if second := set(); second == first {
		t.Fatal("setting again kept the secret")
	}
	if out, err := f.run("tenant", "webhook", "delete", "--tenant", f.tenant); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %v %q", err, out)
	}
	if _, err := f.run("tenant", "webhook", "show", "--tenant", f.tenant); err == nil || !strings.Contains(err.Error(), "has no webhook") {
		t.Fatalf("show after delete: %v", err)
	}
	if _, err := f.run("tenant", "webhook", "delete", "--tenant", f.tenant); err == nil {
		t.Fatal("a second delete succeeded")
	}
	if _, err := f.run("tenant", "webhook", "set", "--tenant", "zzzzzzzzzzzzzzzz", "--url", "https://hooks.example.com/in"); err == nil || !strings.Contains(err.Error(), "no such tenant") {
		t.Fatalf("unknown tenant: %v", err)
	}
	for _, args := range [][]string{
		{"tenant", "webhook", "set", "--tenant", f.tenant, "--url", "http://hooks.example.com/in"},
		{"tenant", "webhook", "set", "--tenant", f.tenant},
		{"tenant", "webhook", "rotate", "--tenant", f.tenant},
		{"tenant", "webhook", "show"},
	} {
		if _, err := f.run(args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	delete(f.env, "RINGBACK_MASTER_KEY")
	f.env["RINGBACK_ENV"] = "production" // dev would fall back to its published key
	if _, err := f.run("tenant", "webhook", "set", "--tenant", f.tenant, "--url", "https://hooks.example.com/in"); err == nil || !strings.Contains(err.Error(), "RINGBACK_MASTER_KEY") {
		t.Fatalf("without a master key: %v", err)
	}
}
