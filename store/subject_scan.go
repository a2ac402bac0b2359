package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SubjectScan is what ScanSubject found of a caller: the proof of an erasure.
type SubjectScan struct {
	// Remaining counts, per table, the caller's rows that EraseSubject removes. Every table that
	// can hold the caller is listed, with 0 when nothing of theirs is there.
	Remaining map[string]int
	// Kept counts, per table, the caller's rows that erasure keeps on purpose (see EraseSubject).
	Kept map[string]int
	// Unclassified names the control columns ("control.table.column") that look like they hold
	// a caller's number or its HMAC but that no one has classified: a table added since erasure
	// was written. Their rows are counted in Remaining; EraseSubject does not know them.
	Unclassified []string
}

// Erased reports whether nothing that erasure removes is left.
func (sc SubjectScan) Erased() bool {
	for _, n := range sc.Remaining {
		if n > 0 {
			return false
		}
	}
	return true
}

// controlScan counts a caller's rows in one control table, over @tenant, @hash and @number:
// those erasure removes (remaining) and those it keeps (kept); "" counts nothing.
type controlScan struct {
	table string
	// column holds the caller's number or HMAC; "" when the table is reached through another.
	column          string
	remaining, kept string
}

// suppressionSource splits a caller's consent events: the one their suppression cites is kept with
// it.
const suppressionSource = `(SELECT source_event_id FROM control.suppressions WHERE tenant_id = @tenant AND phone_hash = @hash)`

var controlScans = []controlScan{
	{table: "control.consent_events", column: "phone_hash",
		remaining: `SELECT count(*) FROM control.consent_events WHERE tenant_id = @tenant AND phone_hash = @hash AND id NOT IN ` + suppressionSource,
		kept:      `SELECT count(*) FROM control.consent_events WHERE tenant_id = @tenant AND phone_hash = @hash AND id IN ` + suppressionSource},
	{table: "control.suppressions", column: "phone_hash",
		kept: `SELECT count(*) FROM control.suppressions WHERE tenant_id = @tenant AND phone_hash = @hash`},
	{table: "control.processing_restrictions", column: "phone_hash",
		remaining: `SELECT count(*) FROM control.processing_restrictions WHERE tenant_id = @tenant AND phone_hash = @hash AND lifted_at IS NOT NULL`,
		kept:      `SELECT count(*) FROM control.processing_restrictions WHERE tenant_id = @tenant AND phone_hash = @hash AND lifted_at IS NULL`},
	{table: "control.outbox", column: "recipient_hash",
		remaining: `SELECT count(*) FROM control.outbox WHERE tenant_id = @tenant AND recipient_hash = @hash`},
	{table: "control.sandbox_messages", column: "to_number",
		remaining: `SELECT count(*) FROM control.sandbox_messages WHERE tenant_id = @tenant AND to_number = @number`},
	{table: "control.dsr_identifiers", column: "identifier_hash",
		kept: `SELECT count(*) FROM control.dsr_identifiers i JOIN control.dsr_requests r ON r.id = i.request_id
			WHERE r.tenant_id = @tenant AND i.identifier_hash = @hash`},
	{table: "control.dsr_exports",
		remaining: `SELECT count(*) FROM control.dsr_exports WHERE tenant_id = @tenant AND sealed IS NOT NULL
			AND request_id IN (SELECT request_id FROM control.dsr_identifiers WHERE identifier_hash = @hash)`},
	{table: "control.audit_entries", column: "subject",
		kept: `SELECT count(*) FROM control.audit_entries WHERE log_id = @tenant AND subject = @hash`},
}

// notCallerColumns are control columns whose names look like they hold a caller's number but
// that hold the business's own numbers.
var notCallerColumns = map[string]string{
	"control.tenants.owner_phone":          "the business owner's phone",
	"control.tenant_phone_numbers.e164":    "the numbers the business is called on",
	"control.sandbox_messages.from_number": "the business number a sandbox text was sent from",
}

// callerColumn is a control column found by its name to hold a phone number or an HMAC of one.
type callerColumn struct {
	table, column string
	// tenantScoped: the table has a tenant_id column to narrow the count by.
	tenantScoped bool
}

func (c callerColumn) name() string { return "control." + c.table + "." + c.column }

// callerColumns finds, in the catalogue, every text column of a control table whose name says it
// holds a phone number or an HMAC of one. A table added later is found without anyone
// remembering to list it here.
func callerColumns(ctx context.Context, tx pgx.Tx) ([]callerColumn, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.table_name::text, c.column_name::text,
		       EXISTS (SELECT 1 FROM information_schema.columns t
		               WHERE t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.column_name = 'tenant_id')
		FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = 'control' AND tb.table_type = 'BASE TABLE'
		  AND c.data_type IN ('text', 'character varying', 'character')
		  AND c.column_name ~ '(phone|recipient|caller|identifier|e164|msisdn|number)'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("find caller columns: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (callerColumn, error) {
		var c callerColumn
		err := row.Scan(&c.table, &c.column, &c.tenantScoped)
		return c, err
	})
}

// tenantLinks are the columns by which a tenant table can hold a caller's row, and how each is
// matched.
var tenantLinks = map[string]string{
	"contact_id":      "contact_id = ANY(@contacts)",
	"conversation_id": "conversation_id = ANY(@conversations)",
	"phone_hash":      "phone_hash = @hash",
	"phone_e164":      "phone_e164 = @number",
}

// tenantCallerTables finds, in the catalogue, every table of the tenant's schema (the
// transaction's search_path) with a column linking a row to a caller, and those columns.
func tenantCallerTables(ctx context.Context, tx pgx.Tx) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.table_name::text, c.column_name::text
		FROM information_schema.columns c
		JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND tb.table_type = 'BASE TABLE'
		  AND c.column_name = ANY($1)
		ORDER BY 1, 2`, keys(tenantLinks))
	if err != nil {
		return nil, fmt.Errorf("find tenant tables: %w", err)
	}
	out := map[string][]string{}
	var table, column string
	_, err = pgx.ForEachRow(rows, []any{&table, &column}, func() error {
		out[table] = append(out[table], column)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find tenant tables: %w", err)
	}
	return out, nil
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ScanSubject searches every table that can hold the caller, in one snapshot, and counts their
// rows: in the tenant's schema every table with a contact_id, conversation_id, phone_hash or
// phone_e164 column, found in the catalogue; in the control schema the tables listed in
// controlScans, plus any other table with a column whose name says it holds a phone number or
// its HMAC, found in the catalogue too. After EraseSubject, Remaining is all zeros (Erased) and
// Kept holds what erasure keeps on purpose; before it, the scan is an inventory.
func (s *Store) ScanSubject(ctx context.Context, sub Subject) (SubjectScan, error) {
	if err := sub.check(); err != nil {
		return SubjectScan{}, err
	}
	scan := SubjectScan{Remaining: map[string]int{}, Kept: map[string]int{}}
	err := s.inTenantSnapshot(ctx, sub.TenantID, func(tx pgx.Tx) error {
		args := sub.args()
		count := func(sql string) (int, error) {
			var n int
			err := tx.QueryRow(ctx, sql, args).Scan(&n)
			return n, err
		}

		// The tenant's schema, through every contact row that is the caller's by number or hash.
		rows, err := tx.Query(ctx, `SELECT id FROM contacts WHERE phone_hash = @hash OR phone_e164 = @number`, args)
		if err != nil {
			return err
		}
		contacts, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id FROM conversations WHERE contact_id = ANY($1)`, contacts)
		if err != nil {
			return err
		}
		conversations, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		args["contacts"], args["conversations"] = contacts, conversations
		tables, err := tenantCallerTables(ctx, tx)
		if err != nil {
			return err
		}
		for table, columns := range tables {
			conds := make([]string, len(columns))
			for i, c := range columns {
				conds[i] = tenantLinks[c]
			}
			// The table name comes from the catalogue and is quoted; the conditions are fixed text.
			n, err := count(`SELECT count(*) FROM ` + pgx.Identifier{table}.Sanitize() + ` WHERE ` + strings.Join(conds, " OR "))
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			scan.Remaining[table] = n
		}

		// The control schema: the tables known, then anything else the catalogue turns up.
		known := map[string]bool{}
		for _, c := range controlScans {
			known[c.table+"."+c.column] = true
			if c.remaining != "" {
				n, err := count(c.remaining)
				if err != nil {
					return fmt.Errorf("%s: %w", c.table, err)
				}
				scan.Remaining[c.table] += n
			}
			if c.kept != "" {
				n, err := count(c.kept)
				if err != nil {
					return fmt.Errorf("%s: %w", c.table, err)
				}
				scan.Kept[c.table] += n
			}
		}
		found, err := callerColumns(ctx, tx)
		if err != nil {
			return err
		}
		for _, c := range found {
			if known["control."+c.table+"."+c.column] || notCallerColumns[c.name()] != "" {
				continue
			}
			n, err := count(unknownColumnCount(c))
			if err != nil {
				return fmt.Errorf("control.%s: %w", c.table, err)
			}
			scan.Remaining["control."+c.table] += n
			scan.Unclassified = append(scan.Unclassified, c.name())
		}
		return nil
	})
	if err != nil {
		return SubjectScan{}, fmt.Errorf("scan subject: %w", err)
	}
	return scan, nil
}

// unknownColumnCount counts the caller's rows in a control column no one classified: matched on
// the HMAC when its name says hash, on the number otherwise, within the tenant when the table
// has a tenant_id. Anything found counts as remaining, so an erasure that misses a new table
// does not pass for complete.
func unknownColumnCount(c callerColumn) string {
	value := "@number"
	if strings.HasSuffix(c.column, "hash") {
		value = "@hash"
	}
	sql := `SELECT count(*) FROM ` + pgx.Identifier{"control", c.table}.Sanitize() +
		` WHERE ` + pgx.Identifier{c.column}.Sanitize() + ` = ` + value
	if c.tenantScoped {
		sql += ` AND tenant_id = @tenant`
	}
	return sql
}
