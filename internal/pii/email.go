package pii

import (
	"regexp"
	"strings"
)

// emailPattern is the practical subset of RFC 5322 that people type: dot-atom local parts (with
// plus-addressing and apostrophes as in o'brien), and hostnames ending in an alphabetic TLD. Quoted
// local parts and IP-literal domains are valid but never seen in an SMS.
var emailPattern = regexp.MustCompile(`(?i)[a-z0-9_%+-]+(?:[.'][a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}`)

// The obfuscated forms people use to get an address past filters: "jo at example dot com",
// "jo[at]example[dot]com", "jo(at)example(dot)com", "jo @ example.com". The last label must be a
// common TLD, because "meet me at noon dot tomorrow" must not become an address.
const (
	obfAt    = `(?:\s+at\s+|\s*[\[({]\s*at\s*[\])}]\s*|\s+@\s*|\s*@\s+)`
	obfDot   = `(?:\s+dot\s+|\s*[\[({]\s*dot\s*[\])}]\s*|\.)`
	obfLabel = `[a-z0-9](?:[a-z0-9-]*[a-z0-9])?`
	obfTLDs  = `com|net|org|edu|gov|mil|io|co|us|uk|ca|me|info|biz|de|fr|es|mx|au|ie|in|nl|it`
)

var obfuscatedEmail = regexp.MustCompile(`(?i)\b([a-z0-9_%+-]+(?:[.'][a-z0-9_%+-]+)*)` + obfAt +
	`(` + obfLabel + `(?:` + obfDot + obfLabel + `)*?` + obfDot + `(?:` + obfTLDs + `))\b`)

var obfDotPattern = regexp.MustCompile(`(?i)` + obfDot)

func appendEmails(found []Finding, text string) []Finding {
	if strings.IndexByte(text, '@') >= 0 {
		found = appendPlainEmails(found, text)
	}
	// The obfuscated pattern is the slowest in Detect; most messages have no "at" it could use.
	if containsWordFold(text, "at") || spacedAt(text) {
		found = appendObfuscatedEmails(found, text)
	}
	return found
}

func appendPlainEmails(found []Finding, text string) []Finding {
	for _, m := range emailPattern.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		found = append(found, Finding{Kind: Email, Start: start, End: end, Value: text[start:end], Normalized: strings.ToLower(text[start:end])})
	}
	return found
}

func appendObfuscatedEmails(found []Finding, text string) []Finding {
	for _, m := range obfuscatedEmail.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[0], m[1]
		local := text[m[2]:m[3]]
		domain := obfDotPattern.ReplaceAllString(text[m[4]:m[5]], ".")
		found = append(found, Finding{Kind: Email, Start: start, End: end, Value: text[start:end], Normalized: strings.ToLower(local + "@" + domain)})
	}
	return found
}

// containsWordFold reports whether text contains the ASCII word w, in any case, not inside a
// longer word.
func containsWordFold(text, w string) bool {
	for i := 0; i+len(w) <= len(text); i++ {
		if !strings.EqualFold(text[i:i+len(w)], w) {
			continue
		}
		if (i == 0 || !isASCIIAlnum(text[i-1])) && (i+len(w) == len(text) || !isASCIIAlnum(text[i+len(w)])) {
			return true
		}
	}
	return false
}

// spacedAt reports whether an '@' in text has white space (as \s means in the pattern) on either
// side ("jo @ example.com").
func spacedAt(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] == '@' && (i > 0 && isSpaceByte(text[i-1]) || i+1 < len(text) && isSpaceByte(text[i+1])) {
			return true
		}
	}
	return false
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isASCIIAlnum(c byte) bool { return isASCIILetter(c) || isDigit(c) }
