package auditlog

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

func TestDenseTreeMatchesTlog(t *testing.T) {
	var tree denseTree
	stored := HashMap{}
	for n := int64(0); n <= 300; n++ {
		want, err := tlog.TreeHash(n, stored)
		if err != nil {
			t.Fatal(err)
		}
		if got := tree.root(n); got != want {
			t.Fatalf("root of %d records: %v, want %v", n, got, want)
		}
		leaf := tlog.RecordHash(fmt.Appendf(nil, "record %d", n))
		hashes, err := tlog.StoredHashesForRecordHash(n, leaf, stored)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hashes {
			stored[tlog.StoredHashIndex(0, n)+int64(i)] = h
		}
		tree.add(leaf)
		if int64(len(tree.hashes)) != tlog.StoredHashCount(n+1) {
			t.Fatalf("after %d records: %d stored hashes, want %d", n+1, len(tree.hashes), tlog.StoredHashCount(n+1))
		}
		for x, h := range stored {
			if tree.hashes[x] != h {
				t.Fatalf("after %d records: stored hash %d differs", n+1, x)
			}
		}
	}
}

// TestMatchesRecordAgreesWithCheckEntry holds the fast path to the full check: whenever it says
// an entry matches its record, checkEntry must find nothing wrong. It must also take ordinary
// entries, or it is no faster.
func TestMatchesRecordAgreesWithCheckEntry(t *testing.T) {
	base := Event{
		LogID: "abcdefghijklmnop", EventID: "dsr/req-1/export", Actor: "token:tok_1", Action: "personal_data.read",
		Subject: "9f86d081884c7d659a2feaa0c55ad015", OccurredAt: time.Date(2026, 3, 1, 12, 0, 1, 123456789, time.UTC),
		Payload: json.RawMessage(`{"format":"json"}`),
	}
	ordinary := []func(*Event){
		func(*Event) {},
		func(e *Event) { e.Subject = "" },
		func(e *Event) { e.Actor = "ops:Alex Smith" },
		func(e *Event) { e.OccurredAt = e.OccurredAt.In(time.FixedZone("X", -7*3600)) },
	}
	unusual := []func(*Event){
		func(e *Event) { e.Actor = "ops:<alex>" },
		func(e *Event) { e.Actor = `ops:"alex"` },
		func(e *Event) { e.Actor = "ops:zoë" },
		func(e *Event) { e.EventID = "a&b" },
		func(e *Event) { e.OccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	}
	for i, edit := range append(ordinary, unusual...) {
		ev := base
		edit(&ev)
		e, err := Seal(ev, 42)
		if err != nil {
			e = Entry{Index: 42, EventID: ev.EventID, Actor: ev.Actor, Action: ev.Action, Subject: ev.Subject, OccurredAt: ev.OccurredAt, Payload: []byte("{}")}
			e.Record = encodeRecord(ev.LogID, e, "00")
		}
		if _, ok := matchesRecord(nil, ev.LogID, &e); i < len(ordinary) && !ok {
			t.Errorf("case %d: the fast path refused an ordinary entry", i)
		}
		// Every one-field disagreement, and the entry as sealed.
		variants := map[string]func(e *Entry, logID *string){
			"as sealed":    func(*Entry, *string) {},
			"pruned":       func(e *Entry, _ *string) { e.Payload = nil },
			"log":          func(_ *Entry, l *string) { *l = "qrstuvwxyzabcdef" },
			"index":        func(e *Entry, _ *string) { e.Index++ },
			"event id":     func(e *Entry, _ *string) { e.EventID += "x" },
			"actor":        func(e *Entry, _ *string) { e.Actor = "system" },
			"action":       func(e *Entry, _ *string) { e.Action = "consent.opt_in" },
			"subject":      func(e *Entry, _ *string) { e.Subject = "00000000000000000000" },
			"time":         func(e *Entry, _ *string) { e.OccurredAt = e.OccurredAt.Add(time.Microsecond) },
			"payload":      func(e *Entry, _ *string) { e.Payload = []byte(`{"format":"csv"}`) },
			"record":       func(e *Entry, _ *string) { e.Record = append([]byte(" "), e.Record...) },
			"record space": func(e *Entry, _ *string) { e.Record = append(e.Record[:len(e.Record):len(e.Record)], ' ') },
		}
		for name, vary := range variants {
			e2 := e
			logID := ev.LogID
			vary(&e2, &logID)
			_, fast := matchesRecord(nil, logID, &e2)
			if slow := checkEntry(logID, e2); fast && slow != "" {
				t.Errorf("case %d, %s: the fast path accepted what checkEntry refuses: %s", i, name, slow)
			}
		}
	}
}
