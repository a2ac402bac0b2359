// Package docs holds no code; its test keeps docs/promises.md honest.
package docs

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	rowPattern  = regexp.MustCompile(`^\| (P\d\d) \|`)
	testPattern = regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]+)`")
	funcPattern = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Za-z0-9_]+)\(`)
)

type promise struct {
	id, status string
	tests      []string
}

func readPromises(t *testing.T) []promise {
	t.Helper()
	f, err := os.Open("promises.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []promise
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		m := rowPattern.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Fatalf("%s: want 5 columns, got %d", m[1], len(cells))
		}
		p := promise{id: m[1], status: strings.TrimSpace(cells[4])}
		for _, tm := range testPattern.FindAllStringSubmatch(cells[3], -1) {
			p.tests = append(p.tests, tm[1])
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// repoTests finds every test, fuzz target and benchmark defined in the repository.
func repoTests(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == ".dev" || d.Name() == "tools") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range funcPattern.FindAllStringSubmatch(string(src), -1) {
			found[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestEveryPromiseKeepsItsTests(t *testing.T) {
	promises := readPromises(t)
	if len(promises) != 23 {
		t.Fatalf("promises.md lists %d promises, the policy has 23", len(promises))
	}
	tests := repoTests(t)
	for i, p := range promises {
		if want := fmt.Sprintf("P%02d", i+1); p.id != want {
			t.Errorf("row %d is %s, want %s (one row per promise, in order)", i+1, p.id, want)
		}
		switch {
		case p.status == "kept" || strings.HasPrefix(p.status, "partial:"):
			if len(p.tests) == 0 {
				t.Errorf("%s is %q but names no test", p.id, p.status)
			}
		case strings.HasPrefix(p.status, "planned (issue "):
		default:
			t.Errorf("%s: status %q is not kept, partial: …, or planned (issue N)", p.id, p.status)
		}
		for _, name := range p.tests {
			if _, ok := tests[name]; !ok {
				t.Errorf("%s names %s, which no longer exists", p.id, name)
			}
		}
	}
}
