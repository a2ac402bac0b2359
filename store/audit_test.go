package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
)

const auditSubject = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

// auditStore returns a migrated store that signs checkpoints, and the verifiers for them.
func auditStore(t *testing.T) (*Store, note.Verifiers) {
	t.Helper()
	s := openStore(t)
	signer, verifiers := auditKeys(t)
	s.SetAuditSigner(signer)
	return s, verifiers
}

func auditKeys(t testing.TB) (note.Signer, note.Verifiers) {
	t.Helper()
	skey, vkey, err := auditlog.GenerateKey(auditlog.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := auditlog.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifiers, err := auditlog.NewVerifiers(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return signer, verifiers
}

var auditEpoch = time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)

func auditEvent(logID string, i int) AuditEvent {
	return AuditEvent{
		LogID:      logID,
		EventID:    fmt.Sprintf("dsr/req-%d/export", i),
		Actor:      "token:tok_123",
		Action:     "personal_data.read",
		Subject:    auditSubject,
		OccurredAt: auditEpoch.Add(time.Duration(i) * time.Second),
		Payload:    json.RawMessage(fmt.Sprintf(`{"request":"req-%d","format":"json"}`, i)),
	}
}

func appendAudit(t testing.TB, s *Store, ev AuditEvent) AuditReceipt {
	t.Helper()
	rc, err := s.AppendAudit(context.Background(), ev)
	if err != nil {
		t.Fatalf("append %s: %v", ev.EventID, err)
	}
	return rc
}

func fillAuditLog(t testing.TB, s *Store, logID string, n int) {
	t.Helper()
	for i := range n {
		appendAudit(t, s, auditEvent(logID, i))
	}
}

// verifyAudit verifies a log in both signature modes and returns the default mode's report. The
// modes must agree on whether the log is intact and on its first problem.
func verifyAudit(t *testing.T, s *Store, logID string, verifiers note.Verifiers) auditlog.Report {
	t.Helper()
	r, err := s.VerifyAudit(context.Background(), logID, verifiers)
	if err != nil {
		t.Fatalf("verify %s: %v", logID, err)
	}
	all, err := s.VerifyAuditWith(context.Background(), logID, verifiers, auditlog.VerifyOptions{AllSignatures: true})
	if err != nil {
		t.Fatalf("verify %s with every signature: %v", logID, err)
	}
	p, bad := r.First()
	pAll, badAll := all.First()
	if bad != badAll || bad && (p.Entry != pAll.Entry || p.Checkpoint != pAll.Checkpoint) {
		t.Fatalf("verify %s: the modes disagree:\n  latest signature only: %v\n  every signature:       %v", logID, r.Problems, all.Problems)
	}
	return r
}

func TestAuditAppendAndVerify(t *testing.T) {
	s, verifiers := auditStore(t)
	var last AuditReceipt
	for i := range 5 {
		rc := appendAudit(t, s, auditEvent(auditlog.ControlLog, i))
		if rc.Index != int64(i) || rc.TreeSize != int64(i+1) || rc.LogID != auditlog.ControlLog {
			t.Fatalf("receipt %d: %+v", i, rc)
		}
		cp, err := auditlog.OpenCheckpoint(rc.Checkpoint, verifiers)
		if err != nil || cp.Size != rc.TreeSize || cp.Root != rc.TreeRoot {
			t.Fatalf("receipt %d checkpoint: %+v, %v", i, cp, err)
		}
		last = rc
	}
	r := verifyAudit(t, s, auditlog.ControlLog, verifiers)
	if !r.OK() || r.Entries != 5 || r.Checkpoint.Size != 5 || r.Checkpoint.Root != last.TreeRoot {
		t.Fatalf("report %+v", r)
	}
	// The stored payload is the canonical one, and the record proves the receipt's leaf.
	l, err := s.LoadAuditLog(context.Background(), auditlog.ControlLog)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(l.Entries[4].Payload); got != `{"format":"json","request":"req-4"}` {
		t.Fatalf("stored payload %s", got)
	}
	if l.Entries[4].RecordHash() != last.RecordHash {
		t.Fatal("receipt's record hash is not the stored record's")
	}
	// A log never appended to verifies as empty.
	if r := verifyAudit(t, s, tenantspec.NewID(), verifiers); !r.OK() || r.Entries != 0 {
		t.Fatalf("empty log: %+v", r)
	}
}

func TestAuditAppendRefusesBadInput(t *testing.T) {
	s := openStoreURL(t, testenv.Database(t))
	ctx := context.Background()
	unsigned, err := Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsigned.Close)
	if _, err := unsigned.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := unsigned.AppendAudit(ctx, auditEvent(auditlog.ControlLog, 1)); !errors.Is(err, ErrNoAuditSigner) {
		t.Fatalf("append without a signer: %v", err)
	}
	for name, edit := range map[string]func(*AuditEvent){
		"unknown log":     func(e *AuditEvent) { e.LogID = "billing" },
		"raw phone":       func(e *AuditEvent) { e.Subject = "+16145550123" },
		"no time":         func(e *AuditEvent) { e.OccurredAt = time.Time{} },
		"phone in body":   func(e *AuditEvent) { e.Payload = []byte(`{"to":"+16145550123"}`) },
		"list as payload": func(e *AuditEvent) { e.Payload = []byte(`[]`) },
	} {
		ev := auditEvent(auditlog.ControlLog, 1)
		edit(&ev)
		_, err := s.AppendAudit(ctx, ev)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "6145550123") {
			t.Errorf("%s: error shows the number: %v", name, err)
		}
	}
	if ids, err := s.AuditLogIDs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("refused events left logs behind: %v %v", ids, err)
	}
}

func TestAuditAppendIsIdempotent(t *testing.T) {
	s, verifiers := auditStore(t)
	ctx := context.Background()
	ev := auditEvent(auditlog.ControlLog, 0)
	first := appendAudit(t, s, ev)
	appendAudit(t, s, auditEvent(auditlog.ControlLog, 1))

	// The same event again, spelled differently, is the same event.
	again := ev
	again.Payload = json.RawMessage(`{ "format": "json", "request": "req-0" }`)
	again.OccurredAt = ev.OccurredAt.In(time.FixedZone("CET", 3600))
	rc, err := s.AppendAudit(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rc, first) {
		t.Fatalf("repeat receipt\n%+v\nwant the original\n%+v", rc, first)
	}
	for name, edit := range map[string]func(*AuditEvent){
		"payload": func(e *AuditEvent) { e.Payload = json.RawMessage(`{"format":"csv","request":"req-0"}`) },
		"actor":   func(e *AuditEvent) { e.Actor = "ops:someone" },
		"time":    func(e *AuditEvent) { e.OccurredAt = e.OccurredAt.Add(time.Microsecond) },
		"subject": func(e *AuditEvent) { e.Subject = "" },
	} {
		changed := ev
		edit(&changed)
		if _, err := s.AppendAudit(ctx, changed); !errors.Is(err, ErrAuditConflict) {
			t.Errorf("repeat with a different %s: %v, want ErrAuditConflict", name, err)
		}
	}
	if r := verifyAudit(t, s, auditlog.ControlLog, verifiers); !r.OK() || r.Entries != 2 {
		t.Fatalf("after repeats: %+v", r)
	}
}

func TestAuditAppendTxCommitsWithTheChange(t *testing.T) {
	s, verifiers := auditStore(t)
	ctx := context.Background()
	tn := createTenant(t, s, 1)
	// A change that fails takes its audit entry with it...
	boom := errors.New("the audited change failed")
	err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		if _, err := s.AppendAuditTx(ctx, tx, auditEvent(tn.ID, 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	// ...and one that commits brings it along, even inside a tenant's transaction.
	err = s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO contacts (phone_e164, phone_hash) VALUES ($1, $2)`, "+16145550100", hashOf("+16145550100")); err != nil {
			return err
		}
		rc, err := s.AppendAuditTx(ctx, tx, auditEvent(tn.ID, 2))
		if err == nil && rc.Index != 0 {
			err = fmt.Errorf("after a rolled-back append the next entry got index %d, want 0", rc.Index)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r := verifyAudit(t, s, tn.ID, verifiers)
	if !r.OK() || r.Entries != 1 {
		t.Fatalf("report %+v", r)
	}
}

func TestAuditConcurrentAppendsMakeOneConsistentTree(t *testing.T) {
	s, verifiers := auditStore(t)
	ctx := context.Background()
	other := tenantspec.NewID()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	indexes := make(chan int64, n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			rc, err := s.AppendAudit(ctx, auditEvent(auditlog.ControlLog, i))
			errs <- err
			indexes <- rc.Index
		}()
		go func() {
			defer wg.Done()
			// A repeat racing the original, and a second log alongside.
			ev := auditEvent(other, i%10)
			_, err := s.AppendAudit(ctx, ev)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	close(indexes)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []int64
	for i := range indexes {
		got = append(got, i)
	}
	slices.Sort(got)
	for i, idx := range got {
		if idx != int64(i) {
			t.Fatalf("indexes %v: want 0..%d each once", got, n-1)
		}
	}
	if r := verifyAudit(t, s, auditlog.ControlLog, verifiers); !r.OK() || r.Entries != n || r.Checkpoint.Size != n {
		t.Fatalf("control log: %+v", r)
	}
	if r := verifyAudit(t, s, other, verifiers); !r.OK() || r.Entries != 10 {
		t.Fatalf("tenant log: %+v", r)
	}
}

// TestAuditVerifyStreamsInBatches verifies logs that span many read batches and checks that the
// streamed verification says exactly what verifying the loaded log in memory says.
func TestAuditVerifyStreamsInBatches(t *testing.T) {
	s, verifiers := auditStore(t)
	ctx := context.Background()
	defer func(n int) { auditBatchSize = n }(auditBatchSize)
	auditBatchSize = 3
	logs := map[string]func(log string){
		"intact": func(string) {},
		"payload edited in a later batch": func(log string) {
			tamper(t, s, `UPDATE control.audit_entries SET payload = '{"format":"csv","request":"req-13"}' WHERE log_id = $1 AND idx = 13`, log)
		},
		"entry forged with its tree": func(log string) { forgeEntry(t, s, log, 11) },
		"tail cut with its tree": func(log string) {
			tamper(t, s, `DELETE FROM control.audit_entries WHERE log_id = $1 AND idx >= 17`, log)
			tamper(t, s, `DELETE FROM control.audit_hashes WHERE log_id = $1 AND idx >= $2`, log, tlog.StoredHashCount(17))
		},
	}
	for name, edit := range logs {
		t.Run(name, func(t *testing.T) {
			log := tenantspec.NewID()
			fillAuditLog(t, s, log, 20)
			edit(log)
			l, err := s.LoadAuditLog(ctx, log)
			if err != nil {
				t.Fatal(err)
			}
			for _, opts := range []auditlog.VerifyOptions{{}, {AllSignatures: true}} {
				streamed, err := s.VerifyAuditWith(ctx, log, verifiers, opts)
				if err != nil {
					t.Fatal(err)
				}
				if inMemory := auditlog.VerifyWith(l, verifiers, opts); !reflect.DeepEqual(streamed, inMemory) {
					t.Fatalf("%+v: streamed\n%+v\nin memory\n%+v", opts, streamed, inMemory)
				}
				if name == "intact" && (!streamed.OK() || streamed.Entries != 20 || streamed.Checkpoints != 20) {
					t.Fatalf("%+v: %+v", opts, streamed)
				}
				if name != "intact" && streamed.OK() {
					t.Fatalf("%+v: tampering not detected", opts)
				}
			}
		})
	}
}

func TestAuditLogsAreSeparatePerTenant(t *testing.T) {
	s, verifiers := auditStore(t)
	ctx := context.Background()
	a, b := tenantspec.NewID(), tenantspec.NewID()
	fillAuditLog(t, s, a, 3)
	// The same event IDs in another log are other events.
	for i := range 2 {
		ev := auditEvent(b, i)
		ev.Action = "consent.opt_out"
		if rc := appendAudit(t, s, ev); rc.Index != int64(i) {
			t.Fatalf("tenant B's entry %d got index %d", i, rc.Index)
		}
	}
	la, err := s.LoadAuditLog(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := s.LoadAuditLog(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(la.Entries) != 3 || len(lb.Entries) != 2 {
		t.Fatalf("A has %d entries, B %d", len(la.Entries), len(lb.Entries))
	}
	for _, e := range lb.Entries {
		if e.Action != "consent.opt_out" {
			t.Fatalf("tenant A's entry in B's log: %+v", e)
		}
	}
	ids, err := s.AuditLogIDs(ctx)
	if err != nil || len(ids) != 2 {
		t.Fatalf("logs %v, %v", ids, err)
	}
	// An entry moved from A's log into B's is caught.
	tamper(t, s, `UPDATE control.audit_entries SET log_id = $2, idx = 2 WHERE log_id = $1 AND idx = 2`, a, b)
	if p, bad := verifyAudit(t, s, b, verifiers).First(); !bad || p.Entry != 2 || !strings.Contains(p.Reason, "another log") {
		t.Fatalf("moved entry: %v", p)
	}
}

// tamper runs statements with triggers switched off, as a superuser rewriting the tables would.
func tamper(t *testing.T, s *Store, sql string, args ...any) {
	t.Helper()
	err := pgx.BeginFunc(context.Background(), s.Pool(), func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), `SET LOCAL session_replication_role = replica`); err != nil {
			return err
		}
		_, err := tx.Exec(context.Background(), sql, args...)
		return err
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func TestAuditTablesRefuseChanges(t *testing.T) {
	s, _ := auditStore(t)
	ctx := context.Background()
	fillAuditLog(t, s, auditlog.ControlLog, 3)
	for _, stmt := range []string{
		`UPDATE control.audit_entries SET actor = 'ops:mallory' WHERE idx = 1`,
		`UPDATE control.audit_entries SET payload = NULL WHERE idx = 1`,
		`DELETE FROM control.audit_entries WHERE idx = 2`,
		`TRUNCATE control.audit_entries`,
		`UPDATE control.audit_hashes SET hash = hash WHERE idx = 0`,
		`DELETE FROM control.audit_hashes`,
		`TRUNCATE control.audit_hashes`,
		`UPDATE control.audit_checkpoints SET note = note WHERE size = 1`,
		`DELETE FROM control.audit_checkpoints WHERE size = 3`,
		`TRUNCATE control.audit_checkpoints`,
		`UPDATE control.audit_logs SET size = 2`,
		`UPDATE control.audit_logs SET size = size + 2`,
		`DELETE FROM control.audit_logs`,
		`TRUNCATE control.audit_logs CASCADE`,
	} {
		_, err := s.Pool().Exec(ctx, stmt)
		if err == nil || !(strings.Contains(err.Error(), "append-only") || strings.Contains(err.Error(), "only grows")) {
			t.Errorf("%s: %v, want it refused", stmt, err)
		}
	}
	l, err := s.LoadAuditLog(ctx, auditlog.ControlLog)
	if err != nil || len(l.Entries) != 3 || len(l.Checkpoints) != 3 || l.Entries[1].Actor != "token:tok_123" {
		t.Fatalf("after refused changes: %d entries, %d checkpoints, %v", len(l.Entries), len(l.Checkpoints), err)
	}
}

func TestAuditRetention(t *testing.T) {
	s, verifiers := auditStore(t)
	ctx := context.Background()
	now := time.Now()
	old := tenantspec.NewID()
	for i := range 4 {
		ev := auditEvent(old, i)
		ev.OccurredAt = now.AddDate(-2, 0, i)
		appendAudit(t, s, ev)
	}
	for i := 4; i < 6; i++ {
		ev := auditEvent(old, i)
		ev.OccurredAt = now.Add(-time.Hour)
		appendAudit(t, s, ev)
	}
	if _, err := s.PruneAuditPayloads(ctx, now.AddDate(0, -6, 0)); !errors.Is(err, ErrAuditRetention) {
		t.Fatalf("pruning six-month-old payloads: %v", err)
	}
	n, err := s.PruneAuditPayloads(ctx, auditlog.RetentionCutoff(now))
	if err != nil || n != 4 {
		t.Fatalf("pruned %d, %v; want 4", n, err)
	}
	if n, err := s.PruneAuditPayloads(ctx, auditlog.RetentionCutoff(now)); err != nil || n != 0 {
		t.Fatalf("second sweep pruned %d, %v", n, err)
	}
	r := verifyAudit(t, s, old, verifiers)
	if !r.OK() || r.Entries != 6 || r.Pruned != 4 {
		t.Fatalf("after pruning: %+v", r)
	}
	l, _ := s.LoadAuditLog(ctx, old)
	if l.Entries[3].Payload != nil || l.Entries[4].Payload == nil || l.Entries[0].Actor != "token:tok_123" {
		t.Fatalf("pruned the wrong payloads: %+v", l.Entries)
	}

	// The retention switch opens one door only: NULLing an old payload.
	cutoff := auditlog.RetentionCutoff(now).UTC().Format(time.RFC3339Nano)
	for _, tc := range []struct{ name, cutoff, stmt string }{
		{"young payload", cutoff, `UPDATE control.audit_entries SET payload = NULL WHERE log_id = $1 AND idx = 4`},
		{"no cutoff", "", `UPDATE control.audit_entries SET payload = NULL WHERE log_id = $1 AND idx = 5`},
		{"old actor", cutoff, `UPDATE control.audit_entries SET actor = 'ops:mallory' WHERE log_id = $1 AND idx = 0`},
		{"old record", cutoff, `UPDATE control.audit_entries SET record = '\x00' WHERE log_id = $1 AND idx = 0`},
		{"old payload rewritten", cutoff, `UPDATE control.audit_entries SET payload = '{}' WHERE log_id = $1 AND idx = 0`},
		{"old entry deleted", cutoff, `DELETE FROM control.audit_entries WHERE log_id = $1 AND idx = 0`},
	} {
		err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('ringback.audit_retention', 'on', true), set_config('ringback.audit_retention_cutoff', $1, true)`, tc.cutoff); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, tc.stmt, old)
			return err
		})
		if err == nil {
			t.Errorf("%s: allowed", tc.name)
		}
	}
	if r := verifyAudit(t, s, old, verifiers); !r.OK() || r.Pruned != 4 {
		t.Fatalf("after refused retention changes: %+v", r)
	}
}

func TestAuditTamperingIsDetected(t *testing.T) {
	s, verifiers := auditStore(t)
	otherSigner, _ := auditKeys(t)
	const n = 10

	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, log string)
		first  string // how the first problem starts
		reason string // and what its reason says
	}{
		{"edit a payload", func(t *testing.T, log string) {
			tamper(t, s, `UPDATE control.audit_entries SET payload = '{"format":"csv","request":"req-4"}' WHERE log_id = $1 AND idx = 4`, log)
		}, "entry 4 (dsr/req-4/export)", "payload differs"},

		{"edit an actor", func(t *testing.T, log string) {
			tamper(t, s, `UPDATE control.audit_entries SET actor = 'ops:mallory' WHERE log_id = $1 AND idx = 6`, log)
		}, "entry 6 (dsr/req-6/export)", "actor differs"},

		{"rewrite an entry and every tree hash after it", func(t *testing.T, log string) {
			forgeEntry(t, s, log, 5)
		}, "entry 5 (dsr/req-5/export)", "signed checkpoint 6"},

		{"delete an entry", func(t *testing.T, log string) {
			tamper(t, s, `DELETE FROM control.audit_entries WHERE log_id = $1 AND idx = 3`, log)
		}, "entry 3 (?)", "missing"},

		{"swap two entries", func(t *testing.T, log string) {
			tamper(t, s, `UPDATE control.audit_entries SET idx = CASE idx WHEN 2 THEN 1000 ELSE idx END WHERE log_id = $1`, log)
			tamper(t, s, `UPDATE control.audit_entries SET idx = 2 WHERE log_id = $1 AND idx = 7`, log)
			tamper(t, s, `UPDATE control.audit_entries SET idx = 7 WHERE log_id = $1 AND idx = 1000`, log)
		}, "entry 2 (dsr/req-7/export)", "written at index 7"},

		{"insert a forged entry in the middle", func(t *testing.T, log string) {
			tamper(t, s, `UPDATE control.audit_entries SET idx = idx + 1000 WHERE log_id = $1 AND idx >= 5`, log)
			tamper(t, s, `UPDATE control.audit_entries SET idx = idx - 999 WHERE log_id = $1 AND idx >= 1000`, log)
			ev := auditEvent(log, 99)
			e, err := auditlog.Seal(ev, 5)
			if err != nil {
				t.Fatal(err)
			}
			tamper(t, s, `INSERT INTO control.audit_entries (log_id, idx, event_id, actor, action, subject, occurred_at, payload, record)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				log, e.Index, e.EventID, e.Actor, e.Action, e.Subject, e.OccurredAt, string(e.Payload), e.Record)
		}, "entry 5 (dsr/req-99/export)", "record hash differs"},

		{"truncate the tail with its tree hashes", func(t *testing.T, log string) {
			tamper(t, s, `DELETE FROM control.audit_entries WHERE log_id = $1 AND idx >= 7`, log)
			tamper(t, s, `DELETE FROM control.audit_hashes WHERE log_id = $1 AND idx >= $2`, log, tlog.StoredHashCount(7))
		}, "entry 7 (?)", "signed checkpoint 8"},

		{"replace a checkpoint's root", func(t *testing.T, log string) {
			var signed string
			if err := s.Pool().QueryRow(context.Background(),
				`SELECT note FROM control.audit_checkpoints WHERE log_id = $1 AND size = 4`, log).Scan(&signed); err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitN(signed, "\n", 4) // header, size, root, blank line and signature
			lines[2] = tlog.Hash{7}.String()
			tamper(t, s, `UPDATE control.audit_checkpoints SET note = $2 WHERE log_id = $1 AND size = 4`, log, strings.Join(lines, "\n"))
		}, "checkpoint 4:", "does not verify"},

		{"forge a checkpoint with another key", func(t *testing.T, log string) {
			forged, err := auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: log, Size: 4, Root: tlog.Hash{7}}, otherSigner)
			if err != nil {
				t.Fatal(err)
			}
			tamper(t, s, `UPDATE control.audit_checkpoints SET note = $2 WHERE log_id = $1 AND size = 4`, log, string(forged))
		}, "checkpoint 4:", "unknown keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := tenantspec.NewID()
			fillAuditLog(t, s, log, n)
			if r := verifyAudit(t, s, log, verifiers); !r.OK() {
				t.Fatalf("before tampering: %v", r.Problems)
			}
			tc.tamper(t, log)
			r := verifyAudit(t, s, log, verifiers)
			p, bad := r.First()
			if !bad {
				t.Fatal("tampering not detected")
			}
			if !strings.HasPrefix(p.String(), tc.first) || !strings.Contains(p.Reason, tc.reason) {
				t.Fatalf("first problem %q, want %q… saying %q; all: %v", p, tc.first, tc.reason, r.Problems)
			}
			t.Log(p)
		})
	}
}

// forgeEntry rewrites entry i consistently, record and all, and rebuilds every stored tree hash
// to match: everything a forger without the signing key can do.
func forgeEntry(t *testing.T, s *Store, logID string, i int64) {
	t.Helper()
	l, err := s.LoadAuditLog(context.Background(), logID)
	if err != nil {
		t.Fatal(err)
	}
	ev := auditEvent(logID, int(i))
	ev.Payload = json.RawMessage(`{"format":"csv","request":"req-forged"}`)
	e, err := auditlog.Seal(ev, i)
	if err != nil {
		t.Fatal(err)
	}
	l.Entries[i] = e
	hashes := auditlog.HashMap{}
	for k, e := range l.Entries {
		stored, _, err := auditlog.Extend(int64(k), e.RecordHash(), hashes)
		if err != nil {
			t.Fatal(err)
		}
		for j, h := range stored {
			hashes[tlog.StoredHashIndex(0, int64(k))+int64(j)] = h
		}
	}
	tamper(t, s, `UPDATE control.audit_entries SET payload = $3, record = $4 WHERE log_id = $1 AND idx = $2`,
		logID, i, string(e.Payload), e.Record)
	tamper(t, s, `DELETE FROM control.audit_hashes WHERE log_id = $1`, logID)
	for idx, h := range hashes {
		tamper(t, s, `INSERT INTO control.audit_hashes (log_id, idx, hash) VALUES ($1, $2, $3)`, logID, idx, h[:])
	}
}

func BenchmarkAppendAudit(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, testenv.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	signer, _ := auditKeys(b)
	s.SetAuditSigner(signer)
	ev := auditEvent(auditlog.ControlLog, 0)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.EventID = fmt.Sprintf("bench/%d", i)
		if _, err := s.AppendAudit(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
