package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestConsentLedger is privacy promises P10 and P18 at the store: every keyword path writes
// exactly one consent event and one audit entry, an opt-out survives the erasure of the caller's
// data and a later call, and only the caller's START lifts it.
func TestConsentLedger(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 31)
	other := createTenant(t, s, 32)
	hash := hashOf(callerA)
	conv := openConv(t, s, tn.ID, callerA, "run-1")
	// Contact: implied opt-in.
	if _, err := s.RecordMissedCall(ctx, MissedCall{TenantID: tn.ID, ConversationID: conv, PhoneHash: hash, CallSid: "CA01", Status: "no-answer", OccurredAt: at}); err != nil {
		t.Fatal(err)
	}
	suppressed := func(tenant string) bool {
		t.Helper()
		ok, err := s.Suppressed(ctx, tenant, hash)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if suppressed(tn.ID) {
		t.Fatal("suppressed before any STOP")
	}

	stop := ConsentChange{TenantID: tn.ID, PhoneHash: hash, MessageSid: "SM-stop", At: at.Add(time.Minute)}
	for i, want := range []bool{true, false} { // the second is Twilio retrying the STOP webhook
		res, err := s.RecordOptOut(ctx, stop)
		if err != nil || res.Changed != want {
			t.Fatalf("opt-out %d: %+v, %v", i, res, err)
		}
	}
	if !suppressed(tn.ID) || suppressed(other.ID) {
		t.Fatal("opt-out must apply to this tenant only")
	}

	// Erase everything the tenant holds about the caller, then the caller calls again.
	if err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
		for _, q := range []string{`DELETE FROM calls`, `DELETE FROM messages`, `DELETE FROM conversations`, `DELETE FROM contacts`} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	conv2 := openConv(t, s, tn.ID, callerA, "run-2")
	if _, err := s.RecordMissedCall(ctx, MissedCall{TenantID: tn.ID, ConversationID: conv2, PhoneHash: hash, CallSid: "CA02", Status: "busy", OccurredAt: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !suppressed(tn.ID) {
		t.Fatal("erasure or a new call lifted the opt-out")
	}

	start := ConsentChange{TenantID: tn.ID, PhoneHash: hash, MessageSid: "SM-start", At: at.Add(2 * time.Hour)}
	if res, err := s.RecordOptIn(ctx, start); err != nil || !res.Changed {
		t.Fatalf("opt-in: %+v, %v", res, err)
	}
	if res, err := s.RecordOptIn(ctx, start); err != nil || res.Changed {
		t.Fatalf("repeated opt-in: %+v, %v", res, err)
	}
	if suppressed(tn.ID) {
		t.Fatal("START did not lift the opt-out")
	}

	history, err := s.ConsentHistory(ctx, tn.ID, hash)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range history {
		kinds = append(kinds, e.Kind+":"+e.SourceID)
	}
	want := "implied_opt_in:CA01 opt_out:SM-stop implied_opt_in:CA02 opt_in:SM-start"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("ledger = %s\nwant     %s", got, want)
	}

	// Each consent event has exactly one audit entry, in the tenant's log, about the caller's HMAC.
	l, err := s.LoadAuditLog(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range l.Entries {
		if strings.HasPrefix(e.Action, "consent.") {
			counts[e.Action+"/"+e.EventID[strings.LastIndex(e.EventID, "/")+1:]]++
			if e.Subject != hash {
				t.Errorf("%s: subject %q, want the caller's HMAC", e.Action, e.Subject)
			}
		}
	}
	for _, key := range []string{"consent.implied_opt_in/CA01", "consent.opt_out/SM-stop", "consent.implied_opt_in/CA02", "consent.opt_in/SM-start"} {
		if counts[key] != 1 {
			t.Errorf("audit entries for %s = %d, want 1 (all: %v)", key, counts[key], counts)
		}
	}
	if len(counts) != 4 {
		t.Errorf("unexpected consent audit entries: %v", counts)
	}
}
