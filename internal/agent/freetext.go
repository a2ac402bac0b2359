package agent

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is a word of a caller's message as written, with its folded form for matching.
type token struct {
	raw, folded string
	// endsClause reports punctuation after the word (",", ".", "!"): a name stops there.
	endsClause bool
}

// tokenize splits a message into words of letters, digits, apostrophes and hyphens.
func tokenize(text string) []token {
	text = clip(text, maxScanBytes)
	var out []token
	start := -1
	flush := func(end int) {
		if start >= 0 {
			whole := text[start:end]
			raw := strings.Trim(whole, "'’-.")
			if f := strings.Join(words(fold(raw)), ""); f != "" {
				// A word written with a trailing period ("Dana.") ends a clause.
				out = append(out, token{raw: raw, folded: f, endsClause: strings.HasSuffix(whole, ".")})
			}
			start = -1
		}
	}
	for i, r := range text {
		inWord := isWordRune(r) || unicode.Is(unicode.Mn, r) || ((r == '\'' || r == '’' || r == '-' || r == '.') && start >= 0)
		if inWord {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if !unicode.IsSpace(r) && len(out) > 0 {
			out[len(out)-1].endsClause = true
		}
	}
	flush(len(text))
	return out
}

// nameCues are what people write before their name, folded.
var nameCues = [][]string{
	{"my", "name", "is"}, {"my", "names"}, {"the", "name", "is"}, {"name", "is"}, {"names"}, {"name"},
	{"this", "is"}, {"it", "is"}, {"its"}, {"i", "am"}, {"im"}, {"call", "me"}, {"put", "it", "under"},
	{"book", "it", "under"}, {"under", "the", "name"}, {"under", "the", "name", "of"},
	{"me", "llamo"}, {"mi", "nombre", "es"}, {"soy"}, {"le", "habla"}, {"habla"}, {"a", "nombre", "de"},
}

// notNames are words that follow a name cue without being a name ("I'm looking", "this is for my
// son", "soy nuevo"), or that open a message ("Yes, tomorrow at 3").
var notNames = set("a an the and or but so for to of at in on by with from about as if not no yes yeah yep nope ok okay " +
	"sure fine good great perfect awesome cool thanks thank thx please pls sorry hi hello hey yo just also still really very " +
	"so too here there back home out off up down over new old available free busy open flexible late early ready done sure " +
	"glad happy interested curious confused calling looking wondering hoping trying asking texting writing checking going " +
	"coming getting booking needing wanting thinking the your my his her their our its it me we you they him them this that " +
	"these those who what when where why how which can could would will should may might do does did is are was were be been " +
	"have has had need want like book appointment appt booking help info stop start cancel reschedule change available time " +
	"day week month weekend morning afternoon evening night tonight today tomorrow tmrw now later soon asap first second third " +
	"one two three four five option number other another different earlier same again next last any anything none nothing " +
	"both either maybe probably customer client patient caller mom dad wife husband son daughter kid kids friend " +
	"hola si gracias buenas buenos dias tardes noches bueno claro vale perfecto listo dale favor por quiero necesito una un " +
	"el la los las de del para con cita corte nuevo nueva cliente yo su mi tu muy tan mama papa esposo esposa hijo hija aqui " +
	"manana hoy tarde noche semana otra otro primera primero segunda segundo tercera tercero ninguna ninguno que como cuando " +
	"am pm lol haha omg wow hmm um uh ugh huh wait k kk ty np nvm idk btw anytime whenever noon midday call text thing " +
	"nevermind whatever booked bien mind sounds works times slots openings hours price prices " +
	// What follows "it's", "this is" and "I'm" when it is not a name.
	"urgent important ridiculous broken cold hot wet awful terrible annoying crazy weird strange bad serious quick fast " +
	"slow easy hard possible impossible true false correct right wrong nice sick ill pregnant allergic tired stuck lost " +
	"upset mad angry sad fine closed expensive cheap normal worse better mine yours ours about regarding re afraid " +
	"okay alright ok definitely totally actually only finally someone somebody anyone everyone nobody under into onto " +
	"near after before around between because since until till almost nearly supposed")

var questionWords = set("what when where which why who how que cual cuando donde como quien")

// findName returns the caller's name if the message gives one: after a cue ("I'm Dana", "this is
// dana lee", "me llamo Ana"), or, when the caller was just asked for it (asked), as the message
// itself ("Dana"). Without a cue and without being asked, a message counts as a name only when it
// opens with one to three capitalised words that are not ordinary words, followed by a comma and
// the rest of the request ("Dana, haircut tomorrow 3pm"), or is nothing but such words ("Dana Lee").
// ignore holds folded words that must not be taken for a name (the business's service words).
func findName(text string, asked bool, ignore map[string]bool) string {
	ts := tokenize(text)
	usable := func(t token) bool {
		return isNameWord(t) && !notNames[t.folded] && !ignore[t.folded] && !weekdayOrMonth(t.folded) && !verbForm(t.folded)
	}
	take := func(from int) string {
		var parts []string
		for i := from; i < len(ts) && len(parts) < 3 && usable(ts[i]); i++ {
			parts = append(parts, ts[i].raw)
			if ts[i].endsClause {
				break
			}
		}
		return tidyName(parts)
	}
	for i := range ts {
		for _, cue := range nameCues {
			if i+len(cue) > len(ts) || !tokensAre(ts[i:i+len(cue)], cue) || ts[i+len(cue)-1].endsClause {
				continue
			}
			if n := take(i + len(cue)); n != "" {
				return n
			}
		}
	}
	if asked {
		// Asked for a name, the caller may wrap it in filler ("sure, Dana Lee thanks"); anything
		// else around it means the message is about something else.
		lead := 0
		for lead < len(ts) && notNames[ts[lead].folded] {
			if questionWords[ts[lead].folded] {
				return ""
			}
			lead++
		}
		end := lead
		for end < len(ts) && end < lead+3 && usable(ts[end]) {
			end++
			if ts[end-1].endsClause {
				break
			}
		}
		if end == lead {
			return ""
		}
		for _, t := range ts[end:] {
			if !notNames[t.folded] && !ignore[t.folded] && !ts[end-1].endsClause {
				return ""
			}
		}
		return tidyName(raws(ts[lead:end]))
	}
	// No cue, not asked: two or three capitalised words that are the whole message ("Dana Lee"),
	// or one to three that are its first clause ("Dana, haircut tomorrow 3pm"). A single
	// capitalised word alone is more often a service the business does not offer than a name.
	n := 0
	for n < len(ts) && n < 3 && usable(ts[n]) && capitalised(ts[n].raw) {
		n++
		if ts[n-1].endsClause {
			if n < len(ts) {
				return tidyName(raws(ts[:n]))
			}
			break
		}
	}
	if n >= 2 && n == len(ts) {
		return tidyName(raws(ts[:n]))
	}
	return ""
}

func raws(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.raw
	}
	return out
}

func tokensAre(ts []token, words []string) bool {
	for i, w := range words {
		if ts[i].folded != w {
			return false
		}
	}
	return true
}

// isNameWord reports a word of letters with at most inner apostrophes, hyphens and periods.
func isNameWord(t token) bool {
	letters := 0
	for _, r := range t.raw {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.Is(unicode.Mn, r), r == '\'', r == '’', r == '-', r == '.':
		default:
			return false
		}
	}
	return letters > 0 && utf8.RuneCountInString(t.raw) <= 30
}

// verbForm reports English words ending as verbs and adjectives do after "I'm" ("looking",
// "interested"). Short names with those endings ("Ling", "Ted") are spared by the length bound.
func verbForm(w string) bool {
	return (len(w) > 5 && strings.HasSuffix(w, "ing")) || (len(w) > 6 && strings.HasSuffix(w, "ed"))
}

func weekdayOrMonth(w string) bool {
	_, wd := weekdays[w]
	_, mo := months[w]
	return wd || mo
}

func capitalised(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// tidyName joins the words of a name, capitalising a name typed all in lower or upper case
// ("dana lee" → "Dana Lee") and leaving mixed case as written ("McKenzie"). It returns "" for
// anything checkName would refuse.
func tidyName(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	for i, p := range parts {
		p = strings.TrimRight(p, ".")
		if p == strings.ToLower(p) || p == strings.ToUpper(p) {
			rs := []rune(strings.ToLower(p))
			rs[0] = unicode.ToUpper(rs[0])
			p = string(rs)
		}
		parts[i] = p
	}
	n, problem := checkName(strings.Join(parts, " "))
	if problem != "" {
		return ""
	}
	return n
}

// serviceStopWords do not identify a service on their own.
var serviceStopWords = set("and the a an with for of de y con el la los las del service servicio appointment cita session full basic standard regular new")

// serviceWords returns the folded, singular words of the business's service names, which are never
// taken for a caller's name.
func serviceWords(b Business) map[string]bool {
	m := make(map[string]bool)
	for _, s := range b.services() {
		for _, w := range words(fold(s.Name)) {
			m[w] = true
			m[singular(w)] = true
		}
	}
	return m
}

// findServiceIn returns the service a caller's message names. A service named in full wins
// ("men's haircut" over "haircut" when both are offered). Otherwise part of a name is enough when
// it is the name's head noun ("massage" for "Deep Tissue Massage", "color" for "Color &
// Highlights") or two of its words in a row ("deep tissue"); a lone modifier is not ("it's hot
// today" is not "Hot Stone Massage"). With typos set (the caller is answering "which service?"),
// a head noun one typing slip away counts too; elsewhere "message" is too close to "massage". When
// the words fit several services equally it returns none and ambiguous is true, so the caller is
// shown the list.
func findServiceIn(text string, b Business, typos bool) (s Service, ok, ambiguous bool) {
	ws := words(fold(text))
	for i := range ws {
		ws[i] = singular(ws[i])
	}
	services := b.services()
	best, bestLen := -1, 0
	for i, sv := range services {
		key := serviceKey(sv.Name)
		if key == "" {
			continue
		}
		for start := range ws {
			joined := ""
			for end := start; end < len(ws) && end < start+4; end++ {
				joined += ws[end]
				if joined == key && len(key) > bestLen {
					best, bestLen = i, len(key)
				}
			}
		}
	}
	if best >= 0 {
		return services[best], true, false
	}
	var hits []int
	for i, sv := range services {
		// "&", "+", "/" and "," join the parts of a name as "and" does.
		name := words(fold(strings.NewReplacer("&", " and ", "+", " and ", "/", " and ", ",", " and ").Replace(sv.Name)))
		if namesPart(ws, name, typos) {
			hits = append(hits, i)
		}
	}
	switch len(hits) {
	case 0:
		return Service{}, false, false
	case 1:
		return services[hits[0]], true, false
	}
	return Service{}, false, true
}

// conjunctions split a service name into the things it combines ("Color & Highlights").
var conjunctions = set("and y or o with con plus")

// namesPart reports whether the caller's words ws name part of a service whose folded name words
// are name: one of its head nouns, or two of its words in a row.
func namesPart(ws, name []string, typos bool) bool {
	for i := range name {
		name[i] = singular(name[i])
	}
	var heads []string
	for i, w := range name {
		if (i == len(name)-1 || conjunctions[name[i+1]]) && !conjunctions[w] && len(w) >= 3 && !serviceStopWords[w] {
			heads = append(heads, w)
		}
	}
	for _, t := range ws {
		for _, h := range heads {
			if t == h || (typos && len(h) >= 5 && len(t) >= 5 && withinOneEdit(t, h)) {
				return true
			}
		}
	}
	for i := 0; i+1 < len(name); i++ {
		for j := 0; j+1 < len(ws); j++ {
			if ws[j] == name[i] && ws[j+1] == name[i+1] && !serviceStopWords[name[i]] {
				return true
			}
		}
	}
	return false
}

// choiceWords are the words for a position in a list.
var choiceWords = map[string]int{
	"one": 1, "first": 1, "1st": 1, "uno": 1, "primero": 1, "primera": 1, "primer": 1,
	"two": 2, "second": 2, "2nd": 2, "dos": 2, "segundo": 2, "segunda": 2,
	"three": 3, "third": 3, "3rd": 3, "tres": 3, "tercero": 3, "tercera": 3, "tercer": 3,
	"four": 4, "fourth": 4, "4th": 4, "cuatro": 4, "cuarto": 4, "cuarta": 4,
	"five": 5, "fifth": 5, "5th": 5, "cinco": 5, "quinto": 5, "quinta": 5,
	"last": -1, "ultimo": -1, "ultima": -1,
}

// choiceFiller may surround a choice ("option 2 please", "la primera", "the 2nd one works").
var choiceFiller = set("the option opt number num no please pls plz is fine good works work ok okay yes yeah yep sure lets " +
	"let do go with take ill i want choose pick id like that perfect great sounds im thanks thank you la el opcion numero por " +
	"favor quiero si esta bien me funciona dame esa ese gracias")

// choice reads a message that picks an item from a numbered list of n items: "2", "#2", "option 2",
// "the second one", "la primera". It returns the 1-based position.
func choice(text string, n int) (int, bool) {
	var rest []string
	sawOne := false
	for _, w := range words(fold(text)) {
		switch {
		case w == "one":
			sawOne = true
		case !choiceFiller[w]:
			rest = append(rest, w)
		}
	}
	if len(rest) == 0 && sawOne {
		rest = []string{"one"}
	}
	if len(rest) != 1 {
		return 0, false
	}
	k, ok := choiceWords[rest[0]]
	switch {
	case ok && k == -1:
		k = n
	case !ok && isDigits(rest[0]) && len(rest[0]) <= 2:
		k = atoi(rest[0])
	case !ok:
		return 0, false
	}
	if k < 1 || k > n {
		return 0, false
	}
	return k, true
}

// yesWords and noneWords answer a proposal with one option, or refuse every option offered.
var (
	yesWords  = set("yes yeah yep yup sure ok okay perfect great works sounds good fine si claro dale vale bueno perfecto correct confirm confirmed please that one do it book it")
	noneWords = set("none neither no nope other another different else ninguno ninguna otro otra otros diferente")
)

// agrees reports a short "yes" ("yes please", "sounds good", "sí, perfecto").
func agrees(text string) bool {
	ws := words(fold(text))
	if len(ws) == 0 || len(ws) > 5 {
		return false
	}
	yes := false
	for _, w := range ws {
		if !yesWords[w] && !choiceFiller[w] {
			return false
		}
		if yesWords[w] {
			yes = true
		}
	}
	return yes && !noneWords[ws[0]]
}

// refusesAll reports a short "none of those" ("no", "none work", "ninguno", "another day").
func refusesAll(text string) bool {
	ws := words(fold(text))
	if len(ws) == 0 || len(ws) > 6 {
		return false
	}
	if !noneWords[ws[0]] && !(len(ws) > 1 && noneWords[ws[1]]) {
		return false
	}
	for _, w := range ws {
		if !noneWords[w] && !choiceFiller[w] && !set("of those these them times time day days work works good for me sirve sirven de esas esos horarios dia thanks")[w] {
			return false
		}
	}
	return true
}

// spanish scores how Spanish a message reads, against how English: the replies follow the
// caller's language.
var (
	spanishWords = set("hola quiero necesito cita manana gracias por favor para una el la los las de que con lunes martes miercoles " +
		"jueves viernes sabado domingo hoy tarde noche llamo soy corte pelo buenos buenas dias cuanto cuesta puedo tienen hay esta " +
		"estoy mi es horario primera segunda tercera ninguna otra otro dia nombre si claro perfecto bueno pero tambien")
	englishWords = set("the i im want need book appointment tomorrow today please thanks thank hi hello can you is my at for to and " +
		"what do have yes would like get morning afternoon name this it works sounds good sure how much when")
)

// language returns "es" or "en" for a message, or current when the message does not say.
func language(text, current string) string {
	es, en := 0, 0
	for _, w := range words(fold(text)) {
		if spanishWords[w] {
			es++
		}
		if englishWords[w] {
			en++
		}
	}
	switch {
	case es > en && (es >= 2 || current == "" && en == 0):
		return "es"
	case en > es && (en >= 2 || current == "" && es == 0):
		return "en"
	}
	return current
}

// anyTime reports a caller with no day in mind ("any day", "whenever", "lo antes posible").
func anyTime(text string) bool {
	f := " " + strings.Join(words(fold(text)), " ") + " "
	for _, p := range []string{" any ", " anytime ", " whenever ", " asap ", " soonest ", " earliest ", " first available ",
		" next available ", " cualquier ", " cuando sea ", " lo antes posible ", " lo mas pronto ", " no importa ", " doesnt matter "} {
		if strings.Contains(f, p) {
			return true
		}
	}
	return false
}
