// Package pii finds personal data in short free text (SMS bodies and model replies) and replaces it
// with stable placeholders that can be mapped back.
//
// Ringback uses it in three places: outbound replies are scanned before they are sent (P04), the
// hosted fallback model only ever sees masked text (P06), and inbound text can be checked for data
// the conversation should not hold (P03). The kinds found are phone numbers, email addresses, payment
// card numbers, US Social Security numbers, street addresses and names the conversation already
// knows.
//
// Mask replaces each finding with a placeholder such as "[PHONE_1]" and records it in a Mapping;
// passing the same Mapping back for the next turn keeps placeholders stable across a conversation,
// and Mapping.Unmask puts the values back into a model's reply. Different spellings of one value
// ("614-555-0123", "(614) 555-0123") share a placeholder and are restored in the spelling seen
// first.
//
// Limits, by design: detection is pattern based, so it trades recall against false alarms on the
// order numbers, prices and times that fill these messages.
//   - Names are found only when the caller supplies them (Options.KnownNames); a name the text
//     introduces for the first time is not recognised, and a part of a known name that is also an
//     ordinary word ("Will", "Green") is only masked as part of the full name.
//   - Street addresses are a US-shaped heuristic (house number, street words, suffix), so
//     "1600 Broadway" or a house number spelled in words is missed; a city is included only when
//     a state follows it.
//   - Phone numbers need an area code; seven-digit local numbers are missed. A national format of
//     another country is recognised only when that country is Options.Region, everywhere else it
//     needs a leading "+". Only ASCII digits are read.
//   - Card expiry dates and security codes are not detected.
//   - A masked text can still identify someone through what it says ("the dentist on Elm next to
//     my mum's").
package pii

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names a category of personal data. The values are stable: they appear in serialised
// mappings and, upper-cased, in placeholders.
type Kind string

// The kinds Detect reports.
const (
	Phone   Kind = "phone"
	Email   Kind = "email"
	Card    Kind = "card"
	SSN     Kind = "ssn"
	Address Kind = "address"
	Name    Kind = "name"
)

// kindRank breaks ties between findings of equal length on the same bytes: a card number beats the
// phone number a run of its digits might also parse as, because mistaking a card for a phone would
// leave a payment credential unmasked under the weaker rules applied to phones.
var kindRank = map[Kind]int{Card: 0, SSN: 1, Email: 2, Phone: 3, Address: 4, Name: 5}

// DefaultRegion is the region used for phone numbers written without a country code when
// Options.Region is empty. Ringback's tenants are North American businesses.
const DefaultRegion = "US"

// Finding is one piece of personal data in a text. Start and End are byte offsets into the text
// given to Detect, so text[Start:End] == Value.
type Finding struct {
	Kind  Kind
	Start int
	End   int
	Value string
	// Normalized is the comparable form of Value: E.164 for phones, lower case for emails, names
	// and addresses, digits only for cards and SSNs. Two findings with the same Kind and Normalized
	// are the same datum written differently.
	Normalized string
}

// Options tunes detection for one conversation.
type Options struct {
	// Region is the ISO 3166 region assumed for phone numbers without a country code;
	// DefaultRegion when empty.
	Region string
	// KnownNames are names the conversation already knows (the caller's, a family member's). Each
	// is matched in full and by its parts of three or more letters that are not common English
	// words, case-insensitively and on word boundaries.
	KnownNames []string
	// Allow lists values that are not reported, compared in normalised form: the conversation's
	// own phone number and the business's, so that a reply quoting them passes a guard while
	// anybody else's number does not. Mask leaves allowed values in clear text, so text bound for
	// a third party must be masked without an allow-list.
	Allow []string
}

func (o Options) region() string {
	if o.Region == "" {
		return DefaultRegion
	}
	return strings.ToUpper(o.Region)
}

// Detect returns the personal data in text, ordered by position and never overlapping.
//
// When candidates overlap, the longest wins, then the earliest, then the kind ranked first in
// kindRank. Allowed values are removed after overlaps are resolved, so an allowed number cannot
// uncover a shorter finding hidden under it.
//
// Detection then runs again over the text with every finding blanked out the way Mask will replace
// it, until nothing new turns up. Several rules look at a finding's neighbours (word boundaries,
// labels before a number), and a neighbour that is itself personal data changes once masked:
// "Jo Smith6145550123 … Smith" hides the first "Smith" behind the digits glued to it, and masking
// the number would expose it. Finding it here keeps Mask from ever leaving behind a value it
// masks elsewhere.
func Detect(text string, opts Options) []Finding {
	d := detector{region: opts.region(), needles: nameNeedles(opts.KnownNames)}
	if len(opts.Allow) > 0 {
		d.allowed = allowSet(opts.Allow, d.region)
	}
	found := d.find(text)
	for pass := 0; pass < maxBlankedPasses && len(found) > 0; pass++ {
		blanked := blankOut(text, found)
		var more []Finding
		for _, f := range d.find(blanked) {
			if !overlapsAny(found, f) {
				f.Value = text[f.Start:f.End]
				more = append(more, f)
			}
		}
		if len(more) == 0 {
			break
		}
		found = append(found, more...)
		slices.SortFunc(found, func(a, b Finding) int { return a.Start - b.Start })
	}
	return found
}

// maxBlankedPasses bounds the re-detection; each pass only finds data hidden by data found in the
// previous one, so real text needs one and the bound only stops adversarial chains.
const maxBlankedPasses = 4

// detector holds what Detect derives from Options once per call.
type detector struct {
	region  string
	needles [][]string
	allowed map[valueKey]bool
}

func (d detector) find(text string) []Finding {
	var found []Finding
	found = appendCards(found, text)
	found = appendSSNs(found, text)
	found = appendEmails(found, text)
	found = appendPhones(found, text, d.region)
	found = appendAddresses(found, text)
	found = appendNames(found, text, d.needles)
	found = resolveOverlaps(found)
	if d.allowed != nil {
		found = slices.DeleteFunc(found, func(f Finding) bool {
			return d.allowed[valueKey{f.Kind, f.Normalized}]
		})
	}
	return found
}

// blankOut returns text with each finding replaced by a filler of the same length shaped like a
// placeholder: brackets outside, a letter and a digit inside. Offsets stay valid, and what the
// detectors see next to a finding is what they will see next to its placeholder.
func blankOut(text string, found []Finding) string {
	b := []byte(text)
	for _, f := range found {
		n := f.End - f.Start
		for i := range n {
			b[f.Start+i] = 'X'
		}
		b[f.Start] = '['
		b[f.End-1] = ']'
		if n >= 3 {
			b[f.End-2] = '1'
		}
	}
	return string(b)
}

func overlapsAny(found []Finding, f Finding) bool {
	return slices.ContainsFunc(found, func(k Finding) bool { return f.Start < k.End && k.Start < f.End })
}

// Contains reports whether text holds any personal data not in opts.Allow.
func Contains(text string, opts Options) bool {
	return len(Detect(text, opts)) > 0
}

// Kinds returns the distinct kinds of personal data in text, in the order of the Kind constants.
func Kinds(text string, opts Options) []Kind {
	var kinds []Kind
	for _, f := range Detect(text, opts) {
		if !slices.Contains(kinds, f.Kind) {
			kinds = append(kinds, f.Kind)
		}
	}
	slices.SortFunc(kinds, func(a, b Kind) int { return kindOrder(a) - kindOrder(b) })
	return kinds
}

func kindOrder(k Kind) int {
	return slices.Index([]Kind{Phone, Email, Card, SSN, Address, Name}, k)
}

func resolveOverlaps(found []Finding) []Finding {
	slices.SortFunc(found, func(a, b Finding) int {
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return lb - la
		}
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return kindRank[a.Kind] - kindRank[b.Kind]
	})
	// kept stays sorted by Start and disjoint, so a candidate can only overlap its neighbours.
	var kept []Finding
	for _, f := range found {
		i, _ := slices.BinarySearchFunc(kept, f.Start, func(k Finding, start int) int { return k.Start - start })
		if i > 0 && kept[i-1].End > f.Start || i < len(kept) && kept[i].Start < f.End {
			continue
		}
		kept = slices.Insert(kept, i, f)
	}
	return kept
}

// valueKey identifies a datum independent of how it was written.
type valueKey struct {
	kind       Kind
	normalized string
}

// allowSet normalises each allowed value under every kind it could be, because the caller passes
// plain strings without saying what they are.
func allowSet(values []string, region string) map[valueKey]bool {
	set := make(map[valueKey]bool)
	for _, v := range values {
		if e164, ok := normalizePhone(v, region); ok {
			set[valueKey{Phone, e164}] = true
		}
		if strings.Contains(v, "@") {
			set[valueKey{Email, strings.ToLower(strings.TrimSpace(v))}] = true
		}
		if d := digitsOnly(v); d != "" {
			set[valueKey{Card, d}] = true
			set[valueKey{SSN, d}] = true
		}
		set[valueKey{Address, normalizeWords(v)}] = true
		set[valueKey{Name, normalizeWords(v)}] = true
	}
	return set
}

func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// normalizeWords lower-cases s and keeps only its letters and digits, one space between words, so
// "123 Main St." and "123 main st" compare equal.
func normalizeWords(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '’':
			// Apostrophes are part of names (O'Neill) and typed either way.
		default:
			space = true
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isWordRune reports whether r continues a word, so a match next to it is inside a longer token.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// runeBefore and runeAfter return the rune adjacent to a span, or utf8.RuneError at the text's ends.
func runeBefore(text string, i int) rune {
	if i <= 0 {
		return utf8.RuneError
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return r
}

func runeAfter(text string, i int) rune {
	if i >= len(text) {
		return utf8.RuneError
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return r
}
