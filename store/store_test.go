package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/conversation"
	"github.com/ringback/ringback/internal/greeting"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/internal/testenv"
)

// openStore returns a store on a fresh, migrated database.
func openStore(t *testing.T) *Store {
	t.Helper()
	return openStoreURL(t, testenv.Database(t))
}

func openStoreURL(t *testing.T, databaseURL string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, databaseURL)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(s.Close)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	signer, _ := auditKeys(t)
	s.SetAuditSigner(signer)
	return s
}

// spec returns a valid tenant spec whose business number ends in the two digits n.
func spec(n int) tenantspec.Spec {
	return tenantspec.Spec{
		Name:       fmt.Sprintf(" Business %d ", n),
		Numbers:    []string{fmt.Sprintf("(614) 555-01%02d", n)},
		Timezone:   "America/New_York",
		OwnerPhone: "+1 614 555 0199",
	}
}

func businessNumber(n int) string { return fmt.Sprintf("+161455501%02d", n) }

func createTenant(t *testing.T, s *Store, n int) Tenant {
	t.Helper()
	tn, err := s.CreateTenant(context.Background(), spec(n))
	if err != nil {
		t.Fatalf("create tenant %d: %v", n, err)
	}
	return tn
}

func hashOf(e164 string) string {
	sum := sha256.Sum256([]byte(e164))
	return hex.EncodeToString(sum[:])
}

// tenantSchemas lists the schemas that look like tenant schemas.
func tenantSchemas(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(),
		`SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\_%' ORDER BY nspname`)
	if err != nil {
		t.Fatalf("list schemas: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list schemas: %v", err)
	}
	return names
}

func count(t *testing.T, s *Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func schemaOf(t *testing.T, id string) string {
	t.Helper()
	name, err := tenantspec.SchemaName(id)
	if err != nil {
		t.Fatalf("schema name for %q: %v", id, err)
	}
	return name
}

// openConv opens a conversation for caller in tenant and returns its ID.
func openConv(t *testing.T, s *Store, tenantID, caller, runID string) int64 {
	t.Helper()
	id, err := s.OpenConversation(context.Background(), OpenConversation{
		TenantID:   tenantID,
		PhoneE164:  caller,
		PhoneHash:  hashOf(caller),
		WorkflowID: "conv/" + tenantID + "/" + hashOf(caller)[:16],
		FirstRunID: runID,
		Trigger:    conversation.TriggerMissedCall,
		Stage:      conversation.StageOpening,
	})
	if err != nil {
		t.Fatalf("open conversation: %v", err)
	}
	return id
}

const (
	callerA = "+16145550123"
	callerB = "+16145550124"
)

var at = time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	signer, _ := auditKeys(t)
	s.SetAuditSigner(signer)

	for i := range 2 {
		n, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
		if n != 0 {
			t.Fatalf("migrate run %d on an empty database reported %d tenant schemas", i+1, n)
		}
	}
	createTenant(t, s, 1)
	for i := range 2 {
		n, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("migrate run %d after creating a tenant: %v", i+1, err)
		}
		if n != 1 {
			t.Fatalf("migrate run %d after creating a tenant reported %d tenant schemas, want 1", i+1, n)
		}
	}
}

func TestCreateTenant(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)

	created := createTenant(t, s, 0)
	if !tenantspec.ValidID(created.ID) {
		t.Errorf("ID %q is not a tenant ID", created.ID)
	}
	want := Tenant{
		ID:           created.ID,
		Name:         "Business 0",
		Numbers:      []string{businessNumber(0)},
		Timezone:     "America/New_York",
		OwnerPhone:   "+16145550199",
		GreetingText: greeting.MissedCall,
		Status:       TenantStatusActive,
	}
	checkTenant := func(label string, got Tenant) {
		t.Helper()
		if got.ID != want.ID || got.Name != want.Name || !slices.Equal(got.Numbers, want.Numbers) ||
			got.Timezone != want.Timezone || got.OwnerPhone != want.OwnerPhone ||
			got.GreetingText != want.GreetingText || got.Status != want.Status {
			t.Errorf("%s = %+v, want %+v", label, got, want)
		}
		if got.CreatedAt.IsZero() {
			t.Errorf("%s has no creation time", label)
		}
	}
	checkTenant("CreateTenant", created)

	loaded, err := s.Tenant(ctx, created.ID)
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	checkTenant("Tenant", loaded)
	if !loaded.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("created_at round-tripped as %v, want %v", loaded.CreatedAt, created.CreatedAt)
	}

	ref, err := s.TenantByNumber(ctx, businessNumber(0))
	if err != nil {
		t.Fatalf("TenantByNumber: %v", err)
	}
	if ref != (TenantRef{ID: created.ID, Status: TenantStatusActive}) {
		t.Errorf("TenantByNumber = %+v", ref)
	}

	if got := tenantSchemas(t, s); !slices.Equal(got, []string{schemaOf(t, created.ID)}) {
		t.Errorf("tenant schemas = %v, want only %s", got, schemaOf(t, created.ID))
	}

	if _, err := s.TenantByNumber(ctx, businessNumber(99)); !errors.Is(err, ErrNotFound) {
		t.Errorf("TenantByNumber(unknown) error = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"", "x; DROP SCHEMA control CASCADE", strings.ToUpper(created.ID), tenantspec.NewID()} {
		if _, err := s.Tenant(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Tenant(%q) error = %v, want ErrNotFound", id, err)
		}
	}
}

func TestCreateTenantNumberTaken(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	first := createTenant(t, s, 1)

	second := spec(2)
	second.Numbers = append(second.Numbers, "+1 (614) 555-0101") // first's number, written differently
	_, err := s.CreateTenant(ctx, second)
	if !errors.Is(err, ErrNumberTaken) {
		t.Fatalf("error = %v, want ErrNumberTaken", err)
	}
	if got := tenantSchemas(t, s); !slices.Equal(got, []string{schemaOf(t, first.ID)}) {
		t.Errorf("tenant schemas after a refused create = %v, want only %s", got, schemaOf(t, first.ID))
	}
	if n := count(t, s, `SELECT count(*) FROM control.tenants`); n != 1 {
		t.Errorf("%d tenant rows, want 1", n)
	}
	if n := count(t, s, `SELECT count(*) FROM control.tenant_phone_numbers WHERE e164 = $1`, businessNumber(2)); n != 0 {
		t.Errorf("the refused tenant's free number was registered")
	}
	ref, err := s.TenantByNumber(ctx, businessNumber(1))
	if err != nil || ref.ID != first.ID {
		t.Errorf("number now resolves to %+v (%v), want the first tenant %s", ref, err, first.ID)
	}
}

// Tenants created at the same moment with the same number all pass the up-front check; the
// primary key decides, and the losers must not leave schemas behind.
func TestCreateTenantConcurrentSameNumber(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)

	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.CreateTenant(ctx, spec(5))
		})
	}
	wg.Wait()

	var ok int
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrNumberTaken):
		default:
			t.Errorf("create %d: %v, want success or ErrNumberTaken", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", ok)
	}
	ref, err := s.TenantByNumber(ctx, businessNumber(5))
	if err != nil {
		t.Fatal(err)
	}
	if got := tenantSchemas(t, s); !slices.Equal(got, []string{schemaOf(t, ref.ID)}) {
		t.Errorf("tenant schemas = %v, want only the winner's %s", got, schemaOf(t, ref.ID))
	}
}

func TestCreateTenantInvalidSpec(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)

	bad := []struct {
		name string
		edit func(*tenantspec.Spec)
	}{
		{"no name", func(sp *tenantspec.Spec) { sp.Name = " " }},
		{"bad number", func(sp *tenantspec.Spec) { sp.Numbers = []string{"12"} }},
		{"no numbers", func(sp *tenantspec.Spec) { sp.Numbers = nil }},
		{"bad timezone", func(sp *tenantspec.Spec) { sp.Timezone = "Mars/Olympus" }},
		{"greeting without business", func(sp *tenantspec.Spec) { sp.GreetingText = "hello" }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			sp := spec(3)
			tc.edit(&sp)
			_, err := s.CreateTenant(ctx, sp)
			var verr *tenantspec.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error = %v (%T), want *tenantspec.ValidationError", err, err)
			}
		})
	}
	if got := tenantSchemas(t, s); len(got) != 0 {
		t.Errorf("invalid specs created schemas %v", got)
	}
	if n := count(t, s, `SELECT count(*) FROM control.tenants`); n != 0 {
		t.Errorf("invalid specs created %d tenant rows", n)
	}
}

// TestTenantIsolation proves privacy promise P11: a query run in one tenant's context sees that
// tenant's rows and no other's.
func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	// One connection, so the test also sees what InTenant leaves behind on a pooled connection.
	u, err := url.Parse(testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "1")
	u.RawQuery = q.Encode()
	s := openStoreURL(t, u.String())
	a := createTenant(t, s, 10)
	b := createTenant(t, s, 11)

	for _, tc := range []struct {
		tenant, caller, body string
	}{
		{a.ID, callerA, "A: leaking tap"},
		{b.ID, callerB, "B: secret of tenant B"},
	} {
		conv := openConv(t, s, tc.tenant, tc.caller, "run-1")
		stored, err := s.RecordInbound(ctx, InboundMessage{
			TenantID: tc.tenant, ConversationID: conv, PhoneHash: hashOf(tc.caller),
			MessageSid: "SM-" + tc.tenant, Body: tc.body, ReceivedAt: at,
		})
		if err != nil || !stored {
			t.Fatalf("record inbound for %s: stored=%v err=%v", tc.tenant, stored, err)
		}
	}

	err = s.InTenant(ctx, a.ID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT body FROM messages ORDER BY id`)
		if err != nil {
			return err
		}
		bodies, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if !slices.Equal(bodies, []string{"A: leaking tap"}) {
			t.Errorf("tenant A sees messages %q", bodies)
		}
		var contacts, bHits int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&contacts); err != nil {
			return err
		}
		if contacts != 1 {
			t.Errorf("tenant A counts %d contacts, want 1", contacts)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM messages WHERE body LIKE 'B:%'`).Scan(&bHits); err != nil {
			return err
		}
		if bHits != 0 {
			t.Errorf("tenant A's context found %d of tenant B's messages", bHits)
		}
		var schemas []string
		if err := tx.QueryRow(ctx, `SELECT current_schemas(false)`).Scan(&schemas); err != nil {
			return err
		}
		if !slices.Equal(schemas, []string{schemaOf(t, a.ID)}) {
			t.Errorf("search path in tenant A's context = %v, want only %s", schemas, schemaOf(t, a.ID))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTenant(A): %v", err)
	}

	// Unqualified names resolve only inside the tenant's schema: control and public tables are
	// not there to join against.
	for _, sql := range []string{`SELECT count(*) FROM tenants`, `SELECT count(*) FROM consent_events`} {
		err := s.InTenant(ctx, a.ID, func(tx pgx.Tx) error {
			var n int
			return tx.QueryRow(ctx, sql).Scan(&n)
		})
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%s in a tenant context: err = %v, want relation does not exist", sql, err)
		}
	}

	// The tenant's search path must not outlive the transaction on the pooled connection.
	var path string
	if err := s.Pool().QueryRow(ctx, `SHOW search_path`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(path, "t_") {
		t.Errorf("search_path after InTenant = %q: a tenant schema leaked onto the pooled connection", path)
	}

	for _, id := range []string{"x; DROP SCHEMA " + schemaOf(t, b.ID) + " CASCADE", "", "T_" + a.ID, a.ID + " "} {
		called := false
		err := s.InTenant(ctx, id, func(pgx.Tx) error { called = true; return nil })
		if err == nil {
			t.Errorf("InTenant(%q) succeeded", id)
		}
		if called {
			t.Errorf("InTenant(%q) ran its function", id)
		}
	}
	if got := tenantSchemas(t, s); len(got) != 2 {
		t.Errorf("tenant schemas after injection attempts = %v, want both tenants'", got)
	}
	if n := count(t, s, `SELECT count(*) FROM `+pgx.Identifier{schemaOf(t, b.ID), "messages"}.Sanitize()); n != 1 {
		t.Errorf("tenant B has %d messages, want 1", n)
	}
}

func TestOpenConversationIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 20)

	first := openConv(t, s, tn.ID, callerA, "run-1")
	again := openConv(t, s, tn.ID, callerA, "run-1")
	if again != first {
		t.Errorf("retried OpenConversation returned %d, want %d", again, first)
	}
	other := openConv(t, s, tn.ID, callerA, "run-2")
	if other == first {
		t.Errorf("a new first run ID reused conversation %d", first)
	}
	err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
		var contacts, convs int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations)`).Scan(&contacts, &convs); err != nil {
			return err
		}
		if contacts != 1 || convs != 2 {
			t.Errorf("contacts=%d conversations=%d, want 1 and 2", contacts, convs)
		}
		var stage string
		if err := tx.QueryRow(ctx, `SELECT stage FROM conversations WHERE id = $1`, first).Scan(&stage); err != nil {
			return err
		}
		if stage != string(conversation.StageOpening) {
			t.Errorf("stage = %q", stage)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecordMissedCall(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 21)
	conv1 := openConv(t, s, tn.ID, callerA, "run-1")
	conv2 := openConv(t, s, tn.ID, callerA, "run-2")

	call := func(conv int64, sid string) int64 {
		t.Helper()
		owner, err := s.RecordMissedCall(ctx, MissedCall{
			TenantID: tn.ID, ConversationID: conv, PhoneHash: hashOf(callerA),
			CallSid: sid, Status: "no-answer", OccurredAt: at,
		})
		if err != nil {
			t.Fatalf("record %s on %d: %v", sid, conv, err)
		}
		return owner
	}
	steps := []struct {
		conv      int64
		sid       string
		wantOwner int64
	}{
		{conv1, "CA1", conv1},
		{conv1, "CA1", conv1}, // webhook retried
		{conv2, "CA1", conv1}, // retried after conv1 ended
		{conv2, "CA2", conv2},
	}
	for i, st := range steps {
		if got := call(st.conv, st.sid); got != st.wantOwner {
			t.Errorf("step %d: owner of %s recorded from %d = %d, want %d", i, st.sid, st.conv, got, st.wantOwner)
		}
	}

	for _, sid := range []string{"CA1", "CA2"} {
		var n int
		var kind, source, hash string
		err := s.Pool().QueryRow(ctx, `
			SELECT count(*) OVER (), kind, source, phone_hash FROM control.consent_events
			WHERE tenant_id = $1 AND source_id = $2`, tn.ID, sid).Scan(&n, &kind, &source, &hash)
		if err != nil {
			t.Fatalf("consent for %s: %v", sid, err)
		}
		if n != 1 || kind != "implied_opt_in" || source != "missed_call" || hash != hashOf(callerA) {
			t.Errorf("consent for %s: %d rows, kind %q, source %q, hash %q", sid, n, kind, source, hash)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM `+pgx.Identifier{schemaOf(t, tn.ID), "calls"}.Sanitize()); n != 2 {
		t.Errorf("%d call rows, want 2", n)
	}

	_, err := s.RecordMissedCall(ctx, MissedCall{
		TenantID: tn.ID, ConversationID: 9999, PhoneHash: hashOf(callerA),
		CallSid: "CA-orphan", Status: "busy", OccurredAt: at,
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown conversation: error = %v, want ErrNotFound", err)
	}
	if n := count(t, s, `SELECT count(*) FROM control.consent_events WHERE source_id = 'CA-orphan'`); n != 0 {
		t.Errorf("a call that was not stored left %d consent events", n)
	}
}

func TestRecordInbound(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 22)
	conv := openConv(t, s, tn.ID, callerA, "run-1")

	msg := InboundMessage{
		TenantID: tn.ID, ConversationID: conv, PhoneHash: hashOf(callerA),
		MessageSid: "SM123", Body: "Can you come Tuesday?", NumMedia: 1, ReceivedAt: at,
	}
	for i, want := range []bool{true, false, false} {
		stored, err := s.RecordInbound(ctx, msg)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if stored != want {
			t.Errorf("call %d: stored = %v, want %v", i+1, stored, want)
		}
	}

	err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
		var n, media int
		var dir, body string
		var when time.Time
		if err := tx.QueryRow(ctx, `
			SELECT count(*) OVER (), direction, body, num_media, occurred_at FROM messages WHERE dedupe_key = 'SM123'`,
		).Scan(&n, &dir, &body, &media, &when); err != nil {
			return err
		}
		if n != 1 || dir != "inbound" || body != msg.Body || media != 1 || !when.Equal(at) {
			t.Errorf("stored %d rows: %s %q media=%d at %v", n, dir, body, media, when)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var kind, source string
	if err := s.Pool().QueryRow(ctx, `
		SELECT count(*) OVER (), kind, source FROM control.consent_events WHERE tenant_id = $1 AND source_id = 'SM123'`,
		tn.ID).Scan(&n, &kind, &source); err != nil {
		t.Fatal(err)
	}
	if n != 1 || kind != "implied_opt_in" || source != "inbound_sms" {
		t.Errorf("consent: %d rows, kind %q, source %q", n, kind, source)
	}
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 23)
	conv := openConv(t, s, tn.ID, callerA, "run-1")
	hash := hashOf(callerA)

	// claim returns the entry without its claim time, which it checks instead: set by the first
	// claim of a key and never moved by a later one, since a retry looks for the provider's
	// record of the send from that moment on.
	firstClaims := map[string]time.Time{}
	claim := func(key string) OutboxEntry {
		t.Helper()
		e, err := s.ClaimOutbox(ctx, key, tn.ID, hash)
		if err != nil {
			t.Fatalf("claim %s: %v", key, err)
		}
		if e.ClaimedAt.IsZero() {
			t.Fatalf("claim %s has no claim time", key)
		}
		if first, ok := firstClaims[key]; ok && !e.ClaimedAt.Equal(first) {
			t.Fatalf("claim %s moved its claim time from %v to %v", key, first, e.ClaimedAt)
		}
		firstClaims[key] = e.ClaimedAt
		e.ClaimedAt = time.Time{}
		return e
	}
	outboxRow := func(key string) (status, failure string) {
		t.Helper()
		var f *string
		if err := s.Pool().QueryRow(ctx, `SELECT status, failure FROM control.outbox WHERE idempotency_key = $1`, key).Scan(&status, &f); err != nil {
			t.Fatalf("outbox row %s: %v", key, err)
		}
		if f != nil {
			failure = *f
		}
		return status, failure
	}

	t.Run("claim, complete, claim again", func(t *testing.T) {
		const key = "conv/x#first-text"
		if got := claim(key); got != (OutboxEntry{Status: OutboxPending, Attempts: 1}) {
			t.Fatalf("first claim = %+v", got)
		}
		if got := claim(key); got != (OutboxEntry{Status: OutboxPending, Attempts: 2}) {
			t.Fatalf("second claim = %+v", got)
		}
		sent := SentMessage{Key: key, TenantID: tn.ID, ConversationID: conv, Body: "Hi there", ProviderMessageID: "SM-provider-1", SentAt: at}
		for i := range 2 {
			if err := s.CompleteOutbox(ctx, sent); err != nil {
				t.Fatalf("complete %d: %v", i+1, err)
			}
		}
		want := OutboxEntry{Status: OutboxSent, Attempts: 2, ProviderMessageID: "SM-provider-1"}
		for i := range 2 {
			if got := claim(key); got != want {
				t.Errorf("claim %d after completion = %+v, want %+v", i+1, got, want)
			}
		}
		err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
			var n int
			var dir, body, provider string
			if err := tx.QueryRow(ctx, `
				SELECT count(*) OVER (), direction, body, provider_message_id FROM messages WHERE dedupe_key = $1`, key,
			).Scan(&n, &dir, &body, &provider); err != nil {
				return err
			}
			if n != 1 || dir != "outbound" || body != "Hi there" || provider != "SM-provider-1" {
				t.Errorf("messages: %d rows, %s %q %s", n, dir, body, provider)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FailOutbox(ctx, key, "late failure"); err != nil {
			t.Fatal(err)
		}
		if status, failure := outboxRow(key); status != OutboxSent || failure != "" {
			t.Errorf("FailOutbox on a sent row left status %q, failure %q", status, failure)
		}
	})

	t.Run("claim, fail, claim again", func(t *testing.T) {
		const key = "conv/x#reply-1"
		claim(key)
		if err := s.FailOutbox(ctx, key, "recipient unsubscribed (provider code 21610)"); err != nil {
			t.Fatal(err)
		}
		if status, failure := outboxRow(key); status != OutboxFailed || !strings.Contains(failure, "21610") {
			t.Errorf("after FailOutbox: status %q, failure %q", status, failure)
		}
		if got := claim(key); got != (OutboxEntry{Status: OutboxFailed, Attempts: 1}) {
			t.Errorf("claim after failure = %+v", got)
		}
		// A late success report cannot resurrect a send that was given up on.
		err := s.CompleteOutbox(ctx, SentMessage{Key: key, TenantID: tn.ID, ConversationID: conv, Body: "late", ProviderMessageID: "SMlate", SentAt: time.Now()})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("CompleteOutbox on a failed row = %v, want ErrNotFound", err)
		}
		if status, _ := outboxRow(key); status != OutboxFailed {
			t.Errorf("status after late completion = %q", status)
		}
	})

	t.Run("fail an unknown key", func(t *testing.T) {
		if err := s.FailOutbox(ctx, "conv/x#never-claimed", "x"); err != nil {
			t.Errorf("FailOutbox(unknown) = %v", err)
		}
		if n := count(t, s, `SELECT count(*) FROM control.outbox WHERE idempotency_key = 'conv/x#never-claimed'`); n != 0 {
			t.Errorf("FailOutbox created a row")
		}
	})
}

func TestSetConversationStage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	tn := createTenant(t, s, 24)
	conv := openConv(t, s, tn.ID, callerA, "run-1")

	read := func() (string, *time.Time) {
		t.Helper()
		var stage string
		var closed *time.Time
		err := s.InTenant(ctx, tn.ID, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT stage, closed_at FROM conversations WHERE id = $1`, conv).Scan(&stage, &closed)
		})
		if err != nil {
			t.Fatal(err)
		}
		return stage, closed
	}

	if err := s.SetConversationStage(ctx, tn.ID, conv, conversation.StageAwaitingReply, nil); err != nil {
		t.Fatal(err)
	}
	if stage, closed := read(); stage != string(conversation.StageAwaitingReply) || closed != nil {
		t.Errorf("after awaiting_reply: stage %q closed_at %v", stage, closed)
	}

	closedAt := at.Add(24 * time.Hour)
	if err := s.SetConversationStage(ctx, tn.ID, conv, conversation.StageClosed, &closedAt); err != nil {
		t.Fatal(err)
	}
	if stage, closed := read(); stage != string(conversation.StageClosed) || closed == nil || !closed.Equal(closedAt) {
		t.Errorf("after closed: stage %q closed_at %v, want %v", stage, closed, closedAt)
	}

	// A later stage update without a time keeps the recorded closing time.
	if err := s.SetConversationStage(ctx, tn.ID, conv, conversation.StageClosed, nil); err != nil {
		t.Fatal(err)
	}
	if _, closed := read(); closed == nil || !closed.Equal(closedAt) {
		t.Errorf("closed_at after an update without a time = %v, want %v", closed, closedAt)
	}

	err := s.SetConversationStage(ctx, tn.ID, conv+1000, conversation.StageClosed, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown conversation: error = %v, want one wrapping ErrNotFound", err)
	}
	if err := s.SetConversationStage(ctx, "not-a-tenant", conv, conversation.StageClosed, nil); err == nil {
		t.Error("invalid tenant ID accepted")
	}
}
