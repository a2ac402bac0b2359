package agent

import (
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// EscalationKind is why a caller's message should go to a person straight away.
type EscalationKind int

// The kinds of escalation, in increasing urgency.
const (
	None EscalationKind = iota
	// Person: the caller asks for a human, a call back, the owner or a manager.
	Person
	// Emergency: the caller describes an emergency (a gas leak, a flood, a fire, someone hurt).
	Emergency
)

// String returns the kind's name.
func (k EscalationKind) String() string {
	switch k {
	case Person:
		return "Person"
	case Emergency:
		return "Emergency"
	default:
		return "None"
	}
}

// Escalation is what DetectEscalation found.
type Escalation struct {
	Kind EscalationKind
	// Phrase names the rule that matched ("gas leak", "call me back"). It is one of this
	// package's labels, never text from the message, so it may be logged.
	Phrase string
}

// DetectEscalation reports whether a caller's message asks for a person or describes an
// emergency, in English or Spanish. An emergency wins over a request for a person.
//
// It is a set of phrase rules, tuned on testdata/escalation_corpus.txt, with three guards against
// the false alarms ordinary booking chat would otherwise raise:
//
//   - Negation: a rule does not count when a negating word comes just before it, with only small
//     words in between ("no emergency, just a trim", "it's not a gas leak", "don't call me",
//     "no es una emergencia"); hypotheticals count as negation too ("in case of emergency", "si
//     es una emergencia"). Negation ends at punctuation, so "No, it's an emergency!" counts.
//   - Context: ambiguous words count only where they mean the emergency: "fire" but not "fire
//     alarm inspection", "911" but not inside a phone number or "911 Main St", "emergency" but not
//     "emergency rates" or "do you take emergencies?", "call me" but not "call me Dana".
//   - Past events ("flooded last year", "the fire last month") do not count for the rules about
//     property: the caller wants a repair, not help now.
//
// A missed emergency is worse than a false one, and the corpus test holds the rules to no false
// emergencies on ordinary chat and high recall on real ones; see escalation_test.go for the
// figures and the known misses. Messages are read up to maxScanBytes.
func DetectEscalation(text string) Escalation {
	clauses := escalationClauses(text)
	for _, kind := range []EscalationKind{Emergency, Person} {
		for _, c := range clauses {
			for i := range c.words {
				for _, r := range escalationRules {
					if r.kind == kind && r.matchAt(c, i) {
						return Escalation{Kind: kind, Phrase: r.label}
					}
				}
			}
		}
	}
	return Escalation{}
}

// clause is a run of words between punctuation marks.
type clause struct {
	words  []string
	joined string
	offset []int // offset[i] is where words[i] starts in joined
}

var (
	// spacedNine11 joins "9-1-1" and "9 1 1" into the one word "911".
	spacedNine11 = regexp.MustCompile(`(^|[^0-9])9[ .\-]1[ .\-]1([^0-9]|$)`)
	// accentedSi is Spanish "sí" (yes), which folding would make "si" (if): the first confirms an
	// emergency, the second makes it hypothetical.
	accentedSi = regexp.MustCompile(`(^|[^\p{L}])s[ií]\x{0301}?([^\p{L}]|$)`)
)

func escalationClauses(text string) []clause {
	text = norm.NFC.String(strings.ToLower(clip(text, maxScanBytes)))
	text = accentedSi.ReplaceAllStringFunc(text, func(m string) string {
		if strings.Contains(m, "í") || strings.Contains(m, "\u0301") {
			return strings.NewReplacer("sí", "yes", "si\u0301", "yes").Replace(m)
		}
		return m
	})
	f := fold(text)
	f = spacedNine11.ReplaceAllString(f, "${1}911${2}")
	parts := strings.FieldsFunc(f, func(r rune) bool {
		return strings.ContainsRune(".,;:!?¿¡()[]{}\"\n\r…—–|", r)
	})
	var out []clause
	for _, p := range parts {
		ws := words(p)
		if len(ws) == 0 {
			continue
		}
		c := clause{words: ws, offset: make([]int, len(ws))}
		n := 0
		for i, w := range ws {
			c.offset[i] = n
			n += len(w) + 1
		}
		c.joined = strings.Join(ws, " ")
		out = append(out, c)
	}
	return out
}

// window returns the words from words[i] on, as far as a rule can reach. No rule spans more than
// maxRuleWords words, so matching on the window keeps the work per word constant however long the
// clause is.
func (c clause) window(i int) string {
	end := len(c.joined)
	if k := i + maxRuleWords; k < len(c.words) {
		end = c.offset[k] - 1
	}
	return c.joined[c.offset[i]:end]
}

// escalationRule is one phrase and the context it needs.
type escalationRule struct {
	kind  EscalationKind
	label string
	re    *regexp.Regexp // anchored at a word; matches whole words
	// notNext and notPrev are words (or, for notPrev, word sequences) that, right after or right
	// before the match, make it mean something else.
	notNext map[string]bool
	notPrev []string
	// nextReach is how many words after the match notNext looks at; 1 when unset.
	nextReach int
	// needNext, when set, makes the match count only at the end of its clause or before one of
	// these words: "call me back", "call me at 5", but not "call me Dana".
	needNext map[string]bool
	// digitsAlone rejects a match next to another number (a phone number that contains 911).
	digitsAlone bool
	// whole makes the match count only as the whole clause, apart from polite filler.
	whole bool
	// negatable is false for rules that carry their own negation ("don't want to talk to a bot").
	negatable bool
	// present makes the rule ignore clauses about the past ("flooded last year").
	present bool
}

func (r *escalationRule) matchAt(c clause, i int) bool {
	m := r.re.FindStringIndex(c.window(i))
	if m == nil {
		return false
	}
	end := c.offset[i] + m[1]
	j := i // j becomes the index of the first word after the match
	for j < len(c.words) && c.offset[j] < end {
		j++
	}
	prev, next := c.words[:i], c.words[j:]
	if r.whole {
		return onlyFiller(prev, wholeFiller) && onlyFiller(next, wholeFiller)
	}
	for k := 0; k < len(next) && k < max(r.nextReach, 1); k++ {
		if r.notNext[next[k]] {
			return false
		}
	}
	for _, p := range r.notPrev {
		if endsWith(prev, strings.Fields(p)) {
			return false
		}
	}
	if r.needNext != nil && len(next) > 0 && !r.needNext[next[0]] {
		return false
	}
	if r.digitsAlone && ((len(prev) > 0 && isDigits(prev[len(prev)-1])) || (len(next) > 0 && isDigits(next[0]))) {
		return false
	}
	if r.present && pastEvent.MatchString(c.joined) {
		return false
	}
	if r.negatable && negated(prev) {
		return false
	}
	return true
}

func isDigits(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

func endsWith(ws, suffix []string) bool {
	if len(suffix) > len(ws) {
		return false
	}
	for k := range suffix {
		if ws[len(ws)-len(suffix)+k] != suffix[k] {
			return false
		}
	}
	return true
}

func onlyFiller(ws []string, filler map[string]bool) bool {
	for _, w := range ws {
		if !filler[w] {
			return false
		}
	}
	return true
}

// negators are the words that cancel a rule matched shortly after them; hypotheticals ("if", "in
// case of") are among them, since "if there's an emergency" is a question about policy.
var negators = func() [][]string {
	var out [][]string
	for _, n := range []string{
		"no", "not", "never", "without", "isnt", "arent", "wasnt", "werent", "dont", "doesnt", "didnt",
		"cant", "cannot", "wont", "nothing", "non", "no need", "nunca", "sin", "ni", "tampoco", "nada",
		"if", "in case", "incase", "in case of", "in the event of", "whether", "unless", "si", "en caso de",
	} {
		out = append(out, strings.Fields(n))
	}
	return out
}()

// negationFiller are the small words allowed between a negator and the rule it cancels: "not
// really an emergency", "don't think it's a gas leak", "no es una emergencia". A content word in
// between ends the negation's reach ("no water and it's flooding").
var negationFiller = set("a an the any some really actually exactly like real its it is this that thats was be " +
	"there theres of at all kind sort type just truly i think need to have has had you u please pls me us my our " +
	"un una el la es hay ningun ninguna ninguno realmente de tipo nos que se lo ser esto eso era fue for more " +
	"much am im are were been so too big huge major serious true actual even")

// maxRuleWords is more words than any rule matches.
const maxRuleWords = 10

// maxNegationReach is how many filler words may separate a negator from the rule.
const maxNegationReach = 4

func negated(prev []string) bool {
	for j, skipped := len(prev), 0; j > 0 && skipped <= maxNegationReach; j-- {
		for _, n := range negators {
			if endsWith(prev[:j], n) {
				return true
			}
		}
		if !negationFiller[prev[j-1]] {
			return false
		}
		skipped++
	}
	return false
}

// pastEvent marks a clause about something that happened before: the caller wants a repair
// booked, not help now.
var pastEvent = regexp.MustCompile(`\b(?:last (?:year|month|week|winter|spring|summer|fall|time|night|weekend)|ago|years back|back in|el (?:ano|mes) pasado|la (?:semana|ultima vez) pasada|la ultima vez|hace (?:un|una|dos|tres|unos|unas|mucho) \w+|was repaired|got fixed|fixed now)\b`)

// wholeFiller may surround a one-word request ("operator please", "hola, un humano por favor").
var wholeFiller = set("hi hello hey yo ok okay please pls plz thanks thank you thx i want need a an the get me can could may " +
	"have just now asap already again hola por favor quiero necesito un una el la ya ahora porfa speak talk to with con hablar " +
	"id like would some real live actual")

func set(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func rule(kind EscalationKind, label, re string) *escalationRule {
	return &escalationRule{kind: kind, label: label, re: regexp.MustCompile(`^(?:` + re + `)(?: |$)`), negatable: true}
}

func (r *escalationRule) next(words string) *escalationRule { r.notNext = set(words); return r }
func (r *escalationRule) prev(seqs ...string) *escalationRule {
	r.notPrev = append(r.notPrev, seqs...)
	return r
}
func (r *escalationRule) within(n int) *escalationRule       { r.nextReach = n; return r }
func (r *escalationRule) needs(words string) *escalationRule { r.needNext = set(words); return r }
func (r *escalationRule) wholeOnly() *escalationRule         { r.whole = true; return r }
func (r *escalationRule) ownNegation() *escalationRule       { r.negatable = false; return r }
func (r *escalationRule) presentOnly() *escalationRule       { r.present = true; return r }
func (r *escalationRule) alone() *escalationRule             { r.digitsAlone = true; return r }

// Word classes shared by the person rules.
const (
	talk     = `(?:talk|speak|chat|communicate|hablar|habla|hable|hablo|comunicarme|platicar)`
	staff    = `(?:person|persona|human|humano|humana|someone|somebody|anyone|anybody|alguien|owner|dueno|duena|manager|gerente|boss|jefe|jefa|supervisor|supervisora|agent|agente|representative|representante|rep|receptionist|recepcionista|staff|employee|empleado|empleada|operator|operador|operadora|encargado|encargada|people|team|front desk|whoever|whomever)`
	article  = `(?: (?:a|an|the|your|some|un|una|el|al|la|su|alguna|algun))?`
	realness = `(?: (?:real|live|actual|human|humano|humana|verdadera|verdadero))?`
	bot      = `(?:bot|robot|machine|computer|ai|automated system|maquina|computadora|contestadora)`
)

// callNext are the words that may follow "call me" in a request for a call back.
const callNext = "back asap now please pls plz today tomorrow tonight later at when whenever instead soon right on this " +
	"to anytime sometime directly first once between after before thanks thx ty so and about regarding re pronto hoy " +
	"manana ahora por porfa cuando al a mas luego y para gracias en real quick quickly"

// askingIfBot are the openings of a question about the assistant, not a request for a person:
// "is this a real person?" is answered, not escalated.
var askingIfBot = []string{"is this a", "is this an", "is this", "are you a", "are you an", "are you", "r u a", "r u",
	"am i talking to a", "am i talking with a", "am i texting a", "am i texting with a", "is that a", "im a", "i am a",
	"was a", "was an", "were a", "he is a", "she is a", "hes a", "shes a", "eres", "eres un", "eres una", "es un", "es una", "es usted un", "es usted una", "usted es un", "usted es una", "estoy hablando con un", "estoy hablando con una"}

var escalationRules = []*escalationRule{
	// Emergencies.
	rule(Emergency, "emergency", `emergency|emergencia|urgencia`).
		next("hours hour rate rates fee fees pricing price prices line number numbers contact contacts kit kits fund exit exits "+
			"brake brakes policy policies info information contraception preparedness plan plans service services availability "+
			"appointments slots surcharge charge charges call calls callout callouts").
		prev("servicio de", "servicios de", "numero de", "horario de", "tarifa de", "tarifas de", "citas de", "cita de"),
	rule(Emergency, "flooding", `flood|flooding|flooded|inundado|inundada|inundando|inundacion|se inunda|se inundo|se esta inundando`).
		next("damage insurance zone light lights restoration risk plain barrier barriers vent vents cleanup").presentOnly(),
	rule(Emergency, "burst pipe", `burst (?:pipe|pipes|water line|main)|(?:pipe|pipes|water line|water main|water heater)(?: \w+){0,4} (?:burst|bursted|busted|exploded|split open)|(?:tuberia|tubo|cano) (?:rota|roto|reventada|reventado)|se (?:rompio|revento) (?:la|el|una|un) (?:tuberia|tubo|cano)`).presentOnly(),
	rule(Emergency, "water everywhere", `water (?:is |its )?(?:everywhere|pouring|gushing|spraying|coming through the ceiling|pouring in|all over)|(?:leaking|gushing|spraying) everywhere|(?:inches|inch|feet|foot) of water|water (?:and )?rising|agua por todas partes|sale agua a chorros`).presentOnly(),
	rule(Emergency, "gas leak", `gas leak|gas leaking|leaking gas|(?:smell|smells|smelling|smelled) (?:of |like )?(?:gas|natural gas|propane)|gas smell|fuga de gas|huele a gas|olor a gas|(?:se esta saliendo|saliendo|se sale|sale|se escapa|escapando)(?: el| la)? gas|carbon monoxide|monoxido de carbono`).
		next("inspection inspections detector detectors test testing check checks sensor sensors"),
	rule(Emergency, "chest pain", `chest pains?|pain in (?:my|his|her) chest|dolor(?: \w+)? (?:de|en el) pecho|heart attack|ataque (?:al|de) corazon|infarto`),
	rule(Emergency, "breathing", `(?:cant|cannot|can not|trouble|difficulty|hard to|struggling to) breath(?:e|ing)?|not breathing|no puedo respirar|no respira|shortness of breath|falta de aire`),
	rule(Emergency, "bleeding", `bleeding|sangrando|sangra mucho|hemorragia|lots of blood|mucha sangre`),
	rule(Emergency, "medical", `unconscious|passed out|fainted|unresponsive|inconsciente|se desmayo|desmayado|desmayada|seizure|convulsiones|overdose|sobredosis|stroke|derrame cerebral|allergic reaction|anaphylaxis|anaphylactic|reaccion alergica|choking|se esta ahogando|(?:seriously|badly|severely) (?:hurt|injured)|herido de gravedad|herida de gravedad`).
		prev("brush", "back", "swim", "swimming", "golf").presentOnly(),
	rule(Emergency, "medical", `collapsed|(?:isnt|is not|not|wont|will not) (?:responding|waking up|wake up)|no responde|no reacciona|se desplomo`).
		next("to").prev("website", "site", "app", "phone", "shelf", "tent"),
	rule(Emergency, "collapse", `(?:ceiling|roof|floor|wall) (?:is )?(?:caving in|caved in|collapsing|falling in|coming down)|se (?:esta )?cayendo el techo|se cayo el techo`).presentOnly(),
	rule(Emergency, "ambulance", `ambulance|ambulancia|paramedics|paramedicos`),
	rule(Emergency, "fire", `fire|on fire|caught fire|incendio|fuego|se (?:esta )?quemando|se incendia|se incendio`).
		next("alarm alarms extinguisher extinguishers pit pits place places wood inspection inspections sprinkler sprinklers safety "+
			"door doors code codes proof rated rating drill drills hydrant wall starter starters sale escape box brick bricks pot glass "+
			"opal stick sticks off up away him her them tv fly flies ant ants suppression damage resistant retardant resistance protection "+
			"marshal lento pit insurance").
		prev("cease", "camp", "bon", "open", "rapid", "quick", "ceasefire", "cook over an open", "amazon").presentOnly(),
	rule(Emergency, "smoke", `(?:theres|there is|lots of|see|seeing|smell|smelling|smells like|full of|filled with) smoke|smoke (?:everywhere|coming|pouring|is coming|filling)|burning smell|smells? like (?:something )?burning|smell of burning|humo|olor a quemado|huele a quemado`).
		prev("detector de", "detectores de", "alarma de", "alarmas de", "sensor de").presentOnly(),
	rule(Emergency, "sparks", `sparks|sparking|sparked|electrocuted|electric shock|chispas|chispazos|electrocutado|electrocutada`).
		next("plug plugs").presentOnly(),
	rule(Emergency, "911", `(?:call|called|calling|dial|dialed|dialing|phoned|llamar al|llamen al|llame al|llamamos al|marcar al|marquen al|marque al) 911`).alone(),
	rule(Emergency, "911", `911`).alone().within(3).
		next("st street ave avenue rd road blvd boulevard dr drive ln lane way ct court pl place pkwy parkway hwy highway suite ste unit calle carrera avenida turbo carrera").
		prev("porsche"),
	rule(Emergency, "call for help", `socorro|auxilio|call the police|call police|llamen a la policia|llamar a la policia|intruder|(?:someone|somebody) (?:broke|is breaking) in|broke into (?:my|our|the)|broken into`).presentOnly(),

	// Requests for a person.
	rule(Person, "not a bot", `(?:dont|do not|dont want to|do not want to|dont wanna|wont|refuse to|no quiero|no) (?:talk|speak|text|chat|deal|hablar|textear)(?:ing)? (?:to|with|con)(?: (?:a|an|this|the|some|un|una|el|este|esta|con))? `+bot).ownNegation(),
	rule(Person, "not a bot", `(?:stop|enough with|no more|basta de|no mas) (?:the |this |el |este )?(?:bot|robot)|i hate (?:this )?(?:bot|robot)|(?:human|humano|person|persona) not (?:a |an )?`+bot).ownNegation(),
	rule(Person, "talk to a person", talk+` (?:to|with|con)`+article+realness+` `+staff),
	rule(Person, "talk to a person", `(?:someone|somebody|anyone|anybody|a person|a human|alguien) (?:i|we) (?:can|could|may) (?:talk|speak|chat) (?:to|with)|hay alguien con quien (?:pueda|puedo) hablar`),
	rule(Person, "talk to a person", `(?:is there|are there|hay) (?:a |an |un |una )?(?:human|humano|real person|live person|persona real)`),
	rule(Person, "phone call", `(?:talk|speak|chat|hablar|hablemos|hable) (?:on|over|by|por) (?:the )?(?:phone|telefono)|(?:like|want|prefer|need|get|request|requesting|rather have) (?:a|an) (?:call back|callback|phone call|call)`),
	rule(Person, "real person", `(?:real|live|actual) (?:person|human|people|agent|operator|representative|rep)|human being|(?:persona|humano|agente) (?:real|de verdad|humano)|ser humano`).
		prev(askingIfBot...),
	rule(Person, "ask for a human", `(?:want|need|get|give|have|prefer|quiero|necesito|ask for|asking for|pido)(?: me)?(?: (?:a|an|un|una|some))? (?:human|humano|humana|operator|operador|operadora|representative|representante|live agent|supervisor)`),
	rule(Person, "transfer", `(?:transfer|connect|put|patch) (?:me|us) (?:to|with|through)|(?:pasame|pasenme|paseme|ponganme|pongame|ponme|comunicame|comuniqueme|comuniquenme|transfiereme|conectame) (?:con|a)`),
	rule(Person, "call me back", `call (?:me|us) back|callback|call back (?:please|pls|plz|asap)|(?:give (?:me|us)|gimme) a (?:call|ring|buzz)|return (?:my|our) call|(?:devolver|devuelvan|devuelva|regresar|regresen|regrese)(?:me)? (?:la|mi) llamada`),
	rule(Person, "call me back", `(?:call|phone|ring) (?:me|us)|llamame|llameme|llamenme|marcame|marqueme|me (?:puede|pueden|podria|podrian|podrias|puedes|podes) (?:llamar|marcar)|me llaman|me llamas`).
		needs(callNext).prev("did you", "did u", "did someone", "did somebody", "did anyone", "who", "tried to", "why", "did you just", "did u just", "someone just", "somebody just"),
	rule(Person, "owner", `(?:is|are) (?:the|your) (?:owner|manager|boss|dentist|doctor|stylist)(?: (?:in|there|around|available|free))|(?:esta|se encuentra) (?:el|la) (?:dueno|duena|gerente|encargado|encargada|jefe|jefa)`),
	rule(Person, "owner", `(?:owner|manager|someone|somebody|a person|alguien|dueno|duena|gerente) (?:to )?(?:reach out|contact me|get back to me|get in touch|me contacte|me llame|me marque|se comunique conmigo)`),
	rule(Person, "operator", `human|humano|person|persona|operator|operador|operadora|agent|agente|representative|representante|rep|receptionist|recepcionista|manager|gerente|owner|dueno|real person|live agent|live person|customer service|servicio al cliente|front desk|someone|alguien`).wholeOnly(),
}
