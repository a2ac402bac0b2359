package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tenantSchemaRef matches code that builds or names a tenant schema: the "t_" prefix in a string
// literal, or a schema-qualified reference such as t_abcdefghijklmnop.messages.
var tenantSchemaRef = regexp.MustCompile(`"t_|\bt_[a-z2-7]{16}\.`)

// TestTenantTablesAreReachedOnlyThroughInTenant is part of privacy promise P11: outside the one
// function that names tenant schemas (tenantspec.SchemaName) nothing in the program spells a
// tenant schema, so every query on tenant data goes through InTenant, which pins search_path to
// the resolved tenant and nothing else. Tests may name schemas to inspect them.
func TestTenantTablesAreReachedOnlyThroughInTenant(t *testing.T) {
	allowed := map[string]bool{filepath.Join("..", "internal", "tenantspec", "tenantspec.go"): true}
	var offenders []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == ".dev" || d.Name() == "tools") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || allowed[path] {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			if tenantSchemaRef.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				offenders = append(offenders, path+":"+strconv.Itoa(i+1)+": "+strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offenders) > 0 {
		t.Fatalf("tenant schemas named outside tenantspec.SchemaName; use store.InTenant:\n%s", strings.Join(offenders, "\n"))
	}
}
