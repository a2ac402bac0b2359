package guard

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Matching never looks at the text a reader sees: it looks at folded forms of it, in which the
// usual disguises no longer make a difference. NFKC (done by normalize) already maps fullwidth,
// mathematical, circled and superscript letters to plain ones; folding then drops accents, maps
// Cyrillic, Greek and other look-alikes to the Latin letter they imitate, and lower-cases. Folding
// is for matching only: it would garble real Russian or Greek, which is why Clean never gets it.

// confusables maps letters that look like Latin letters (in either case) to that letter. It covers
// the scripts used to spoof English in practice, not the whole of Unicode's confusables table.
var confusables = map[rune]string{
	// Cyrillic
	'а': "a", 'А': "a", 'в': "b", 'В': "b", 'с': "c", 'С': "c", 'ԁ': "d", 'е': "e", 'Е': "e", 'ё': "e",
	'Ё': "e", 'һ': "h", 'Н': "h", 'н': "h", 'і': "i", 'І': "i", 'ї': "i", 'Ї': "i", 'ј': "j", 'Ј': "j",
	'к': "k", 'К': "k", 'ӏ': "l", 'Ӏ': "l", 'м': "m", 'М': "m", 'о': "o", 'О': "o", 'р': "p", 'Р': "p",
	'ԛ': "q", 'г': "r", 'ѕ': "s", 'Ѕ': "s", 'т': "t", 'Т': "t", 'у': "y", 'У': "y", 'ү': "y", 'х': "x",
	'Х': "x", 'ԝ': "w", 'Ԝ': "w", 'п': "n",
	// Greek
	'α': "a", 'Α': "a", 'β': "b", 'Β': "b", 'ε': "e", 'Ε': "e", 'Ζ': "z", 'η': "n", 'Η': "h", 'ι': "i",
	'Ι': "i", 'κ': "k", 'Κ': "k", 'Μ': "m", 'ν': "v", 'Ν': "n", 'ο': "o", 'Ο': "o", 'ρ': "p", 'Ρ': "p",
	'τ': "t", 'Τ': "t", 'υ': "u", 'Υ': "y", 'χ': "x", 'Χ': "x", 'γ': "y", 'ω': "w", 'ϲ': "c", 'Ϲ': "c",
	'ϳ': "j", 'Ϳ': "j", 'ς': "s", 'σ': "o",
	// Armenian and Cherokee letters that pass for Latin ones
	'օ': "o", 'ս': "u", 'հ': "h", 'ո': "n", 'ց': "g", 'զ': "q", 'Ꭺ': "a", 'Ᏼ': "b", 'Ꮯ': "c", 'Ꭰ': "d",
	'Ꭼ': "e", 'Ꮐ': "g", 'Ꮋ': "h", 'Ꭵ': "i", 'Ꮶ': "k", 'Ꮮ': "l", 'Ꮇ': "m", 'Ꮪ': "s", 'Ꮤ': "w",
	// Latin small capitals and IPA letters
	'ᴀ': "a", 'ʙ': "b", 'ᴄ': "c", 'ᴅ': "d", 'ᴇ': "e", 'ꜰ': "f", 'ɢ': "g", 'ʜ': "h", 'ɪ': "i", 'ᴊ': "j",
	'ᴋ': "k", 'ʟ': "l", 'ᴍ': "m", 'ɴ': "n", 'ᴏ': "o", 'ᴘ': "p", 'ꞯ': "q", 'ʀ': "r", 'ꜱ': "s", 'ᴛ': "t",
	'ᴜ': "u", 'ᴠ': "v", 'ᴡ': "w", 'ʏ': "y", 'ᴢ': "z", 'ɑ': "a", 'ɡ': "g", 'ɩ': "i", 'ɵ': "o", 'ı': "i",
	'ȷ': "j", 'ʋ': "u",
	// Letters that are not a base letter plus an accent, so NFD leaves them whole
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe", 'ø': "o", 'Ø': "o", 'đ': "d", 'Đ': "d",
	'ł': "l", 'Ł': "l", 'ħ': "h", 'þ': "th", 'ð': "d",
	// Typographic quotes, so JSON and role tags written on a phone keyboard still match
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '«': `"`, '»': `"`, '″': `"`, '‘': "'", '’': "'", '‚': "'",
	'‛': "'", 'ʼ': "'", '´': "'",
}

// fold returns s with accents removed, look-alikes mapped to Latin and everything lower case.
// Letters outside the tables are only lower-cased.
func fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	s = norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(unicode.ToLower(r))
		case unicode.Is(unicode.Mn, r):
			// Accents after NFD, and the zalgo marks that survive cleaning.
		case confusables[r] != "":
			b.WriteString(confusables[r])
		case r >= 0x1F170 && r <= 0x1F189: // negative squared Latin capitals, which NFKC keeps
			b.WriteRune('a' + r - 0x1F170)
		case r >= 0x1F150 && r <= 0x1F169: // negative circled Latin capitals
			b.WriteRune('a' + r - 0x1F150)
		case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators, which spell letters in a row
			b.WriteRune('a' + r - 0x1F1E6)
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// forms are the views of one text the injection rules match against.
type forms struct {
	// punct is the folded text with punctuation kept and whitespace collapsed: for markup, JSON and
	// role tags.
	punct string
	// words is the folded text as words separated by single spaces, with " . " where a sentence
	// or line ends, so that a rule's word window does not run across sentences. Apostrophes
	// inside words are dropped ("don't" is "dont") except before a possessive "s" and after a
	// French elision ("ringback s", "l instruction"), and words mixing letters and digits are
	// read as leetspeak ("1gn0r3" is "ignore").
	words string
	// joined is words after undoing letter-spacing: words split only by punctuation are joined
	// ("i.g.n.o.r.e", "ign-ore"), and so are runs of single letters separated by single spaces
	// ("i g n o r e"), a wider gap ending the word.
	joined string
	// squashed is every letter and digit of joined with nothing in between, for the few phrases
	// distinctive enough to be found without word boundaries ("ig nore prev ious").
	squashed string
}

type token struct {
	text string
	// sep is the separator before this token: sepGlue when only punctuation stood between it
	// and the previous token, sepSpace for a single whitespace character, sepWide for more, and
	// sepBreak for the end of a sentence or line.
	sep int
}

const (
	sepGlue = iota
	sepSpace
	sepWide
	sepBreak
)

// makeForms derives the matching forms from text produced by normalize (whitespace unified but
// not collapsed).
func makeForms(text string) forms {
	f := fold(text)
	toks := tokenize(f)
	var words, joined, squashed strings.Builder
	words.Grow(len(f))
	for i, t := range toks {
		if i > 0 {
			if t.sep == sepBreak {
				words.WriteString(" . ")
			} else {
				words.WriteByte(' ')
			}
		}
		words.WriteString(leet(t.text))
	}
	for i := 0; i < len(toks); {
		j, word := joinFrom(toks, i)
		if i > 0 {
			if toks[i].sep == sepBreak {
				joined.WriteString(" . ")
			} else {
				joined.WriteByte(' ')
			}
		}
		word = leet(word)
		joined.WriteString(word)
		squashed.WriteString(word)
		i = j
	}
	return forms{punct: collapseSpace(f), words: words.String(), joined: joined.String(), squashed: squashed.String()}
}

// joinFrom joins toks[i:] into one word while they are glued by punctuation or are single letters
// one space apart, and returns the index after the last token used.
//
// A word spelled one way stays spelled that way: in "I.G.N.O.R.E A.L.L" the dots join letters and
// the space separates words, so the space is not read as letter-spacing.
func joinFrom(toks []token, i int) (int, string) {
	single := utf8.RuneCountInString(toks[i].text) == 1
	glued := false
	j := i + 1
	for ; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.sep == sepGlue:
			glued = true
		case t.sep == sepSpace && single && !glued && utf8.RuneCountInString(t.text) == 1:
		default:
			return j, concat(toks[i:j])
		}
		single = utf8.RuneCountInString(t.text) == 1
	}
	return j, concat(toks[i:j])
}

func concat(toks []token) string {
	if len(toks) == 1 {
		return toks[0].text
	}
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// tokenize splits folded text into words of letters and digits and records what separated them.
func tokenize(f string) []token {
	var toks []token
	var cur []rune
	spaces, brk := 0, true
	emit := func() {
		sep := sepGlue
		switch {
		case brk:
			sep = sepBreak
		case spaces == 1:
			sep = sepSpace
		case spaces > 1:
			sep = sepWide
		}
		toks = append(toks, token{text: string(cur), sep: sep})
		cur = cur[:0]
		spaces, brk = 0, false
	}
	rs := []rune(f)
	for i, r := range rs {
		if isWordRune(r) {
			cur = append(cur, r)
			continue
		}
		if r == '\'' && len(cur) > 0 && i+1 < len(rs) && isWordRune(rs[i+1]) {
			if !elision(cur, rs[i+1:]) && !possessiveS(rs[i+1:]) {
				continue // inside a word: "don't" reads as "dont"
			}
		}
		if len(cur) > 0 {
			emit()
		}
		switch r {
		case '\n':
			brk = true
		case ' ':
			spaces++
		case '.', '!', '?', ';':
			// A sentence ends only where the punctuation is followed by a space or the end;
			// "i.g.n.o.r.e" and "10.30" do not end sentences.
			if i+1 == len(rs) || unicode.IsSpace(rs[i+1]) {
				brk = true
			}
		}
	}
	if len(cur) > 0 {
		emit()
	}
	return toks
}

// elision reports whether an apostrophe after prefix is a French or Italian elision ("l'instruction",
// "d'être", "qu'il"), which separates two words, rather than an English contraction ("don't",
// "I'm"), which is read as one.
func elision(prefix, rest []rune) bool {
	switch string(prefix) {
	case "l", "d", "j", "qu", "n", "s", "c", "m", "t", "dell", "all", "nell", "un":
	default:
		return false
	}
	n := 0
	for n < len(rest) && isWordRune(rest[n]) {
		n++
	}
	return n >= 3 && strings.ContainsRune("aeiouh", rest[0])
}

// possessiveS reports whether an apostrophe is followed by a lone "s": "Ringback's rules" reads as
// "ringback s rules", so that the "s" can stand for whose rules they are.
func possessiveS(rest []rune) bool {
	return len(rest) > 0 && rest[0] == 's' && (len(rest) == 1 || !isWordRune(rest[1]))
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// leet reads a word that mixes letters and digits as leetspeak. Words of digits only (prices,
// times, phone numbers) and of letters only are returned unchanged.
func leet(w string) string {
	hasLetter, hasDigit := false, false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= '0' && c <= '9':
			hasDigit = true
		case c >= 'a' && c <= 'z':
			hasLetter = true
		}
	}
	if !hasLetter || !hasDigit {
		return w
	}
	b := []byte(w)
	for i, c := range b {
		switch c {
		case '0':
			b[i] = 'o'
		case '1':
			b[i] = 'i'
		case '3':
			b[i] = 'e'
		case '4':
			b[i] = 'a'
		case '5':
			b[i] = 's'
		case '7':
			b[i] = 't'
		case '8':
			b[i] = 'b'
		case '9':
			b[i] = 'g'
		}
	}
	return string(b)
}
