package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/storetest"
	"github.com/ringback/ringback/internal/subjectexport"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
)

var (
	busyMessages = flag.Int("busy-messages", 0, "messages of other callers in the compliance section's tenant (default 1,000,000; 100,000 with -quick)")
	exportRuns   = flag.Int("export-runs", 21, "timed data-subject exports (and as many baseline reads), alternating")
)

// The targets for this section.
const (
	complianceTargetMessages = 1_000_000
	exportTarget             = 200 * time.Millisecond
	eraseTarget              = 2 * time.Second
)

// complianceFigures are the data-subject export and tenant erasure timings.
type complianceFigures struct {
	messages   int // other callers' messages in the tenant
	seeded     time.Duration
	export     []time.Duration // SubjectData + subjectexport.Build + SaveDSRExport
	read       []time.Duration // baseline: the subject's messages in one indexed query
	exportSize int
	erase      time.Duration // DropTenantSchema + key destruction + PurgeTenantRows + ScanTenant
	erasedRows int64
	deleteOnly time.Duration // baseline: DELETE of the tenant's messages alone, rolled back
	deleted    int64
	scanClean  bool
	steps      []step // the erasure's, in order
}

// step is one timed part of a larger figure.
type step struct {
	name string
	took time.Duration
}

func (s step) String() string {
	return fmt.Sprintf("%s %.1f ms", s.name, float64(s.took.Microseconds())/1000)
}

// complianceReport seeds one tenant with a million messages of other callers and one caller's
// thousand, times that caller's data-subject export against a plain read of their messages, then
// erases the whole tenant as an account closure does, timed against deleting its messages table
// alone (rolled back).
func complianceReport(ctx context.Context, adminURL string) (string, error) {
	n := *busyMessages
	if n == 0 {
		n = complianceTargetMessages
		if *quick {
			n = 100_000
		}
	}
	if n < 10 || *exportRuns < 1 {
		return "", fmt.Errorf("-busy-messages must be at least 10 and -export-runs positive")
	}
	loadBefore := loadAverage()
	dbURL, drop, err := freshDatabase(ctx, adminURL)
	if err != nil {
		return "", err
	}
	defer drop()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return "", err
	}
	signer, _, err := auditlog.NewSigner(config.DevAuditSigningKey)
	if err != nil {
		return "", err
	}
	db.SetAuditSigner(signer)
	keys, err := keyring.New([]byte(strings.Repeat("c", 32)), db)
	if err != nil {
		return "", err
	}
	tn, err := db.CreateTenant(ctx, tenantspec.Spec{Name: "Bench Busy Salon", Numbers: []string{"+16145550170"},
		Timezone: "America/New_York", OwnerPhone: "+16145550199"})
	if err != nil {
		return "", err
	}
	const caller = "+16145550123"
	sum := sha256.Sum256([]byte(caller))
	sub := store.Subject{TenantID: tn.ID, PhoneE164: caller, PhoneHash: hex.EncodeToString(sum[:])}

	fig := complianceFigures{messages: n}
	fmt.Fprintf(os.Stderr, "compliance: seeding a tenant with %d messages of other callers…\n", n)
	t0 := time.Now()
	if err := storetest.SeedBusyTenant(ctx, db, sub, n); err != nil {
		return "", err
	}
	fig.seeded = time.Since(t0)

	clock, err := legalclock.New(legalclock.GDPR, time.Now(), time.UTC)
	if err != nil {
		return "", err
	}
	req, err := db.CreateDSR(store.WithActor(ctx, "cli:bench"), store.NewDSR{TenantID: tn.ID, Kind: store.DSRAccess, Clock: clock,
		Identifiers: []store.DSRIdentifier{{Kind: store.IdentifierPhone, Hash: sub.PhoneHash}}})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "compliance: %d exports against as many plain reads…\n", *exportRuns)
	// One untimed round of each, so that neither pays for a cold cache alone.
	if _, err := exportOnce(ctx, db, keys, sub, req.ID); err != nil {
		return "", err
	}
	if _, err := readMessages(ctx, db, sub); err != nil {
		return "", err
	}
	for range *exportRuns {
		t := time.Now()
		size, err := exportOnce(ctx, db, keys, sub, req.ID)
		if err != nil {
			return "", err
		}
		fig.export, fig.exportSize = append(fig.export, time.Since(t)), size
		t = time.Now()
		got, err := readMessages(ctx, db, sub)
		if err != nil {
			return "", err
		}
		if got != storetest.SubjectMessages {
			return "", fmt.Errorf("baseline read %d of the subject's messages, want %d", got, storetest.SubjectMessages)
		}
		fig.read = append(fig.read, time.Since(t))
	}

	fmt.Fprintln(os.Stderr, "compliance: erasing the tenant…")
	if fig.deleteOnly, fig.deleted, err = deleteMessagesRolledBack(ctx, db, tn.ID); err != nil {
		return "", err
	}
	rows, err := tenantRowCount(ctx, db, tn.ID)
	if err != nil {
		return "", err
	}
	// The closure's order: schema, keys, control rows, then the re-scan that proves it.
	t0 = time.Now()
	if _, err := db.DropTenantSchema(ctx, tn.ID); err != nil {
		return "", err
	}
	fig.steps = append(fig.steps, step{"DropTenantSchema", time.Since(t0)})
	t1 := time.Now()
	if err := keys.Destroy(ctx, tn.ID); err != nil {
		return "", err
	}
	fig.steps = append(fig.steps, step{"keys destroyed", time.Since(t1)})
	t1 = time.Now()
	purged, err := db.PurgeTenantRows(ctx, tn.ID)
	if err != nil {
		return "", err
	}
	fig.steps = append(fig.steps, step{"PurgeTenantRows", time.Since(t1)})
	t1 = time.Now()
	scan, err := db.ScanTenant(ctx, tn.ID)
	if err != nil {
		return "", err
	}
	fig.steps = append(fig.steps, step{"ScanTenant", time.Since(t1)})
	fig.erase = time.Since(t0)
	fmt.Fprintf(os.Stderr, "compliance: erasure steps %v\n", fig.steps)
	fig.erasedRows = rows
	for _, c := range purged {
		fig.erasedRows += c
	}
	fig.scanClean = scan.Clean()
	return renderCompliance(fig, [2]string{loadBefore, loadAverage()}), nil
}

// exportOnce is the Export activity's work for one number: the record, the archive, sealed and
// stored. It returns the archive's size.
func exportOnce(ctx context.Context, db *store.Store, keys *keyring.Keyring, sub store.Subject, requestID string) (int, error) {
	rec, err := db.SubjectData(ctx, sub)
	if err != nil {
		return 0, err
	}
	if len(rec.Messages) != storetest.SubjectMessages {
		return 0, fmt.Errorf("export read %d of the subject's messages, want %d", len(rec.Messages), storetest.SubjectMessages)
	}
	data, err := subjectexport.Build(rec)
	if err != nil {
		return 0, err
	}
	if _, err := db.SaveDSRExport(ctx, keys, requestID, data, time.Now().Add(time.Hour)); err != nil {
		return 0, err
	}
	return len(data), nil
}

// readMessages is the baseline: the subject's messages, bodies included, in one indexed query.
func readMessages(ctx context.Context, db *store.Store, sub store.Subject) (int, error) {
	n := 0
	err := db.InTenant(ctx, sub.TenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT m.id, m.direction, m.body, m.occurred_at FROM contacts c
			JOIN conversations v ON v.contact_id = c.id JOIN messages m ON m.conversation_id = v.id
			WHERE c.phone_hash = $1`, sub.PhoneHash)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n++
		}
		return rows.Err()
	})
	return n, err
}

// deleteMessagesRolledBack times deleting every message of the tenant in one statement, and
// rolls it back: the naive erasure of the largest table alone.
func deleteMessagesRolledBack(ctx context.Context, db *store.Store, tenantID string) (time.Duration, int64, error) {
	schema, err := tenantspec.SchemaName(tenantID)
	if err != nil {
		return 0, 0, err
	}
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	// The rollback is the point: the tenant is erased properly next.
	defer func() { _ = tx.Rollback(ctx) }()
	t := time.Now()
	tag, err := tx.Exec(ctx, "DELETE FROM "+pgx.Identifier{schema, "messages"}.Sanitize())
	if err != nil {
		return 0, 0, err
	}
	return time.Since(t), tag.RowsAffected(), nil
}

// tenantRowCount counts the rows in the tenant's own schema, which DROP SCHEMA removes without
// counting them.
func tenantRowCount(ctx context.Context, db *store.Store, tenantID string) (int64, error) {
	schema, err := tenantspec.SchemaName(tenantID)
	if err != nil {
		return 0, err
	}
	rows, err := db.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, schema)
	if err != nil {
		return 0, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tables {
		var n int64
		if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, t}.Sanitize()).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func renderCompliance(f complianceFigures, load [2]string) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	exp, read := percentile(f.export, 0.5), percentile(f.read, 0.5)
	var s strings.Builder
	fmt.Fprintf(&s, "# Performance: data-subject export and tenant erasure\n\n")
	fmt.Fprintf(&s, "One tenant holds %d messages of other callers (ten per conversation, a contact and a missed call each, "+
		"six consent events and five delivery records per caller: %s to seed) and one caller with %d messages over %d conversations, "+
		"%d calls, %d bookings and %d consent events. Load average before/after: %s / %s.\n\n",
		f.messages, f.seeded.Round(time.Second), storetest.SubjectMessages, storetest.SubjectConversations, storetest.SubjectCalls,
		storetest.SubjectBookings, storetest.SubjectConsentEvents, load[0], load[1])
	fmt.Fprintf(&s, "- **Export**: what the `Export` activity does for one number: `store.SubjectData` (every table, by the caller's HMAC), "+
		"`subjectexport.Build` (the zip of JSON and CSV, %d bytes) and `SaveDSRExport` (sealed under the tenant's key, stored with its link). "+
		"Baseline: the same caller's messages in one indexed query. %d runs of each, alternating, after one untimed run of each.\n", f.exportSize, len(f.export))
	fmt.Fprintf(&s, "- **Erasure**: what an account closure does to the database: `DropTenantSchema`, the tenant's keys destroyed, `PurgeTenantRows` (every control table "+
		"with a tenant_id, one transaction) and the re-scan `ScanTenant`, %d rows in all. Baseline: one `DELETE` of the tenant's messages "+
		"table alone (%d rows), rolled back. Wall time from this process, which is the database's time plus a few round trips.\n\n",
		f.erasedRows, f.deleted)
	fmt.Fprintf(&s, "| figure | baseline | Ringback | ratio |\n|---|---|---|---|\n")
	fmt.Fprintf(&s, "| export of one caller, median | %s (messages read) | %s (record, archive, sealed, stored) | %.1f× |\n",
		ms(read), ms(exp), float64(exp)/float64(read))
	fmt.Fprintf(&s, "| export, slowest of %d | %s | %s | |\n", len(f.export), ms(slices.Max(f.read)), ms(slices.Max(f.export)))
	fmt.Fprintf(&s, "| tenant erasure | %s (DELETE of messages alone, %d rows) | %s (%d rows, re-scan clean: %t) | %.2f× |\n\n",
		ms(f.deleteOnly), f.deleted, ms(f.erase), f.erasedRows, f.scanClean, float64(f.erase)/float64(f.deleteOnly))
	var parts []string
	for _, st := range f.steps {
		parts = append(parts, st.String())
	}
	fmt.Fprintf(&s, "The erasure's steps: %s.\n\n", strings.Join(parts, ", "))
	fmt.Fprintf(&s, "| target | figure | verdict |\n|---|---|---|\n")
	full := f.messages >= complianceTargetMessages
	scope := func(ok bool) string {
		if !full {
			return fmt.Sprintf("not assessed (%d messages; the target is for %d)", f.messages, complianceTargetMessages)
		}
		return verdict(ok)
	}
	fmt.Fprintf(&s, "| export for a caller with 1,000 messages in a 1M-message tenant ≤ 200 ms | median %s, slowest %s | %s |\n",
		ms(exp), ms(slices.Max(f.export)), scope(exp <= exportTarget))
	fmt.Fprintf(&s, "| erasure of a 1M-message tenant ≤ 2 s of database time | %s | %s |\n",
		ms(f.erase), scope(f.erase <= eraseTarget && f.scanClean))
	return s.String()
}
