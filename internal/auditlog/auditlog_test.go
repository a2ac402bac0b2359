package auditlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/ringback/ringback/internal/auditlog"
)

const subject = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func event(i int) auditlog.Event {
	return auditlog.Event{
		LogID:      "abcdefghijklmnop",
		EventID:    fmt.Sprintf("conv/abcdefghijklmnop/0123456789abcdef/step-%d", i),
		Actor:      "system",
		Action:     "consent.opt_out",
		Subject:    subject,
		OccurredAt: time.Date(2026, 3, 1, 12, 0, i, 123456789, time.UTC),
		Payload:    json.RawMessage(fmt.Sprintf(`{"n": %d, "keyword": "STOP"}`, i)),
	}
}

// memLog appends the way the store does, in memory.
type memLog struct {
	auditlog.Log
	signer note.Signer
}

// modes are the two ways of checking signatures; every tamper test runs under both.
var modes = []auditlog.VerifyOptions{{}, {AllSignatures: true}}

func newMemLog(t testing.TB, id string, n int) (*memLog, note.Verifiers) {
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
	m := &memLog{Log: auditlog.Log{ID: id, Hashes: auditlog.HashMap{}}, signer: signer}
	for i := range n {
		ev := event(i)
		ev.LogID = id
		m.append(t, ev)
	}
	return m, verifiers
}

func (m *memLog) append(t testing.TB, ev auditlog.Event) {
	t.Helper()
	n := int64(len(m.Entries))
	e, err := auditlog.Seal(ev, n)
	if err != nil {
		t.Fatal(err)
	}
	stored, root, err := auditlog.Extend(n, e.RecordHash(), m.Hashes)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range stored {
		m.Hashes[tlog.StoredHashIndex(0, n)+int64(i)] = h
	}
	cp, err := auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: m.ID, Size: n + 1, Root: root}, m.signer)
	if err != nil {
		t.Fatal(err)
	}
	m.Entries = append(m.Entries, e)
	m.Checkpoints = append(m.Checkpoints, cp)
}

func TestSealIsCanonical(t *testing.T) {
	a := event(1)
	b := event(1)
	b.Payload = json.RawMessage("{\n  \"keyword\" : \"STOP\",\"n\":1 }")
	b.OccurredAt = a.OccurredAt.In(time.FixedZone("EST", -5*3600)).Add(200 * time.Nanosecond)
	ea, err := auditlog.Seal(a, 7)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := auditlog.Seal(b, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ea.Record, eb.Record) || !bytes.Equal(ea.Payload, eb.Payload) {
		t.Fatalf("same event, different bytes:\n%s\n%s", ea.Record, eb.Record)
	}
	want := `{"action":"consent.opt_out","actor":"system","event_id":"conv/abcdefghijklmnop/0123456789abcdef/step-1",` +
		`"index":7,"log":"abcdefghijklmnop","occurred_at":"2026-03-01T12:00:01.123456Z",` +
		`"payload_sha256":"` + sha(`{"keyword":"STOP","n":1}`) + `","subject":"` + subject + `","v":1}`
	if string(ea.Record) != want {
		t.Fatalf("record\n got %s\nwant %s", ea.Record, want)
	}
	if !ea.OccurredAt.Equal(time.Date(2026, 3, 1, 12, 0, 1, 123456000, time.UTC)) || ea.OccurredAt.Location() != time.UTC {
		t.Fatalf("occurred at %v: want UTC truncated to microseconds", ea.OccurredAt)
	}
	other, _ := auditlog.Seal(a, 8)
	if bytes.Equal(other.Record, ea.Record) {
		t.Fatal("the index is not part of the record")
	}
}

func sha(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

func TestCanonicalPayload(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, `{}`},
		{`  `, `{}`},
		{`{}`, `{}`},
		{`{"b":1,"a":{"d":[3,{"z":null,"y":true}],"c":"<&>"}}`, `{"a":{"c":"<&>","d":[3,{"y":true,"z":null}]},"b":1}`},
		{`{"n":1.50,"e":1e3}`, `{"e":1e3,"n":1.50}`},
		{`{"s":"caf\u00e9 \u2028"}`, `{"s":"café \u2028"}`},
		{`{"phone_hash":"+1 is not a number"}`, `{"phone_hash":"+1 is not a number"}`},
	} {
		got, err := auditlog.CanonicalPayload([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("CanonicalPayload(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestSealRefuses(t *testing.T) {
	const secret = "+16145550123"
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	for name, edit := range map[string]func(*auditlog.Event){
		"no log":            func(e *auditlog.Event) { e.LogID = "" },
		"odd log":           func(e *auditlog.Event) { e.LogID = "t_abc; drop" },
		"no event id":       func(e *auditlog.Event) { e.EventID = "" },
		"spaced event id":   func(e *auditlog.Event) { e.EventID = "a b" },
		"phone as event id": func(e *auditlog.Event) { e.EventID = secret },
		"long event id":     func(e *auditlog.Event) { e.EventID = strings.Repeat("x", 201) },
		"no actor":          func(e *auditlog.Event) { e.Actor = "" },
		"control in actor":  func(e *auditlog.Event) { e.Actor = "ops:a\nb" },
		"bad action":        func(e *auditlog.Event) { e.Action = "Consent Opt-Out" },
		"phone as subject":  func(e *auditlog.Event) { e.Subject = secret },
		"upper hex subject": func(e *auditlog.Event) { e.Subject = strings.ToUpper(subject) },
		"no time":           func(e *auditlog.Event) { e.OccurredAt = time.Time{} },
		"array payload":     func(e *auditlog.Event) { e.Payload = json.RawMessage(`[1]`) },
		"trailing data":     func(e *auditlog.Event) { e.Payload = json.RawMessage(`{} {}`) },
		"broken json":       func(e *auditlog.Event) { e.Payload = json.RawMessage(`{"a":` + secret) },
		"duplicate key":     func(e *auditlog.Event) { e.Payload = json.RawMessage(`{"a":1,"a":2}`) },
		"invalid utf-8":     func(e *auditlog.Event) { e.Payload = json.RawMessage("{\"a\":\"\xff\"}") },
		"phone in payload":  func(e *auditlog.Event) { e.Payload = json.RawMessage(`{"from":"` + secret + `"}`) },
		"phone as key":      func(e *auditlog.Event) { e.Payload = json.RawMessage(`{"` + secret + `":1}`) },
		"too deep":          func(e *auditlog.Event) { e.Payload = json.RawMessage(deep) },
		"too large":         func(e *auditlog.Event) { e.Payload = json.RawMessage(`{"a":"` + strings.Repeat("x", 70000) + `"}`) },
	} {
		ev := event(1)
		edit(&ev)
		_, err := auditlog.Seal(ev, 0)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "6145550123") {
			t.Errorf("%s: error repeats the phone number: %v", name, err)
		}
	}
}

func TestExtendMatchesTreeHash(t *testing.T) {
	m, _ := newMemLog(t, "control", 37)
	for n := int64(1); n <= 37; n++ {
		want, err := tlog.TreeHash(n, m.Hashes)
		if err != nil {
			t.Fatal(err)
		}
		c, err := auditlog.ParseCheckpoint(noteText(m.Checkpoints[n-1]))
		if err != nil {
			t.Fatal(err)
		}
		if c.Size != n || c.Root != want {
			t.Fatalf("checkpoint %d: %+v, want root %v", n, c, want)
		}
	}
}

func noteText(msg []byte) string {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	return string(msg[:i+1])
}

func TestNewSignerDerivesTheVerifierKey(t *testing.T) {
	skey, vkey, err := auditlog.GenerateKey("ringback-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	signer, derived, err := auditlog.NewSigner(" " + skey + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if derived != vkey || signer.Name() != "ringback-audit-test" {
		t.Fatalf("derived %q, generated %q", derived, vkey)
	}
	for _, bad := range []string{"", vkey, skey[:len(skey)-4], strings.Replace(skey, "+KEY+", "+KEX+", 1)} {
		_, _, err := auditlog.NewSigner(bad)
		if err == nil {
			t.Errorf("NewSigner accepted %q", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad[len(bad)-10:]) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
	if _, err := auditlog.NewVerifiers(); err == nil {
		t.Error("no verifier keys accepted")
	}
	if _, err := auditlog.NewVerifiers("nonsense"); err == nil {
		t.Error("malformed verifier key accepted")
	}
}

func TestVerifyIntactLogs(t *testing.T) {
	// 300 entries take the parallel path.
	for _, n := range []int{0, 1, 2, 3, 8, 33, 300} {
		m, v := newMemLog(t, "control", n)
		for _, opts := range modes {
			r := auditlog.VerifyWith(m.Log, v, opts)
			if !r.OK() || r.Entries != int64(n) || r.Checkpoint.Size != int64(n) {
				t.Fatalf("%d entries, %+v: %+v", n, opts, r)
			}
		}
	}
	// Pruned payloads: the record, and so the tree, still verify.
	m, v := newMemLog(t, "control", 5)
	m.Entries[1].Payload = nil
	m.Entries[3].Payload = nil
	if r := auditlog.Verify(m.Log, v); !r.OK() || r.Pruned != 2 {
		t.Fatalf("pruned: %+v", r)
	}
}

// TestVerifyNamesTheFirstBadEntry is the in-memory twin of the store's tamper tests: each way of
// rewriting stored rows is caught and blamed on the right entry.
func TestVerifyNamesTheFirstBadEntry(t *testing.T) {
	const n = 10
	otherSkey, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	otherSigner, _, _ := auditlog.NewSigner(otherSkey)
	for _, tc := range []struct {
		name   string
		tamper func(m *memLog)
		first  string // Problem.String() prefix
		reason string // substring of the reason
	}{
		{"edit payload", func(m *memLog) { m.Entries[4].Payload = []byte(`{"keyword":"START","n":4}`) },
			"entry 4 (", "payload differs"},
		{"edit actor", func(m *memLog) { m.Entries[6].Actor = "ops:mallory" },
			"entry 6 (", "actor differs"},
		{"rewrite record without the tree", func(m *memLog) { forge(m, 5, false) },
			"entry 5 (", "record hash differs"},
		{"rewrite record and every stored hash", func(m *memLog) { forge(m, 5, true) },
			"entry 5 (", "signed checkpoint 6"},
		{"delete an entry", func(m *memLog) { m.Entries = append(m.Entries[:3:3], m.Entries[4:]...) },
			"entry 3 (?)", "missing"},
		{"delete and renumber", func(m *memLog) {
			m.Entries = append(m.Entries[:3:3], m.Entries[4:]...)
			for i := 3; i < len(m.Entries); i++ {
				m.Entries[i].Index--
			}
		}, "entry 3 (", "written at index 4"},
		{"swap two entries", func(m *memLog) { m.Entries[2].Index, m.Entries[7].Index = 7, 2 },
			"entry 2 (", "written at index 7"},
		{"insert in the middle", func(m *memLog) {
			forged, _ := auditlog.Seal(event(99), 5)
			for i := 5; i < len(m.Entries); i++ {
				m.Entries[i].Index++
			}
			m.Entries = append(m.Entries, forged)
		}, "entry 5 (", "record hash differs"},
		{"append an entry only", func(m *memLog) {
			forged, _ := auditlog.Seal(event(99), n)
			m.Entries = append(m.Entries, forged)
		}, "entry 10 (", "missing from the stored tree"},
		{"append an entry and its tree hashes, but no signature", func(m *memLog) {
			forged, _ := auditlog.Seal(event(99), n)
			stored, _, _ := auditlog.Extend(n, forged.RecordHash(), m.Hashes)
			for j, h := range stored {
				m.Hashes[tlog.StoredHashIndex(0, n)+int64(j)] = h
			}
			m.Entries = append(m.Entries, forged)
		}, "entry 10 (", "not covered"},
		{"truncate the tail with its hashes", func(m *memLog) {
			m.Entries = m.Entries[:7]
			for x := range m.Hashes {
				if x >= tlog.StoredHashCount(7) {
					delete(m.Hashes, x)
				}
			}
		}, "entry 7 (?)", "signed checkpoint 8"},
		{"truncate the tail and its checkpoints, but one was kept elsewhere", func(m *memLog) {
			kept := m.Checkpoints[n-1]
			m.Entries = m.Entries[:7]
			m.Checkpoints = append(m.Checkpoints[:7:7], kept)
		}, "entry 7 (?)", "missing"},
		{"tree hash edited", func(m *memLog) { m.Hashes[tlog.StoredHashIndex(1, 2)] = tlog.Hash{1} },
			"entry 4 (", "entries 4–5"},
		{"replace a checkpoint's root", func(m *memLog) {
			lines := strings.SplitN(string(m.Checkpoints[3]), "\n", 4)
			lines[2] = tlog.Hash{7}.String()
			m.Checkpoints[3] = []byte(strings.Join(lines, "\n"))
		}, "checkpoint 4:", "does not verify"},
		{"checkpoint signed by another key", func(m *memLog) {
			m.Checkpoints[3], _ = auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: m.ID, Size: 4, Root: tlog.Hash{7}}, otherSigner)
		}, "checkpoint 4:", "unknown keys"},
		{"checkpoint of another log", func(m *memLog) {
			m.Checkpoints[3], _ = auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: "elsewhere", Size: 4, Root: tlog.Hash{7}}, m.signer)
		}, "checkpoint 4:", "another log"},
		{"entry moved from another log", func(m *memLog) {
			ev := event(6)
			ev.LogID = "qrstuvwxyzabcdef"
			moved, _ := auditlog.Seal(ev, 6)
			m.Entries[6] = moved
		}, "entry 6 (", "another log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, v := newMemLog(t, "abcdefghijklmnop", n)
			tc.tamper(m)
			for _, opts := range modes {
				r := auditlog.VerifyWith(m.Log, v, opts)
				p, bad := r.First()
				if !bad {
					t.Fatalf("%+v: tampering not detected", opts)
				}
				if !strings.HasPrefix(p.String(), tc.first) || !strings.Contains(p.Reason, tc.reason) {
					t.Fatalf("%+v: first problem %q, want %q… with %q; all: %v", opts, p, tc.first, tc.reason, r.Problems)
				}
				t.Logf("%+v: %s (%d problems, %d signatures checked)", opts, p, len(r.Problems), r.Signatures)
			}
		})
	}
}

// forge rewrites entry i's payload and record consistently, as someone who understands the
// format would, and optionally the whole stored tree after it.
func forge(m *memLog, i int, rehash bool) {
	ev := event(i)
	ev.LogID = m.ID
	ev.Payload = json.RawMessage(`{"keyword":"START"}`)
	e, _ := auditlog.Seal(ev, int64(i))
	m.Entries[i] = e
	if !rehash {
		return
	}
	m.Hashes = auditlog.HashMap{}
	for k, e := range m.Entries {
		stored, _, _ := auditlog.Extend(int64(k), e.RecordHash(), m.Hashes)
		for j, h := range stored {
			m.Hashes[tlog.StoredHashIndex(0, int64(k))+int64(j)] = h
		}
	}
}

// TestVerifySignatureModes covers where the two modes differ: the default checks the
// signatures that carry weight, AllSignatures every one.
func TestVerifySignatureModes(t *testing.T) {
	const n = 10
	otherSkey, _, _ := auditlog.GenerateKey(auditlog.DefaultKeyName)
	otherSigner, _, _ := auditlog.NewSigner(otherSkey)
	resign := func(m *memLog, i int, s note.Signer) {
		c, err := auditlog.ReadCheckpoint(m.Checkpoints[i])
		if err != nil {
			t.Fatal(err)
		}
		m.Checkpoints[i], _ = auditlog.SignCheckpoint(c, s)
	}

	t.Run("signatures checked on an intact log", func(t *testing.T) {
		m, v := newMemLog(t, "control", n)
		if r := auditlog.Verify(m.Log, v); !r.OK() || r.Signatures != 1 || r.Checkpoints != n {
			t.Fatalf("default: %d of %d signatures checked, %v", r.Signatures, r.Checkpoints, r.Problems)
		}
		if r := auditlog.VerifyWith(m.Log, v, auditlog.VerifyOptions{AllSignatures: true}); !r.OK() || r.Signatures != n {
			t.Fatalf("every signature: %d checked, %v", r.Signatures, r.Problems)
		}
	})

	// A true statement under a bad signature changes nothing the log says: only AllSignatures
	// looks at it.
	for name, tamper := range map[string]func(m *memLog){
		"garbage signature on a true checkpoint": func(m *memLog) {
			msg := m.Checkpoints[3]
			m.Checkpoints[3] = append(bytes.Clone(msg[:len(msg)-10]), []byte("AAAAAAAAA\n")...)
		},
		"true checkpoint re-signed by another key": func(m *memLog) { resign(m, 3, otherSigner) },
	} {
		t.Run(name, func(t *testing.T) {
			m, v := newMemLog(t, "control", n)
			tamper(m)
			if r := auditlog.Verify(m.Log, v); !r.OK() {
				t.Fatalf("default: %v", r.Problems)
			}
			p, bad := auditlog.VerifyWith(m.Log, v, auditlog.VerifyOptions{AllSignatures: true}).First()
			if !bad || !strings.HasPrefix(p.String(), "checkpoint 4: ") {
				t.Fatalf("every signature: first problem %v", p)
			}
		})
	}

	// The latest checkpoint carries the default mode: a bad signature there fails the log, and
	// entries are vouched for by the newest earlier checkpoint that is signed.
	t.Run("latest checkpoint forged", func(t *testing.T) {
		m, v := newMemLog(t, "control", n)
		resign(m, n-1, otherSigner)
		for _, opts := range modes {
			r := auditlog.VerifyWith(m.Log, v, opts)
			if p, _ := r.First(); len(r.Problems) != 2 || !strings.Contains(p.String(), "entry 9 (") || !strings.Contains(p.Reason, "not covered") ||
				!strings.Contains(r.Problems[1].String(), "checkpoint 10: signed only by unknown keys") {
				t.Fatalf("%+v: %v", opts, r.Problems)
			}
		}
	})

	// A forger who rewrites an entry, the tree, and every checkpoint from there on (which
	// they cannot sign) is caught at the latest checkpoint, and the first bad entry is still
	// named.
	t.Run("entry, tree and later checkpoints rewritten", func(t *testing.T) {
		m, v := newMemLog(t, "control", n)
		forge(m, 5, true)
		for k := 5; k < n; k++ {
			root, _ := tlog.TreeHash(int64(k+1), m.Hashes)
			m.Checkpoints[k], _ = auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: m.ID, Size: int64(k + 1), Root: root}, otherSigner)
		}
		for _, opts := range modes {
			r := auditlog.VerifyWith(m.Log, v, opts)
			p, _ := r.First()
			if !strings.HasPrefix(p.String(), "entry 5 (") || len(r.Problems) != 1+n-5 {
				t.Fatalf("%+v: %v", opts, r.Problems)
			}
		}
	})

	t.Run("a checkpoint kept elsewhere catches a cut tail", func(t *testing.T) {
		m, v := newMemLog(t, "control", n)
		kept := m.Checkpoints[n-1]
		m.Entries, m.Checkpoints = m.Entries[:7], m.Checkpoints[:7]
		for x := range m.Hashes {
			if x >= tlog.StoredHashCount(7) {
				delete(m.Hashes, x)
			}
		}
		if r := auditlog.Verify(m.Log, v); !r.OK() || r.Entries != 7 {
			t.Fatalf("without it the shorter log is consistent: %v", r.Problems)
		}
		for _, opts := range modes {
			opts.External = [][]byte{kept}
			p, _ := auditlog.VerifyWith(m.Log, v, opts).First()
			if p.String() != "entry 7 (?): missing: signed checkpoint 10 covers entries up to 9" {
				t.Fatalf("%+v: first problem %v", opts.AllSignatures, p)
			}
		}
		// A forged one is reported, not believed.
		forged, _ := auditlog.SignCheckpoint(auditlog.Checkpoint{LogID: m.ID, Size: 12, Root: tlog.Hash{1}}, otherSigner)
		r := auditlog.VerifyWith(m.Log, v, auditlog.VerifyOptions{External: [][]byte{forged}})
		if len(r.Problems) != 1 || !strings.HasPrefix(r.Problems[0].String(), "checkpoint 12: signed only by unknown keys") {
			t.Fatalf("forged external checkpoint: %v", r.Problems)
		}
	})
}

// TestVerifyLargeLog runs tampering through the parallel path, batches of entries and
// checkpoints split across CPUs.
func TestVerifyLargeLog(t *testing.T) {
	const n = 300
	m, v := newMemLog(t, "control", n)
	forge(m, 200, true)
	m.Entries[250].Actor = "ops:mallory"
	for _, opts := range modes {
		r := auditlog.VerifyWith(m.Log, v, opts)
		if len(r.Problems) != 2 || r.Problems[0].Entry != 200 || !strings.Contains(r.Problems[0].Reason, "signed checkpoint 201") ||
			r.Problems[1].Entry != 250 || !strings.Contains(r.Problems[1].Reason, "actor differs") {
			t.Fatalf("%+v: %v", opts, r.Problems)
		}
	}
}

func TestVerifyOutOfSequenceIndexes(t *testing.T) {
	for name, edit := range map[string]func(m *memLog){
		"duplicate": func(m *memLog) { m.Entries[4].Index = 3 },
		"negative":  func(m *memLog) { m.Entries[0].Index = -1 },
	} {
		m, v := newMemLog(t, "control", 6)
		edit(m)
		p, bad := auditlog.Verify(m.Log, v).First()
		if !bad || p.Entry < 0 {
			t.Errorf("%s: first problem %v", name, p)
		}
	}
}

func BenchmarkVerify1000(b *testing.B) {
	m, v := newMemLog(b, "control", 1000)
	for b.Loop() {
		if r := auditlog.Verify(m.Log, v); !r.OK() {
			b.Fatal(r.Problems)
		}
	}
}

func BenchmarkVerifyAllSignatures1000(b *testing.B) {
	m, v := newMemLog(b, "control", 1000)
	for b.Loop() {
		if r := auditlog.VerifyWith(m.Log, v, auditlog.VerifyOptions{AllSignatures: true}); !r.OK() {
			b.Fatal(r.Problems)
		}
	}
}
