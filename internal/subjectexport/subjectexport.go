// Package subjectexport builds the portable copy of a caller's data that access and portability
// requests hand out (GDPR Arts. 15 and 20, CCPA § 1798.100 and § 1798.130(a)(2)(B)): a zip
// holding the whole Record as one JSON file, one CSV file per table, and a README.txt that
// explains them.
//
// The output is a function of the Record alone: files always come in the same order, every time
// is written in UTC, and the zip's file times are the Record's GeneratedAt, so the same data
// gives the same bytes, which tests compare and the audit log can name by hash.
//
// CSV files follow RFC 4180 (encoding/csv, CRLF line ends, UTF-8). A cell that a spreadsheet
// would take for a formula (one starting with =, +, -, @, a tab or a carriage return) is written
// with a leading apostrophe, the usual defence against CSV injection (OWASP, "CSV Injection"): a
// caller's text message saying "=HYPERLINK(…)" must not run when the requester, or anyone they
// share the file with, opens it. Plain numbers such as +16145550123 are left alone; they cannot
// run anything. data.json is never altered: it is the exact record.
package subjectexport

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The files every export starts with; the CSV files follow, one per table (Tables).
const (
	ReadmeFile = "README.txt"
	JSONFile   = "data.json"
)

// tableAbout says what each table's CSV file holds, for the README. Every table of Record must
// have an entry: Build refuses a Record type it cannot explain.
var tableAbout = map[string]string{
	"contact":                 "your entry in the business's contacts: your number, the keyed hash that stands for it in consent records, and when it was first seen (at most one row).",
	"conversations":           "each text conversation the business's assistant held with you, how it started (missed call or text) and how far it got.",
	"messages":                "every text you sent to the business and every text it sent you, with when it was sent or received.",
	"calls":                   "each call of yours that the business missed and that started or joined a conversation.",
	"bookings":                "appointments made for you, including cancelled ones, with the name you gave.",
	"escalations":             "conversations handed to a person at the business, and why.",
	"consent_events":          "the record of your consent to receive texts: contacting the business, opting out (STOP) and opting back in (START).",
	"suppression":             "present if you opted out of the business's texts: when, and which consent event did it (at most one row).",
	"processing_restrictions": "restrictions of, or objections to, the processing of your data that you asked for, and when they were lifted.",
	"outbound_texts":          "the delivery record of each text sent, or attempted, to you: status, attempts and the carrier's message id.",
}

// Tables lists the names of the export's tables in file order; table t is in file t + ".csv".
func Tables() []string {
	var out []string
	rt := reflect.TypeFor[Record]()
	for i := range rt.NumField() {
		if f := rt.Field(i); isTable(f.Type) {
			out = append(out, columnName(f))
		}
	}
	return out
}

// isTable reports whether a Record field is a table: a slice of rows, or a pointer to an optional
// single row.
func isTable(t reflect.Type) bool {
	return (t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer) && t.Elem().Kind() == reflect.Struct
}

// Build returns the export of r as a zip.
func Build(r Record) ([]byte, error) {
	rv := normalized(reflect.ValueOf(r))
	r = rv.Interface().(Record)

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	modified := r.GeneratedAt
	if modified.Year() < 1980 { // the zip format cannot date a file earlier
		modified = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return fmt.Errorf("subject export: %s: %w", name, err)
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("subject export: %s: %w", name, err)
		}
		return nil
	}

	readme, err := readme(r)
	if err != nil {
		return nil, err
	}
	if err := add(ReadmeFile, readme); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("subject export: %s: %w", JSONFile, err)
	}
	if err := add(JSONFile, append(js, '\n')); err != nil {
		return nil, err
	}
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !isTable(f.Type) {
			continue
		}
		data, err := tableCSV(rv.Field(i))
		if err != nil {
			return nil, fmt.Errorf("subject export: %s.csv: %w", columnName(f), err)
		}
		if err := add(columnName(f)+".csv", data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("subject export: %w", err)
	}
	return buf.Bytes(), nil
}

var timeType = reflect.TypeFor[time.Time]()

// normalized returns a deep copy of v with every time in UTC and every nil slice empty, so the
// same instants give the same bytes whichever zone they were read in, and an empty table is []
// rather than null. The caller's Record is left untouched.
func normalized(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(normalized(v.Elem()))
		return p
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(normalized(v.Index(i)))
		}
		return s
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC())
		}
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			c.Field(i).Set(normalized(v.Field(i)))
		}
		return c
	}
	return v
}

// tableCSV writes a table (a slice of rows, or a pointer to at most one) as CSV: a header of the
// rows' json names, then one record per row.
func tableCSV(table reflect.Value) ([]byte, error) {
	rows := table
	if table.Kind() == reflect.Pointer {
		rows = reflect.MakeSlice(reflect.SliceOf(table.Type().Elem()), 0, 1)
		if !table.IsNil() {
			rows = reflect.Append(rows, table.Elem())
		}
	}
	rowType := rows.Type().Elem()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true // RFC 4180 § 2.1
	header := make([]string, rowType.NumField())
	for i := range header {
		header[i] = columnName(rowType.Field(i))
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for i := range rows.Len() {
		row := rows.Index(i)
		record := make([]string, len(header))
		for j := range record {
			var err error
			if record[j], err = cell(row.Field(j)); err != nil {
				return nil, fmt.Errorf("column %s: %w", header[j], err)
			}
		}
		if err := w.Write(record); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// cell renders one value for CSV: text neutralised (see the package comment), numbers in
// decimal, times in RFC 3339 UTC, a missing time as an empty cell.
func cell(v reflect.Value) (string, error) {
	switch x := v.Interface().(type) {
	case string:
		return Neutralise(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case *time.Time:
		if x == nil {
			return "", nil
		}
		return x.UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("no CSV form for %s", v.Type())
}

// Neutralise returns s as it is written to a CSV cell: with a leading apostrophe when a
// spreadsheet would read it as a formula, unchanged otherwise. A plain number (digits with an
// optional sign and decimal point, such as an E.164 phone number) is not a formula.
func Neutralise(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) || plainNumber(s) {
		return s
	}
	return "'" + s
}

func plainNumber(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, point := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0:
			point = true
		default:
			return false
		}
	}
	return digits > 0 && !strings.HasSuffix(s, ".")
}

// wrap writes text as lines of at most width bytes, each starting with indent.
func wrap(b *strings.Builder, text, indent string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

func columnName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// readme explains the export to whoever receives it.
func readme(r Record) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Your data held by a business that uses Ringback to answer its calls and texts\n\n")
	fmt.Fprintf(&b, "Phone number: %s\n", r.PhoneE164)
	fmt.Fprintf(&b, "Business (tenant) id: %s\n", r.TenantID)
	fmt.Fprintf(&b, "Generated: %s\n\n", r.GeneratedAt.Format(time.RFC3339))
	b.WriteString(strings.TrimLeft(`
Files

  README.txt   this file.
  data.json    everything below in one JSON document (RFC 8259), for moving your data to another
               service. It is the exact record: nothing in it is altered.
`, "\n"))
	for _, t := range Tables() {
		about, ok := tableAbout[t]
		if !ok {
			return nil, fmt.Errorf("subject export: table %s has no description", t)
		}
		fmt.Fprintf(&b, "  %s\n", t+".csv")
		wrap(&b, about, "               ", 96)
	}
	b.WriteString(`
Formats

  Times are in UTC, written as RFC 3339 (2026-11-20T14:00:00Z). An empty cell, or null in
  data.json, means the time has not happened (for example a booking never cancelled).
  Numbers called id, conversation_id, replaces or source_event_id link rows across the files:
  messages.csv's conversation_id is an id in conversations.csv.

  The CSV files are UTF-8 text in the RFC 4180 format that spreadsheets open: a header row of
  column names, one row per record, fields with commas, quotes or line breaks in double quotes.
  A text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
  carriage return) starts with an apostrophe (') in the CSV files, so that opening them never
  runs anything. data.json has such texts exactly as they were.
`)
	return []byte(b.String()), nil
}
