package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/testenv"
)

func TestTokenCommands(t *testing.T) {
	env := config.FromMap(map[string]string{"DATABASE_URL": testenv.Database(t), "RINGBACK_ENV": "dev"})
	ctx := context.Background()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, &out, &bytes.Buffer{}, env)
		return out.String(), err
	}
	if out, err := cli("migrate"); err != nil {
		t.Fatalf("migrate: %v %s", err, out)
	}
	out, err := cli("token", "create", "--role", "compliance", "--name", "Jo in compliance", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Token, ID, Role string
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.Token, "rbt_"+created.ID+"_") || created.Role != "compliance" {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	list, err := cli("token", "list")
	if err != nil || !strings.Contains(list, created.ID) || !strings.Contains(list, "Jo in compliance") || strings.Contains(list, created.Token) {
		t.Fatalf("list = %q, %v", list, err)
	}
	if out, err := cli("token", "revoke", created.ID); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	list, _ = cli("token", "list")
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, created.ID) && strings.HasSuffix(strings.TrimSpace(line), " -") {
			t.Fatalf("revoked token listed as live: %q", line)
		}
	}
	for _, bad := range [][]string{
		{"token", "create", "--role", "root", "--name", "x"},
		{"token", "create", "--role", "tenant-admin", "--name", "x"},
		{"token", "create", "--role", "tenant-admin", "--tenant", "zzzzzzzzzzzzzzzz", "--name", "x"},
		{"token", "revoke", "aaaaaaaaaaaa"},
		{"token", "revoke"},
	} {
		if _, err := cli(bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
