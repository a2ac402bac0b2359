package pii

import "unicode/utf8"

// digitGroup is a maximal run of ASCII digits. Phone, card and SSN detection all start from runs of
// such groups joined by the punctuation people type inside numbers, then decide which consecutive
// groups form one number.
type digitGroup struct {
	start, end int
	// gap is the text between the previous group and this one; empty for the first group of a run.
	gap string
}

func (g digitGroup) len() int { return g.end - g.start }

// digitRuns splits text into runs of digit groups. Two groups belong to the same run when the text
// between them is short (at most maxGap bytes) and made only of runes accepted by sep.
func digitRuns(text string, maxGap int, sep func(rune) bool) [][]digitGroup {
	var runs [][]digitGroup
	var run []digitGroup
	i := 0
	for i < len(text) {
		if !isDigit(text[i]) {
			i++
			continue
		}
		start := i
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		g := digitGroup{start: start, end: i}
		if len(run) > 0 {
			prev := run[len(run)-1]
			gap := text[prev.end:start]
			if len(gap) <= maxGap && onlyRunes(gap, sep) {
				g.gap = gap
				run = append(run, g)
				continue
			}
			runs = append(runs, run)
		}
		run = []digitGroup{g}
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	return runs
}

func onlyRunes(s string, ok func(rune) bool) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

// groupsDigits concatenates the digits of groups.
func groupsDigits(text string, groups []digitGroup) string {
	b := make([]byte, 0, 20)
	for _, g := range groups {
		b = append(b, text[g.start:g.end]...)
	}
	return string(b)
}

func groupsDigitCount(groups []digitGroup) int {
	n := 0
	for _, g := range groups {
		n += g.len()
	}
	return n
}

// boundaryBefore and boundaryAfter report whether a match starting or ending at i is not glued to
// a letter or digit, so it is not a fragment of a product code or of a longer number.
func boundaryBefore(text string, i int) bool {
	r := runeBefore(text, i)
	return r == utf8.RuneError || !isWordRune(r)
}

func boundaryAfter(text string, i int) bool {
	r := runeAfter(text, i)
	return r == utf8.RuneError || !isWordRune(r)
}
