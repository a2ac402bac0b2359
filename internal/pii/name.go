package pii

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameMinLetters is the shortest part of a known name matched on its own: "Jo" or "Li" alone would
// match too much ordinary text, and the full name still covers them.
const nameMinLetters = 3

// appendNames finds the known names in text: each full name, then each part that is long enough and
// is not an ordinary word. "Mark Green" is masked in full, but "mark it as paid" and "the green one"
// are left alone; "Smith" is masked on its own.
//
// Matching is case-insensitive (Unicode simple folding, so "JOSÉ" matches "José"), on word
// boundaries, with any run of spaces between the words of a full name and either apostrophe
// standing for the other. It is a direct scan rather than a regular expression because the names
// change with every conversation and compiling a pattern per call cost more than the rest of Detect.
func appendNames(found []Finding, text string, needles [][]string) []Finding {
	if len(needles) == 0 {
		return found
	}
	for i := 0; i < len(text); {
		if !boundaryBefore(text, i) {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		end := -1
		for _, n := range needles {
			if end = matchName(text, i, n); end >= 0 {
				break
			}
		}
		if end < 0 {
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
			continue
		}
		v := text[i:end]
		found = append(found, Finding{Kind: Name, Start: i, End: end, Value: v, Normalized: normalizeWords(v)})
		i = end
	}
	return found
}

// nameNeedles returns every full name and eligible part as a list of words, longest first so that
// a full name wins over its own parts at the same position.
func nameNeedles(known []string) [][]string {
	var needles [][]string
	seen := make(map[string]bool)
	add := func(words []string) {
		key := strings.ToLower(strings.Join(words, " "))
		if key == "" || seen[key] {
			return
		}
		seen[key] = true
		needles = append(needles, words)
	}
	for _, full := range known {
		words := strings.Fields(full)
		if len(words) > 1 {
			add(words)
		}
		for _, w := range words {
			w = strings.Trim(w, ",.;:()\"")
			if nameWordEligible(w) {
				add([]string{w})
			}
		}
	}
	slices.SortStableFunc(needles, func(a, b []string) int { return needleLen(b) - needleLen(a) })
	return needles
}

func needleLen(words []string) int {
	n := len(words) - 1
	for _, w := range words {
		n += len(w)
	}
	return n
}

// matchName returns the end of needle's words matched at text[i:], or -1.
func matchName(text string, i int, words []string) int {
	for k, w := range words {
		if k > 0 {
			j := i
			for j < len(text) {
				r, size := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsSpace(r) {
					break
				}
				j += size
			}
			if j == i {
				return -1
			}
			i = j
		}
		for _, want := range w {
			if i >= len(text) {
				return -1
			}
			got, size := utf8.DecodeRuneInString(text[i:])
			if !nameRuneEqual(got, want) {
				return -1
			}
			i += size
		}
	}
	if !boundaryAfter(text, i) {
		return -1
	}
	return i
}

// nameRuneEqual compares runes under Unicode simple case folding, and treats the typewriter and
// typographic apostrophes as one, since phones type ’ where keyboards type '.
func nameRuneEqual(a, b rune) bool {
	if a == b {
		return true
	}
	if isApostrophe(a) && isApostrophe(b) {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

func nameWordEligible(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= nameMinLetters && !commonWords[strings.ToLower(w)]
}
