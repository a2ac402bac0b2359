package pii

import (
	"regexp"
	"strings"
)

// ssnLabel is what callers write before a bare nine-digit SSN. Without such a label nine digits are
// far more often an account, routing or claim number, so bare digits are only reported after one,
// with no other number in between ("ssn 512447823, routing 021000021" labels only the first).
var ssnLabel = regexp.MustCompile(`(?i)\b(?:ssn|ss\s*#|ss\s*(?:no|num|number)\b|social(?:\s+sec(?:urity)?)?)[^0-9]*$`)

// ssnLabelWindow is how far before the digits the label may stand ("my ssn for the loan is …").
const ssnLabelWindow = 40

func isSSNSeparator(r rune) bool { return r == ' ' || r == '-' || r == '.' }

// appendSSNs finds US Social Security numbers written AAA-GG-SSSS (or with spaces or dots, the same
// separator twice), and nine bare digits after an SSN label.
func appendSSNs(found []Finding, text string) []Finding {
	for _, run := range digitRuns(text, 1, isSSNSeparator) {
		for k := range run {
			if start, end, digits, ok := ssnAt(text, run, k); ok {
				found = append(found, Finding{Kind: SSN, Start: start, End: end, Value: text[start:end], Normalized: digits})
			}
		}
	}
	return found
}

// ssnAt reports whether an SSN starts at run[k] and returns its span and digits. Letters glued to
// either end are allowed, as for cards: "ssn523456789", "ssn:512-44-7823pls".
func ssnAt(text string, run []digitGroup, k int) (start, end int, digits string, ok bool) {
	g := run[k]
	var groups []digitGroup
	switch {
	case g.len() == 3 && k+2 < len(run) && run[k+1].len() == 2 && run[k+2].len() == 4:
		sep := run[k+1].gap
		if run[k+2].gap != sep || len(sep) != 1 {
			return 0, 0, "", false
		}
		// A formatted SSN must stand alone: digits chained to it by the same punctuation belong to
		// some longer number (a date, a policy or part number), and spaced digit soup is a list.
		if k > 0 && strings.ContainsAny(g.gap, "-.") || k+3 < len(run) && strings.ContainsAny(run[k+3].gap, "-.") {
			return 0, 0, "", false
		}
		if sep == " " && (k > 0 || k+3 < len(run)) {
			return 0, 0, "", false
		}
		groups = run[k : k+3]
	case g.len() == 9:
		if len(run) > 1 {
			return 0, 0, "", false
		}
		from := max(0, g.start-ssnLabelWindow)
		if !ssnLabel.MatchString(text[from:g.start]) {
			return 0, 0, "", false
		}
		groups = run[k : k+1]
	default:
		return 0, 0, "", false
	}
	start, end = groups[0].start, groups[len(groups)-1].end
	digits = groupsDigits(text, groups)
	if !ssnRangeValid(digits) {
		return 0, 0, "", false
	}
	return start, end, digits, true
}

// ssnRangeValid rejects the numbers the Social Security Administration never issues: area 000, 666
// and 900–999, group 00, serial 0000. Such strings in a message are placeholders or typos, and
// treating them as SSNs would teach callers nothing while masking order numbers.
func ssnRangeValid(d string) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}
