package guard

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/pii"
)

// The reasons Outbound gives. Each names a rule and a kind; none ever carries the leaked value.
const (
	ReasonPhone          = "pii:phone"       // a phone number that is neither the caller's nor the business's
	ReasonEmail          = "pii:email"       // an email address the caller did not give and the business does not publish
	ReasonCard           = "pii:card"        // a payment card number, whoever's it is
	ReasonSSN            = "pii:ssn"         // a US Social Security number, whoever's it is
	ReasonTenantName     = "tenant:name"     // the name of another business on the platform
	ReasonTenantNumber   = "tenant:number"   // a phone number of another business on the platform
	ReasonPromptVerbatim = "prompt:verbatim" // a run of words copied from the system prompt
	ReasonPromptPhrase   = "prompt:phrase"   // the reply talks about its own instructions
	ReasonToolSyntax     = "tool:syntax"     // the reply prints a tool call or a tool's name
)

// DefaultMinPromptWords is how many consecutive words a reply may share with the system prompt
// before it counts as quoting it, when OutboundContext.MinPromptWords is not set.
const DefaultMinPromptWords = 8

// OtherTenant is another business on the platform, whose identity must never appear in this
// conversation.
type OtherTenant struct {
	Name    string
	Numbers []string
}

// OutboundContext is what Outbound needs to know about the conversation a reply belongs to.
type OutboundContext struct {
	// Region is the ISO 3166 region for numbers written without a country code; pii.DefaultRegion
	// when empty.
	Region string
	// CallerNumber is the E.164 number of the person this conversation is with.
	CallerNumber string
	// CallerProvided are phone numbers and email addresses the caller gave in this conversation.
	// Card and Social Security numbers are never allowed, even the caller's own: a reply has no
	// reason to repeat them, and an SMS is no place for them.
	CallerProvided []string
	// KnownNames are the names of the people in this conversation. Names are never blocked
	// (except other tenants'); they are listed so that a caller whose name happens to contain
	// another tenant's name is not mistaken for it.
	KnownNames []string
	// BusinessName, BusinessNumbers and BusinessEmails identify the tenant the reply is sent for.
	BusinessName    string
	BusinessNumbers []string
	BusinessEmails  []string
	// OtherTenants are the platform's other businesses. Their names are matched as whole words,
	// ignoring case, accents, punctuation and "&" versus "and"; their numbers in any format.
	OtherTenants []OtherTenant
	// SystemPrompt is the model's instructions. A reply may not quote MinPromptWords or more
	// consecutive words of it, except words inside quotation marks (canned phrases the prompt
	// tells the model to say) and words that also appear in PublicFacts.
	SystemPrompt string
	// PublicFacts is what the model is meant to repeat (hours, prices, service area), when it is
	// part of the prompt.
	PublicFacts string
	// MinPromptWords overrides DefaultMinPromptWords.
	MinPromptWords int
}

// OutboundVerdict is what Outbound decided about a reply.
type OutboundVerdict struct {
	// Allowed is true when the reply may be sent as it is.
	Allowed bool
	// Reasons lists why it may not, as Reason constants, sorted and without duplicates.
	Reasons []string
	// Escalate is true whenever the reply was blocked: a person should read the conversation.
	Escalate bool
}

// SafeReply returns the text to send instead of a blocked reply. It says nothing about the
// conversation, so it cannot leak anything, and it promises what escalation delivers.
func (OutboundVerdict) SafeReply(businessName string) string {
	name, _ := normalize(businessName)
	name = strings.Join(strings.Fields(name), " ")
	if r := []rune(name); len(r) > 60 {
		name = strings.TrimSpace(string(r[:60]))
	}
	if name == "" {
		return "Thanks for your message — a member of our team will follow up with you shortly."
	}
	return "Thanks for your message — a member of the " + name + " team will follow up with you shortly."
}

// Outbound scans a model's reply before it is sent.
//
// The reply is scanned as a phone would display it: NFKC-normalised, invisible characters removed
// and digits of every script read as ASCII, so a number cannot be slipped past the scan with
// fullwidth digits or zero-width spaces between them. Numbers spelled out in words ("six one
// four…") are read as digits too.
func Outbound(reply string, ctx OutboundContext) OutboundVerdict {
	scan, _ := normalize(reply)
	scan = asciiDigits(collapseSpace(scan))
	reasons := make(map[string]bool)

	forbidden := make(map[string]bool)
	for _, t := range ctx.OtherTenants {
		for _, n := range t.Numbers {
			if k := numberKey(n, ctx.Region); k != "" {
				forbidden[k] = true
			}
		}
	}
	allow := allowList(ctx, forbidden)
	opts := pii.Options{Region: ctx.Region, Allow: allow}
	allowed := make(map[string]bool)
	for _, a := range allow {
		if k := numberKey(a, ctx.Region); k != "" {
			allowed[k] = true
		}
	}
	texts := []string{scan}
	if spelled, ok := spelledDigits(scan); ok {
		texts = append(texts, spelled)
	}
	if looks, ok := lookalikeDigits(scan); ok {
		texts = append(texts, looks)
	}
	for _, t := range texts {
		for _, f := range pii.Detect(t, opts) {
			switch f.Kind {
			case pii.Phone:
				reasons[ReasonPhone] = true
				if forbidden[f.Normalized] {
					reasons[ReasonTenantNumber] = true
				}
			case pii.Email:
				reasons[ReasonEmail] = true
			case pii.Card:
				reasons[ReasonCard] = true
			case pii.SSN:
				reasons[ReasonSSN] = true
			}
		}
		if len(forbidden) > 0 && containsNumber(t, forbidden) {
			reasons[ReasonTenantNumber] = true
		}
		if oddlyGroupedNumber(t, allowed) {
			reasons[ReasonPhone] = true
		}
	}

	f := makeForms(scan)
	if mentionsOtherTenant(scan, ctx) {
		reasons[ReasonTenantName] = true
	}
	if promptPhrase.MatchString(f.words) {
		reasons[ReasonPromptPhrase] = true
	}
	if quotesPrompt(scan, ctx) {
		reasons[ReasonPromptVerbatim] = true
	}
	for _, r := range rules {
		if (r.name == "tool_call" || r.name == "tool_name") && r.matchForms(f) {
			reasons[ReasonToolSyntax] = true
		}
	}

	v := OutboundVerdict{Allowed: len(reasons) == 0}
	for r := range reasons {
		v.Reasons = append(v.Reasons, r)
	}
	slices.Sort(v.Reasons)
	v.Escalate = !v.Allowed
	return v
}

// allowList returns the values the reply may contain: the caller's and the business's numbers and
// email addresses. Anything that could be read as a card or SSN is left out, as is any number that
// also belongs to another tenant.
func allowList(ctx OutboundContext, forbidden map[string]bool) []string {
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
		case strings.Contains(v, "@"):
			out = append(out, v)
		default:
			d := len(digitsOnly(v))
			if (strings.HasPrefix(v, "+") && d <= 15 || d == 10 || d == 11) && !forbidden[numberKey(v, ctx.Region)] {
				out = append(out, v)
			}
		}
	}
	add(ctx.CallerNumber)
	for _, list := range [][]string{ctx.CallerProvided, ctx.BusinessNumbers, ctx.BusinessEmails} {
		for _, v := range list {
			add(v)
		}
	}
	return out
}

// numberKey returns the E.164 form of a phone number given on its own, as pii reports it, or ""
// when it is not one.
func numberKey(v, region string) string {
	if len(v) > 8 && v[0] == '+' && len(digitsOnly(v)) == len(v)-1 {
		return v // already E.164, as numbers from the database are
	}
	return numberKeys.get(region+"\x00"+v, func() string { return parseNumberKey(v, region) })
}

var numberKeys = newMemo[string](1024)

func parseNumberKey(v, region string) string {
	for _, f := range pii.Detect(v, pii.Options{Region: region}) {
		if f.Kind == pii.Phone {
			return f.Normalized
		}
	}
	if e164, err := phone.Normalize(v); err == nil {
		return e164
	}
	return ""
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// containsNumber reports whether text holds one of the numbers in keys (E.164), however its digits
// are grouped: each run of digits joined by the punctuation people put in numbers is compared,
// with and without its country code. It backs up pii.Detect for the numbers that must never
// appear, so that a layout the detector does not recognise as a phone number still counts.
func containsNumber(text string, keys map[string]bool) bool {
	for _, run := range numberRuns(text) {
		if keys["+"+run] || keys["+1"+run] {
			return true
		}
	}
	return false
}

// numberRuns returns the digits of each run of digit groups in text separated by at most three
// of " -.()/+".
func numberRuns(text string) []string {
	var runs []string
	for _, r := range groupedRuns(text) {
		runs = append(runs, strings.Join(r, ""))
	}
	return runs
}

// groupedRuns returns each run of digit groups in text separated by at most three of " -.()/+",
// as its groups.
func groupedRuns(text string) [][]string {
	var runs [][]string
	var run []string
	gap := 0
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			for j < len(text) && text[j] >= '0' && text[j] <= '9' {
				j++
			}
			run = append(run, text[i:j])
			i, gap = j, 0
			continue
		case strings.IndexByte(" -.()/+", c) >= 0 && len(run) > 0 && gap < 3:
			gap++
		default:
			if len(run) > 0 {
				runs = append(runs, run)
				run = nil
			}
			gap = 0
		}
		i++
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	return runs
}

// oddlyGroupedNumber reports whether text holds a North American number split into groups the
// PII detector does not take for a phone layout ("614 555 01 87"): three or more groups of digits
// adding up to a valid-looking ten-digit number (or eleven with a leading 1) that is not allowed.
// Bare ten-digit runs are left to the detector, which tells them from order and invoice numbers.
func oddlyGroupedNumber(text string, allowed map[string]bool) bool {
	for _, groups := range groupedRuns(text) {
		if len(groups) < 3 {
			continue
		}
		d := strings.Join(groups, "")
		if len(d) == 11 && d[0] == '1' {
			d = d[1:]
		}
		if len(d) == 10 && nanpShaped(d) && !allowed["+1"+d] {
			return true
		}
	}
	return false
}

// nanpShaped reports whether ten digits fit the North American numbering plan: area code and
// exchange both NXX (N = 2–9), neither an N11 service code.
func nanpShaped(d string) bool {
	nxx := func(s string) bool { return s[0] >= '2' && s[0] <= '9' && s[1:] != "11" }
	return nxx(d[:3]) && nxx(d[3:6])
}

// asciiDigits rewrites decimal digits of every script (Arabic-Indic, Devanagari, …) as ASCII, which
// is all the PII detector reads. NFKC has already done this for fullwidth and mathematical digits.
func asciiDigits(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r > 0x7f && unicode.IsDigit(r) {
			// Unicode assigns every decimal digit set a contiguous block starting at zero.
			zero := r
			for unicode.IsDigit(zero-1) && r-zero < 9 {
				zero--
			}
			b.WriteRune('0' + (r-zero)%10)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "o": '0', "one": '1', "two": '2', "three": '3', "four": '4', "five": '5',
	"six": '6', "seven": '7', "eight": '8', "nine": '9',
}

// mentionsDigitWords reports whether s has at least three words that spell digits, the least a
// spelled-out number needs to be worth the regular expression.
func mentionsDigitWords(s string) bool {
	n := 0
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len(w) <= 5 {
			if _, ok := digitWords[strings.ToLower(w)]; ok {
				if n++; n >= 3 {
					return true
				}
			}
		}
	}
	return false
}

var spelledRun = regexp.MustCompile(`(?i)\b(?:(?:(?:zero|three|seven|eight|four|five|nine|one|two|six|oh|o)\b|\d)[\s,.-]*){7,}`)

// spelledDigits rewrites runs of seven or more spelled-out digits ("six one four, five five five…")
// as the number a reader would dial, laid out the way the detector recognises: 614-555-0187 for
// ten digits, 512-44-7823 for nine.
func spelledDigits(s string) (string, bool) {
	if !mentionsDigitWords(s) {
		return s, false
	}
	changed := false
	out := spelledRun.ReplaceAllStringFunc(s, func(m string) string {
		var d []byte
		words := 0
		for _, w := range strings.FieldsFunc(m, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if c, ok := digitWords[strings.ToLower(w)]; ok {
				d = append(d, c)
				words++
				continue
			}
			d = append(d, w...)
		}
		if words == 0 {
			return m
		}
		changed = true
		ds := string(d)
		switch {
		case len(ds) == 10:
			ds = ds[:3] + "-" + ds[3:6] + "-" + ds[6:]
		case len(ds) == 11 && ds[0] == '1':
			ds = "1-" + ds[1:4] + "-" + ds[4:7] + "-" + ds[7:]
		case len(ds) == 9:
			ds = ds[:3] + "-" + ds[3:5] + "-" + ds[5:]
		}
		return " " + ds + " "
	})
	return out, changed
}

// lookalikeDigits reads the letters O, o, I, l and | as the digits they imitate where they stand
// among digits ("614-555-O187", "6l4 555 0187"): a run of digits, letters and separators with at
// least six digits in it.
func lookalikeDigits(s string) (string, bool) {
	changed := false
	out := lookalikeRun.ReplaceAllStringFunc(s, func(m string) string {
		if len(digitsOnly(m)) < 6 || !strings.ContainsAny(m, "OoIl|") {
			return m
		}
		changed = true
		return strings.NewReplacer("O", "0", "o", "0", "I", "1", "l", "1", "|", "1").Replace(m)
	})
	return out, changed
}

var lookalikeRun = regexp.MustCompile(`[0-9OoIl|][0-9OoIl|() .-]{8,}[0-9OoIl|]`)

// nameWords returns the words of a name or text as the words form spells them, with "&" read as
// "and".
func nameWords(s string) []string {
	s = strings.ReplaceAll(s, "&", " and ")
	n, _ := normalize(s)
	var out []string
	for _, t := range tokenize(fold(n)) {
		out = append(out, leet(t.text))
	}
	return out
}

var nameWordsMemo = newMemo[[]string](1024)

func cachedNameWords(name string) []string {
	return nameWordsMemo.get(name, func() []string { return nameWords(name) })
}

// mentionsOtherTenant reports whether text contains another tenant's full name. Occurrences of the business's own name and of known names are taken out first, so a
// tenant called "Acme" does not match inside "Acme Plumbing & Heating".
func mentionsOtherTenant(text string, ctx OutboundContext) bool {
	if len(ctx.OtherTenants) == 0 {
		return false
	}
	ws := nameWords(text)
	masked := make([]bool, len(ws))
	for _, own := range append([]string{ctx.BusinessName}, ctx.KnownNames...) {
		markSequence(ws, cachedNameWords(own), masked, nil)
	}
	for _, t := range ctx.OtherTenants {
		name := cachedNameWords(t.Name)
		if len(name) == 0 {
			continue
		}
		if markSequence(ws, name, nil, masked) {
			return true
		}
		// "Bob's Auto" is also written "Bobs Auto".
		if strings.ContainsAny(t.Name, "'’") && markSequence(ws, cachedNameWords(strings.NewReplacer("'s", "s", "’s", "s").Replace(t.Name)), nil, masked) {
			return true
		}
	}
	return false
}

// markSequence finds seq in ws. It marks each occurrence in mark when mark is not nil, skips
// occurrences touching a position set in skip, and reports whether any occurrence was found.
func markSequence(ws, seq []string, mark, skip []bool) bool {
	if len(seq) == 0 {
		return false
	}
	found := false
	for i := 0; i+len(seq) <= len(ws); i++ {
		if !slices.Equal(ws[i:i+len(seq)], seq) {
			continue
		}
		if skip != nil && slices.Contains(skip[i:i+len(seq)], true) {
			continue
		}
		found = true
		for j := range seq {
			if mark != nil {
				mark[i+j] = true
			}
		}
	}
	return found
}

// promptPhrase matches a reply talking about its own instructions.
var promptPhrase = regexp.MustCompile(`\b(?:my|mine) (?:system )?(?:instructions|prompt|guidelines|programming|directives|` +
	`configuration|initial prompt|system prompt)\b|\bmy rules (?:are|say|state|tell|require)\b|\bsystem prompt\b|` +
	`\b(?:i am|im|i was|i ve been|ive been|i have been) (?:programmed|prompted|configured) to\b|` +
	`\b(?:here are|these are|here is|heres|here s) (?:my|the) (?:instructions|rules|guidelines|prompt|system prompt)\b|` +
	`\bthe (?:rules|instructions|guidelines) i (?:follow|was given|have been given|ve been given|was told|must follow|` +
	`have to follow)\b|\baccording to my (?:instructions|rules|guidelines|programming|prompt)\b|` +
	`\bmis (?:instrucciones|reglas|directrices)\b|\bmes (?:instructions|consignes|regles)\b|` +
	`\bmeine (?:anweisungen|regeln|instruktionen)\b|\bminhas (?:instrucoes|regras|diretrizes)\b|` +
	`\bmie (?:istruzioni|regole)\b`)

// quotedSpan matches text in straight double quotes after folding (typographic quotes fold to
// them).
var quotedSpan = regexp.MustCompile(`"[^"]*"`)

// quotesPrompt reports whether reply repeats MinPromptWords consecutive words of the system
// prompt, comparing words only (case, accents and punctuation ignored). Runs inside quotation
// marks in the prompt, and runs that also occur in PublicFacts, are the model's to repeat.
func quotesPrompt(reply string, ctx OutboundContext) bool {
	n := ctx.MinPromptWords
	if n <= 0 {
		n = DefaultMinPromptWords
	}
	if strings.TrimSpace(ctx.SystemPrompt) == "" {
		return false
	}
	idx := promptGrams.get(strconv.Itoa(n)+"\x00"+ctx.SystemPrompt+"\x00"+ctx.PublicFacts, func() promptIndex {
		return makePromptGrams(ctx.SystemPrompt, ctx.PublicFacts, n)
	})
	grams := idx.grams
	if len(grams) == 0 {
		return false
	}
	ws := nameWords(reply)
	// outside[i] counts the words of ws[:i] that are not in the prompt at all; a window with
	// more than one of them cannot be a copy, with or without an inserted word.
	outside := make([]int, len(ws)+1)
	for i, w := range ws {
		outside[i+1] = outside[i]
		if !idx.vocab[w] {
			outside[i+1]++
		}
	}
	for i := 0; i+n <= len(ws); i++ {
		if outside[i+n]-outside[i] == 0 && grams[strings.Join(ws[i:i+n], " ")] {
			return true
		}
	}
	// One word inserted into a copied run ("for any work that needs…") does not make it a
	// paraphrase: try each window of n+1 reply words with one inner word left out.
	window := make([]string, 0, n)
	for i := 0; i+n+1 <= len(ws); i++ {
		if outside[i+n+1]-outside[i] > 1 {
			continue
		}
		for skip := i + 1; skip < i+n; skip++ {
			window = window[:0]
			window = append(window, ws[i:skip]...)
			window = append(window, ws[skip+1:i+n+1]...)
			if grams[strings.Join(window, " ")] {
				return true
			}
		}
	}
	return false
}

var promptGrams = newMemo[promptIndex](64)

// promptIndex is what quotesPrompt needs of a system prompt: its runs of n words a reply may not
// repeat, and every word in it.
type promptIndex struct {
	grams map[string]bool
	vocab map[string]bool
}

func makePromptGrams(prompt, facts string, n int) promptIndex {
	prompt, _ = normalize(prompt)
	prompt = quotedSpan.ReplaceAllString(fold(prompt), " . ")
	idx := promptIndex{grams: make(map[string]bool), vocab: make(map[string]bool)}
	for _, seg := range strings.Split(prompt, " . ") {
		ws := nameWords(seg)
		addGrams(idx.grams, ws, n)
		for _, w := range ws {
			idx.vocab[w] = true
		}
	}
	if facts != "" {
		public := make(map[string]bool)
		addGrams(public, nameWords(facts), n)
		for g := range public {
			delete(idx.grams, g)
		}
	}
	return idx
}

func addGrams(set map[string]bool, ws []string, n int) {
	for i := 0; i+n <= len(ws); i++ {
		set[strings.Join(ws[i:i+n], " ")] = true
	}
}
