package backup

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestToolConnection(t *testing.T) {
	for _, c := range []struct {
		in, dsn string
		env     []string
	}{
		{"postgres://app:p%40ss@db:5432/ringback?sslmode=require", "postgres://app@db:5432/ringback?sslmode=require", []string{"PGPASSWORD=p@ss"}},
		{"postgresql://app@db/ringback?password=hidden&sslmode=disable", "postgresql://app@db/ringback?sslmode=disable", []string{"PGPASSWORD=hidden"}},
		{"postgres://app@db/ringback?pool_max_conns=20&default_query_exec_mode=exec&application_name=x", "postgres://app@db/ringback?application_name=x", nil},
		{"postgres://db/ringback", "postgres://db/ringback", nil},
		{"host=db dbname=ringback user=app", "host=db dbname=ringback user=app", nil},
	} {
		dsn, env, err := toolConnection(c.in)
		if err != nil || dsn != c.dsn || !reflect.DeepEqual(env, c.env) {
			t.Errorf("toolConnection(%q) = %q, %v, %v; want %q, %v", c.in, dsn, env, err, c.dsn, c.env)
		}
	}
	for _, bad := range []string{"", "postgres://app:s3cret@db:99999999999/x%zz"} {
		_, _, err := toolConnection(bad)
		if err == nil {
			t.Errorf("toolConnection(%q) accepted it", bad)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error quotes the password: %v", err)
		}
	}
}

func TestToolMessageKeepsOnlyTheProgramsOwnLines(t *testing.T) {
	var s stderrTail
	s.Write([]byte(strings.Repeat("noise\n", 3000)))
	s.Write([]byte(`pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 3390; 0 16400 TABLE DATA contacts postgres
pg_restore: error: could not execute query: ERROR:  value "+16145550123" violates check constraint
DETAIL:  Failing row contains (1, +13125550188, abc).
Command was: COPY t_abc.contacts (id, phone_e164, phone_hash) FROM stdin;
`))
	got := s.message("pg_restore")
	if strings.Contains(got, "6145550123") || strings.Contains(got, "3125550188") || strings.Contains(got, "Failing row") || strings.Contains(got, "noise") {
		t.Fatalf("message leaks data: %q", got)
	}
	if !strings.Contains(got, "pg_restore: error: could not execute query") || !strings.Contains(got, "TABLE DATA contacts") {
		t.Fatalf("message lost the program's explanation: %q", got)
	}
	if len(s.buf) > stderrKeep {
		t.Fatalf("kept %d bytes of stderr", len(s.buf))
	}
}

func TestFindTool(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "pg_dump")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pg_restore"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := findTool("pg_dump", dir); err != nil || p != fake {
		t.Fatalf("findTool in %s = %q, %v", dir, p, err)
	}
	if _, err := findTool("pg_restore", dir); !errors.Is(err, ErrToolMissing) {
		t.Fatalf("a file without the execute bit: %v", err)
	}
	dirs := []string{"/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/10/bin"}
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	if dirs[0] != "/usr/lib/postgresql/16/bin" || dirs[2] != "/usr/lib/postgresql/9.6/bin" {
		t.Fatalf("newest first: %v", dirs)
	}
}

func TestFileNames(t *testing.T) {
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.FixedZone("EST", -5*3600))
	if got := FileName(at); got != "ringback-20261122T080000Z.rbk" {
		t.Fatalf("FileName = %q", got)
	}
	if got, ok := ParseFileName("ringback-20261122T080000Z.rbk"); !ok || !got.Equal(at) {
		t.Fatalf("ParseFileName = %v, %v", got, ok)
	}
	for _, bad := range []string{"ringback-20261122T080000Z.rbk.tmp", "ringback-2026-11-22.rbk", "other-20261122T080000Z.rbk",
		"ringback-20261122T080000Z.RBK", "ringback-20261132T080000Z.rbk", ".ringback-123.rbk.tmp"} {
		if _, ok := ParseFileName(bad); ok {
			t.Errorf("ParseFileName(%q) accepted it", bad)
		}
	}
}
