package auditlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"
)

// ControlLog is the ID of the control plane's log. Every other log's ID is a tenant ID.
const ControlLog = "control"

// Limits on an event's fields. They keep records small and stop an audit entry from becoming a
// place to park arbitrary data.
const (
	MaxEventIDLen   = 200
	MaxActorLen     = 200
	MaxActionLen    = 100
	MaxPayloadBytes = 64 << 10
	maxPayloadDepth = 32
)

// recordVersion is written into every record so that a future encoding can coexist with records
// already in the tree, which can never be re-encoded.
const recordVersion = 1

// timeLayout is RFC 3339 in UTC with a fixed six fractional digits: PostgreSQL keeps timestamps
// to the microsecond, and a fixed width leaves exactly one spelling for each instant.
const timeLayout = "2006-01-02T15:04:05.000000Z"

var (
	logIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	actionPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	subjectPattern = regexp.MustCompile(`^[0-9a-f]{16,128}$`)
	// e164Pattern catches the form Ringback itself uses for phone numbers. It is a backstop
	// against a caller putting a number into a payload, not a PII scanner.
	e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// Event is one thing that happened, as the caller reports it.
type Event struct {
	// LogID selects the log: ControlLog or a tenant ID.
	LogID string
	// EventID is the caller's idempotency key, unique within the log: appending the same event
	// twice records it once. It is printed by verification, so it must carry no personal data
	// (a workflow ID plus a step name is typical).
	EventID string
	// Actor is who caused the event: "system", "token:<id>", "ops:<name>".
	Actor string
	// Action is a dotted lower-case name such as "consent.opt_out" or "personal_data.read".
	Action string
	// Subject is an HMAC (lower-case hex) of whatever the event concerns, or empty. Never a raw
	// phone number.
	Subject string
	// OccurredAt is when it happened. It is required, rather than defaulted to the time of the
	// append, so that a retried append describes the same event as the first attempt.
	OccurredAt time.Time
	// Payload is a JSON object with details; empty means {}. It is stored in canonical form.
	Payload json.RawMessage
}

// Entry is one record of a log as stored: the event's fields, its canonical payload and the
// record bytes that are hashed into the tree.
type Entry struct {
	Index      int64
	EventID    string
	Actor      string
	Action     string
	Subject    string
	OccurredAt time.Time
	// Payload is the canonical payload, or nil once retention has removed it.
	Payload []byte
	// Record is the canonical encoding of all the above (the payload by its SHA-256) plus the
	// log ID and index. Its tlog.RecordHash is the entry's leaf in the tree.
	Record []byte
}

// RecordHash is the entry's leaf hash in the log's tree.
func (e Entry) RecordHash() tlog.Hash { return tlog.RecordHash(e.Record) }

// record is the hashed form of an entry. Fields are declared in lexical order of their JSON
// names, so encoding/json writes the keys sorted.
type record struct {
	Action        string `json:"action"`
	Actor         string `json:"actor"`
	EventID       string `json:"event_id"`
	Index         int64  `json:"index"`
	Log           string `json:"log"`
	OccurredAt    string `json:"occurred_at"`
	PayloadSHA256 string `json:"payload_sha256"`
	Subject       string `json:"subject"`
	V             int    `json:"v"`
}

// Seal validates ev and returns the entry it becomes at position index of its log.
// Errors name the offending field but never echo its value.
func Seal(ev Event, index int64) (Entry, error) {
	if index < 0 {
		return Entry{}, fmt.Errorf("audit event: negative index %d", index)
	}
	if err := checkEvent(ev); err != nil {
		return Entry{}, err
	}
	payload, err := CanonicalPayload(ev.Payload)
	if err != nil {
		return Entry{}, fmt.Errorf("audit event: %w", err)
	}
	e := Entry{
		Index:      index,
		EventID:    ev.EventID,
		Actor:      ev.Actor,
		Action:     ev.Action,
		Subject:    ev.Subject,
		OccurredAt: ev.OccurredAt.UTC().Truncate(time.Microsecond),
		Payload:    payload,
	}
	sum := sha256.Sum256(payload)
	e.Record = encodeRecord(ev.LogID, e, hex.EncodeToString(sum[:]))
	return e, nil
}

func encodeRecord(logID string, e Entry, payloadSHA256 string) []byte {
	b, err := json.Marshal(record{
		Action:        e.Action,
		Actor:         e.Actor,
		EventID:       e.EventID,
		Index:         e.Index,
		Log:           logID,
		OccurredAt:    e.OccurredAt.UTC().Format(timeLayout),
		PayloadSHA256: payloadSHA256,
		Subject:       e.Subject,
		V:             recordVersion,
	})
	if err != nil {
		// Only strings and integers: encoding cannot fail.
		panic("auditlog: encode record: " + err.Error())
	}
	return b
}

// ValidLogID reports whether id can name a log. The store narrows this to ControlLog and tenant
// IDs; here it only has to be safe inside a checkpoint's text.
func ValidLogID(id string) bool { return logIDPattern.MatchString(id) }

func checkEvent(ev Event) error {
	var errs []error
	if !ValidLogID(ev.LogID) {
		errs = append(errs, errors.New("log id: invalid"))
	}
	if err := checkToken(ev.EventID, MaxEventIDLen, false); err != nil {
		errs = append(errs, fmt.Errorf("event id: %w", err))
	}
	if err := checkToken(ev.Actor, MaxActorLen, true); err != nil {
		errs = append(errs, fmt.Errorf("actor: %w", err))
	}
	if len(ev.Action) > MaxActionLen || !actionPattern.MatchString(ev.Action) {
		errs = append(errs, errors.New("action: want dotted lower-case words such as consent.opt_out"))
	}
	if ev.Subject != "" && !subjectPattern.MatchString(ev.Subject) {
		errs = append(errs, errors.New("subject: want a lower-case hex HMAC (16 to 128 digits) or nothing"))
	}
	if ev.OccurredAt.IsZero() {
		errs = append(errs, errors.New("occurred at: required"))
	} else if y := ev.OccurredAt.UTC().Year(); y < 2000 || y > 9999 {
		errs = append(errs, errors.New("occurred at: out of range"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("audit event: %w", err)
	}
	return nil
}

// checkToken accepts non-empty valid UTF-8 without control characters, and without spaces
// unless spaces is set.
func checkToken(s string, max int, spaces bool) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > max:
		return fmt.Errorf("longer than %d bytes", max)
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case e164Pattern.MatchString(s):
		return errors.New("looks like a phone number")
	}
	for _, r := range s {
		if unicode.IsControl(r) || (!spaces && unicode.IsSpace(r)) {
			return errors.New("contains control characters or spaces")
		}
	}
	return nil
}

// CanonicalPayload returns raw, which must be a JSON object, in the one form that is hashed:
// object keys sorted bytewise, no insignificant whitespace, no HTML escaping, numbers exactly as
// written. Empty input is {}. Duplicate keys, invalid UTF-8 (which encoding/json would silently
// replace) and string values shaped like an E.164 phone number are refused.
func CanonicalPayload(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}"), nil
	}
	if len(raw) > MaxPayloadBytes {
		return nil, fmt.Errorf("payload: larger than %d bytes", MaxPayloadBytes)
	}
	if !utf8.Valid(raw) {
		return nil, errors.New("payload: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("payload: must be a JSON object")
	}
	var buf bytes.Buffer
	if err := canonicalValue(dec, tok, &buf, 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("payload: unexpected data after the object")
	}
	return buf.Bytes(), nil
}

func canonicalValue(dec *json.Decoder, tok json.Token, buf *bytes.Buffer, depth int) error {
	if depth > maxPayloadDepth {
		return fmt.Errorf("payload: nested deeper than %d", maxPayloadDepth)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return canonicalArray(dec, buf, depth)
		}
		return canonicalObject(dec, buf, depth)
	case string:
		if e164Pattern.MatchString(strings.TrimSpace(v)) {
			return errors.New("payload: a value looks like a phone number; record its HMAC instead")
		}
		writeString(buf, v)
	case json.Number:
		buf.WriteString(v.String())
	case bool:
		if v {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case nil:
		buf.WriteString("null")
	}
	return nil
}

func canonicalObject(dec *json.Decoder, buf *bytes.Buffer, depth int) error {
	members := map[string][]byte{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		key, _ := tok.(string) // the decoder only yields strings in key position
		if _, dup := members[key]; dup {
			return errors.New("payload: a key appears twice in one object")
		}
		if e164Pattern.MatchString(strings.TrimSpace(key)) {
			return errors.New("payload: a key looks like a phone number")
		}
		if tok, err = dec.Token(); err != nil {
			return syntaxError(err)
		}
		var val bytes.Buffer
		if err := canonicalValue(dec, tok, &val, depth+1); err != nil {
			return err
		}
		members[key] = val.Bytes()
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return syntaxError(err)
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k)
		buf.WriteByte(':')
		buf.Write(members[k])
	}
	buf.WriteByte('}')
	return nil
}

func canonicalArray(dec *json.Decoder, buf *bytes.Buffer, depth int) error {
	buf.WriteByte('[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		if err := canonicalValue(dec, tok, buf, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return syntaxError(err)
	}
	buf.WriteByte(']')
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	// A valid UTF-8 string always encodes; Encode ends it with a newline, which is dropped.
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1)
}

// syntaxError reports where the JSON broke without quoting it: the payload may hold personal data.
func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("payload: not valid JSON (at byte %d)", se.Offset)
	}
	return errors.New("payload: not valid JSON")
}

// decodeRecord parses record bytes, refusing anything but the canonical encoding of a known
// version: two spellings of one record would be two leaves for one event.
func decodeRecord(b []byte) (record, error) {
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return record{}, errors.New("record is not a valid audit record")
	}
	if r.V != recordVersion {
		return record{}, fmt.Errorf("record has unknown version %d", r.V)
	}
	t, err := time.Parse(timeLayout, r.OccurredAt)
	if err != nil {
		return record{}, errors.New("record has a malformed time")
	}
	canon := encodeRecord(r.Log, Entry{
		Index: r.Index, EventID: r.EventID, Actor: r.Actor, Action: r.Action, Subject: r.Subject, OccurredAt: t,
	}, r.PayloadSHA256)
	if !bytes.Equal(canon, b) {
		return record{}, errors.New("record is not in canonical form")
	}
	return r, nil
}

// matchesRecord reports whether e.Record is exactly what Seal writes for e in log logID, without
// decoding it: it builds the expected bytes around the payload hash and compares. It answers only
// for plain ASCII fields, whose JSON spelling is the text itself between quotes; false means "not
// shown to match", and the caller falls back to checkEntry, which also says why. buf is scratch
// space, returned for reuse.
func matchesRecord(buf []byte, logID string, e *Entry) ([]byte, bool) {
	t := e.OccurredAt.UTC()
	if y := t.Year(); y < 1 || y > 9999 ||
		!plainJSON(logID) || !plainJSON(e.EventID) || !plainJSON(e.Actor) || !plainJSON(e.Action) || !plainJSON(e.Subject) {
		return buf, false
	}
	b := append(buf[:0], `{"action":"`...)
	b = append(b, e.Action...)
	b = append(b, `","actor":"`...)
	b = append(b, e.Actor...)
	b = append(b, `","event_id":"`...)
	b = append(b, e.EventID...)
	b = append(b, `","index":`...)
	b = strconv.AppendInt(b, e.Index, 10)
	b = append(b, `,"log":"`...)
	b = append(b, logID...)
	b = append(b, `","occurred_at":"`...)
	b = t.AppendFormat(b, timeLayout)
	b = append(b, `","payload_sha256":"`...)
	at := len(b)
	b = append(b, `","subject":"`...)
	b = append(b, e.Subject...)
	b = append(b, `","v":`...)
	b = strconv.AppendInt(b, recordVersion, 10)
	b = append(b, '}')

	const hexLen = 2 * sha256.Size
	rec := e.Record
	if len(rec) != len(b)+hexLen || !bytes.Equal(rec[:at], b[:at]) || !bytes.Equal(rec[at+hexLen:], b[at:]) {
		return b, false
	}
	got := rec[at : at+hexLen]
	if e.Payload == nil {
		// Pruned: the record keeps the hash of a payload that is gone.
		for _, c := range got {
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return b, false
			}
		}
		return b, true
	}
	sum := sha256.Sum256(e.Payload)
	var want [hexLen]byte
	hex.Encode(want[:], sum[:])
	return b, bytes.Equal(got, want[:])
}

// plainJSON reports whether encoding/json writes s as itself between quotes: printable ASCII
// with nothing it escapes (quote, backslash, and the HTML characters <, > and &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
