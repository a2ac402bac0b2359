package guard

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxMarks is how many combining marks may follow one base character. Real writing needs at most
// three (Vietnamese stacks two, Indic clusters a few); the rest is "zalgo" text that smears over
// neighbouring lines and hides what is underneath.
const maxMarks = 4

// normalize returns s in NFKC with every invisible, control and format character removed, and
// reports how many characters (or invalid bytes) were removed. Whitespace is kept but unified: tabs
// and the Unicode spaces become ' ', and every kind of line break becomes '\n'; collapsing runs is
// left to collapseSpace so that the matching forms can still see how wide a gap was.
//
// The filter runs before and after NFKC: before, so that a zero-width character cannot sit between
// a letter and the mark NFKC would compose it with; after, because compatibility decompositions
// produce spaces (U+00A8 DIAERESIS is U+0020 U+0308) and marks that need the same treatment.
func normalize(s string) (string, int) {
	s, removed := filter(s)
	if !norm.NFKC.IsNormalString(s) {
		s = norm.NFKC.String(s)
	}
	s, again := filter(s)
	return s, removed + again
}

// filter is one pass of normalize's character filter.
func filter(s string) (string, int) {
	var b strings.Builder
	b.Grow(len(s))
	removed := 0
	marks := 0
	var prev rune = -1 // last rune written, -1 at the start
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			removed++
			continue
		}
		if ws, ok := whitespace(r); ok {
			b.WriteRune(ws)
			prev, marks = ws, 0
			continue
		}
		if isVariationSelector(r) {
			// A single text/emoji presentation selector after a visible character is how phones
			// write "❤️"; anything else (ideographic selectors, runs of them) is where text gets
			// smuggled one byte per selector.
			if (r == 0xFE0E || r == 0xFE0F) && prev >= 0 && !isVariationSelector(prev) && !unicode.IsSpace(prev) && !isMark(prev) {
				b.WriteRune(r)
				prev = r
				continue
			}
			removed++
			continue
		}
		if invisible(r) {
			removed++
			continue
		}
		if isMark(r) {
			if marks >= maxMarks || prev < 0 || prev == ' ' || prev == '\n' {
				// One mark too many, or one with nothing to sit on (NFKC turns a spacing accent
				// such as U+00A8 into a space and a combining mark).
				removed++
				continue
			}
			marks++
		} else {
			marks = 0
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String(), removed
}

// whitespace maps the characters that separate words to ' ' or '\n'.
func whitespace(r rune) (rune, bool) {
	switch r {
	case '\n', '\r', '\v', '\f', 0x85, 0x2028, 0x2029:
		return '\n', true
	case '\t', ' ':
		return ' ', true
	case 0x2800: // braille blank: renders as a space and is used as one to pad "invisible" names
		return ' ', true
	}
	if r > 0x7f && unicode.Is(unicode.Zs, r) {
		return ' ', true
	}
	return 0, false
}

// invisible reports whether r is removed outright: it renders as nothing, as a box, or changes how
// neighbouring text is displayed, so a reader cannot see what the model would read.
func invisible(r rune) bool {
	if r < 0x20 || r == 0x7f {
		return true // C0 controls other than the whitespace handled before, and DEL
	}
	if r < 0x80 {
		return false
	}
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls
		return true
	case unicode.Is(unicode.Cf, r):
		// Format characters: soft hyphen, zero-width space/joiners (U+200B–U+200D), directional
		// marks and overrides (U+200E–U+200F, U+202A–U+202E, U+2066–U+2069), word joiner and
		// invisible operators (U+2060–U+2064), BOM (U+FEFF), interlinear annotation, tag
		// characters (U+E0001, U+E0020–U+E007F) and the rest of the category.
		return true
	case unicode.Is(unicode.Co, r): // private use: no meaning without a private font
		return true
	case r == 0x034F, // combining grapheme joiner
		r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, // Hangul fillers, which render blank
		r == 0x17B4, r == 0x17B5, // Khmer inherent vowels, invisible
		r >= 0x180B && r <= 0x180F, // Mongolian free variation selectors and vowel separator
		r == 0xFFFC, r == 0xFFFD:   // object replacement and replacement character
		return true
	case r >= 0xE0000 && r <= 0xE0FFF: // tags and the rest of the special-purpose plane's start
		return true
	case r&0xFFFE == 0xFFFE, r >= 0xFDD0 && r <= 0xFDEF: // noncharacters
		return true
	}
	return false
}

func isVariationSelector(r rune) bool {
	return r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF
}

func isMark(r rune) bool {
	return r >= 0x300 && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r))
}

// collapseSpace turns every run of whitespace into one ' ', or one '\n' when the run holds a line
// break, and trims both ends. normalize has already reduced whitespace to those two characters.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\n' {
			if pending != '\n' {
				pending = c
			}
			continue
		}
		if pending != 0 && b.Len() > 0 {
			b.WriteByte(pending)
		}
		pending = 0
		b.WriteByte(c)
	}
	return b.String()
}

// truncateRunes cuts s to at most n runes and trims the whitespace the cut may leave at the end.
func truncateRunes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	count := 0
	for i := range s {
		if count == n {
			return strings.TrimRight(s[:i], " \n"), true
		}
		count++
	}
	return s, false
}

// cutBytes cuts s to at most n bytes at a rune boundary.
func cutBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
