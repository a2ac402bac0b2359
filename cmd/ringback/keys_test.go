package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/testenv"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
)

func TestKeysRotateAndDestroy(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.Database(t)
	master := []byte(strings.Repeat("K", 32))
	env := config.FromMap(map[string]string{
		"DATABASE_URL": dbURL, "RINGBACK_ENV": "dev",
		"RINGBACK_MASTER_KEY": base64.StdEncoding.EncodeToString(master),
	})
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, &out, &bytes.Buffer{}, env)
		return out.String(), err
	}
	if _, err := cli("migrate"); err != nil {
		t.Fatal(err)
	}
	out, err := cli("tenant", "create", "--name", "Keys Co", "--number", "+15005550006", "--timezone", "UTC", "--owner-phone", "+16145550100", "--json")
	if err != nil {
		t.Fatal(err)
	}
	tenant := strings.Split(strings.Split(out, `"id": "`)[1], `"`)[0]

	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetAuditSigner(testenv.AuditSigner(t))
	ring, err := keyring.New(master, db)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := ring.Current(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := cli("keys", "rotate", "--tenant", tenant); err != nil || !strings.Contains(out, tenant+"/v2") {
		t.Fatalf("rotate: %q %v", out, err)
	}
	for _, bad := range [][]string{
		{"keys", "destroy", "--tenant", tenant},
		{"keys", "destroy", "--tenant", tenant, "--confirm", "zzzzzzzzzzzzzzzz"},
		{"keys", "destroy", "--control"},
		{"keys", "rotate"},
	} {
		if _, err := cli(bad...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
	if _, err := ring.ByID(ctx, v1.ID); err != nil {
		t.Fatalf("refused destroy still destroyed: %v", err)
	}
	if out, err := cli("keys", "destroy", "--tenant", tenant, "--confirm", tenant); err != nil || !strings.Contains(out, "destroyed") {
		t.Fatalf("destroy: %q %v", out, err)
	}
	fresh, _ := keyring.New(master, db)
	if _, err := fresh.ByID(ctx, v1.ID); !errors.Is(err, codec.ErrKeyDestroyed) {
		t.Fatalf("after destroy: %v", err)
	}
	// Creation, rotation and destruction are in the control log, by the operator at the CLI.
	l, err := db.LoadAuditLog(ctx, auditlog.ControlLog)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range l.Entries {
		if strings.HasPrefix(e.Action, "key.") {
			actions = append(actions, e.Action)
			if e.Action == "key.destroyed" && !strings.HasPrefix(e.Actor, "cli:") {
				t.Errorf("destroy recorded as %q", e.Actor)
			}
		}
	}
	if got := strings.Join(actions, " "); got != "key.created key.created key.destroyed" {
		t.Fatalf("key events = %q", got)
	}
}
