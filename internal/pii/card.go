package pii

// Card numbers are 13–19 digits, written bare or in groups separated by one space or dash.
const (
	cardMinDigits = 13
	cardMaxDigits = 19
	cardMaxGroups = cardMaxDigits / 3
)

// issuer is a range of leading digits (IIN prefixes, compared at the length of lo) assigned to a
// card network, with the lengths that network issues.
type issuer struct {
	lo, hi     string
	minL, maxL int
}

// issuers lists the networks a caller of a North American small business could plausibly type.
// Numbers outside these ranges are loyalty, gift or account numbers, which are not payment
// credentials even when their check digit happens to pass. Regional networks (RuPay, Mir) are left
// out because their prefixes collide with store gift cards (6006…) far more often than a caller
// here pays with one.
var issuers = []issuer{
	{"4", "4", 13, 19},           // Visa
	{"51", "55", 16, 16},         // Mastercard
	{"2221", "2720", 16, 16},     // Mastercard 2-series
	{"34", "34", 15, 15},         // American Express
	{"37", "37", 15, 15},         // American Express
	{"6011", "6011", 16, 19},     // Discover
	{"644", "649", 16, 19},       // Discover
	{"65", "65", 16, 19},         // Discover
	{"622126", "622925", 16, 19}, // Discover co-branded UnionPay
	{"62", "62", 16, 19},         // UnionPay
	{"300", "305", 14, 19},       // Diners Club International
	{"36", "36", 14, 19},         // Diners Club International
	{"38", "39", 14, 19},         // Diners Club
	{"3528", "3589", 16, 19},     // JCB
	{"5018", "5018", 13, 19},     // Maestro
	{"5020", "5020", 13, 19},     // Maestro
	{"5038", "5038", 13, 19},     // Maestro
	{"5893", "5893", 13, 19},     // Maestro
	{"6304", "6304", 13, 19},     // Maestro
	{"6759", "6763", 13, 19},     // Maestro
}

func knownIssuer(digits string) bool {
	for _, is := range issuers {
		if len(digits) < is.minL || len(digits) > is.maxL || len(digits) < len(is.lo) {
			continue
		}
		p := digits[:len(is.lo)]
		if p >= is.lo && p <= is.hi {
			return true
		}
	}
	return false
}

// luhnValid checks the mod-10 check digit every payment card carries; random digit strings fail it
// nine times in ten.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isCardSeparator(r rune) bool { return r == ' ' || r == '-' }

// appendCards finds card numbers: within each run of digit groups joined by single spaces or
// dashes, the longest stretch of whole groups that is a Luhn-valid number of a known network. Group
// sizes are not checked against the network's printed layout because people retype numbers in
// whatever chunks they read them, but groups shorter than three digits are rejected as not how
// anyone writes a card.
func appendCards(found []Finding, text string) []Finding {
	for _, run := range digitRuns(text, 1, isCardSeparator) {
		for i := 0; i < len(run); {
			j := longestCard(text, run, i)
			if j < 0 {
				i++
				continue
			}
			start, end := run[i].start, run[j].end
			digits := groupsDigits(text, run[i:j+1])
			found = append(found, Finding{Kind: Card, Start: start, End: end, Value: text[start:end], Normalized: digits})
			i = j + 1
		}
	}
	return found
}

// longestCard returns the last index of the longest card number starting at run[i], or -1.
//
// Letters glued to the digits do not disqualify them ("visa4111…", "…1111exp"): people run words
// together in texts, and Luhn plus an issuer prefix already make a chance match rare.
func longestCard(text string, run []digitGroup, i int) int {
	// Groups have at least three digits, so no card spans more than cardMaxGroups of them; the bound
	// keeps a long run of digits linear.
	for j := min(len(run)-1, i+cardMaxGroups-1); j >= i; j-- {
		groups := run[i : j+1]
		n := groupsDigitCount(groups)
		if n < cardMinDigits || n > cardMaxDigits {
			continue
		}
		if len(groups) > 1 && !cardGrouping(groups) {
			continue
		}
		digits := groupsDigits(text, groups)
		if luhnValid(digits) && knownIssuer(digits) {
			return j
		}
	}
	return -1
}

func cardGrouping(groups []digitGroup) bool {
	for _, g := range groups {
		if g.len() < 3 || g.len() > 6 {
			return false
		}
	}
	return true
}
