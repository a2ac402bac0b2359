// Package optout classifies inbound SMS bodies as opt-out, opt-in or help requests (P08) and
// supplies the one confirmation text that answers each of them.
//
// The rule for opt-outs:
//
//   - A message that is a single opt-out keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT,
//     OPTOUT, REVOKE) is an opt-out, whatever its case and whatever whitespace, punctuation, emoji
//     or invisible characters surround it. Split spellings ("STOP ALL", "OPT-OUT", "UN-SUBSCRIBE",
//     "s t o p") and a repeated keyword ("stop stop stop") count as that keyword.
//   - A natural-language phrase counts only when the whole message is essentially that request:
//     a short message whose main clause is the request ("please stop texting me", "remove me from
//     your list", "deja de escribirme"), optionally with a greeting, "please", "thanks" and the
//     like around it, or a sentence of its own in a short message ("Wrong number. Stop texting
//     me."). A keyword that is only incidental ("stop by tomorrow?", "the end", "cancel my
//     appointment") never counts.
//   - CANCEL, END and QUIT count only as the single word: with anything else around them they are
//     too often about bookings, calls or smoking. A message about cancelling that is not an
//     opt-out reports MentionsCancel so the caller can treat it as a booking matter.
//
// FCC 24-24 requires honouring an opt-out made by any reasonable means, which is why phrases are
// recognised at all; a false opt-out silently drops a customer, which is why they are narrow.
package optout

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Kind is what an inbound message asks for.
type Kind int

// The kinds of intent.
const (
	None Kind = iota
	OptOut
	OptIn
	Help
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case OptOut:
		return "OptOut"
	case OptIn:
		return "OptIn"
	case Help:
		return "Help"
	default:
		return "None"
	}
}

// Intent is the classification of one message.
type Intent struct {
	Kind Kind
	// Keyword is the canonical keyword ("STOP", "YES", "HELP", …) or "phrase:<id>" for a
	// natural-language phrase. It never contains text from the message.
	Keyword string
	// Phrase reports that the intent was recognised from a natural-language phrase rather than a
	// keyword or a spelling of one.
	Phrase bool
	// MentionsCancel reports that a message which is not an opt-out talks about cancelling
	// ("cancel my appointment"): a booking matter, not a withdrawal of consent.
	MentionsCancel bool
}

// Twilio's default keywords (single-word messages only).
var (
	optOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
	optInKeywords  = []string{"START", "UNSTOP", "YES"}
	helpKeywords   = []string{"HELP", "INFO"}
)

// OptOutKeywords returns Twilio's default opt-out keywords.
func OptOutKeywords() []string { return append([]string(nil), optOutKeywords...) }

// OptInKeywords returns Twilio's default opt-in keywords. A bare YES is reported as OptIn with
// Keyword "YES"; the caller decides whether it applies (for example only while the sender is
// opted out), since YES is also an ordinary answer.
func OptInKeywords() []string { return append([]string(nil), optInKeywords...) }

// HelpKeywords returns Twilio's default help keywords.
func HelpKeywords() []string { return append([]string(nil), helpKeywords...) }

var keywordKind = func() map[string]Kind {
	m := map[string]Kind{}
	for _, k := range optOutKeywords {
		m[strings.ToLower(k)] = OptOut
	}
	for _, k := range optInKeywords {
		m[strings.ToLower(k)] = OptIn
	}
	for _, k := range helpKeywords {
		m[strings.ToLower(k)] = Help
	}
	return m
}()

// stopFamily are the keywords that may appear with polite filler ("please stop", "unsubscribe
// me"); CANCEL, END and QUIT may not.
var stopFamily = map[string]bool{"stop": true, "stopall": true, "unsubscribe": true, "optout": true, "revoke": true}

// Parse classifies an inbound SMS body.
func Parse(body string) Intent {
	text := normalize(body)
	all := tokens(text)
	if len(all) == 0 {
		return Intent{}
	}
	if kw, ok := keyword(all); ok {
		return Intent{Kind: keywordKind[kw], Keyword: strings.ToUpper(kw)}
	}
	if len(all) <= maxPhraseTokens {
		if id, ok := phrase(all); ok {
			return Intent{Kind: OptOut, Keyword: "phrase:" + id, Phrase: true}
		}
		sentences := splitSentences(text)
		if len(sentences) > 1 {
			for _, s := range sentences {
				if id, ok := phrase(tokens(s)); ok && !wholeMessageOnly(id) {
					return Intent{Kind: OptOut, Keyword: "phrase:" + id, Phrase: true}
				}
			}
			if id, ok := keywordWithCompanion(sentences); ok {
				return Intent{Kind: OptOut, Keyword: "phrase:" + id, Phrase: true}
			}
		}
	}
	in := Intent{}
	for _, t := range all {
		if strings.HasPrefix(t, "cancel") {
			in.MentionsCancel = true
		}
	}
	return in
}

// wholeMessageOnly reports the phrases made of a bare keyword ("please stop", "alto"), which
// count only as the whole message: as one sentence among others they are too often about
// something else ("Please stop. The leak is back.").
func wholeMessageOnly(id string) bool {
	return id == "stop-word" || id == "es-baja" || strings.HasPrefix(id, "polite-")
}

// maxPhraseTokens bounds the messages in which phrases are looked for: a long message is a
// conversation, not an opt-out request.
const maxPhraseTokens = 20

// keyword recognises a message that is one keyword: a single word, its letters spaced out or
// split ("STOP ALL", "OPT-OUT"), or an opt-out keyword repeated.
func keyword(ts []string) (string, bool) {
	joined := strings.Join(ts, "")
	if _, ok := keywordKind[joined]; ok && len(ts) <= len(joined) {
		return joined, true
	}
	if k, ok := keywordKind[ts[0]]; ok && k == OptOut {
		for _, t := range ts[1:] {
			if t != ts[0] {
				return "", false
			}
		}
		return ts[0], true
	}
	return "", false
}

// normalize applies NFKC (folding fullwidth and other compatibility forms), drops invisible
// characters and combining marks (so "envíen" reads as "envien"), turns apostrophes into nothing
// ("don't" → "dont") and lowercases.
func normalize(s string) string {
	s = norm.NFKC.String(s)
	s = norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018' || r == '`' || r == '\u00b4':
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || unicode.Is(unicode.Cf, r):
		case r == '\u034f' || r == '\u115f' || r == '\u1160' || r == '\u3164' || r == '\uffa0':
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return norm.NFC.String(b.String())
}

// tokens splits normalised text into words of letters and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}

func splitSentences(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == '.' || r == '!' || r == '?' || r == ';' || r == '\n' || r == '\r' || r == '¡' || r == '¿'
	})
	out := parts[:0]
	for _, p := range parts {
		if len(tokens(p)) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// companions may accompany a bare STOP-family keyword in a message of two or three sentences
// ("STOP. Wrong number.").
var companions = map[string]bool{
	"wrong number": true, "who is this": true, "who dis": true, "not interested": true,
	"i never called you": true, "i didnt call you": true, "i never called": true, "thanks": true,
	"thank you": true, "numero equivocado": true, "no me interesa": true,
}

func keywordWithCompanion(sentences []string) (string, bool) {
	if len(sentences) > 3 {
		return "", false
	}
	found := false
	for _, s := range sentences {
		ts := trim(tokens(s))
		if len(ts) == 1 && stopFamily[ts[0]] {
			found = true
			continue
		}
		if kw, ok := keyword(tokens(s)); ok && stopFamily[kw] {
			found = true
			continue
		}
		if !companions[strings.Join(tokens(s), " ")] {
			return "", false
		}
	}
	if found {
		return "keyword-sentence", true
	}
	return "", false
}

var (
	leadFiller = [][]string{
		{"hi"}, {"hello"}, {"hey"}, {"yo"}, {"ok"}, {"okay"}, {"please"}, {"pls"}, {"plz"},
		{"kindly"}, {"seriously"}, {"just"}, {"thanks"}, {"thank", "you"}, {"sorry"}, {"can", "you"},
		{"could", "you"}, {"can", "u"}, {"would", "you"}, {"will", "you"}, {"i", "want", "you", "to"},
		{"i", "need", "you", "to"}, {"i", "want", "to"}, {"i", "would", "like", "to"},
		{"id", "like", "to"}, {"i", "wish", "to"}, {"i", "need", "to"}, {"i", "wanna"},
		{"hola"}, {"oye"}, {"por", "favor"}, {"quiero"}, {"ya"}, {"wrong", "number"},
		{"numero", "equivocado"},
	}
	trailFiller = [][]string{
		{"please"}, {"pls"}, {"plz"}, {"now"}, {"right", "now"}, {"asap"}, {"immediately"},
		{"already"}, {"thanks"}, {"thank", "you"}, {"thx"}, {"ty"}, {"again"}, {"anymore"},
		{"any", "more"}, {"ever", "again"}, {"ok"}, {"lol"}, {"for", "good"}, {"forever"},
		{"permanently"}, {"por", "favor"}, {"gracias"}, {"ya"}, {"ahora"}, {"wrong", "number"},
		{"numero", "equivocado"},
	}
)

// trim removes greetings, "please", "thanks" and similar from both ends.
func trim(ts []string) []string {
	for changed := true; changed && len(ts) > 0; {
		changed = false
		for _, f := range leadFiller {
			if len(ts) > len(f) && hasPrefix(ts, f) {
				ts, changed = ts[len(f):], true
			}
		}
		for _, f := range trailFiller {
			if len(ts) > len(f) && hasPrefix(ts[len(ts)-len(f):], f) {
				ts, changed = ts[:len(ts)-len(f)], true
			}
		}
	}
	return ts
}

func hasPrefix(ts, p []string) bool {
	if len(ts) < len(p) {
		return false
	}
	for i := range p {
		if ts[i] != p[i] {
			return false
		}
	}
	return true
}

// Building blocks of the phrase patterns; they match whole tokens joined by single spaces.
const (
	verbs   = `(?:text|texting|txt|txting|texing|message|messaging|msg|msging|sms|smsing|contact|contacting|email|emailing|bother|bothering|bug|bugging|spam|spamming|harass|harassing|send|sending|write|writing|hit me up|hitting me up)`
	calls   = `(?:call|calling|ringing|ring)`
	me      = `(?: me| us| my number| this number| my phone| this phone| my cell)`
	nouns   = `(?:texts|text|messages|message|msgs|sms|txts|txt|spam|marketing|promos|promotions|notifications|alerts|reminders|automated texts|automated messages|text messages)`
	det     = `(?: (?:these|this|your|the|any|ur|all|those|all these|all your|any more|more))`
	nounsES = `(?:mensajes|mensaje|textos|sms|mensajitos|promociones)`
)

type pattern struct {
	id string
	re *regexp.Regexp
}

var patterns = func() []pattern {
	src := []struct{ id, re string }{
		{"stop-word", `(?:stop|stopall|stop all|unsubscribe|optout|opt out|revoke)(?: it| this| that| all| me)?`},
		{"stop-texting", `(?:stop|quit|cease)(?: it)? (?:` + verbs + `|` + calls + `)` + me + `?(?:` + det + `? ` + nouns + `)?(?: to` + me + `)?`},
		{"stop-texts", `stop` + det + `? ` + nouns},
		{"opt-me-out", `opt (?:me|my number|this number) out(?: of (?:this|these|your|all|the|ur)(?: ` + nouns + `| list)?)?`},
		{"dont-text", `(?:i )?(?:dont|do not|please dont|please do not|never)(?: ever)? (?:` + verbs + `)` + me + `?(?:` + det + `? ` + nouns + `)?`},
		{"dont-want", `(?:i )?(?:dont|do not|no longer) (?:want|wish to receive|want to receive|want to get|need)` + det + `? ` + nouns + `(?: from you)?`},
		{"remove-me", `(?:remove|take|delete|drop|erase|unsubscribe|unsub|opt|get|scratch) (?:me|my number|this number)(?: out)?(?: (?:from|off|out of|of))?(?:` + det + `)?(?: (?:text|texting|sms|mailing|contact|marketing|messaging|call|calling|distribution|message))? (?:list|lists|texts|messages|database|system|contacts)`},
		{"remove-me-short", `(?:remove|take) me(?: off)?`},
		{"unsubscribe-me", `(?:unsubscribe|unsub|opt out|optout|opt me out|opt out me|stop all|revoke) (?:me|my number|this number|from (?:this|these|your|all|the)(?: ` + nouns + `| list)?)`},
		{"no-more", `no more ` + nouns},
		{"leave-me-alone", `leave me alone`},
		{"revoke-consent", `(?:i )?(?:revoke|withdraw|withdrew|revoked|withdrawn) (?:my )?consent(?: [a-z ]+)?`},
		{"es-stop", `(?:no (?:me|nos) )(?:envien|envies|envie|mandes|manden|mande|escribas|escriban|escriba|contacten|contactes|molesten|molestes)(?: mas)?(?: ` + nounsES + `)?(?: mas)?`},
		{"es-deja", `(?:deja|dejen|deje|dejar|para|paren|pare) de (?:escribirme|enviarme|mandarme|molestarme|llamarme|textearme|contactarme|escribir|enviar|mandar)(?: ` + nounsES + `)?`},
		{"es-baja", `(?:baja|alto|(?:darme|dar|dame|denme|deme|me doy) de baja|de baja)`},
		{"es-no-mas", `(?:no mas|basta de|ya no mas) ` + nounsES},
		{"es-no-quiero", `no quiero (?:recibir |que me (?:manden|envien) )?(?:mas )?` + nounsES + `(?: mas)?`},
		{"es-remove", `(?:borrame|quitame|eliminame|sacame|borrenme|quitenme|eliminenme|saquenme) de (?:su|la|tu|sus|esta|vuestra) lista`},
		{"es-cancel-sub", `cancelar (?:mi )?suscripcion`},
	}
	ps := make([]pattern, len(src))
	for i, s := range src {
		ps[i] = pattern{s.id, regexp.MustCompile(`^(?:` + s.re + `)$`)}
	}
	return ps
}()

// phrase matches a message (or sentence) against the opt-out phrases after trimming filler.
func phrase(ts []string) (string, bool) {
	if len(ts) == 0 {
		return "", false
	}
	core := trim(ts)
	if len(core) == 1 && stopFamily[core[0]] && len(core) < len(ts) {
		return "polite-" + core[0], true
	}
	s := strings.Join(core, " ")
	for _, p := range patterns {
		if p.re.MatchString(s) {
			return p.id, true
		}
	}
	return "", false
}

// maxBusinessName is the longest business name, in GSM-7 septets, the confirmations are sized for.
const maxBusinessName = 40

// Confirmation returns the one reply sent for kind: the opt-out confirmation, the opt-in
// confirmation or the HELP answer; "" for None. Each fits one GSM-7 segment (160 characters) for
// business names up to 40 characters; longer names are shortened.
func Confirmation(kind Kind, businessName string) string {
	name := shorten(strings.Join(strings.Fields(businessName), " "), maxBusinessName)
	switch kind {
	case OptOut:
		return "You're unsubscribed from " + name + " texts. You won't receive more messages. Reply START to resubscribe."
	case OptIn:
		return "You're resubscribed to " + name + " texts. Reply HELP for help, STOP to unsubscribe. Msg&data rates may apply."
	case Help:
		return name + ": reply STOP to unsubscribe, START to resubscribe. Msg&data rates may apply."
	default:
		return ""
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// shorten cuts name to at most max GSM-7 septets (characters of the GSM-7 extension table count
// two; any other character counts one, though it makes the text UCS-2).
func shorten(name string, max int) string {
	n := 0
	for i, r := range name {
		w := 1
		if strings.ContainsRune(gsm7Ext, r) {
			w = 2
		}
		if n+w > max {
			return strings.TrimSpace(name[:i])
		}
		n += w
	}
	return name
}

// The GSM 03.38 default alphabet and its extension table.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext   = "^{}\\[~]|€\f"
)
