package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ringback/ringback/internal/pii"
)

// ErrToolMissing is returned when pg_dump or pg_restore cannot be found.
var ErrToolMissing = errors.New("PostgreSQL client program not found")

// debianToolDirs is where Debian and Ubuntu install each major version's client programs.
const debianToolDirs = "/usr/lib/postgresql/*/bin"

// findTool returns the path of a PostgreSQL client program (pg_dump, pg_restore). binDir, when
// set, is the only place looked at. Otherwise: PATH, then the directory `pg_config --bindir`
// names, then the newest version under /usr/lib/postgresql. The program must not be older than
// the server: pg_dump refuses a newer server, and says so in its error.
func findTool(name, binDir string) (string, error) {
	if binDir != "" {
		p := filepath.Join(binDir, name)
		if isExecutable(p) {
			return p, nil
		}
		return "", fmt.Errorf("%w: no %s in %s", ErrToolMissing, name, binDir)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			if p := filepath.Join(strings.TrimSpace(string(out)), name); isExecutable(p) {
				return p, nil
			}
		}
	}
	dirs, _ := filepath.Glob(debianToolDirs)
	// Newest first, by major version: "9.6" < "10" < "16".
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not on PATH, in `pg_config --bindir` or under %s; install the PostgreSQL client programs of the server's major version (e.g. postgresql-client-16)",
		ErrToolMissing, name, debianToolDirs)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// majorOf reads the major version from a /usr/lib/postgresql/<version>/bin path.
func majorOf(dir string) int {
	v := filepath.Base(filepath.Dir(dir))
	major, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(major)
	return n
}

// pgxOnlyParams are connection parameters pgx understands and libpq rejects ("invalid URI query
// parameter"); DATABASE_URL may carry them for the application's pool.
var pgxOnlyParams = []string{"default_query_exec_mode", "statement_cache_capacity", "description_cache_capacity"}

// toolConnection prepares a database URL for a PostgreSQL client program. The password moves out
// of the URL into PGPASSWORD, because command lines are visible to every local user (ps) and the
// environment is not; pgx-only parameters are dropped. A keyword/value connection string
// ("host=… dbname=…") is passed through unchanged.
//
// Errors never quote the URL: it may hold a password.
func toolConnection(databaseURL string) (dsn string, env []string, err error) {
	if databaseURL == "" {
		return "", nil, errors.New("no database URL")
	}
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return databaseURL, nil, nil
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", nil, errors.New("the database URL does not parse")
	}
	var password string
	if u.User != nil {
		password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if p := q.Get("password"); p != "" {
		password = p
	}
	q.Del("password")
	for k := range q {
		if strings.HasPrefix(k, "pool_") || slices.Contains(pgxOnlyParams, k) {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	if password != "" {
		env = append(env, "PGPASSWORD="+password)
	}
	return u.String(), env, nil
}

// toolCommand completes a client program's command: appName shows in pg_stat_activity, extra is
// added to its environment.
func toolCommand(cmd *exec.Cmd, appName string, extra []string) *exec.Cmd {
	cmd.Env = append(os.Environ(), "PGAPPNAME="+appName)
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// stderrTail keeps the last bytes a program wrote to stderr: enough to explain a failure, bounded
// however much a failing restore prints.
type stderrTail struct {
	mu  sync.Mutex
	buf []byte
}

const stderrKeep = 8 << 10

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - stderrKeep; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// message is what the program said, fit for an error message and a log line: only the lines it
// wrote itself ("pg_dump: error: …"), not the server's DETAIL or the statement it was running,
// which can quote row data; the last few of them; and any phone number or email address masked.
func (t *stderrTail) message(program string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var keep []string
	for _, line := range strings.Split(string(bytes.TrimSpace(t.buf)), "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, program+":") {
			keep = append(keep, line)
		}
	}
	if len(keep) > 4 {
		keep = keep[len(keep)-4:]
	}
	masked, _ := pii.Mask(strings.Join(keep, "; "), pii.Options{})
	return masked
}

// countingWriter counts what passes through it, for heartbeats and the result.
type countingWriter struct {
	w  io.Writer
	mu sync.Mutex
	n  int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingWriter) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// errReader remembers the error its reader returned, so a failed copy into a program can tell
// "the backup did not decrypt" from "the program stopped reading".
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
