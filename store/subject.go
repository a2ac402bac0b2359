package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/subjectexport"
	"github.com/ringback/ringback/internal/tenantspec"
)

// Subject is one caller of one tenant, as a data-subject request names them: the number and its
// HMAC. Tenant tables hold the number; control tables hold only the HMAC, and the store has no
// hashing key, so both are needed. NewSubject derives one from the other.
type Subject struct {
	TenantID  string
	PhoneE164 string
	PhoneHash string
}

// NewSubject normalises number and hashes it with h. An invalid tenant ID is ErrNotFound; an
// invalid number is an error from phone.Normalize, which never repeats the input.
func NewSubject(h *phone.Hasher, tenantID, number string) (Subject, error) {
	if !tenantspec.ValidID(tenantID) {
		return Subject{}, ErrNotFound
	}
	e164, err := phone.Normalize(number)
	if err != nil {
		return Subject{}, err
	}
	return Subject{TenantID: tenantID, PhoneE164: e164, PhoneHash: h.Hash(e164)}, nil
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func (sub Subject) check() error {
	switch {
	case !tenantspec.ValidID(sub.TenantID):
		return ErrNotFound
	case !e164Pattern.MatchString(sub.PhoneE164):
		return errors.New("subject: the number is not in E.164 form")
	case !hashPattern.MatchString(sub.PhoneHash):
		return errors.New("subject: the phone hash must be 64 lower-case hex digits")
	}
	return nil
}

func (sub Subject) args() pgx.NamedArgs {
	return pgx.NamedArgs{"tenant": sub.TenantID, "hash": sub.PhoneHash, "number": sub.PhoneE164}
}

// ErrSubjectMismatch is returned when the tenant's contacts pair the subject's number with another
// hash, or its hash with another number: the hash was made with another key, and acting on it
// would miss the caller's control rows.
var ErrSubjectMismatch = errors.New("subject: the phone hash does not belong to the number (another hashing key?)")

// SubjectRecord is everything one tenant holds about one caller.
type SubjectRecord = subjectexport.Record

// The queries SubjectData runs, one per table, inside the tenant's schema. Each is served by an
// index on the column it filters by, so reading one caller costs the same in a tenant of a
// million messages as in an empty one; calls is the exception (see SubjectData).
const (
	subjectContactSQL = `
		SELECT id, phone_e164, phone_hash, created_at FROM contacts
		WHERE phone_hash = @hash OR phone_e164 = @number`
	subjectConversationsSQL = `
		SELECT id, workflow_id, first_run_id, trigger, stage, opened_at, closed_at FROM conversations
		WHERE contact_id = @contact ORDER BY opened_at, id`
	subjectMessagesSQL = `
		SELECT id, conversation_id, direction, body, dedupe_key, coalesce(provider_message_id, ''), num_media, occurred_at, created_at
		FROM messages WHERE conversation_id = ANY(@conversations) ORDER BY occurred_at, id`
	subjectCallsSQL = `
		SELECT call_sid, conversation_id, status, occurred_at FROM calls
		WHERE contact_id = @contact ORDER BY occurred_at, call_sid`
	subjectBookingsSQL = `
		SELECT id, coalesce(conversation_id, 0), service, lower(during), upper(during), status, name, request_key,
		       coalesce(cancel_key, ''), coalesce(replaces, 0), created_at, cancelled_at
		FROM bookings WHERE contact_id = @contact ORDER BY lower(during), id`
	subjectEscalationsSQL = `
		SELECT id, conversation_id, reason, created_at, acknowledged_at, notified_backup_at FROM escalations
		WHERE conversation_id = ANY(@conversations) ORDER BY created_at, id`
	subjectConsentSQL = `
		SELECT id, kind, source, source_id, occurred_at FROM control.consent_events
		WHERE tenant_id = @tenant AND phone_hash = @hash ORDER BY occurred_at, id`
	subjectSuppressionSQL = `
		SELECT opted_out_at, source_event_id FROM control.suppressions
		WHERE tenant_id = @tenant AND phone_hash = @hash`
	subjectRestrictionsSQL = `
		SELECT kind, coalesce(request_id, ''), since, lifted_at FROM control.processing_restrictions
		WHERE tenant_id = @tenant AND phone_hash = @hash ORDER BY since, id`
	subjectOutboxSQL = `
		SELECT idempotency_key, status, attempts, coalesce(provider_message_id, ''), coalesce(failure, ''), created_at, updated_at
		FROM control.outbox WHERE tenant_id = @tenant AND recipient_hash = @hash ORDER BY created_at, idempotency_key`
)

// inTenantSnapshot runs fn in a read-only REPEATABLE READ transaction narrowed to the tenant, so
// that every table is read as of one instant: an export never shows a message whose conversation
// it does not show.
func (s *Store) inTenantSnapshot(ctx context.Context, tenantID string, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return inTenantTx(ctx, tx, tenantID, fn)
	})
}

// subjectContact finds the caller's contact row and checks that the tenant pairs the number with
// the same hash. found is false when the tenant has no contact for either.
func subjectContact(ctx context.Context, tx pgx.Tx, sub Subject, lock bool) (c subjectexport.Contact, found bool, err error) {
	sql := subjectContactSQL
	if lock {
		sql += ` FOR UPDATE`
	}
	rows, err := tx.Query(ctx, sql, sub.args())
	if err != nil {
		return c, false, err
	}
	contacts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[subjectexport.Contact])
	if err != nil {
		return c, false, err
	}
	switch {
	case len(contacts) == 0:
		return c, false, nil
	case len(contacts) > 1 || contacts[0].PhoneHash != sub.PhoneHash || contacts[0].PhoneE164 != sub.PhoneE164:
		return c, false, ErrSubjectMismatch
	}
	return contacts[0], true, nil
}

// collect runs one query and collects its rows into T by position.
func collect[T any](ctx context.Context, tx pgx.Tx, sql string, args pgx.NamedArgs) ([]T, error) {
	rows, err := tx.Query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[T])
}

// SubjectData returns everything the tenant holds about the caller: contact, conversations,
// messages, calls, bookings and escalations from the tenant's schema; consent events,
// suppression, processing restrictions and delivery records from the control schema by the
// caller's HMAC. It reads one table per query, all in one snapshot. It writes no audit entry: the
// caller records the read (P22) under its request.
//
// calls has no index on contact_id, so that one query scans the tenant's calls; everything else,
// messages above all, is read through an index.
func (s *Store) SubjectData(ctx context.Context, sub Subject) (SubjectRecord, error) {
	if err := sub.check(); err != nil {
		return SubjectRecord{}, err
	}
	rec := SubjectRecord{TenantID: sub.TenantID, PhoneE164: sub.PhoneE164}
	err := s.inTenantSnapshot(ctx, sub.TenantID, func(tx pgx.Tx) error {
		// The snapshot's instant: what the export shows is the data as of then.
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&rec.GeneratedAt); err != nil {
			return err
		}
		args := sub.args()
		contact, found, err := subjectContact(ctx, tx, sub, false)
		if err != nil {
			return err
		}
		if found {
			rec.Contact = &contact
			args["contact"] = contact.ID
			if rec.Conversations, err = collect[subjectexport.Conversation](ctx, tx, subjectConversationsSQL, args); err != nil {
				return fmt.Errorf("conversations: %w", err)
			}
			ids := make([]int64, len(rec.Conversations))
			for i, c := range rec.Conversations {
				ids[i] = c.ID
			}
			args["conversations"] = ids
			if rec.Messages, err = collect[subjectexport.Message](ctx, tx, subjectMessagesSQL, args); err != nil {
				return fmt.Errorf("messages: %w", err)
			}
			if rec.Calls, err = collect[subjectexport.Call](ctx, tx, subjectCallsSQL, args); err != nil {
				return fmt.Errorf("calls: %w", err)
			}
			if rec.Bookings, err = collect[subjectexport.Booking](ctx, tx, subjectBookingsSQL, args); err != nil {
				return fmt.Errorf("bookings: %w", err)
			}
			if rec.Escalations, err = collect[subjectexport.Escalation](ctx, tx, subjectEscalationsSQL, args); err != nil {
				return fmt.Errorf("escalations: %w", err)
			}
		}
		if rec.ConsentEvents, err = collect[subjectexport.ConsentEvent](ctx, tx, subjectConsentSQL, args); err != nil {
			return fmt.Errorf("consent events: %w", err)
		}
		suppressions, err := collect[subjectexport.Suppression](ctx, tx, subjectSuppressionSQL, args)
		if err != nil {
			return fmt.Errorf("suppression: %w", err)
		}
		if len(suppressions) > 0 {
			rec.Suppression = &suppressions[0]
		}
		if rec.Restrictions, err = collect[subjectexport.Restriction](ctx, tx, subjectRestrictionsSQL, args); err != nil {
			return fmt.Errorf("processing restrictions: %w", err)
		}
		if rec.OutboundTexts, err = collect[subjectexport.OutboundText](ctx, tx, subjectOutboxSQL, args); err != nil {
			return fmt.Errorf("outbound texts: %w", err)
		}
		return nil
	})
	if errors.Is(err, ErrSubjectMismatch) {
		return SubjectRecord{}, err
	}
	if err != nil {
		return SubjectRecord{}, fmt.Errorf("subject data: %w", err)
	}
	return rec, nil
}

// ErasureCounts is how many rows EraseSubject deleted, by table: tenant tables by name
// ("messages"), control tables qualified ("control.outbox"). Every table it touches is listed,
// with 0 when the caller had nothing there.
type ErasureCounts map[string]int

// erasure is one step of EraseSubject: a statement over @tenant, @hash, @number, @contacts and
// @conversations, in an order that deletes rows before the rows they reference.
type erasure struct {
	table, sql string
}

var erasures = []erasure{
	{"escalations", `DELETE FROM escalations WHERE conversation_id = ANY(@conversations)`},
	{"messages", `DELETE FROM messages WHERE conversation_id = ANY(@conversations)`},
	{"calls", `DELETE FROM calls WHERE contact_id = ANY(@contacts)`},
	{"bookings", `DELETE FROM bookings WHERE contact_id = ANY(@contacts)`},
	{"conversations", `DELETE FROM conversations WHERE contact_id = ANY(@contacts)`},
	{"contacts", `DELETE FROM contacts WHERE id = ANY(@contacts)`},
	// The opt-out event a suppression cites stays with it: it is the evidence that the caller
	// opted out, and the suppression's foreign key needs it.
	{"control.consent_events", `
		DELETE FROM control.consent_events WHERE tenant_id = @tenant AND phone_hash = @hash
		AND id NOT IN (SELECT source_event_id FROM control.suppressions WHERE tenant_id = @tenant AND phone_hash = @hash)`},
	{"control.outbox", `DELETE FROM control.outbox WHERE tenant_id = @tenant AND recipient_hash = @hash`},
	{"control.sandbox_messages", `DELETE FROM control.sandbox_messages WHERE tenant_id = @tenant AND to_number = @number`},
	// Restrictions in force stay, like the suppression: they must still hold if the caller calls
	// again. Lifted ones are history about the caller and go.
	{"control.processing_restrictions", `
		DELETE FROM control.processing_restrictions WHERE tenant_id = @tenant AND phone_hash = @hash AND lifted_at IS NOT NULL`},
	// Exports not yet downloaded hold a copy of the data: their bytes go, the record that they
	// were made stays with the request.
	{"control.dsr_exports", `
		UPDATE control.dsr_exports SET sealed = NULL WHERE tenant_id = @tenant AND sealed IS NOT NULL
		AND request_id IN (SELECT request_id FROM control.dsr_identifiers WHERE identifier_hash = @hash)`},
}

// EraseSubject deletes everything the tenant holds about the caller, in one transaction: the
// messages, calls, bookings, escalations, conversations and contact in the tenant's schema; the
// consent events, delivery records (outbox), sandbox texts, lifted restrictions and pending
// exports in the control schema. It returns the rows deleted per table.
//
// Kept on purpose (ScanSubject reports them as Kept): the suppression of a caller who opted out,
// with the consent event it cites, so that a deleted caller stays opted out (P18); restrictions
// and objections in force; the records of the caller's requests (24 months); and the audit log,
// which holds only HMACs and is append-only.
//
// The caller's conversation workflow must have ended first: a running one would write new rows
// after the erasure. The caller of EraseSubject writes the audit entry, under its request.
func (s *Store) EraseSubject(ctx context.Context, sub Subject) (ErasureCounts, error) {
	if err := sub.check(); err != nil {
		return nil, err
	}
	counts := ErasureCounts{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return inTenantTx(ctx, tx, sub.TenantID, func(tx pgx.Tx) error {
			args := sub.args()
			contacts := []int64{}
			// Locked, so a conversation being opened for the caller waits and then starts afresh.
			contact, found, err := subjectContact(ctx, tx, sub, true)
			if err != nil {
				return err
			}
			if found {
				contacts = append(contacts, contact.ID)
			}
			rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE contact_id = ANY($1)`, contacts)
			if err != nil {
				return err
			}
			conversations, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			args["contacts"], args["conversations"] = contacts, conversations
			for _, e := range erasures {
				tag, err := tx.Exec(ctx, e.sql, args)
				if err != nil {
					return fmt.Errorf("%s: %w", e.table, err)
				}
				counts[e.table] = int(tag.RowsAffected())
			}
			return nil
		})
	})
	if errors.Is(err, ErrSubjectMismatch) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("erase subject: %w", err)
	}
	return counts, nil
}

// Correction is what CorrectSubject changes. The caller's name on their bookings is the only
// personal data of theirs, besides the number itself, that the tenant holds in a field of its
// own; messages are a record of what was said and are not rewritten.
type Correction struct {
	// Name is the corrected name.
	Name string
	// BookingID limits the correction to one of the caller's bookings; 0 corrects them all.
	BookingID int64
}

// CorrectSubject applies c to the caller's bookings and returns, per changed field
// ("bookings/<id>/name"), the value before and after, for the audit entry the caller writes.
// Bookings that already carry the name are left alone and not listed. A BookingID that is not
// one of the caller's is ErrNotFound.
func (s *Store) CorrectSubject(ctx context.Context, sub Subject, c Correction) (before, after map[string]string, err error) {
	if err := sub.check(); err != nil {
		return nil, nil, err
	}
	name := strings.TrimSpace(c.Name)
	if utf8.RuneCountInString(name) > MaxBookingNameLen || strings.ContainsAny(name, "\r\n") {
		return nil, nil, fmt.Errorf("corrected name: one line of at most %d characters", MaxBookingNameLen)
	}
	before, after = map[string]string{}, map[string]string{}
	err = s.InTenant(ctx, sub.TenantID, func(tx pgx.Tx) error {
		contact, found, err := subjectContact(ctx, tx, sub, false)
		if err != nil {
			return err
		}
		if !found {
			if c.BookingID != 0 {
				return fmt.Errorf("booking %d: %w", c.BookingID, ErrNotFound)
			}
			return nil
		}
		rows, err := tx.Query(ctx, `
			SELECT id, name FROM bookings WHERE contact_id = $1 AND ($2::bigint = 0 OR id = $2::bigint)
			ORDER BY id FOR UPDATE`, contact.ID, c.BookingID)
		if err != nil {
			return err
		}
		type named struct {
			ID   int64
			Name string
		}
		bookings, err := pgx.CollectRows(rows, pgx.RowToStructByPos[named])
		if err != nil {
			return err
		}
		if c.BookingID != 0 && len(bookings) == 0 {
			return fmt.Errorf("booking %d: %w", c.BookingID, ErrNotFound)
		}
		for _, b := range bookings {
			if b.Name == name {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE bookings SET name = $2 WHERE id = $1`, b.ID, name); err != nil {
				return err
			}
			field := "bookings/" + strconv.FormatInt(b.ID, 10) + "/name"
			before[field], after[field] = b.Name, name
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrSubjectMismatch) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("correct subject: %w", err)
	}
	return before, after, nil
}
