package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The tools the model may call.
const (
	ToolCheckAvailability = "check_availability"
	ToolBookAppointment   = "book_appointment"
	ToolEscalateToHuman   = "escalate_to_human"
)

// The reasons an escalation gives. The model may use the first four; the scripted flow adds the
// last three, which describe the flow rather than the caller.
const (
	ReasonCallerRequest  = "caller_request"
	ReasonEmergency      = "emergency"
	ReasonComplaint      = "complaint"
	ReasonOther          = "other"
	ReasonNoProgress     = "no_progress"
	ReasonBookingFailed  = "booking_failed"
	ReasonNoAvailability = "no_availability"
)

// Limits on tool arguments, in characters.
const (
	MaxSummaryLen = 300
	MaxNameLen    = 60
	// maxArgumentsBytes bounds a whole arguments string: ours are a few dozen bytes, so anything
	// near this is not a tool call we want to read.
	maxArgumentsBytes = 2048
)

// Tool is a tool definition in the shape every OpenAI-compatible API takes: a name, what it is
// for, and a JSON Schema for its arguments. The model activity converts it to its client's type.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// Tools returns the tools the model may call, in a fixed order.
func Tools() []Tool {
	return []Tool{
		{
			Name: ToolCheckAvailability,
			Description: "Look up open appointment times for a service. Call it before offering or confirming any time; " +
				"never guess availability. Without a date it returns the next openings.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"service":{"type":"string","maxLength":80,"description":"The service, by its name in the business's list."},` +
				`"date":{"type":"string","pattern":"^[0-9]{4}-[0-9]{2}-[0-9]{2}$","description":"Optional day to check, YYYY-MM-DD, in the business's time zone."}` +
				`},"required":["service"],"additionalProperties":false}`),
		},
		{
			Name: ToolBookAppointment,
			Description: "Book an appointment. Call it only after the caller agreed to one specific time that " +
				"check_availability returned and told you their name.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"service":{"type":"string","maxLength":80,"description":"The service, by its name in the business's list."},` +
				`"start":{"type":"string","pattern":"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$","description":"The agreed start, local time in the business's time zone, YYYY-MM-DDTHH:MM (24-hour)."},` +
				`"name":{"type":"string","maxLength":60,"description":"The caller's name as they gave it."}` +
				`},"required":["service","start","name"],"additionalProperties":false}`),
		},
		{
			Name: ToolEscalateToHuman,
			Description: "Hand the conversation to a person at the business. Call it when the caller asks for a person, " +
				"mentions an emergency, is upset, or asks something the business facts do not answer.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"reason":{"type":"string","enum":["caller_request","emergency","complaint","other"],"description":"Why a person is needed."},` +
				`"summary":{"type":"string","maxLength":300,"description":"One or two sentences for the staff member: what the caller needs."}` +
				`},"required":["reason","summary"],"additionalProperties":false}`),
		},
	}
}

// Call is something the workflow must do for the conversation: a validated tool call from the
// model (ParseToolCall), or the scripted flow's next step (Step.Action). It is one of
// CheckAvailability, BookAppointment or EscalateToHuman.
type Call interface {
	// Tool names the tool the call corresponds to.
	Tool() string
	isCall()
}

// CheckAvailability asks for open times for a service.
type CheckAvailability struct {
	// Service is the business's canonical service name.
	Service string
	// Date is the start of the requested day in the business's zone, or the zero time when no day
	// was given (the next openings).
	Date time.Time
}

// BookAppointment books a slot the caller agreed to. The schedule package, not this one, checks
// that Start is open, on the grid and in the future.
type BookAppointment struct {
	Service string
	// Start is the agreed start in the business's zone.
	Start time.Time
	Name  string
}

// EscalateToHuman hands the conversation to a person.
type EscalateToHuman struct {
	// Reason is one of the Reason constants.
	Reason string
	// Summary is for the staff member who picks the conversation up.
	Summary string
}

func (CheckAvailability) Tool() string { return ToolCheckAvailability }
func (BookAppointment) Tool() string   { return ToolBookAppointment }
func (EscalateToHuman) Tool() string   { return ToolEscalateToHuman }
func (CheckAvailability) isCall()      {}
func (BookAppointment) isCall()        {}
func (EscalateToHuman) isCall()        {}

// ToolError is why a tool call was refused. Its message is written for the model, which receives
// it as the tool's result: it names every problem and how to fix it, and never repeats more of the
// model's input than a short quoted value.
type ToolError struct {
	Tool     string
	Problems []string
}

func (e *ToolError) Error() string {
	if e.Tool == "" {
		return strings.Join(e.Problems, "; ")
	}
	return e.Tool + ": " + strings.Join(e.Problems, "; ")
}

// ParseToolCall validates a tool call from the model and returns it as a Call. name is the tool's
// name and arguments the JSON object the model wrote, as a string. Dates and times are read as
// wall-clock times in loc; a nil loc means UTC. On any problem it returns a *ToolError that lists
// them all, so the model can correct the call in one go.
//
// Only the form is checked here: whether a time is open, on the grid and in the future is the
// schedule's business.
func ParseToolCall(name, arguments string, b Business, loc *time.Location) (Call, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec, ok := toolSpecs[strings.TrimSpace(name)]
	if !ok {
		return nil, &ToolError{Problems: []string{fmt.Sprintf("unknown tool %s; the tools are %s, %s and %s",
			quote(name), ToolCheckAvailability, ToolBookAppointment, ToolEscalateToHuman)}}
	}
	tool := strings.TrimSpace(name)
	fields, problems := decodeArguments(arguments, spec)
	if fields == nil {
		return nil, &ToolError{Tool: tool, Problems: problems}
	}
	p := &argParser{fields: fields, problems: problems, b: b, loc: loc}
	var call Call
	switch tool {
	case ToolCheckAvailability:
		c := CheckAvailability{Service: p.service("service")}
		c.Date = p.date("date")
		call = c
	case ToolBookAppointment:
		call = BookAppointment{Service: p.service("service"), Start: p.start("start"), Name: p.name("name")}
	case ToolEscalateToHuman:
		call = EscalateToHuman{Reason: p.reason("reason"), Summary: p.summary("summary")}
	}
	if len(p.problems) > 0 {
		return nil, &ToolError{Tool: tool, Problems: p.problems}
	}
	return call, nil
}

type toolSpec struct {
	required, optional []string
}

var toolSpecs = map[string]toolSpec{
	ToolCheckAvailability: {required: []string{"service"}, optional: []string{"date"}},
	ToolBookAppointment:   {required: []string{"service", "start", "name"}},
	ToolEscalateToHuman:   {required: []string{"reason", "summary"}},
}

func (s toolSpec) all() []string { return append(append([]string(nil), s.required...), s.optional...) }

// decodeArguments reads the arguments object into strings by field. Optional fields that are
// null or empty are left out: models often send them that way instead of omitting them. A nil map
// means the arguments could not be read at all.
func decodeArguments(arguments string, spec toolSpec) (map[string]string, []string) {
	example := `{"` + strings.Join(spec.all(), `": "…", "`) + `": "…"}`
	trimmed := strings.TrimSpace(arguments)
	switch {
	case trimmed == "" || trimmed == "null":
		return nil, []string{"arguments are missing; send a JSON object like " + example}
	case len(trimmed) > maxArgumentsBytes:
		return nil, []string{fmt.Sprintf("arguments are %d bytes; keep them under %d", len(trimmed), maxArgumentsBytes)}
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(trimmed))
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.Decode(new(json.RawMessage)) != io.EOF {
		return nil, []string{"arguments are not a valid JSON object; send one like " + example}
	}
	var problems []string
	known := make(map[string]bool)
	for _, f := range spec.all() {
		known[f] = true
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fields := make(map[string]string)
	for _, k := range keys {
		if !known[k] {
			problems = append(problems, fmt.Sprintf("unknown field %s; the fields are %s", quote(k), strings.Join(spec.all(), ", ")))
			continue
		}
		v := bytes.TrimSpace(raw[k])
		if string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			problems = append(problems, fmt.Sprintf("field %q must be a string", k))
			continue
		}
		fields[k] = s
	}
	for _, f := range spec.required {
		if _, ok := raw[f]; !ok || string(bytes.TrimSpace(raw[f])) == "null" {
			problems = append(problems, fmt.Sprintf("missing required field %q", f))
		}
	}
	for _, f := range spec.optional {
		if strings.TrimSpace(fields[f]) == "" {
			delete(fields, f)
		}
	}
	return fields, problems
}

type argParser struct {
	fields   map[string]string
	problems []string
	b        Business
	loc      *time.Location
}

func (p *argParser) fail(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

func (p *argParser) service(field string) string {
	v, ok := p.fields[field]
	if !ok {
		return ""
	}
	offered := p.b.serviceNames()
	switch {
	case offered == "":
		p.fail("this business lists no services; call %s instead", ToolEscalateToHuman)
	case runes(v) > maxServiceNameLen:
		p.fail("service is %d characters long; use a name from the list: %s", runes(v), offered)
	default:
		if s, ok := p.b.FindService(v); ok {
			return s.Name
		}
		p.fail("service %s is not offered; offered: %s", quote(v), offered)
	}
	return ""
}

func (p *argParser) date(field string) time.Time {
	v, ok := p.fields[field]
	if !ok {
		return time.Time{}
	}
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), p.loc)
	if err != nil {
		p.fail("%s %s is not a date in the form YYYY-MM-DD, e.g. \"2026-11-24\"", field, quote(v))
		return time.Time{}
	}
	return d
}

// startForm is the form of a start time accepted: the documented one, plus zero seconds or a
// space for the "T", which models add often and which mean nothing different.
var startForm = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::00)?$`)

func (p *argParser) start(field string) time.Time {
	v, ok := p.fields[field]
	if !ok {
		return time.Time{}
	}
	v = strings.TrimSpace(v)
	m := startForm.FindStringSubmatch(v)
	if m == nil {
		if len(v) > 16 && (strings.HasSuffix(v, "Z") || strings.ContainsAny(v[16:], "+-")) {
			p.fail("%s %s has a time zone; give the local time without one, YYYY-MM-DDTHH:MM, e.g. \"2026-11-24T15:00\"", field, quote(v))
		} else {
			p.fail("%s %s is not a local time in the form YYYY-MM-DDTHH:MM (24-hour), e.g. \"2026-11-24T15:00\"", field, quote(v))
		}
		return time.Time{}
	}
	n := make([]int, 6)
	for i := 1; i <= 5; i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	if n[2] < 1 || n[2] > 12 || n[3] < 1 || n[3] > 31 || n[4] > 23 || n[5] > 59 {
		p.fail("%s %s is not a valid date and time", field, quote(v))
		return time.Time{}
	}
	t := time.Date(n[1], time.Month(n[2]), n[3], n[4], n[5], 0, 0, p.loc)
	switch y, mo, d := t.Date(); {
	case d != n[3] || int(mo) != n[2] || y != n[1]:
		p.fail("%s %s is not a valid date and time", field, quote(v))
		return time.Time{}
	case t.Hour() != n[4] || t.Minute() != n[5]:
		// time.Date moves a wall-clock time inside a spring-forward gap to another hour; booking
		// that hour would book a time nobody agreed to.
		p.fail("%s %s does not exist in %s: the clocks change that night; call %s again", field, quote(v), p.loc, ToolCheckAvailability)
		return time.Time{}
	}
	return t
}

// placeholderNames are what a model writes when it books without having asked: a booking under
// "Customer" reaches a business that cannot tell who is coming.
var placeholderNames = map[string]bool{
	"caller": true, "the caller": true, "customer": true, "the customer": true, "client": true, "user": true,
	"guest": true, "unknown": true, "anonymous": true, "n a": true, "na": true, "none": true, "name": true,
	"not given": true, "not provided": true, "no name": true, "unknown caller": true, "tbd": true,
	"cliente": true, "desconocido": true,
}

func (p *argParser) name(field string) string {
	v, ok := p.fields[field]
	if !ok {
		return ""
	}
	n, problem := checkName(v)
	if problem != "" {
		p.fail("%s %s %s; ask the caller for their name", field, quote(v), problem)
		return ""
	}
	return n
}

// checkName tidies a person's name and says what is wrong with it, if anything. A name is letters,
// with spaces, apostrophes, hyphens and periods between them ("Anne-Marie O'Neil", "J. R."); it
// never holds digits, addresses or links, which are what a model copies into it by mistake.
func checkName(v string) (string, string) {
	n := strings.Join(strings.Fields(v), " ")
	switch {
	case n == "":
		return "", "is empty"
	case runes(n) > MaxNameLen:
		return "", fmt.Sprintf("is %d characters long; the limit is %d", runes(n), MaxNameLen)
	case strings.ContainsFunc(n, unicode.IsDigit):
		return "", "must not contain digits"
	case looksLikeLink(n):
		return "", "must not contain a link or an email address"
	case placeholderNames[strings.Join(words(fold(n)), " ")]:
		return "", "is a placeholder, not a name"
	}
	letters := 0
	for _, r := range n {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.Is(unicode.Mn, r), r == ' ', r == '\'', r == '\u2019', r == '-', r == '.':
		default:
			return "", fmt.Sprintf("must contain only letters, spaces, apostrophes, hyphens and periods, not %q", r)
		}
	}
	if letters == 0 {
		return "", "has no letters"
	}
	return n, ""
}

func looksLikeLink(s string) bool {
	f := strings.ToLower(s)
	for _, m := range []string{"http", "www.", "@", ".com", ".net", ".org", ".io", "://"} {
		if strings.Contains(f, m) {
			return true
		}
	}
	return false
}

func (p *argParser) reason(field string) string {
	v, ok := p.fields[field]
	if !ok {
		return ""
	}
	r := strings.ToLower(strings.TrimSpace(v))
	r = strings.NewReplacer(" ", "_", "-", "_").Replace(r)
	switch r {
	case ReasonCallerRequest, ReasonEmergency, ReasonComplaint, ReasonOther:
		return r
	}
	p.fail("%s %s is not one of %s, %s, %s, %s", field, quote(v), ReasonCallerRequest, ReasonEmergency, ReasonComplaint, ReasonOther)
	return ""
}

func (p *argParser) summary(field string) string {
	v, ok := p.fields[field]
	if !ok {
		return ""
	}
	s := oneLine(v, MaxSummaryLen+1)
	switch {
	case s == "":
		p.fail("%s is empty; write one sentence on what the caller needs", field)
	case runes(s) > MaxSummaryLen:
		p.fail("%s is longer than %d characters; shorten it", field, MaxSummaryLen)
	default:
		return s
	}
	return ""
}

// quote shows a value the model sent inside an error message, shortened so that a huge value does
// not come back in full.
func quote(s string) string {
	s = oneLine(s, 41)
	if runes(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
