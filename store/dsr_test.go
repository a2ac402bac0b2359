package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/legalclock"
)

func gdprClock(t *testing.T, received time.Time) legalclock.Clock {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	c, err := legalclock.New(legalclock.GDPR, received, ny)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// auditActions returns the actions of the tenant's audit entries that start with prefix, in
// order, and checks that each names the given actor.
func auditActions(t *testing.T, s *Store, logID, prefix string) []string {
	t.Helper()
	l, err := s.LoadAuditLog(context.Background(), logID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range l.Entries {
		if strings.HasPrefix(e.Action, prefix) {
			out = append(out, e.Action+" by "+e.Actor)
		}
	}
	return out
}

func TestCreateDSR(t *testing.T) {
	s := openStore(t)
	tn := createTenant(t, s, 61)
	ctx := WithActor(context.Background(), "token:abcdefghijkl")
	received := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	c := gdprClock(t, received)
	in := NewDSR{TenantID: tn.ID, Kind: DSRAccess, Clock: c, Identifiers: []DSRIdentifier{
		{Kind: IdentifierEmail, Hash: hashOf("someone@example.com")},
		{Kind: IdentifierPhone, Hash: hashOf(callerA)},
		{Kind: IdentifierPhone, Hash: hashOf(callerA)}, // named twice, recorded once
	}}
	r, err := s.CreateDSR(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !dsrIDPattern.MatchString(r.ID) || r.TenantID != tn.ID || r.Kind != DSRAccess || r.Regime != legalclock.GDPR ||
		r.Status != DSRReceived || r.RequestedBy != "token:abcdefghijkl" || r.Revision != 1 || r.ExtendedDue != nil || r.CompletedAt != nil {
		t.Errorf("request = %+v", r)
	}
	if !r.ReceivedAt.Equal(received) || !r.AckDue.Equal(c.AckDue()) || !r.DueAt.Equal(c.Due()) || !r.Deadline().Equal(c.Due()) {
		t.Errorf("dates: received %v ack %v due %v; want %v %v %v", r.ReceivedAt, r.AckDue, r.DueAt, received, c.AckDue(), c.Due())
	}
	if len(r.Identifiers) != 2 || r.Identifiers[0].Kind != IdentifierPhone || r.Identifiers[1].Kind != IdentifierEmail ||
		r.Identifiers[0].Verification != Unverified || r.Verified() {
		t.Errorf("identifiers = %+v", r.Identifiers)
	}
	got, err := s.DSR(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || len(got.Identifiers) != 2 || !got.DueAt.Equal(r.DueAt) {
		t.Errorf("DSR = %+v, want %+v", got, r)
	}
	if actions := auditActions(t, s, tn.ID, "dsr."); len(actions) != 1 || actions[0] != "dsr.received by token:abcdefghijkl" {
		t.Errorf("audit = %v", actions)
	}

	for name, bad := range map[string]NewDSR{
		"unknown tenant":    {TenantID: "abcdefghijklmnop", Kind: DSRAccess, Clock: c, Identifiers: in.Identifiers},
		"invalid tenant":    {TenantID: "x", Kind: DSRAccess, Clock: c, Identifiers: in.Identifiers},
		"unknown kind":      {TenantID: tn.ID, Kind: "forget", Clock: c, Identifiers: in.Identifiers},
		"no identifiers":    {TenantID: tn.ID, Kind: DSRAccess, Clock: c},
		"raw number":        {TenantID: tn.ID, Kind: DSRAccess, Clock: c, Identifiers: []DSRIdentifier{{Kind: IdentifierPhone, Hash: callerA}}},
		"unknown id kind":   {TenantID: tn.ID, Kind: DSRAccess, Clock: c, Identifiers: []DSRIdentifier{{Kind: "fax", Hash: hashOf(callerA)}}},
		"clock without law": {TenantID: tn.ID, Kind: DSRAccess, Clock: legalclock.Clock{Received: received, Loc: time.UTC}, Identifiers: in.Identifiers},
	} {
		_, err := s.CreateDSR(ctx, bad)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), callerA) {
			t.Errorf("%s: error %q repeats the number", name, err)
		}
		if strings.Contains(name, "tenant") && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.DSR(ctx, "abcdefghijklmnop"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown request: %v", err)
	}
}

// TestDSRVerification is privacy promise P17 at the store: a request is verified only when every
// identifier on it is, by code or by a named member of staff whose attestation is audited.
func TestDSRVerification(t *testing.T) {
	s := openStore(t)
	tn := createTenant(t, s, 62)
	r := createRequest(t, s, tn.ID, DSRDeletion, hashOf(callerA), hashOf(callerB))
	now := time.Now()
	ctx := context.Background()

	if changed, err := s.VerifyDSRIdentifier(ctx, r.ID, IdentifierPhone, hashOf(callerA), now); err != nil || !changed {
		t.Fatalf("verify by code: %t, %v", changed, err)
	}
	if changed, err := s.VerifyDSRIdentifier(ctx, r.ID, IdentifierPhone, hashOf(callerA), now); err != nil || changed {
		t.Errorf("verify again: %t, %v", changed, err)
	}
	if r, _ = s.DSR(ctx, r.ID); r.Verified() {
		t.Fatal("verified with its second identifier unverified")
	}
	if _, err := s.VerifyDSRIdentifier(ctx, r.ID, IdentifierPhone, hashOf("+16145550177"), now); !errors.Is(err, ErrNotFound) {
		t.Errorf("verifying an identifier the request does not name: %v, want ErrNotFound", err)
	}
	if _, err := s.AttestDSRIdentifier(ctx, r.ID, IdentifierPhone, hashOf(callerB), "seen in person", now); !errors.Is(err, ErrAttestationNeedsStaff) {
		t.Errorf("attestation by nobody: %v, want ErrAttestationNeedsStaff", err)
	}
	staff := WithActor(ctx, "cli:dana")
	if _, err := s.AttestDSRIdentifier(staff, r.ID, IdentifierPhone, hashOf(callerB), "  ", now); err == nil {
		t.Error("attestation without a reason accepted")
	}
	if changed, err := s.AttestDSRIdentifier(staff, r.ID, IdentifierPhone, hashOf(callerB), "identity confirmed in person", now); err != nil || !changed {
		t.Fatalf("attest: %t, %v", changed, err)
	}
	r, err := s.DSR(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Verified() {
		t.Errorf("not verified with every identifier verified: %+v", r.Identifiers)
	}
	for _, id := range r.Identifiers {
		want := DSRIdentifier{Kind: IdentifierPhone, Hash: hashOf(callerA), Verification: VerifiedCode}
		if id.Hash == hashOf(callerB) {
			want = DSRIdentifier{Kind: IdentifierPhone, Hash: hashOf(callerB), Verification: Attested, AttestedBy: "cli:dana", AttestReason: "identity confirmed in person"}
		}
		if id.Kind != want.Kind || id.Verification != want.Verification || id.AttestedBy != want.AttestedBy ||
			id.AttestReason != want.AttestReason || id.VerifiedAt == nil {
			t.Errorf("identifier %+v, want %+v", id, want)
		}
	}
	actions := auditActions(t, s, tn.ID, "dsr.identifier.")
	want := []string{"dsr.identifier.verified_code by system", "dsr.identifier.attested by cli:dana"}
	if strings.Join(actions, ",") != strings.Join(want, ",") {
		t.Errorf("audit = %v, want %v", actions, want)
	}
	l, err := s.LoadAuditLog(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := l.Entries[len(l.Entries)-1]
	if last.Subject != hashOf(callerB) || !strings.Contains(string(last.Payload), "identity confirmed in person") {
		t.Errorf("attestation entry = %+v", last)
	}
}

func TestDSRStatusAndDeadlines(t *testing.T) {
	s := openStore(t)
	tn := createTenant(t, s, 63)
	ctx := WithActor(context.Background(), "cli:dana")
	received := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	c := gdprClock(t, received)
	r, err := s.CreateDSR(ctx, NewDSR{TenantID: tn.ID, Kind: DSRPortability, Clock: c,
		Identifiers: []DSRIdentifier{{Kind: IdentifierPhone, Hash: hashOf(callerA)}}})
	if err != nil {
		t.Fatal(err)
	}

	for i, want := range []bool{true, false} {
		if changed, err := s.SetDSRStatus(ctx, r.ID, DSRVerifying, time.Time{}); err != nil || changed != want {
			t.Fatalf("status %d: %t, %v; want %t", i, changed, err, want)
		}
	}
	// Extended in time, then held for three days: both move the deadline and are recorded.
	ext, err := c.Extend(received.Add(7 * 24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := s.SetDSRDeadlines(ctx, r.ID, ext); err != nil || !changed {
		t.Fatalf("extend: %t, %v", changed, err)
	}
	if changed, err := s.SetDSRDeadlines(ctx, r.ID, ext); err != nil || changed {
		t.Errorf("extend again: %t, %v", changed, err)
	}
	held := ext.Paused(72 * time.Hour)
	if _, err := s.SetDSRDeadlines(ctx, r.ID, held); err != nil {
		t.Fatal(err)
	}
	r, err = s.DSR(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.ExtendedDue == nil || !r.ExtendedDue.Equal(held.ExtendedDue()) || !r.DueAt.Equal(held.Due()) || !r.Deadline().Equal(held.Deadline()) ||
		!r.AckDue.Equal(c.AckDue()) {
		t.Errorf("deadlines = due %v extended %v ack %v; want %v %v %v", r.DueAt, r.ExtendedDue, r.AckDue, held.Due(), held.ExtendedDue(), c.AckDue())
	}
	other := gdprClock(t, received.Add(time.Hour))
	if _, err := s.SetDSRDeadlines(ctx, r.ID, other); err == nil {
		t.Error("another request's clock accepted")
	}

	done := received.Add(40 * 24 * time.Hour)
	if changed, err := s.SetDSRStatus(ctx, r.ID, DSRCompleted, done); err != nil || !changed {
		t.Fatalf("complete: %t, %v", changed, err)
	}
	r, err = s.DSR(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != DSRCompleted || r.CompletedAt == nil || !r.CompletedAt.Equal(done) || r.Revision != 5 {
		t.Errorf("completed request = %+v", r)
	}
	if changed, err := s.SetDSRStatus(ctx, r.ID, DSRCompleted, done); err != nil || changed {
		t.Errorf("completing again: %t, %v", changed, err)
	}
	if _, err := s.SetDSRStatus(ctx, r.ID, DSRInProgress, time.Time{}); !errors.Is(err, ErrDSRClosed) {
		t.Errorf("reopening: %v, want ErrDSRClosed", err)
	}
	if _, err := s.SetDSRDeadlines(ctx, r.ID, held.Paused(time.Hour)); !errors.Is(err, ErrDSRClosed) {
		t.Errorf("moving a closed request's deadline: %v, want ErrDSRClosed", err)
	}
	if _, err := s.SetDSRStatus(ctx, r.ID, "lost", time.Time{}); err == nil {
		t.Error("unknown status accepted")
	}
	if _, err := s.SetDSRStatus(ctx, "abcdefghijklmnop", DSRVerifying, time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown request: %v", err)
	}

	want := []string{"dsr.received", "dsr.verifying", "dsr.deadlines", "dsr.deadlines", "dsr.completed"}
	var got []string
	for _, a := range auditActions(t, s, tn.ID, "dsr.") {
		action, actor, _ := strings.Cut(a, " by ")
		if actor != "cli:dana" {
			t.Errorf("%s", a)
		}
		got = append(got, action)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit = %v, want %v", got, want)
	}
}

func TestListDSRs(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	a := createTenant(t, s, 64)
	b := createTenant(t, s, 65)
	r1 := createRequest(t, s, a.ID, DSRAccess, hashOf(callerA))
	r2 := createRequest(t, s, a.ID, DSRDeletion, hashOf(callerB), hashOf(callerA))
	r3 := createRequest(t, s, b.ID, DSRAccess, hashOf(callerA))
	if _, err := s.SetDSRStatus(ctx, r2.ID, DSRRejected, time.Now()); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []DSRRequest) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct {
		name string
		f    DSRFilter
		want []DSRRequest
	}{
		{"all", DSRFilter{}, []DSRRequest{r1, r2, r3}},
		{"one tenant", DSRFilter{TenantID: a.ID}, []DSRRequest{r1, r2}},
		{"rejected", DSRFilter{Status: DSRRejected}, []DSRRequest{r2}},
		{"open of one tenant", DSRFilter{TenantID: a.ID, Open: true}, []DSRRequest{r1}},
		{"received elsewhere", DSRFilter{TenantID: b.ID, Status: DSRReceived}, []DSRRequest{r3}},
	} {
		got, err := s.ListDSRs(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != ids(tt.want) {
			t.Errorf("%s: %s, want %s", tt.name, ids(got), ids(tt.want))
		}
		for _, r := range got {
			wantIDs := 1
			if r.ID == r2.ID {
				wantIDs = 2
			}
			if len(r.Identifiers) != wantIDs {
				t.Errorf("%s: request %s has %d identifiers, want %d", tt.name, r.ID, len(r.Identifiers), wantIDs)
			}
		}
	}
}

func TestPruneDSRRecords(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	tn := createTenant(t, s, 66)
	now := time.Now()
	old := func(kind DSRKind, closeIt bool) DSRRequest {
		t.Helper()
		c := gdprClock(t, now.AddDate(0, -27, 0))
		r, err := s.CreateDSR(ctx, NewDSR{TenantID: tn.ID, Kind: kind, Clock: c,
			Identifiers: []DSRIdentifier{{Kind: IdentifierPhone, Hash: hashOf(callerA)}}})
		if err != nil {
			t.Fatal(err)
		}
		if closeIt {
			if _, err := s.SetDSRStatus(ctx, r.ID, DSRCompleted, now.AddDate(0, -25, 0)); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	closed := old(DSRObjection, true)
	open := old(DSRAccess, false)
	recent := createRequest(t, s, tn.ID, DSRAccess, hashOf(callerA))
	if _, err := s.SetDSRStatus(ctx, recent.ID, DSRCompleted, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Restrict(ctx, tn.ID, hashOf(callerA), ProcessingObjected, closed.ID); err != nil {
		t.Fatal(err)
	}

	if _, err := s.PruneDSRRecords(ctx, now.AddDate(0, -23, 0)); !errors.Is(err, ErrDSRRetention) {
		t.Errorf("a 23-month cutoff: %v, want ErrDSRRetention", err)
	}
	n, err := s.PruneDSRRecords(ctx, DSRRetentionCutoff(now))
	if err != nil || n != 1 {
		t.Fatalf("prune = %d, %v; want 1", n, err)
	}
	if _, err := s.DSR(ctx, closed.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old closed request survived: %v", err)
	}
	for _, r := range []DSRRequest{open, recent} {
		if _, err := s.DSR(ctx, r.ID); err != nil {
			t.Errorf("request %s pruned: %v", r.ID, err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM control.dsr_identifiers WHERE request_id = $1`, closed.ID); n != 0 {
		t.Errorf("%d identifiers of the pruned request left", n)
	}
	// The objection it put in force outlives its record.
	if ok, kind, err := s.Restricted(ctx, tn.ID, hashOf(callerA)); err != nil || !ok || kind != ProcessingObjected {
		t.Errorf("after pruning its request: restricted = %t %q, %v", ok, kind, err)
	}
}

// TestDSRExport is part of privacy promise P22 at the store: an export is sealed under the
// tenant's key, its link works once and not after it expires, and handing it out is audited with
// the actor.
func TestDSRExport(t *testing.T) {
	s := openStore(t)
	keys := newFakeKeys()
	tn := createTenant(t, s, 67)
	r := createRequest(t, s, tn.ID, DSRAccess, hashOf(callerA))
	ctx := context.Background()
	now := time.Now()
	data := []byte("PK\x03\x04 an export holding " + callerA)

	token, err := s.SaveDSRExport(ctx, keys, r.ID, data, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(token) < 40 {
		t.Errorf("token %q is short", token)
	}
	var sealed, tokenHash []byte
	if err := s.Pool().QueryRow(ctx, `SELECT sealed, token_hash FROM control.dsr_exports WHERE request_id = $1`, r.ID).Scan(&sealed, &tokenHash); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(callerA)) || bytes.Contains(sealed, []byte("export")) {
		t.Error("the export is stored in the clear")
	}
	if sum := sha256.Sum256([]byte(token)); !bytes.Equal(tokenHash, sum[:]) {
		t.Error("the token is not stored as its SHA-256")
	}

	if _, err := s.OpenDSRExport(ctx, keys, token+"x", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("a wrong token: %v, want ErrNotFound", err)
	}
	staff := WithActor(ctx, "token:abcdefghijkl")
	e, err := s.OpenDSRExport(staff, keys, token, now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.Data, data) || e.RequestID != r.ID || e.TenantID != tn.ID || e.SHA256 != sha256.Sum256(data) {
		t.Errorf("export = %+v", e)
	}
	if _, err := s.OpenDSRExport(staff, keys, token, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("the link worked twice: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.dsr_exports WHERE sealed IS NULL AND downloaded_at IS NOT NULL`); n != 1 {
		t.Errorf("the downloaded export's bytes were not removed")
	}
	want := []string{"dsr.export.created by system", "dsr.export.downloaded by token:abcdefghijkl"}
	if got := auditActions(t, s, tn.ID, "dsr.export."); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit = %v, want %v", got, want)
	}
	sum := sha256.Sum256(data)
	l, err := s.LoadAuditLog(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := l.Entries[len(l.Entries)-1]; !strings.Contains(string(last.Payload), hex.EncodeToString(sum[:])) || last.Subject != hashOf(callerA) {
		t.Errorf("download entry = %+v", last)
	}

	// An expired link opens nothing, and the sweep removes its bytes.
	expiring, err := s.SaveDSRExport(ctx, keys, r.ID, data, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenDSRExport(ctx, keys, expiring, now.Add(2*time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired link: %v, want ErrNotFound", err)
	}
	if n, err := s.PurgeExpiredDSRExports(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Errorf("purge = %d, %v; want 1", n, err)
	}

	// Destroying the tenant's keys shreds the export: it cannot be opened, and is not marked
	// downloaded by the attempt.
	shredded, err := s.SaveDSRExport(ctx, keys, r.ID, data, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys.mu.Lock()
	keys.destroyed[tn.ID] = true
	keys.mu.Unlock()
	if _, err := s.OpenDSRExport(ctx, keys, shredded, now); !errors.Is(err, codec.ErrKeyDestroyed) {
		t.Errorf("a shredded export: %v, want codec.ErrKeyDestroyed", err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.dsr_exports WHERE downloaded_at IS NULL AND sealed IS NOT NULL`); n != 1 {
		t.Errorf("%d exports pending after the failed open, want 1", n)
	}

	if _, err := s.SetDSRStatus(ctx, r.ID, DSRCompleted, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDSRExport(ctx, newFakeKeys(), r.ID, data, now.Add(time.Hour)); !errors.Is(err, ErrDSRClosed) {
		t.Errorf("export for a closed request: %v, want ErrDSRClosed", err)
	}
}
