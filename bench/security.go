package main

// The cost of the privacy machinery, each figure against a baseline measured in the same run where
// one exists: appending to the audit log against a plain INSERT transaction, verifying a large
// audit log in memory and from PostgreSQL, and encrypting workflow payloads against the default
// data converter alone.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/converter"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/envelope"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
)

var (
	quick        = flag.Bool("quick", false, "shorter security benchmarks: a 100,000-entry audit log, one round of shorter append runs, fewer codec repetitions")
	auditEntries = flag.Int("audit-entries", 0, "entries in the large audit log (default 1,000,000; 100,000 with -quick)")
)

// securityPlan is how much the security benchmarks do.
type securityPlan struct {
	entries     int           // in the large audit log
	allSigs     int           // entries of it verified with every signature checked
	rounds      int           // alternating rounds of each append measurement
	appendFor   time.Duration // per measurement and round
	codecRepeat int           // testing.Benchmark runs per codec figure
	verifyRuns  int           // timed verifications of the large log, in memory and from PostgreSQL
}

func newSecurityPlan() securityPlan {
	p := securityPlan{entries: 1_000_000, allSigs: 100_000, rounds: 3, appendFor: 1500 * time.Millisecond, codecRepeat: 3, verifyRuns: 3}
	if *quick {
		p = securityPlan{entries: 100_000, allSigs: 20_000, rounds: 1, appendFor: 500 * time.Millisecond, codecRepeat: 1, verifyRuns: 1}
	}
	if *auditEntries > 0 {
		p.entries = *auditEntries
	}
	p.allSigs = min(p.allSigs, p.entries)
	return p
}

// securityReport runs the security benchmarks on a database of their own and returns their
// section of the report.
func securityReport(ctx context.Context, adminURL string) (string, error) {
	plan := newSecurityPlan()
	loadBefore := loadAverage()
	dbURL, drop, err := freshDatabase(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer drop()
	// Up to 16 appenders and the bulk load run at once; the default pool has four connections.
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("pool_max_conns", "24")
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, u.String())
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return "", err
	}
	signer, vkey, err := auditlog.NewSigner(config.DevAuditSigningKey)
	if err != nil {
		return "", err
	}
	db.SetAuditSigner(signer)
	verifiers, err := auditlog.NewVerifiers(vkey)
	if err != nil {
		return "", err
	}
	var pgVersion string
	if err := db.Pool().QueryRow(ctx, `SHOW server_version`).Scan(&pgVersion); err != nil {
		return "", err
	}

	fmt.Fprintln(os.Stderr, "security: codec overhead…")
	cf, err := measureCodec(plan)
	if err != nil {
		return "", fmt.Errorf("codec: %w", err)
	}
	fmt.Fprintln(os.Stderr, "security: audit appends against plain INSERT transactions…")
	af, err := measureAppends(ctx, db, plan)
	if err != nil {
		return "", fmt.Errorf("audit appends: %w", err)
	}
	fmt.Fprintf(os.Stderr, "security: building a %d-entry audit log…\n", plan.entries)
	vf, err := measureVerify(ctx, db, signer, verifiers, plan)
	if err != nil {
		return "", fmt.Errorf("audit verify: %w", err)
	}
	return renderSecurity(plan, pgVersion, [2]string{loadBefore, loadAverage()}, cf, af, vf), nil
}

// loadAverage returns the machine's one-minute load average: anything else running skews every
// figure, so the report says how busy the machine was.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

// ---- codec ------------------------------------------------------------------------------------

// fixedKeys is an in-memory codec.Keys with one key per scope, so that the codec's own work is
// what is measured.
type fixedKeys struct {
	mu   sync.Mutex
	keys map[string]codec.Key
}

func (k *fixedKeys) Current(_ context.Context, scope string) (codec.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[codec.KeyID(scope, 1)]
	if !ok {
		secret, err := envelope.NewKey()
		if err != nil {
			return codec.Key{}, err
		}
		key = codec.Key{ID: codec.KeyID(scope, 1), Secret: secret}
		k.keys[key.ID] = key
	}
	return key, nil
}

func (k *fixedKeys) ByID(_ context.Context, id string) (codec.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[id]
	if !ok {
		return codec.Key{}, codec.ErrKeyDestroyed
	}
	return key, nil
}

type codecFigure struct {
	name               string
	bytes              int     // JSON size of the payload
	plainNs, encodedNs float64 // per round trip (to payload and back), medians
}

// typicalPayloads returns a conversation's start input (about 300 bytes of JSON) and a 4 KB
// transcript of inbound texts.
func typicalPayloads() (small, large any) {
	at := time.Date(2026, 5, 1, 14, 3, 7, 0, time.UTC)
	small = workflows.ConversationInput{
		TenantID:       "abcdefghijklmnop",
		Caller:         "+16145550123",
		CallerHash:     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		BusinessNumber: "+15005550006",
		Trigger:        conversation.TriggerMissedCall,
		FirstCall:      &workflows.MissedCall{CallSid: "CA0123456789abcdef0123456789abcdef", Status: "no-answer", At: at},
		IdleTimeout:    24 * time.Hour,
	}
	var texts []workflows.InboundSMS
	for i := 0; ; i++ {
		texts = append(texts, workflows.InboundSMS{
			MessageSid: fmt.Sprintf("SM%032d", i),
			Body:       "Hi, the kitchen sink is leaking under the cabinet again. Could someone come by on Thursday after 3pm?",
			ReceivedAt: at.Add(time.Duration(i) * time.Minute),
		})
		if b, _ := json.Marshal(texts); len(b) >= 4096 {
			texts = texts[:len(texts)-1]
			break
		}
	}
	return small, texts
}

func measureCodec(plan securityPlan) ([]codecFigure, error) {
	plain := converter.GetDefaultDataConverter()
	encoded := converter.NewCodecDataConverter(plain, codec.New(&fixedKeys{keys: map[string]codec.Key{}}, workflows.KeyScope))
	small, large := typicalPayloads()
	var out []codecFigure
	for _, tc := range []struct {
		name string
		v    any
		into func() any
	}{
		{"conversation input", small, func() any { return new(workflows.ConversationInput) }},
		{"transcript of texts", large, func() any { return new([]workflows.InboundSMS) }},
	} {
		b, err := json.Marshal(tc.v)
		if err != nil {
			return nil, err
		}
		f := codecFigure{name: tc.name, bytes: len(b)}
		roundTrip := func(dc converter.DataConverter) (float64, error) {
			var failed atomic.Value
			var runs []float64
			for range plan.codecRepeat {
				r := testing.Benchmark(func(b *testing.B) {
					for b.Loop() {
						p, err := dc.ToPayload(tc.v)
						if err == nil {
							err = dc.FromPayload(p, tc.into())
						}
						if err != nil {
							failed.Store(err)
							b.FailNow()
						}
					}
				})
				if err, ok := failed.Load().(error); ok {
					return 0, err
				}
				runs = append(runs, float64(r.NsPerOp()))
			}
			return median(runs), nil
		}
		if f.plainNs, err = roundTrip(plain); err != nil {
			return nil, err
		}
		if f.encodedNs, err = roundTrip(encoded); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ---- audit appends ----------------------------------------------------------------------------

type appendFigure struct {
	writers  int
	logs     int // 0: the baseline, plain INSERT transactions
	rate     float64
	p50, p99 time.Duration
}

// measureAppends runs, for 1, 4 and 16 writers, plain single-row INSERT transactions (the
// baseline), audit appends all to one log, and audit appends each writer to a log of its own, in
// alternating rounds.
func measureAppends(ctx context.Context, db *store.Store, plan securityPlan) ([]appendFigure, error) {
	if _, err := db.Pool().Exec(ctx, `
		CREATE TABLE bench_insert (
			id          bigserial PRIMARY KEY,
			log_id      text NOT NULL,
			event_id    text NOT NULL,
			payload     json NOT NULL,
			created_at  timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, err
	}
	type config struct{ writers, logs int }
	var configs []config
	for _, n := range []int{1, 4, 16} {
		configs = append(configs, config{n, 0}, config{n, 1})
		if n > 1 {
			configs = append(configs, config{n, n})
		}
	}
	logIDs := make([]string, 16)
	for i := range logIDs {
		logIDs[i] = tenantspec.NewID()
	}
	rates := make([][]float64, len(configs))
	lats := make([][]time.Duration, len(configs))
	var seq atomic.Int64
	op := func(c config, w int) error {
		i := seq.Add(1)
		ev := store.AuditEvent{
			LogID:      logIDs[0],
			EventID:    fmt.Sprintf("bench/%d/%d", w, i),
			Actor:      "token:tok_bench",
			Action:     "personal_data.read",
			Subject:    "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
			OccurredAt: time.Now(),
			Payload:    json.RawMessage(fmt.Sprintf(`{"request":"req-%d","format":"json"}`, i)),
		}
		if c.logs > 1 {
			ev.LogID = logIDs[w]
		}
		if c.logs == 0 {
			return pgx.BeginFunc(ctx, db.Pool(), func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO bench_insert (log_id, event_id, payload) VALUES ($1, $2, $3)`,
					ev.LogID, ev.EventID, string(ev.Payload))
				return err
			})
		}
		_, err := db.AppendAudit(ctx, ev)
		return err
	}
	// Warm up: connections, prepared statements, and each log's first append.
	for w := range 16 {
		for _, c := range []config{{1, 0}, {1, 1}, {16, 16}} {
			if err := op(c, w); err != nil {
				return nil, err
			}
		}
	}
	for range plan.rounds {
		for k, c := range configs {
			rate, l, err := runWriters(c.writers, plan.appendFor, func(w int) error { return op(c, w) })
			if err != nil {
				return nil, err
			}
			rates[k] = append(rates[k], rate)
			lats[k] = append(lats[k], l...)
		}
	}
	var out []appendFigure
	for k, c := range configs {
		out = append(out, appendFigure{writers: c.writers, logs: c.logs, rate: median(rates[k]),
			p50: percentile(lats[k], 0.50), p99: percentile(lats[k], 0.99)})
	}
	return out, nil
}

// runWriters runs op in n goroutines for d and returns completions per second and every
// operation's latency.
func runWriters(n int, d time.Duration, op func(w int) error) (float64, []time.Duration, error) {
	var wg sync.WaitGroup
	lats := make([][]time.Duration, n)
	errs := make([]error, n)
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(w); err != nil {
					errs[w] = err
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, nil, err
	}
	all := slices.Concat(lats...)
	return float64(len(all)) / elapsed.Seconds(), all, nil
}

// ---- audit verification -----------------------------------------------------------------------

type verifyFigure struct {
	entries, checkpoints int64
	build, load          time.Duration // making the log in Go; loading it into PostgreSQL
	inMemory             time.Duration // median Verify, latest signature only
	allSigs              time.Duration // Verify with every signature, over the first allSigEntries
	allSigEntries        int
	fromDB               time.Duration // median end-to-end VerifyAudit
	fromDBHeap           uint64        // peak Go heap growth during it
	tableBytes           int64         // the three tables with their indexes
}

// buildAuditLog makes a correct log of n entries the way the store appends, with a signed
// checkpoint after every entry, spreading the sealing and signing over all CPUs.
func buildAuditLog(logID string, n int, signer note.Signer) (auditlog.Log, error) {
	l := auditlog.Log{ID: logID, Entries: make([]auditlog.Entry, n), Hashes: auditlog.HashMap{}, Checkpoints: make([][]byte, n)}
	epoch := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	actions := []string{"personal_data.read", "consent.opt_out", "dsr.export", "tenant.updated"}
	err := parallelRange(n, func(i int) error {
		var err error
		l.Entries[i], err = auditlog.Seal(auditlog.Event{
			LogID:      logID,
			EventID:    fmt.Sprintf("dsr/req-%08d/step-%d", i/4, i%4),
			Actor:      "token:tok_0123456789",
			Action:     actions[i%len(actions)],
			Subject:    fmt.Sprintf("%064x", i*7919),
			OccurredAt: epoch.Add(time.Duration(i) * 31 * time.Second),
			Payload:    json.RawMessage(fmt.Sprintf(`{"request":"req-%08d","format":"json","step":%d}`, i/4, i%4)),
		}, int64(i))
		return err
	})
	if err != nil {
		return auditlog.Log{}, err
	}
	for i, e := range l.Entries {
		stored, err := tlog.StoredHashesForRecordHash(int64(i), e.RecordHash(), l.Hashes)
		if err != nil {
			return auditlog.Log{}, err
		}
		for j, h := range stored {
			l.Hashes[tlog.StoredHashIndex(0, int64(i))+int64(j)] = h
		}
	}
	err = parallelRange(n, func(i int) error {
		root, err := tlog.TreeHash(int64(i+1), l.Hashes)
		if err == nil {
			l.Checkpoints[i], err = auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: logID, Size: int64(i + 1), Root: root}, signer)
		}
		return err
	})
	return l, err
}

// parallelRange calls fn for 0…n-1 on every CPU.
func parallelRange(n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for w := range errs {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefix returns the log as it stood after its first n entries.
func prefix(l auditlog.Log, n int) auditlog.Log {
	hashes := auditlog.HashMap{}
	for x := range tlog.StoredHashCount(int64(n)) {
		hashes[x] = l.Hashes[x]
	}
	return auditlog.Log{ID: l.ID, Entries: l.Entries[:n], Hashes: hashes, Checkpoints: l.Checkpoints[:n]}
}

func measureVerify(ctx context.Context, db *store.Store, signer note.Signer, verifiers note.Verifiers, plan securityPlan) (verifyFigure, error) {
	logID := tenantspec.NewID()
	t0 := time.Now()
	l, err := buildAuditLog(logID, plan.entries, signer)
	if err != nil {
		return verifyFigure{}, err
	}
	f := verifyFigure{entries: int64(plan.entries), checkpoints: int64(len(l.Checkpoints)), build: time.Since(t0), allSigEntries: plan.allSigs}

	check := func(r auditlog.Report, want int64) error {
		if p, bad := r.First(); bad || r.Entries != want || r.Checkpoint.Size != want {
			return fmt.Errorf("a correct log of %d entries did not verify: %d entries, checkpoint %d, %v", want, r.Entries, r.Checkpoint.Size, p)
		}
		return nil
	}
	fmt.Fprintln(os.Stderr, "security: verifying it in memory…")
	var runs []float64
	for range plan.verifyRuns {
		runtime.GC()
		t0 := time.Now()
		r := auditlog.Verify(l, verifiers)
		runs = append(runs, float64(time.Since(t0)))
		if err := check(r, f.entries); err != nil {
			return f, err
		}
	}
	f.inMemory = time.Duration(median(runs))
	small := prefix(l, plan.allSigs)
	runtime.GC()
	t0 = time.Now()
	r := auditlog.VerifyWith(small, verifiers, auditlog.VerifyOptions{AllSignatures: true})
	f.allSigs = time.Since(t0)
	if err := check(r, int64(plan.allSigs)); err != nil {
		return f, err
	}

	fmt.Fprintln(os.Stderr, "security: loading it into PostgreSQL…")
	t0 = time.Now()
	if err := copyAuditLog(ctx, db, l); err != nil {
		return f, err
	}
	f.load = time.Since(t0)
	l, small = auditlog.Log{}, auditlog.Log{} // only PostgreSQL holds the log from here on
	if err := db.Pool().QueryRow(ctx, `
		SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY['control.audit_entries', 'control.audit_hashes', 'control.audit_checkpoints']::regclass[]) AS t`,
	).Scan(&f.tableBytes); err != nil {
		return f, err
	}

	fmt.Fprintln(os.Stderr, "security: verifying it from PostgreSQL…")
	runs = runs[:0]
	for range plan.verifyRuns {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		peak := sampleHeap()
		t0 := time.Now()
		r, err := db.VerifyAudit(ctx, logID, verifiers)
		runs = append(runs, float64(time.Since(t0)))
		top := peak()
		if err != nil {
			return f, err
		}
		if err := check(r, f.entries); err != nil {
			return f, err
		}
		if top > before.HeapInuse {
			f.fromDBHeap = max(f.fromDBHeap, top-before.HeapInuse)
		}
	}
	f.fromDB = time.Duration(median(runs))
	return f, nil
}

// sampleHeap watches the Go heap until the returned function is called, which returns the most
// heap in use seen.
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	var top atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > top.Load() {
				top.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return top.Load()
	}
}

// copyAuditLog writes l into the audit tables with COPY, as if it had been appended entry by
// entry. Only a benchmark may do this: it switches off the tables' triggers (and the foreign-key
// checks, which are triggers too) for its session, which takes a superuser.
func copyAuditLog(ctx context.Context, db *store.Store, l auditlog.Log) error {
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	c := conn.Conn()
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO control.audit_logs (log_id, size) VALUES ($1, $2)`, l.ID, len(l.Entries)); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"control", "audit_entries"},
			[]string{"log_id", "idx", "event_id", "actor", "action", "subject", "occurred_at", "payload", "record"},
			pgx.CopyFromSlice(len(l.Entries), func(i int) ([]any, error) {
				e := l.Entries[i]
				return []any{l.ID, e.Index, e.EventID, e.Actor, e.Action, e.Subject, e.OccurredAt, string(e.Payload), e.Record}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy entries: %w", err)
		}
		n := tlog.StoredHashCount(int64(len(l.Entries)))
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"control", "audit_hashes"}, []string{"log_id", "idx", "hash"},
			pgx.CopyFromSlice(int(n), func(i int) ([]any, error) {
				h := l.Hashes[int64(i)]
				return []any{l.ID, int64(i), h[:]}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy tree hashes: %w", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"control", "audit_checkpoints"}, []string{"log_id", "size", "note"},
			pgx.CopyFromSlice(len(l.Checkpoints), func(i int) ([]any, error) {
				return []any{l.ID, int64(i + 1), string(l.Checkpoints[i])}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy checkpoints: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A log that has been there a while has its rows frozen and its statistics known.
	_, err = c.Exec(ctx, `VACUUM (FREEZE, ANALYZE) control.audit_entries, control.audit_hashes, control.audit_checkpoints`)
	return err
}

// ---- report -----------------------------------------------------------------------------------

func renderSecurity(plan securityPlan, pgVersion string, load [2]string, cf []codecFigure, af []appendFigure, vf verifyFigure) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	us := func(d time.Duration, n int64) string {
		return fmt.Sprintf("%.2f µs", float64(d.Nanoseconds())/float64(n)/1000)
	}
	var flags []string
	if *quick {
		flags = append(flags, "-quick")
	}
	if *auditEntries > 0 {
		flags = append(flags, fmt.Sprintf("-audit-entries %d", *auditEntries))
	}
	reproduce := "`make bench`"
	if len(flags) > 0 {
		reproduce = fmt.Sprintf("`make bench ARGS='%s'`", strings.Join(flags, " "))
	}

	var s strings.Builder
	fmt.Fprintf(&s, "# Performance: audit log and payload encryption\n\n")
	fmt.Fprintf(&s, "Measured %s on %s (%d cores, %s/%s), %s, PostgreSQL %s local, in the same process run as the "+
		"figures above, on a database of its own; load average %s before, %s after. Every baseline ran in the same run, "+
		"on the same database. Reproduce with %s, which runs everything in this file (`-quick` makes this part shorter: "+
		"a 100,000-entry log, one round of shorter append runs; `-audit-entries N` sets the log's size).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), pgVersion, load[0], load[1], reproduce)

	fmt.Fprintf(&s, "## Appending to the audit log\n\n")
	fmt.Fprintf(&s, "Each writer loops for %v per round, in %d round(s) that alternate between the rows below; rates are "+
		"the median round, latencies are over every operation. The baseline is a plain single-row INSERT transaction "+
		"(BEGIN, INSERT, COMMIT) with the same number of writers. An audit append (`store.AppendAudit`) locks its log, "+
		"reads the tree hashes it extends, signs a checkpoint (Ed25519) and writes the entry, its tree hashes and the "+
		"checkpoint in one transaction.\n\n", plan.appendFor, plan.rounds)
	fmt.Fprintf(&s, "| writers | what | per second | p50 | p99 | rate ÷ baseline |\n|---|---|---|---|---|---|\n")
	var base appendFigure
	for _, f := range af {
		what, ratio := "baseline: INSERT transaction", "—"
		switch {
		case f.logs == 0:
			base = f
		case f.logs == 1:
			what = "audit append, all to one log"
		default:
			what = fmt.Sprintf("audit append, each writer to its own log (%d logs)", f.logs)
		}
		if f.logs > 0 {
			ratio = fmt.Sprintf("%.2f×", f.rate/base.rate)
		}
		fmt.Fprintf(&s, "| %d | %s | %.0f | %s | %s | %s |\n", f.writers, what, f.rate, ms(f.p50), ms(f.p99), ratio)
	}
	fmt.Fprintf(&s, "\nAppends to one log are serialised by the lock on its row, so more writers add latency, not "+
		"throughput; appends to different logs (one per tenant) run side by side.\n\n")

	fmt.Fprintf(&s, "## Verifying the audit log\n\n")
	fmt.Fprintf(&s, "One log of %d entries with a signed checkpoint after every entry (%d checkpoints), as appends leave it: "+
		"built in Go with internal/auditlog in %s, then loaded into PostgreSQL with COPY and vacuumed in %s "+
		"(%.0f MB with indexes).\n\n",
		vf.entries, vf.checkpoints, sec(vf.build), sec(vf.load), float64(vf.tableBytes)/(1<<20))
	verdict := "met"
	switch {
	case vf.entries < 1_000_000:
		verdict = fmt.Sprintf("not measured (this run used %d entries)", vf.entries)
	case vf.inMemory > 5*time.Second:
		verdict = "not met"
	}
	fmt.Fprintf(&s, "| figure | time | per entry | target | status |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&s, "| `auditlog.Verify`, in memory, %d entries (median of %d) | %s | %s | ≤ 5 s for 1,000,000 entries | %s |\n",
		vf.entries, plan.verifyRuns, sec(vf.inMemory), us(vf.inMemory, vf.entries), verdict)
	fmt.Fprintf(&s, "| the same with every signature checked (`--all-signatures`), first %d entries | %s | %s | — | — |\n",
		vf.allSigEntries, sec(vf.allSigs), us(vf.allSigs, int64(vf.allSigEntries)))
	fmt.Fprintf(&s, "| `store.VerifyAudit` (what `ringback audit verify` runs), end to end from PostgreSQL, %d entries (median of %d) | %s | %s | — | — |\n\n",
		vf.entries, plan.verifyRuns, sec(vf.fromDB), us(vf.fromDB, vf.entries))
	fmt.Fprintf(&s, "By default verification checks the signature of the latest checkpoint (and of any checkpoint whose "+
		"statement is false), and every stored checkpoint's root against the tree recomputed from the records; "+
		"internal/auditlog's package documentation says what each mode detects. `store.VerifyAudit` streams the three "+
		"tables from one snapshot in batches, verifying one batch on every core while the next is read; the Go heap "+
		"grew by at most %.0f MB while it ran (it keeps the recomputed tree, 64 bytes per entry, and the event IDs, "+
		"not the entries).\n\n", float64(vf.fromDBHeap)/(1<<20))

	fmt.Fprintf(&s, "## Encrypting workflow payloads\n\n")
	fmt.Fprintf(&s, "One payload's round trip through Temporal's default data converter (to a payload and back), alone and "+
		"with internal/codec (AES-256-GCM under a per-scope key, looked up by ID in memory), timed by "+
		"`testing.Benchmark`, median of %d.\n\n", plan.codecRepeat)
	fmt.Fprintf(&s, "| payload | JSON size | default converter | with the codec | codec's cost | ratio |\n|---|---|---|---|---|---|\n")
	for _, f := range cf {
		fmt.Fprintf(&s, "| %s | %d B | %.0f ns | %.0f ns | +%.0f ns | %.2f× |\n",
			f.name, f.bytes, f.plainNs, f.encodedNs, f.encodedNs-f.plainNs, f.encodedNs/f.plainNs)
	}
	return s.String()
}
