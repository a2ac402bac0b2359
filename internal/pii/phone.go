package pii

import (
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// nyaruka/phonenumbers v1.8.1 does not port libphonenumber's PhoneNumberMatcher (NewPhoneNumberMatcher
// is a stub), so candidates are cut from the text here and only parsing and validation are left to
// the library.

const (
	phoneMinDigits = 7
	phoneMaxDigits = 15 // E.164 maximum
	// phoneMaxGroups bounds how many digit groups one number may span: "+33 6 12 34 56 78" has six.
	phoneMaxGroups = 7
)

// isPhoneSeparator accepts the punctuation people type inside phone numbers, including the dashes
// and spaces phones and word processors substitute for '-' and ' '.
func isPhoneSeparator(r rune) bool {
	switch r {
	case ' ', '-', '.', '(', ')', '/', '+',
		'\u00a0', '\u2009', '\u202f', // no-break, thin and narrow no-break spaces
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212': // hyphens, dashes, minus
		return true
	}
	return false
}

// referenceLabel is a word that, shortly before a bare run of digits, says the digits are an order,
// booking or account reference rather than a phone number.
var referenceLabel = regexp.MustCompile(`(?i)\b(?:order|invoice|inv|ref|reference|confirmation|conf|booking|reservation|ticket|tracking|account|acct|claim|policy|member|id|serial|model|po|receipt|case|job|quote|part|sku|vin|routing)\b[^a-z0-9]*(?:(?:no|num|number|#|id)\b[^a-z0-9]*)?$`)

// appendPhones finds phone numbers. Within each run of digit groups it takes, from the left, the
// longest stretch of whole groups that reads as one number, so "call 614 555 0100 or 614 555 0168"
// and "6145550100 6145550168" both give two numbers.
func appendPhones(found []Finding, text, region string) []Finding {
	for _, run := range digitRuns(text, 3, isPhoneSeparator) {
		for i := 0; i < len(run); {
			f, j, ok := longestPhone(text, run, i, region)
			if !ok {
				i++
				continue
			}
			found = append(found, f)
			i = j + 1
		}
	}
	return found
}

func longestPhone(text string, run []digitGroup, i int, region string) (Finding, int, bool) {
	start, plus := phoneStart(text, run, i)
	// Letters glued to the front do not disqualify a number: texts run words together ("call
	// me6145550123", "tel:+1…"), and a serial or part number that is also a valid ten-digit phone
	// number is rarer than that. A price is not a phone number.
	if precededBy(text, start, '$') {
		return Finding{}, 0, false
	}
	for j := min(len(run), i+phoneMaxGroups) - 1; j >= i; j-- {
		groups := run[i : j+1]
		n := groupsDigitCount(groups)
		if n < phoneMinDigits || n > phoneMaxDigits {
			continue
		}
		// A '+' inside the stretch starts another number.
		if hasPlusInside(groups) {
			continue
		}
		end := run[j].end
		digits := groupsDigits(text, groups)
		if e164, ok := phoneNumber(text, start, digits, groups, plus, region); ok {
			return Finding{Kind: Phone, Start: start, End: end, Value: text[start:end], Normalized: e164}, j, true
		}
	}
	return Finding{}, 0, false
}

func hasPlusInside(groups []digitGroup) bool {
	for _, g := range groups[1:] {
		if strings.Contains(g.gap, "+") {
			return true
		}
	}
	return false
}

// phoneStart returns where a number beginning with run[i] starts in text: at a '+' or '(' written
// directly before its first digit, else at the digit.
func phoneStart(text string, run []digitGroup, i int) (start int, plus bool) {
	start = run[i].start
	if i > 0 {
		// The gap before run[i] belongs to the previous number unless it ends in "+" or "(".
		gap := run[i].gap
		switch {
		case strings.HasSuffix(gap, "+"):
			return start - 1, true
		case strings.HasSuffix(gap, "+("):
			return start - 2, true
		case strings.HasSuffix(gap, "("):
			return start - 1, false
		}
		return start, false
	}
	switch {
	case strings.HasSuffix(text[:start], "+"):
		return start - 1, true
	case strings.HasSuffix(text[:start], "+("):
		return start - 2, true
	case strings.HasSuffix(text[:start], "("):
		return start - 1, false
	}
	return start, false
}

func precededBy(text string, i int, c byte) bool {
	return i > 0 && text[i-1] == c
}

// phoneNumber decides whether the digits of groups, a candidate starting at text[start], are a
// phone number and returns its E.164 form.
//
// How much evidence is demanded depends on how the number is written. A leading '+' or the
// NXX-NXX-XXXX layout of a North American number is strong evidence on its own, so the number only
// has to be possible (right length, plausible area code and exchange) — the library's ranges lag
// new area codes and leave out some fictional ranges. Bare digits could be anything, so they must
// be a valid number in the library's ranges and must not follow a reference label or a '#'.
func phoneNumber(text string, start int, digits string, groups []digitGroup, plus bool, region string) (string, bool) {
	if plus {
		num, err := phonenumbers.Parse("+"+digits, region)
		if err != nil || phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())) == "ZZ" {
			return "", false
		}
		if !phonenumbers.IsPossibleNumber(num) {
			return "", false
		}
		if num.GetCountryCode() == 1 && !nanpShaped(nationalDigits(digits)) {
			return "", false
		}
		return phonenumbers.Format(num, phonenumbers.E164), true
	}
	if phonenumbers.GetCountryCodeForRegion(region) == 1 && !strings.HasPrefix(digits, nanpIDD) {
		return nanpNumber(text, start, digits, groups, region)
	}
	// Outside North America national layouts vary too much to judge; trust validation. The same
	// goes for numbers dialled from North America with the 011 international prefix.
	if len(groups) == 1 && bareReference(text, start) {
		return "", false
	}
	num, err := phonenumbers.Parse(digits, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// nanpIDD is the international dialling prefix used from North America.
const nanpIDD = "011"

// nanpNumber judges a number written without '+' where the default region is North American.
// Formatted numbers are checked by shape alone, which also spares the (comparatively slow) parser
// for the common case.
func nanpNumber(text string, start int, digits string, groups []digitGroup, region string) (string, bool) {
	national := nationalDigits(digits)
	if len(national) != 10 {
		return "", false
	}
	switch nanpLayout(groups) {
	case nanpFormatted:
		if !nanpShaped(national) {
			return "", false
		}
	case nanpBare:
		if bareReference(text, start) {
			return "", false
		}
		num, err := phonenumbers.Parse(digits, region)
		if err != nil || !phonenumbers.IsValidNumber(num) || num.GetCountryCode() != 1 {
			return "", false
		}
	default:
		return "", false
	}
	return "+1" + national, true
}

type nanpWriting int

const (
	nanpOther     nanpWriting = iota
	nanpFormatted             // 614-555-0123, (614) 555-0123, 1 614 555 0123
	nanpBare                  // 6145550123, 16145550123, 614 5550123
)

// nanpLayout classifies how a North American number was grouped. Groupings people do not use for
// phone numbers (5-5, 4-4-2, 2-4-4) are rejected, which is what keeps ZIP+4 codes, policy numbers
// and lists of years out.
func nanpLayout(groups []digitGroup) nanpWriting {
	lens := make([]int, 0, len(groups))
	for _, g := range groups {
		lens = append(lens, g.len())
	}
	// A leading "1" trunk prefix written as its own group.
	if lens[0] == 1 && len(lens) > 1 {
		lens = lens[1:]
	}
	switch {
	case len(lens) == 3 && lens[0] == 3 && lens[1] == 3 && lens[2] == 4:
		return nanpFormatted
	case len(lens) == 1 && (lens[0] == 10 || lens[0] == 11):
		return nanpBare
	case len(lens) == 2 && lens[0] == 3 && lens[1] == 7:
		return nanpBare
	}
	return nanpOther
}

// nationalDigits strips a leading trunk prefix or country code 1 from NANP digits.
func nationalDigits(d string) string {
	if len(d) == 11 && d[0] == '1' {
		return d[1:]
	}
	return d
}

// nanpShaped reports whether ten digits fit the North American numbering plan: area code and
// exchange both NXX (N = 2–9) and neither an N11 service code.
func nanpShaped(d string) bool {
	if len(d) != 10 {
		return false
	}
	nxx := func(s string) bool { return s[0] >= '2' && s[0] <= '9' && s[1:] != "11" }
	return nxx(d[:3]) && nxx(d[3:6])
}

// referenceWindow is how far before the digits a reference label may stand ("order no. ").
const referenceWindow = 30

// bareReference reports whether a bare run of digits is introduced as a reference number: "#" glued
// to it or a label such as "order", "booking ref" or "account no." just before it.
func bareReference(text string, start int) bool {
	if precededBy(text, start, '#') {
		return true
	}
	from := max(0, start-referenceWindow)
	return referenceLabel.MatchString(text[from:start])
}

// normalizePhone returns the E.164 form of a phone number given on its own, as in Options.Allow.
// It is lenient (possible, not necessarily valid) because an allow-list entry that fails to
// normalise would make its own number look foreign.
func normalizePhone(s, region string) (string, bool) {
	if len(digitsOnly(s)) < phoneMinDigits {
		return "", false
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}
