package guard

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cleaning removes invisible text, but the fact that somebody sent it, and what it said, are
// evidence. These functions recover what a reader could not see, and decode what a reader could
// see but not read, so that the injection rules can look at it.

// hiddenText returns the text carried by invisible characters in raw (before cleaning):
//   - Unicode tag characters (U+E0020–U+E007E), invisible copies of ASCII. The one legitimate use,
//     a subdivision flag (🏴 followed by a few tag letters and U+E007F CANCEL TAG), is skipped.
//   - Runs of variation selectors after one character, read as one byte per selector
//     (U+FE00–U+FE0F are 0–15, U+E0100–U+E01EF are 16–255): the "emoji smuggling" encoding.
//
// It also reports whether raw holds a bidirectional override (U+202D, U+202E), which makes a
// reader see characters in a different order from the one the model reads.
func hiddenText(raw string) (payloads []string, override bool) {
	var tags []byte
	var vsBytes []byte
	var prev rune
	flushTags := func(flag bool) {
		if len(tags) > 0 && !flag {
			payloads = append(payloads, string(tags))
		}
		tags = tags[:0]
	}
	flushVS := func() {
		if len(vsBytes) > 1 && utf8.Valid(vsBytes) {
			payloads = append(payloads, string(vsBytes))
		}
		vsBytes = vsBytes[:0]
	}
	flagStart := false
	for _, r := range raw {
		switch {
		case r == 0x202D || r == 0x202E:
			override = true
		case r >= 0xE0020 && r <= 0xE007E:
			if len(tags) == 0 {
				flagStart = prev == 0x1F3F4
			}
			tags = append(tags, byte(r-0xE0000))
			prev = r
			continue
		case r == 0xE007F: // CANCEL TAG ends a flag sequence
			flushTags(flagStart && len(tags) <= 7)
			prev = r
			continue
		case r == 0xE0001: // LANGUAGE TAG: a delimiter
			flushTags(false)
			prev = r
			continue
		}
		if len(tags) > 0 {
			flushTags(false)
		}
		switch {
		case r >= 0xFE00 && r <= 0xFE0F:
			vsBytes = append(vsBytes, byte(r-0xFE00))
		case r >= 0xE0100 && r <= 0xE01EF:
			vsBytes = append(vsBytes, byte(r-0xE0100+16))
		default:
			flushVS()
		}
		prev = r
	}
	flushTags(false)
	flushVS()
	return payloads, override
}

// bidiSegments returns, reversed, each stretch of raw that a right-to-left override or embedding
// (U+202E, U+202B, U+2067) displays in reverse, up to the matching pop or the end of the line. A
// reader sees it reversed; the reversal is what the sender meant the reader to see, and a model
// reads it too when asked to read backwards.
func bidiSegments(raw string) []string {
	var out []string
	for {
		i := strings.IndexAny(raw, "\u202e\u202b\u2067")
		if i < 0 {
			return out
		}
		raw = raw[i:]
		_, size := utf8.DecodeRuneInString(raw)
		raw = raw[size:]
		end := strings.IndexAny(raw, "\u202c\u2069\n")
		if end < 0 {
			end = len(raw)
		}
		out = append(out, reverseRunes(raw[:end]))
		raw = raw[end:]
	}
}

func reverseRunes(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

var (
	base64Blob = regexp.MustCompile(`[A-Za-z0-9+/_-]{16,}={0,2}`)
	hexBlob    = regexp.MustCompile(`(?i)(?:0x)?[0-9a-f]{16,}`)
	hexPairs   = regexp.MustCompile(`(?i)(?:\\x[0-9a-f]{2}){6,}|(?:%[0-9a-f]{2}){6,}|(?:\b[0-9a-f]{2}[ :]){6,}[0-9a-f]{2}\b`)
	binaryBlob = regexp.MustCompile(`(?:\b[01]{8}\b ?){5,}`)
	hexPair    = regexp.MustCompile(`(?i)[0-9a-f]{2}`)
)

// maxDecoded bounds how many encoded blobs one message may have decoded, so a message made of
// thousands of short blobs costs no more than a few.
const maxDecoded = 8

// decodedText returns the readable text hidden in base64, hex, \x or %-escaped, and 8-bit binary
// blobs in text. A blob counts only when it decodes to mostly printable text: booking codes,
// tracking numbers and long words are valid base64 too, but decode to noise.
func decodedText(text string) []string {
	if !mayHoldBlob(text) {
		return nil
	}
	var out []string
	add := func(b []byte) {
		if len(out) < maxDecoded && readable(b) {
			out = append(out, string(b))
		}
	}
	for _, m := range base64Blob.FindAllString(text, maxDecoded) {
		if b, ok := decodeBase64(m); ok {
			add(b)
		}
	}
	for _, m := range hexBlob.FindAllString(text, maxDecoded) {
		m = strings.TrimPrefix(strings.TrimPrefix(m, "0x"), "0X")
		if len(m)%2 == 1 || !strings.ContainsAny(strings.ToLower(m), "abcdef") {
			// Digits alone are phone, card and order numbers far more often than hex.
			continue
		}
		if b, err := hex.DecodeString(m); err == nil {
			add(b)
		}
	}
	for _, m := range hexPairs.FindAllString(text, maxDecoded) {
		var b []byte
		for _, p := range hexPair.FindAllString(strings.ReplaceAll(m, `\x`, " "), -1) {
			v, _ := strconv.ParseUint(p, 16, 8)
			b = append(b, byte(v))
		}
		add(b)
	}
	for _, m := range binaryBlob.FindAllString(text, maxDecoded) {
		var b []byte
		for _, p := range strings.Fields(m) {
			v, _ := strconv.ParseUint(p, 2, 8)
			b = append(b, byte(v))
		}
		add(b)
	}
	return out
}

// mayHoldBlob is a cheap test that text could hold a blob decodedText looks for: a run of 16
// base64 characters, a \x or % escape, or enough 0s and 1s for five bytes of binary. Most messages
// fail it, and skip the regular expressions.
func mayHoldBlob(text string) bool {
	if strings.Contains(text, `\x`) || strings.Count(text, "%") >= 6 || strings.Count(text, "0")+strings.Count(text, "1") >= 40 {
		return true
	}
	run, pairs := 0, 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '_' || c == '-' {
			run++
			if run >= 16 {
				return true
			}
			continue
		}
		if run == 2 && (c == ' ' || c == ':') {
			pairs++ // "69 67 6e …": hex written in pairs
			if pairs >= 6 {
				return true
			}
		} else if run != 2 {
			pairs = 0
		}
		run = 0
	}
	return false
}

func decodeBase64(s string) ([]byte, bool) {
	trimmed := strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(trimmed); err == nil {
			return b, true
		}
	}
	return nil, false
}

// readable reports whether b is UTF-8 text of at least six characters, nearly all of them letters,
// digits, punctuation or spaces.
func readable(b []byte) bool {
	if len(b) < 6 || !utf8.Valid(b) {
		return false
	}
	total, good, letters := 0, 0, 0
	for _, r := range string(b) {
		total++
		switch {
		case unicode.IsLetter(r):
			letters++
			good++
		case unicode.IsDigit(r) || unicode.IsPunct(r) || r == ' ' || unicode.IsSymbol(r):
			good++
		}
	}
	return letters >= 4 && good*10 >= total*9
}

// rot13 rotates ASCII letters by 13 places.
func rot13(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		}
	}
	return string(b)
}
