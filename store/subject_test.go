package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/subjectexport"
)

func subjectOf(tenantID, caller string) Subject {
	return Subject{TenantID: tenantID, PhoneE164: caller, PhoneHash: hashOf(caller)}
}

// callerTraffic is what populateCaller stored for one caller, to compare reads against.
type callerTraffic struct {
	conversations, messages, calls, bookings, escalations, consent, outbox, sandbox int
}

// populateCaller gives caller a history with tenant through the store's own functions: two
// conversations, missed calls, texts both ways, a booking made and cancelled and one kept, an
// escalation, delivery records and a sandbox text; optOut adds a STOP. tag marks bodies and
// keys so reads can be told apart between callers.
func populateCaller(t *testing.T, s *Store, tenantID, caller, tag string, optOut bool) callerTraffic {
	t.Helper()
	ctx := context.Background()
	hash := hashOf(caller)
	var tr callerTraffic
	for run := range 2 {
		conv := openConv(t, s, tenantID, caller, fmt.Sprintf("%s-run-%d", tag, run))
		tr.conversations++
		if _, err := s.RecordMissedCall(ctx, MissedCall{TenantID: tenantID, ConversationID: conv, PhoneHash: hash,
			CallSid: fmt.Sprintf("CA-%s-%d", tag, run), Status: "no-answer", OccurredAt: at.Add(time.Duration(run) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		tr.calls++
		tr.consent++
		for i := range 3 {
			if _, err := s.RecordInbound(ctx, InboundMessage{TenantID: tenantID, ConversationID: conv, PhoneHash: hash,
				MessageSid: fmt.Sprintf("SM-%s-%d-%d", tag, run, i), Body: fmt.Sprintf("%s says, \"hello\" %d", tag, i),
				ReceivedAt: at.Add(time.Duration(run)*time.Hour + time.Duration(i)*time.Minute)}); err != nil {
				t.Fatal(err)
			}
			tr.messages++
			tr.consent++
		}
		key := fmt.Sprintf("conv/%s/%d#reply", tag, run)
		if _, err := s.ClaimOutbox(ctx, key, tenantID, hash); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteOutbox(ctx, SentMessage{Key: key, TenantID: tenantID, ConversationID: conv,
			Body: tag + " reply", ProviderMessageID: "SMp-" + tag, SentAt: at.Add(time.Duration(run)*time.Hour + 5*time.Minute)}); err != nil {
			t.Fatal(err)
		}
		tr.messages++
		tr.outbox++
		if run == 0 {
			esc, err := s.RecordEscalation(ctx, tenantID, conv, "asked for a person", "esc-"+tag)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.MarkEscalation(ctx, tenantID, esc, EscalationAcknowledged, at.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			tr.escalations++
			// One calendar per tenant: callers of one tenant get slots hours apart by their tag.
			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(tag[0]) * 3 * time.Hour)
			b, err := s.Book(ctx, Booking{TenantID: tenantID, ConversationID: conv, PhoneHash: hash, Service: "Haircut",
				Start: start, End: start.Add(time.Hour), Name: "Name of " + tag, RequestKey: "book-" + tag})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.RescheduleBooking(ctx, BookingChange{TenantID: tenantID, PhoneHash: hash, BookingID: b.ID,
				RequestKey: "move-" + tag}, start.Add(30*time.Minute), start.Add(90*time.Minute)); err != nil {
				t.Fatal(err)
			}
			tr.bookings += 2
		}
	}
	if _, err := s.Pool().Exec(ctx, `
		INSERT INTO control.sandbox_messages (tenant_id, idempotency_key, from_number, to_number, body)
		VALUES ($1, $2, '+16145550100', $3, $4)`, tenantID, "sandbox-"+tag, caller, tag+" sandbox text"); err != nil {
		t.Fatal(err)
	}
	tr.sandbox++
	if optOut {
		if _, err := s.RecordOptOut(ctx, ConsentChange{TenantID: tenantID, PhoneHash: hash, MessageSid: "SM-stop-" + tag, At: at.Add(3 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		tr.consent++
	}
	return tr
}

func checkRecord(t *testing.T, rec SubjectRecord, sub Subject, tag string, want callerTraffic) {
	t.Helper()
	if rec.Contact == nil || rec.Contact.PhoneE164 != sub.PhoneE164 || rec.Contact.PhoneHash != sub.PhoneHash {
		t.Fatalf("contact = %+v", rec.Contact)
	}
	got := callerTraffic{len(rec.Conversations), len(rec.Messages), len(rec.Calls), len(rec.Bookings),
		len(rec.Escalations), len(rec.ConsentEvents), len(rec.OutboundTexts), 0}
	want.sandbox = 0 // sandbox texts are a development aid, not part of the record
	if got != want {
		t.Errorf("record holds %+v, want %+v", got, want)
	}
	for _, m := range rec.Messages {
		if !strings.HasPrefix(m.Body, tag+" ") {
			t.Errorf("message %q is not this caller's", m.Body)
		}
	}
	for _, b := range rec.Bookings {
		if b.Name != "Name of "+tag {
			t.Errorf("booking %+v is not this caller's", b)
		}
	}
	convs := map[int64]bool{}
	for _, c := range rec.Conversations {
		convs[c.ID] = true
	}
	for _, m := range rec.Messages {
		if !convs[m.ConversationID] {
			t.Errorf("message %d belongs to conversation %d, not listed", m.ID, m.ConversationID)
		}
	}
	for _, c := range rec.Calls {
		if !convs[c.ConversationID] || !strings.HasPrefix(c.CallSid, "CA-"+tag) {
			t.Errorf("call %+v is not this caller's", c)
		}
	}
	if rec.GeneratedAt.IsZero() {
		t.Error("no GeneratedAt")
	}
}

func TestSubjectDataHoldsOneCallerOfOneTenant(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 41)
	other := createTenant(t, s, 42)
	trA := populateCaller(t, s, tn.ID, callerA, "alice", true)
	populateCaller(t, s, tn.ID, callerB, "bob", false)
	populateCaller(t, s, other.ID, callerA, "alina", false) // the same number at another business

	sub := subjectOf(tn.ID, callerA)
	rec, err := s.SubjectData(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, rec, sub, "alice", trA)
	if rec.Suppression == nil || rec.ConsentEvents[len(rec.ConsentEvents)-1].Kind != ConsentOptOut ||
		rec.Suppression.SourceEventID != rec.ConsentEvents[len(rec.ConsentEvents)-1].ID {
		t.Errorf("suppression %+v does not cite the opt-out", rec.Suppression)
	}
	if rec.Escalations[0].AcknowledgedAt == nil || rec.Bookings[0].Status != BookingCancelled || rec.Bookings[1].Replaces != rec.Bookings[0].ID {
		t.Errorf("escalation %+v, bookings %+v", rec.Escalations, rec.Bookings)
	}

	// The record builds into an export that holds the same data.
	if _, err := subjectexport.Build(rec); err != nil {
		t.Fatalf("build export: %v", err)
	}

	// A number the tenant never heard from: an empty record, not an error.
	stranger, err := s.SubjectData(ctx, subjectOf(tn.ID, "+16145550177"))
	if err != nil {
		t.Fatal(err)
	}
	if stranger.Contact != nil || len(stranger.Messages)+len(stranger.ConsentEvents)+len(stranger.OutboundTexts) != 0 || stranger.Suppression != nil {
		t.Errorf("a stranger's record = %+v", stranger)
	}
}

func TestSubjectRefusesAHashOfAnotherKey(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 43)
	populateCaller(t, s, tn.ID, callerA, "alice", false)
	h, err := phone.NewHasher([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := NewSubject(h, tn.ID, "(614) 555-0123")
	if err != nil {
		t.Fatal(err)
	}
	if sub.PhoneE164 != callerA || sub.PhoneHash != h.Hash(callerA) {
		t.Fatalf("NewSubject = %+v", sub)
	}
	// The tenant's contacts were hashed with another key (hashOf): nothing may be read or erased.
	if _, err := s.SubjectData(ctx, sub); !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("SubjectData = %v, want ErrSubjectMismatch", err)
	}
	if _, err := s.EraseSubject(ctx, sub); !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("EraseSubject = %v, want ErrSubjectMismatch", err)
	}
	if _, _, err := s.CorrectSubject(ctx, sub, Correction{Name: "X"}); !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("CorrectSubject = %v, want ErrSubjectMismatch", err)
	}
	if n := count(t, s, `SELECT count(*) FROM `+schemaOf(t, tn.ID)+`.messages`); n == 0 {
		t.Error("a refused erasure deleted messages")
	}

	for _, bad := range []Subject{
		{TenantID: "nope", PhoneE164: callerA, PhoneHash: hashOf(callerA)},
		{TenantID: tn.ID, PhoneE164: "6145550123", PhoneHash: hashOf(callerA)},
		{TenantID: tn.ID, PhoneE164: callerA, PhoneHash: "ABC"},
	} {
		if _, err := s.SubjectData(ctx, bad); err == nil {
			t.Errorf("SubjectData(%+v) accepted", bad)
		} else if strings.Contains(err.Error(), "555") {
			t.Errorf("error %q repeats the number", err)
		}
	}
	if _, err := NewSubject(h, tn.ID, "not a number 555"); err == nil || strings.Contains(err.Error(), "555") {
		t.Errorf("NewSubject(bad number) = %v", err)
	}
}

// TestEraseSubject is privacy promises P16 (deletion by phone number) and P18 at the store: the
// caller's rows are gone from every table, the proof scan says so, their opt-out survives, and
// nobody else's data is touched.
func TestEraseSubject(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	keys := newFakeKeys()
	tn := createTenant(t, s, 44)
	other := createTenant(t, s, 45)
	trA := populateCaller(t, s, tn.ID, callerA, "alice", true)
	trB := populateCaller(t, s, tn.ID, callerB, "bob", true)
	populateCaller(t, s, other.ID, callerA, "alina", false)
	subA, subB := subjectOf(tn.ID, callerA), subjectOf(tn.ID, callerB)

	// An access request with a pending export, and a restriction lifted and one in force.
	req := createRequest(t, s, tn.ID, DSRAccess, hashOf(callerA))
	if _, err := s.SaveDSRExport(ctx, keys, req.ID, []byte("zip"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []RestrictionKind{ProcessingRestricted, ProcessingObjected} {
		if _, err := s.Restrict(ctx, tn.ID, hashOf(callerA), kind, req.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.LiftRestriction(ctx, tn.ID, hashOf(callerA), ProcessingRestricted); err != nil {
		t.Fatal(err)
	}

	before, err := s.ScanSubject(ctx, subA)
	if err != nil {
		t.Fatal(err)
	}
	wantBefore := map[string]int{
		"contacts": 1, "conversations": trA.conversations, "messages": trA.messages, "calls": trA.calls,
		"bookings": trA.bookings, "escalations": trA.escalations,
		"control.consent_events": trA.consent - 1, "control.outbox": trA.outbox, "control.sandbox_messages": trA.sandbox,
		"control.processing_restrictions": 1, "control.dsr_exports": 1,
	}
	if !reflect.DeepEqual(before.Remaining, wantBefore) {
		t.Errorf("scan before erasure = %v\nwant %v", before.Remaining, wantBefore)
	}
	bobBefore, err := s.SubjectData(ctx, subB)
	if err != nil {
		t.Fatal(err)
	}

	counts, err := s.EraseSubject(ctx, subA)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(map[string]int(counts), wantBefore) {
		t.Errorf("erasure counts = %v\nwant %v", counts, wantBefore)
	}

	after, err := s.ScanSubject(ctx, subA)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Erased() || len(after.Unclassified) != 0 {
		t.Errorf("after erasure: remaining %v, unclassified %v", after.Remaining, after.Unclassified)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(after.Remaining)), slices.Sorted(maps.Keys(before.Remaining))) {
		t.Errorf("the scans listed different tables: %v / %v", after.Remaining, before.Remaining)
	}
	for table, want := range map[string]int{
		"control.suppressions": 1, "control.consent_events": 1, "control.processing_restrictions": 1, "control.dsr_identifiers": 1,
	} {
		if after.Kept[table] != want {
			t.Errorf("kept %s = %d, want %d (all kept: %v)", table, after.Kept[table], want, after.Kept)
		}
	}
	if after.Kept["control.audit_entries"] == 0 {
		t.Error("the audit log's entries about the caller are not reported as kept")
	}

	// Erasing again finds nothing.
	again, err := s.EraseSubject(ctx, subA)
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range again {
		if n != 0 {
			t.Errorf("second erasure deleted %d from %s", n, table)
		}
	}

	// Bob, and Alice at the other business, are untouched.
	bobAfter, err := s.SubjectData(ctx, subB)
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, bobAfter, subB, "bob", trB)
	bobBefore.GeneratedAt, bobAfter.GeneratedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(bobBefore, bobAfter) {
		t.Error("erasing one caller changed another's data")
	}
	elsewhere, err := s.ScanSubject(ctx, subjectOf(other.ID, callerA))
	if err != nil {
		t.Fatal(err)
	}
	if elsewhere.Erased() || elsewhere.Remaining["messages"] == 0 {
		t.Errorf("erasure at one business reached another: %v", elsewhere.Remaining)
	}

	// P18: the erased caller is still opted out, and calling again does not change that.
	conv := openConv(t, s, tn.ID, callerA, "after-erasure")
	if _, err := s.RecordMissedCall(ctx, MissedCall{TenantID: tn.ID, ConversationID: conv, PhoneHash: hashOf(callerA),
		CallSid: "CA-after", Status: "busy", OccurredAt: at.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Suppressed(ctx, tn.ID, hashOf(callerA)); err != nil || !ok {
		t.Errorf("after erasure and a new call: suppressed = %t, %v", ok, err)
	}
	if ok, kind, err := s.Restricted(ctx, tn.ID, hashOf(callerA)); err != nil || !ok || kind != ProcessingObjected {
		t.Errorf("after erasure: restricted = %t %q, %v; want the objection in force", ok, kind, err)
	}
}

func TestEraseSubjectWhoNeverOptedOut(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 46)
	tr := populateCaller(t, s, tn.ID, callerA, "alice", false)
	sub := subjectOf(tn.ID, callerA)
	counts, err := s.EraseSubject(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if counts["control.consent_events"] != tr.consent || counts["messages"] != tr.messages {
		t.Errorf("counts = %v", counts)
	}
	scan, err := s.ScanSubject(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if !scan.Erased() || scan.Kept["control.consent_events"] != 0 || scan.Kept["control.suppressions"] != 0 {
		t.Errorf("scan = %+v", scan)
	}
	if ok, _ := s.Suppressed(ctx, tn.ID, hashOf(callerA)); ok {
		t.Error("erasure opted the caller out")
	}
}

// TestScanSubjectFindsTablesNobodyListed: a control table added later with a column that holds
// callers' numbers is searched by the proof scan, which reports what erasure left in it.
func TestScanSubjectFindsTablesNobodyListed(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 47)
	populateCaller(t, s, tn.ID, callerA, "alice", false)
	if _, err := s.Pool().Exec(ctx, `
		CREATE TABLE control.caller_notes (tenant_id text NOT NULL, caller_phone text NOT NULL, note text);
		CREATE TABLE control.callback_hashes (recipient_hash text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO control.caller_notes VALUES ($1, $2, 'x'), ($3, $2, 'other tenant')`,
		tn.ID, callerA, "abcdefghijklmnop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO control.callback_hashes VALUES ($1)`, hashOf(callerA)); err != nil {
		t.Fatal(err)
	}
	sub := subjectOf(tn.ID, callerA)
	if _, err := s.EraseSubject(ctx, sub); err != nil {
		t.Fatal(err)
	}
	scan, err := s.ScanSubject(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Erased() || scan.Remaining["control.caller_notes"] != 1 || scan.Remaining["control.callback_hashes"] != 1 {
		t.Errorf("remaining = %v, want the unlisted tables' rows reported", scan.Remaining)
	}
	want := []string{"control.callback_hashes.recipient_hash", "control.caller_notes.caller_phone"}
	if !reflect.DeepEqual(scan.Unclassified, want) {
		t.Errorf("unclassified = %v, want %v", scan.Unclassified, want)
	}
}

// TestEveryCallerColumnIsAccountedFor fails when a migration adds a table that can hold a caller
// without erasure knowing it: every control column that looks like a phone number or its HMAC
// is scanned (and erased or kept on purpose) or known to hold the business's own numbers, and
// every tenant table that links to a caller is erased, through a foreign key that would stop the
// contact's deletion if it were not.
func TestEveryCallerColumnIsAccountedFor(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 48)
	erased := map[string]bool{}
	for _, e := range erasures {
		erased[e.table] = true
	}
	scanned := map[string]bool{}
	for _, c := range controlScans {
		scanned[c.table+"."+c.column] = true
		if c.remaining != "" && !erased[c.table] {
			t.Errorf("%s: the scan counts rows that erasure does not remove", c.table)
		}
	}
	err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
		columns, err := callerColumns(ctx, tx)
		if err != nil {
			return err
		}
		if len(columns) < len(notCallerColumns)+4 {
			t.Errorf("the catalogue search found only %v", columns)
		}
		for _, c := range columns {
			if !scanned[c.name()] && notCallerColumns[c.name()] == "" {
				t.Errorf("%s may hold a caller's number or HMAC: add it to controlScans (and erasures) or notCallerColumns", c.name())
			}
		}
		tables, err := tenantCallerTables(ctx, tx)
		if err != nil {
			return err
		}
		if len(tables) < 6 {
			t.Errorf("tenant tables found: %v", tables)
		}
		for table, links := range tables {
			if !erased[table] {
				t.Errorf("tenant table %s links to callers (%v) but erasure does not delete from it", table, links)
			}
			for _, link := range links {
				if link != "contact_id" && link != "conversation_id" {
					continue
				}
				var fk bool
				if err := tx.QueryRow(ctx, `
					SELECT EXISTS (
						SELECT 1 FROM pg_constraint c
						JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
						WHERE c.contype = 'f' AND c.conrelid = $1::regclass AND a.attname = $2)`,
					pgx.Identifier{table}.Sanitize(), link).Scan(&fk); err != nil {
					return err
				}
				if !fk {
					t.Errorf("%s.%s has no foreign key: a row could outlive its caller's erasure unnoticed", table, link)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCorrectSubject(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 49)
	populateCaller(t, s, tn.ID, callerA, "alice", false)
	populateCaller(t, s, tn.ID, callerB, "bob", false)
	subA := subjectOf(tn.ID, callerA)
	rec, err := s.SubjectData(ctx, subA)
	if err != nil {
		t.Fatal(err)
	}
	first, second := rec.Bookings[0].ID, rec.Bookings[1].ID
	bob, err := s.SubjectData(ctx, subjectOf(tn.ID, callerB))
	if err != nil {
		t.Fatal(err)
	}

	before, after, err := s.CorrectSubject(ctx, subA, Correction{Name: "  Alice Smith ", BookingID: second})
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("bookings/%d/name", second)
	if !reflect.DeepEqual(before, map[string]string{key: "Name of alice"}) || !reflect.DeepEqual(after, map[string]string{key: "Alice Smith"}) {
		t.Errorf("one booking: before %v, after %v", before, after)
	}

	before, after, err = s.CorrectSubject(ctx, subA, Correction{Name: "Alice Smith"})
	if err != nil {
		t.Fatal(err)
	}
	key = fmt.Sprintf("bookings/%d/name", first)
	if !reflect.DeepEqual(before, map[string]string{key: "Name of alice"}) || !reflect.DeepEqual(after, map[string]string{key: "Alice Smith"}) {
		t.Errorf("all bookings: before %v, after %v (the second already had the name)", before, after)
	}
	rec, err = s.SubjectData(ctx, subA)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rec.Bookings {
		if b.Name != "Alice Smith" {
			t.Errorf("booking %d name %q after correction", b.ID, b.Name)
		}
	}

	// Another caller's booking is not this caller's to correct, and is unchanged.
	if _, _, err := s.CorrectSubject(ctx, subA, Correction{Name: "X", BookingID: bob.Bookings[0].ID}); !errors.Is(err, ErrNotFound) {
		t.Errorf("correcting another caller's booking: %v, want ErrNotFound", err)
	}
	bobAfter, err := s.SubjectData(ctx, subjectOf(tn.ID, callerB))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bobAfter.Bookings {
		if b.Name != "Name of bob" {
			t.Errorf("bob's booking renamed to %q", b.Name)
		}
	}
	for _, bad := range []string{"two\nlines", strings.Repeat("n", MaxBookingNameLen+1)} {
		if _, _, err := s.CorrectSubject(ctx, subA, Correction{Name: bad}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if b, a, err := s.CorrectSubject(ctx, subjectOf(tn.ID, "+16145550177"), Correction{Name: "Nobody"}); err != nil || len(b)+len(a) != 0 {
		t.Errorf("a stranger's correction = %v %v %v", b, a, err)
	}
}

func TestRestrictions(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 50)
	other := createTenant(t, s, 51)
	hash := hashOf(callerA)
	req := createRequest(t, s, tn.ID, DSRRestriction, hash)
	otherReq := createRequest(t, s, other.ID, DSRObjection, hash)

	restricted := func(tenant string) (bool, RestrictionKind) {
		t.Helper()
		ok, kind, err := s.Restricted(ctx, tenant, hash)
		if err != nil {
			t.Fatal(err)
		}
		return ok, kind
	}
	if ok, _ := restricted(tn.ID); ok {
		t.Fatal("restricted before any request")
	}
	for i, want := range []bool{true, false} {
		changed, err := s.Restrict(ctx, tn.ID, hash, ProcessingRestricted, req.ID)
		if err != nil || changed != want {
			t.Fatalf("restrict %d: %t, %v; want %t", i, changed, err, want)
		}
	}
	if ok, kind := restricted(tn.ID); !ok || kind != ProcessingRestricted {
		t.Errorf("restricted = %t %q", ok, kind)
	}
	if ok, _ := restricted(other.ID); ok {
		t.Error("a restriction at one business applies at another")
	}
	if _, err := s.Restrict(ctx, tn.ID, hash, ProcessingObjected, otherReq.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("restricting with another business's request: %v, want ErrNotFound", err)
	}
	if _, err := s.Restrict(ctx, tn.ID, hash, ProcessingObjected, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, kind := restricted(tn.ID); kind != ProcessingObjected {
		t.Errorf("with both in force, kind = %q, want the objection", kind)
	}
	for _, kind := range []RestrictionKind{ProcessingRestricted, ProcessingObjected} {
		for i, want := range []bool{true, false} {
			changed, err := s.LiftRestriction(ctx, tn.ID, hash, kind)
			if err != nil || changed != want {
				t.Fatalf("lift %s %d: %t, %v; want %t", kind, i, changed, err, want)
			}
		}
	}
	if ok, _ := restricted(tn.ID); ok {
		t.Error("still restricted after both were lifted")
	}
	// Restricting again after a lift starts a new period; the history stays.
	if changed, err := s.Restrict(ctx, tn.ID, hash, ProcessingRestricted, req.ID); err != nil || !changed {
		t.Fatalf("restrict after lift: %t, %v", changed, err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.processing_restrictions WHERE tenant_id = $1`, tn.ID); n != 3 {
		t.Errorf("%d restriction rows, want 3 (two lifted, one in force)", n)
	}
	if _, err := s.Restrict(ctx, tn.ID, hash, "pause", req.ID); err == nil {
		t.Error("an unknown kind was accepted")
	}
	if _, err := s.Restrict(ctx, tn.ID, "+16145550123", ProcessingRestricted, req.ID); err == nil || strings.Contains(err.Error(), "555") {
		t.Errorf("a raw number as hash: %v", err)
	}

	// Each change has its audit entry under the caller's HMAC.
	l, err := s.LoadAuditLog(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range l.Entries {
		if strings.HasPrefix(e.Action, "processing.") {
			actions[e.Action]++
			if e.Subject != hash {
				t.Errorf("%s filed under %q", e.Action, e.Subject)
			}
		}
	}
	want := map[string]int{"processing.restriction": 2, "processing.objection": 1, "processing.restriction.lifted": 1, "processing.objection.lifted": 1}
	if !reflect.DeepEqual(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}
}

// TestSubjectQueriesUseIndexes checks that each query SubjectData runs can be answered through an
// index, so that reading one caller does not scan a tenant's million messages. With sequential
// scans priced out, a plan still shows one only where no index can serve the query.
func TestSubjectQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 52)
	args := subjectOf(tn.ID, callerA).args()
	args["contact"], args["conversations"] = int64(1), []int64{1, 2}
	for _, q := range []struct{ name, sql string }{
		{"contacts", subjectContactSQL},
		{"conversations", subjectConversationsSQL},
		{"messages", subjectMessagesSQL},
		{"bookings", subjectBookingsSQL},
		{"escalations", subjectEscalationsSQL},
		{"consent events", subjectConsentSQL},
		{"suppression", subjectSuppressionSQL},
		{"restrictions", subjectRestrictionsSQL},
		{"outbox", subjectOutboxSQL},
	} {
		err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `EXPLAIN `+q.sql, args)
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if plan := strings.Join(lines, "\n"); strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: no index serves the query:\n%s", q.name, plan)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
	}
}

// createRequest files a GDPR request of kind about the given identifier hashes (phones).
func createRequest(t *testing.T, s *Store, tenantID string, kind DSRKind, hashes ...string) DSRRequest {
	t.Helper()
	c, err := legalclock.New(legalclock.GDPR, time.Now().Add(-time.Hour), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var ids []DSRIdentifier
	for _, h := range hashes {
		ids = append(ids, DSRIdentifier{Kind: IdentifierPhone, Hash: h})
	}
	r, err := s.CreateDSR(WithActor(context.Background(), "cli:compliance"), NewDSR{TenantID: tenantID, Kind: kind, Clock: c, Identifiers: ids})
	if err != nil {
		t.Fatalf("create request: %v", err)
	}
	return r
}
