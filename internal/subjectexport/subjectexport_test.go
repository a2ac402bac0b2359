package subjectexport

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	t0     = time.Date(2026, 11, 20, 14, 0, 0, 123_456_000, time.UTC)
	t1     = t0.Add(90 * time.Minute)
	closed = t0.Add(3 * time.Hour)
)

// tricky holds texts that CSV must quote, and texts a spreadsheet would run.
const (
	tricky  = "Hi, it's \"Sam\" —\nsee you at 5, ok?"
	formula = "=cmd|' /C calc'!A0"
)

func fullRecord() Record {
	ny, _ := time.LoadLocation("America/New_York")
	return Record{
		TenantID:    "abcdefghijklmnop",
		PhoneE164:   "+16145550123",
		GeneratedAt: t0.Add(24 * time.Hour),
		Contact:     &Contact{ID: 7, PhoneE164: "+16145550123", PhoneHash: strings.Repeat("ab", 32), CreatedAt: t0},
		Conversations: []Conversation{
			{ID: 1, WorkflowID: "conv/abcdefghijklmnop/abababababababab", FirstRunID: "run-1", Trigger: "missed_call", Stage: "closed", OpenedAt: t0, ClosedAt: &closed},
			{ID: 2, WorkflowID: "conv/abcdefghijklmnop/abababababababab", FirstRunID: "run-2", Trigger: "inbound_sms", Stage: "opening", OpenedAt: t1},
		},
		Messages: []Message{
			{ID: 10, ConversationID: 1, Direction: "outbound", Body: "Sorry we missed your call!", DedupeKey: "conv/x/greet", ProviderMessageID: "SM1", OccurredAt: t0, CreatedAt: t0},
			{ID: 11, ConversationID: 1, Direction: "inbound", Body: tricky, DedupeKey: "SM2", NumMedia: 1, OccurredAt: t1, CreatedAt: t1},
			{ID: 12, ConversationID: 2, Direction: "inbound", Body: formula, DedupeKey: "SM3", OccurredAt: t1, CreatedAt: t1},
			{ID: 13, ConversationID: 2, Direction: "inbound", Body: "+1 call me @ 5", DedupeKey: "SM4", OccurredAt: t1, CreatedAt: t1},
		},
		Calls: []Call{{CallSid: "CA1", ConversationID: 1, Status: "no-answer", OccurredAt: t0}},
		Bookings: []Booking{
			{ID: 3, ConversationID: 1, Service: "Haircut", Start: t0.Add(48 * time.Hour), End: t0.Add(49 * time.Hour), Status: "cancelled", Name: "O'Brien, \"Sam\"", RequestKey: "k1", CancelKey: "k2", CreatedAt: t0, CancelledAt: &closed},
			{ID: 4, Service: "Colour", Start: t0.Add(72 * time.Hour), End: t0.Add(74 * time.Hour), Status: "booked", Name: "@Sam", RequestKey: "k3", Replaces: 3, CreatedAt: closed},
		},
		Escalations:   []Escalation{{ID: 5, ConversationID: 1, Reason: "asked for a person", CreatedAt: t1, AcknowledgedAt: &closed}},
		ConsentEvents: []ConsentEvent{{ID: 20, Kind: "implied_opt_in", Source: "missed_call", SourceID: "CA1", OccurredAt: t0}, {ID: 21, Kind: "opt_out", Source: "keyword", SourceID: "SM9", OccurredAt: closed}},
		Suppression:   &Suppression{OptedOutAt: closed, SourceEventID: 21},
		Restrictions:  []Restriction{{Kind: "objection", RequestID: "qrstuvwxyz234567", Since: t1.In(ny)}},
		OutboundTexts: []OutboundText{{IdempotencyKey: "conv/x/greet", Status: "sent", Attempts: 2, ProviderMessageID: "SM1", CreatedAt: t0, UpdatedAt: t0}, {IdempotencyKey: "conv/x/t2", Status: "failed", Attempts: 1, Failure: "-21610 unsubscribed", CreatedAt: t1, UpdatedAt: t1}},
	}
}

func unzip(t *testing.T, data []byte) (names []string, files map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files = map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		files[f.Name] = b
	}
	return names, files
}

func TestBuildRoundTrip(t *testing.T) {
	in := fullRecord()
	data, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, data)
	want := []string{ReadmeFile, JSONFile}
	for _, tbl := range Tables() {
		want = append(want, tbl+".csv")
	}
	if !slices.Equal(names, want) {
		t.Fatalf("files = %v, want %v", names, want)
	}

	// The JSON file is the record, exactly (times in UTC).
	var back Record
	if err := json.Unmarshal(files[JSONFile], &back); err != nil {
		t.Fatalf("%s: %v", JSONFile, err)
	}
	expected := in
	expected.Restrictions = []Restriction{in.Restrictions[0]}
	expected.Restrictions[0].Since = in.Restrictions[0].Since.UTC()
	if !reflect.DeepEqual(back, expected) {
		t.Errorf("%s does not round-trip:\n got %+v\nwant %+v", JSONFile, back, expected)
	}
	if in.Restrictions[0].Since.Location().String() != "America/New_York" {
		t.Error("Build changed the caller's record")
	}

	// Each CSV file parses back into its table: strings un-neutralised where they had to be.
	rv := reflect.ValueOf(expected)
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !isTable(f.Type) {
			continue
		}
		name := columnName(f) + ".csv"
		got := parseTable(t, name, files[name], f.Type)
		if !reflect.DeepEqual(got.Interface(), rv.Field(i).Interface()) {
			t.Errorf("%s does not round-trip:\n got %+v\nwant %+v", name, got.Interface(), rv.Field(i).Interface())
		}
	}

	readme := string(files[ReadmeFile])
	for _, tbl := range Tables() {
		if !strings.Contains(readme, tbl+".csv") {
			t.Errorf("README.txt does not explain %s.csv", tbl)
		}
	}
}

// parseTable reads a CSV file back into a value of the Record field's type (a slice, or a
// pointer to one row), checking the header against the row type's columns.
func parseTable(t *testing.T, name string, data []byte, typ reflect.Type) reflect.Value {
	t.Helper()
	if bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Errorf("%s: a line break that is not CRLF (RFC 4180 § 2.1)", name)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rowType := typ.Elem()
	var header []string
	for i := range rowType.NumField() {
		header = append(header, columnName(rowType.Field(i)))
	}
	if len(records) == 0 || !slices.Equal(records[0], header) {
		t.Fatalf("%s: header %v, want %v", name, records, header)
	}
	rows := reflect.MakeSlice(reflect.SliceOf(rowType), 0, len(records)-1)
	for _, rec := range records[1:] {
		row := reflect.New(rowType).Elem()
		for j, s := range rec {
			setCell(t, name, row.Field(j), s)
		}
		rows = reflect.Append(rows, row)
	}
	if typ.Kind() == reflect.Slice {
		return rows
	}
	p := reflect.New(rowType)
	switch rows.Len() {
	case 0:
		return reflect.Zero(typ)
	case 1:
		p.Elem().Set(rows.Index(0))
		return p
	}
	t.Fatalf("%s: %d rows for an optional row", name, rows.Len())
	return p
}

func setCell(t *testing.T, name string, f reflect.Value, s string) {
	t.Helper()
	parseTime := func() time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || tm.Location() != time.UTC {
			t.Fatalf("%s: time %q: %v (want RFC 3339 in UTC)", name, s, err)
		}
		return tm
	}
	switch f.Interface().(type) {
	case string:
		// Undo the apostrophe only where Neutralise adds one, so a stray one is caught.
		if strings.HasPrefix(s, "'") && Neutralise(s[1:]) == s {
			s = s[1:]
		}
		f.SetString(s)
	case int, int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: number %q: %v", name, s, err)
		}
		f.SetInt(n)
	case time.Time:
		f.Set(reflect.ValueOf(parseTime()))
	case *time.Time:
		if s != "" {
			tm := parseTime()
			f.Set(reflect.ValueOf(&tm))
		}
	default:
		t.Fatalf("%s: unexpected column type %s", name, f.Type())
	}
}

func TestCSVQuotesAndNeutralises(t *testing.T) {
	data, err := Build(fullRecord())
	if err != nil {
		t.Fatal(err)
	}
	_, files := unzip(t, data)
	records, err := csv.NewReader(bytes.NewReader(files["messages.csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	body := slices.Index(records[0], "body")
	got := []string{records[2][body], records[3][body], records[4][body]}
	want := []string{tricky, "'" + formula, "'+1 call me @ 5"}
	if !slices.Equal(got, want) {
		t.Errorf("bodies read back = %q, want %q", got, want)
	}
	// The raw file quotes the field with the comma, quotes and line break (RFC 4180 § 2.6-2.7).
	if !bytes.Contains(files["messages.csv"], []byte(`"Hi, it's ""Sam"" —`+"\r\n"+`see you at 5, ok?"`)) {
		t.Errorf("messages.csv does not quote the tricky body as RFC 4180 says:\n%s", files["messages.csv"])
	}
	// The number, a plain number, is not touched; the JSON keeps the formula as it was.
	if !bytes.Contains(files["contact.csv"], []byte(",+16145550123,")) {
		t.Errorf("contact.csv altered the phone number:\n%s", files["contact.csv"])
	}
	if !bytes.Contains(files[JSONFile], []byte(`"body": "=cmd|' /C calc'!A0"`)) {
		t.Errorf("%s does not hold the formula text as it was", JSONFile)
	}
}

func TestNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"hello", "hello"},
		{"=1+1", "'=1+1"},
		{formula, "'" + formula},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"+16145550123", "+16145550123"},
		{"-5", "-5"},
		{"-2.5", "-2.5"},
		{"+", "'+"},
		{"-", "'-"},
		{"+1.", "'+1."},
		{"1=1", "1=1"},
		{"'quoted", "'quoted"},
	}
	for _, tt := range tests {
		if got := Neutralise(tt.in); got != tt.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	in := fullRecord()
	a, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	// The same instants read in another zone give the same bytes.
	ny, _ := time.LoadLocation("America/New_York")
	moved := fullRecord()
	moved.GeneratedAt = moved.GeneratedAt.In(ny)
	moved.Messages[0].OccurredAt = moved.Messages[0].OccurredAt.In(ny)
	b, err := Build(moved)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same record gave different bytes")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(in.GeneratedAt.Truncate(time.Second)) {
			t.Errorf("%s dated %v, want the record's GeneratedAt %v", f.Name, f.Modified, in.GeneratedAt)
		}
	}
	in.Messages[1].Body += "!"
	c, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Error("a changed record gave the same bytes")
	}
}

func TestBuildEmptyRecord(t *testing.T) {
	data, err := Build(Record{TenantID: "abcdefghijklmnop", PhoneE164: "+16145550123", GeneratedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	names, files := unzip(t, data)
	if len(names) != 2+len(Tables()) {
		t.Fatalf("files = %v", names)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(files[JSONFile], &doc); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range Tables() {
		want := "[]"
		if tbl == "contact" || tbl == "suppression" {
			want = "null"
		}
		if got := string(doc[tbl]); got != want {
			t.Errorf("%s: %s = %s, want %s", JSONFile, tbl, got, want)
		}
		records, err := csv.NewReader(bytes.NewReader(files[tbl+".csv"])).ReadAll()
		if err != nil || len(records) != 1 {
			t.Errorf("%s.csv = %v, %v; want the header alone", tbl, records, err)
		}
	}
}

func TestEveryTableIsDescribed(t *testing.T) {
	tables := Tables()
	if len(tables) != len(tableAbout) {
		t.Errorf("tables %v, descriptions for %d", tables, len(tableAbout))
	}
	for _, tbl := range tables {
		if tableAbout[tbl] == "" {
			t.Errorf("table %s has no README description", tbl)
		}
	}
	// Every column type of every table has a CSV form.
	rt := reflect.TypeFor[Record]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !isTable(f.Type) {
			continue
		}
		row := reflect.New(f.Type.Elem()).Elem()
		for j := range row.NumField() {
			if _, err := cell(row.Field(j)); err != nil {
				t.Errorf("%s.%s: %v", columnName(f), row.Type().Field(j).Name, err)
			}
		}
	}
}
