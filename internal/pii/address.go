package pii

import (
	"regexp"
	"strings"
)

// Street addresses are found by their shape, not from a gazetteer: a house number, one to four
// street-name words and a street suffix, optionally followed by a unit and by city, state and ZIP.
// The shape is specific enough in practice because the suffix has to follow the number within a
// few words, and the words in between may not be the quantities and times ("20 min drive", "12 noon
// way") that also put a number before a word like "way" or "drive".

const streetSuffixes = `street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|` +
	`terrace|ter|circle|cir|parkway|pkwy|square|sq|trail|trl|pike|alley|aly|loop|crossing|xing|row|` +
	`highway|hwy|plaza|plz|expressway|expy|freeway|fwy|turnpike|tpke|cove|cv|crescent|cres|close|` +
	`commons|run|walk|path|point|pt|ridge|bend|glen|hollow|landing`

var (
	streetPattern = regexp.MustCompile(`(?i)\b(\d{1,6}[a-z]?)((?:\s+[a-z0-9][a-z0-9'’-]*\.?){1,4}?)\s+(` + streetSuffixes + `)\b`)
	// Numbered routes carry their number after the type: "7031 Hwy 42", "250 State Route 161".
	routePattern    = regexp.MustCompile(`(?i)\b\d{1,6}[a-z]?\s+(?:(?:us|state|county)\s+)?(?:highway|hwy|route|rte|rt|road|rd|sr|cr)\s+\d{1,4}[a-z]?\b`)
	poBoxPattern    = regexp.MustCompile(`(?i)\b(?:p\.?\s*o\.?|post\s+office)\s*box\s+#?\d{1,7}\b`)
	unitPattern     = regexp.MustCompile(`(?i)^\.?,?\s*(?:(?:apt|apartment|unit|suite|ste|fl|floor|rm|room|bldg|building|lot|trlr)\.?\s*#?\s*|#\s*)[a-z0-9][a-z0-9-]{0,5}\b`)
	localityPattern = regexp.MustCompile(`(?i)^\.?,?\s+((?:[a-z][a-z.'’-]*\s+){0,2}?[a-z][a-z.'’-]*),?\s+(` + stateNames + `|[a-z]{2})\b(?:,?\s+(\d{5}(?:-\d{4})?))?`)
	zipOnlyPattern  = regexp.MustCompile(`^\.?,?\s+\d{5}(?:-\d{4})?\b`)
)

// streetNameStop lists words that cannot sit between a house number and a street suffix. They are
// what turns "20 min drive", "2 more way", "12 noon way" or "4 lane road" into addresses otherwise.
var streetNameStop = toSet(`a an and or but the to of for in on at by with from into than then
	min mins minute minutes hr hrs hour hours day days week weeks month months year years yr yrs
	sec secs second seconds am pm noon midnight mile miles mi km block blocks more less times time
	x people person car cars way lane road drive street court place row run walk path point
	is are was be it its my your our their this that these those i you we he she they me us
	percent pct dollars bucks oz lb lbs ft inch inches gal gallon gallons psi`)

// stateCodes are the USPS abbreviations of states, DC and territories.
var stateCodes = toSet(`al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt
	ne nv nh nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr vi gu as mp`)

const stateNames = `alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|` +
	`georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|` +
	`massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new\s+hampshire|` +
	`new\s+jersey|new\s+mexico|new\s+york|north\s+carolina|north\s+dakota|ohio|oklahoma|oregon|` +
	`pennsylvania|rhode\s+island|south\s+carolina|south\s+dakota|tennessee|texas|utah|vermont|` +
	`virginia|washington|west\s+virginia|wisconsin|wyoming`

func toSet(words string) map[string]bool {
	set := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

func appendAddresses(found []Finding, text string) []Finding {
	if !mentionsAddressWord(text) {
		// Every pattern below needs one of these words; most messages have none.
		return found
	}
	// A rejected match may hide a real address that starts at a later number inside it ("2 more
	// 45 Oak St"), so the search resumes after the rejected house number, not after the match.
	for pos := 0; pos < len(text); {
		m := streetPattern.FindStringSubmatchIndex(text[pos:])
		if m == nil {
			break
		}
		start, end := pos+m[0], pos+m[1]
		if streetNameOK(text[pos+m[4]:pos+m[5]]) && !precededBy(text, start, '$') {
			found = appendAddress(found, text, start, end)
			pos = end
		} else {
			pos += m[3]
		}
	}
	for _, m := range routePattern.FindAllStringIndex(text, -1) {
		found = appendAddress(found, text, m[0], m[1])
	}
	for _, m := range poBoxPattern.FindAllStringIndex(text, -1) {
		found = appendAddress(found, text, m[0], m[1])
	}
	return found
}

// appendAddress records the address whose street line is text[start:end], extended over a unit and
// a locality written right after it.
func appendAddress(found []Finding, text string, start, end int) []Finding {
	if !boundaryBefore(text, start) {
		return found
	}
	if m := unitPattern.FindStringIndex(text[end:]); m != nil {
		end += m[1]
	}
	if m := localityPattern.FindStringSubmatchIndex(text[end:]); m != nil && localityOK(text[end:], m) {
		end += m[1]
	} else if m := zipOnlyPattern.FindStringIndex(text[end:]); m != nil {
		end += m[1]
	}
	v := text[start:end]
	return append(found, Finding{Kind: Address, Start: start, End: end, Value: v, Normalized: normalizeWords(v)})
}

// addressWords are the words at least one address pattern needs: street suffixes, route types and
// "box".
var addressWords = toSet(strings.ReplaceAll(streetSuffixes, "|", " ") + " route rte rt sr cr box")

func mentionsAddressWord(text string) bool {
	for i := 0; i < len(text); {
		if !isASCIILetter(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isASCIILetter(text[j]) {
			j++
		}
		if j-i <= len("expressway") && addressWords[strings.ToLower(text[i:j])] {
			return true
		}
		i = j
	}
	return false
}

func streetNameOK(words string) bool {
	for _, w := range strings.Fields(words) {
		w = strings.ToLower(strings.TrimRight(w, "."))
		if streetNameStop[w] || isAllDigits(w) {
			return false
		}
	}
	return true
}

// localityOK accepts "City, ST 12345" only when the state is unmistakable: a full state name, an
// upper-case code, or any code followed by a ZIP. A lower-case two-letter word is too often "in",
// "or", "me" or "oh" to be read as a state.
func localityOK(tail string, m []int) bool {
	for _, w := range strings.Fields(tail[m[2]:m[3]]) {
		if streetNameStop[strings.ToLower(w)] {
			return false
		}
	}
	state := tail[m[4]:m[5]]
	if len(state) > 2 {
		return true
	}
	if !stateCodes[strings.ToLower(state)] {
		return false
	}
	return state == strings.ToUpper(state) || m[6] >= 0
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
