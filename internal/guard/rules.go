package guard

import (
	"regexp"
	"strings"
)

// The injection rules. Each looks for one way of talking to the model instead of to the business,
// in the folded forms of a message (see fold.go), and carries a weight:
//
//	4  decisive on its own: an instruction override, a request for the prompt, chat markup, a
//	   tool call, a jailbreak mode;
//	2  suspicious on its own: a persona switch, a claim of authority, a mention of the system
//	   prompt, text nobody could see;
//	1  only counts together with something else: SQL, key=value syntax, "new instructions".
//
// A message's score is the sum of the weights of the distinct rules it matches: Suspicious from
// 2, Likely from 4. Word lists cover English, Spanish, French, German, Portuguese and some Italian,
// accents and case folded away.

const (
	scoreSuspicious = 2
	scoreLikely     = 4
)

// Word lists shared by several rules. Every entry is already folded (lower case, no accents) and
// written as the words form spells it: apostrophes inside words dropped ("dont", "youre"), except
// before a possessive "s" and after a French elision ("ringback s", "l instruction").
const (
	// Telling the model to drop what it was told.
	ignoreVerbs = `ignore|ignoring|ignora|ignorar|ignorez|ignorer|ignoriere|ignorier|ignorieren|disregard|disregarding|` +
		`forget|forgetting|overlook|override|overwrite|bypass|discard|abandon|dismiss|olvida|olvidar|olvide|olvidate|` +
		`descarta|descartar|descarte|omite|omitir|oublie|oubliez|oublier|vergiss|vergesst|vergessen|missachte|missachten|` +
		`esqueca|esquece|esquecer|desconsidere|desconsidera|desconsiderar|dimentica|dimenticare|trascura|` +
		`set aside|put aside|throw out|scrap|` +
		`stop following|do not follow|dont follow|no longer follow|stop obeying|do not obey|dont obey|stop listening to|` +
		`haz caso omiso (?:a|de)|no hagas caso (?:a|de)|no sigas|ne (?:tiens|tenez) (?:pas|plus) compte (?:de|des|du)|` +
		`ne suis plus|ne suivez plus|hor auf mit|befolge nicht|nao siga|pare de seguir|nao obedeca|non seguire`
	// What is being dropped.
	instructionNouns = `instructions?|instrucciones|instruccion|indicaciones|consignes|anweisungen|anweisung|instruktionen|` +
		`instrucoes|instrucao|istruzioni|prompts?|systemprompt|rules|reglas|regles|regeln|regras|regole|guidelines|` +
		`directives|directivas|directrices|diretrizes|richtlinien|vorgaben|programming|programacion|programmation|` +
		`programmierung|guardrails?|restrictions|restricciones|restricoes|einschrankungen|constraints|commands|comandos|` +
		`befehle|ordres|ordens|training|policies|content policy|guidance|directions? you (?:were|got)|orientaciones|` +
		`orientacoes|script`
	// Words that make "the instructions" the model's rather than anybody's.
	strongQualifiers = `all|any|every|each|whatever|previous|prior|above|earlier|preceding|foregoing|original|initial|existing|` +
		`default|old|former|current|system|these|those|other|todas|todos|toda|todo|anteriores|anterior|previas|previos|` +
		`previa|toutes|tous|toute|tout|precedentes|precedente|anterieures|anterieurs|anterieure|alle|allen|aller|` +
		`vorherigen|vorherige|vorigen|bisherigen|obigen|fruheren|fruhere|tutte|tutti|precedenti|acima|sistema|systeme|oben`
	possessives = `your|ur|yours|s|tus|tu|sus|su|vos|votre|tes|ton|deine|deinen|deiner|dein|ihre|ihren|suas|seus|sua|` +
		`seu|tuas|teus|tua|teu|tue|tuoi|tuo`
	// "my instructions" are the caller's own: a retraction, not an attack.
	ownWords = `my|mis|mi|mes|mon|ma|meine|meinen|meiner|mein|minhas|meus|minha|meu|mie|miei|our|nuestras|nuestros|` +
		`nos|notre|unsere|unseren|nossas|nossos`
	// After the noun, words that point back at what the model was given.
	backReferences = `above|before|earlier|previously|given|told|anteriores|anterior|previas|previos|precedentes|` +
		`anterieures|oben|acima|dessus|precedenti|vorherigen|bisher`
	// After the noun, words that make a question about "your instructions" a question about a
	// topic ("your rules on cancellations", "vos consignes pour le stationnement").
	topicWords = `for|about|on|regarding|re|concerning|before|after|when|during|if|para|sobre|acerca|antes|despues|` +
		`pour|sur|concernant|avant|apres|fur|uber|zum|zur|zu|vor|nach|per|riguardo|dopo|prima`
	// Prompt-like objects: asking for any of these is asking for the prompt.
	promptNouns = `system ?prompts?|systemprompt|system message|system instructions|system rules|system configuration|` +
		`(?:initial|original|hidden|secret|confidential|internal|developer|pre|base|master|underlying) ` +
		`(?:prompt|instructions|rules|guidelines|directives|message|configuration|config)|` +
		`prompt (?:del sistema|systeme|de sistema|di sistema|do sistema|du systeme)|` +
		`instrucciones (?:del sistema|iniciales|originales|ocultas|secretas)|` +
		`instructions (?:du systeme|systeme|initiales|originales|cachees|secretes)|consignes (?:initiales|secretes)|` +
		`instrucoes (?:do sistema|iniciais|originais|ocultas|secretas)|` +
		`istruzioni (?:di sistema|del sistema|iniziali|originali|segrete|nascoste)|systemanweisungen|systemnachricht|` +
		`(?:ursprunglichen|geheimen|versteckten|internen) (?:anweisungen|regeln)|context window`
	// Prompt-like objects that need a possessive to mean the model's ("your prompt", not "the
	// prompt on the thermostat").
	bareNouns = `prompt|configuration|config|programming|context`
	// Asking to see something.
	revealVerbs = `reveal|show|display|print|output|repeat|recite|dump|leak|echo|expose|tell|give|share|send|list|` +
		`write|type|spell|copy|paste|translate|summarize|summarise|read|describe|explain|what is|what are|whats|what s|quote|` +
		`what was|what were|which are|reply with|respond with|answer with|muestra|muestrame|mostra|mostrame|revela|` +
		`revelame|repite|repiteme|dime|imprime|escribe|cual es|cuales son|ensename|montre|montrez|affiche|affichez|` +
		`revele|revelez|repete|repetez|donne|donnez|dis|dites|ecris|quel est|quelle est|quels sont|quelles sont|zeig|` +
		`zeige|zeigen|verrate|wiederhole|gib|nenne|schreib|schreibe|was ist|was sind|wie lautet|wie lauten|mostre|` +
		`repita|diga|diz|imprima|escreva|quais sao|qual e|dimmi|mostrami|ripeti|scrivi|quali sono`
	// The reveal verbs that also make a request for "your instructions" or "your rules" a request
	// for the prompt. Asking a business to send or explain its instructions is ordinary.
	strongRevealVerbs = `reveal|show|display|print|output|repeat|recite|dump|leak|echo|expose|tell|list|write|type|` +
		`spell|copy|paste|translate|summarize|summarise|what are|what were|whats|what s|quote|which are|muestra|muestrame|mostra|` +
		`mostrame|revela|revelame|repite|repiteme|dime|imprime|cuales son|montre|montrez|affiche|affichez|revele|` +
		`revelez|repete|repetez|quels sont|quelles sont|zeig|zeige|zeigen|verrate|wiederhole|nenne|was sind|` +
		`wie lauten|mostre|repita|quais sao|dimmi|mostrami|ripeti|quali sono`
	// Who the model might be told it now is.
	personas = `ai|assistant|bot|chatbot|model|llm|character|persona|agent|hacker|terminal|dan|jailbroken|unrestricted|` +
		`unfiltered|uncensored|evil|unlimited|lawyer|pirate|god|admin|administrator|developer|owner|manager|boss|` +
		`servant|slave|girlfriend|boyfriend|entity|program|gpt|chatgpt|asistente|assistant|assistent|assistente|` +
		`robot|ia|ki`
	// Tools a receptionist model is typically given; InboundOptions.ToolNames adds the real ones.
	defaultToolNames = `book_appointment|cancel_appointment|reschedule_appointment|escalate_to_human|send_sms|` +
		`lookup_customer|check_availability|get_availability|lookup_availability|list_slots|create_booking|` +
		`transfer_call|get_customer|list_bookings|issue_refund`
)

// form says which of a text's forms a rule reads.
type form uint8

const (
	onWords  form = 1 << iota // words and joined
	onPunct                   // punct
	onSquash                  // squashed
)

type rule struct {
	name   string
	weight int
	on     form
	// keys are substrings of which at least one must occur for the rule to run at all, and also
	// a second such list when set: a cheap filter that keeps most messages away from most
	// regular expressions, which is where nearly all of Inbound's time goes.
	keys, also []string
	re         *regexp.Regexp
	// accept, when set, vets each match (submatch indices into text) by its context.
	accept func(text string, m []int) bool
	// unless, for a squashed rule, skips it when the joined form already has the phrase's key word
	// as a whole word: then the word rules saw it with its context and have decided.
	unless *regexp.Regexp
}

func (r *rule) match(text string) bool {
	if len(r.keys) > 0 && !containsAny(text, r.keys) || len(r.also) > 0 && !containsAny(text, r.also) {
		return false
	}
	if r.accept == nil {
		return r.re.MatchString(text)
	}
	for _, m := range r.re.FindAllStringSubmatchIndex(text, 16) {
		if r.accept(text, m) {
			return true
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, k := range subs {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

func words(list string) *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + list + `)$`)
}

// nounKeys are fragments of instructionNouns and promptNouns, the filter for every rule that
// needs one of them.
// ignoreKeys are fragments of ignoreVerbs.
var ignoreKeys = []string{"ignor", "disregard", "forget", "overlook", "overrid", "overwrit", "bypass", "discard", "abandon",
	"dismiss", "olvid", "descart", "omit", "oubli", "vergiss", "vergess", "missacht", "esquec", "desconsider", "dimentic",
	"trascur", "aside", "throw out", "scrap", "follow", "obey", "listening", "caso", "sigas", "compte", "suis plus",
	"suivez", "hor auf", "befolge", "siga", "seguir", "obedeca"}

var nounKeys = []string{"instruc", "indicacion", "consigne", "anweisung", "istruzion", "prompt", "rule", "regla", "regle",
	"regel", "regra", "regol", "guideline", "directiv", "directrice", "diretriz", "richtlin", "vorgabe", "programm",
	"guardrail", "restrict", "restric", "einschrank", "constraint", "command", "comando", "befehl", "ordre", "orden",
	"training", "polic", "config", "context", "system", "guidance", "direction", "orientac", "script"}

var (
	ownRE        = words(ownWords)
	strongQualRE = words(strongQualifiers)
	possessiveRE = words(possessives)
	backRefRE    = words(backReferences)
	topicRE      = words(topicWords)
	promptNounRE = words(promptNouns)
	bareNounRE   = words(bareNouns)
	strongVerbRE = words(strongRevealVerbs)
	negationRE   = words(`dont|not|never|nunca|jamais|nie|nao|non|no`)
	promptAdjRE  = words(`full|whole|entire|complete|original|initial|system|hidden|exact`)
)

// fields returns the words of a words-form fragment, without sentence breaks.
func fields(s string) []string { return strings.Fields(s) }

// lastWords returns at most n words of s, counting from the end.
func lastWords(s string, n int) []string {
	w := fields(s)
	if len(w) > n {
		w = w[len(w)-n:]
	}
	return w
}

// firstWords returns at most n words of s, stopping at a sentence break.
func firstWords(s string, n int) []string {
	var out []string
	for _, w := range fields(s) {
		if w == "." || len(out) == n {
			break
		}
		out = append(out, w)
	}
	return out
}

func anyWord(ws []string, re *regexp.Regexp) bool {
	for _, w := range ws {
		if re.MatchString(w) {
			return true
		}
	}
	return false
}

// acceptIgnore vets "ignore … instructions": the words just before the noun must make them the
// model's (all, previous, your, system…) or the words after it must point back (above, you were
// given), and none may make them the sender's own ("my previous instructions").
func acceptIgnore(text string, m []int) bool {
	gap := text[m[2]:m[3]]
	if strings.Contains(gap, " . ") || strings.HasSuffix(gap, " .") {
		return false
	}
	before := lastWords(gap, 3)
	if anyWord(before, ownRE) {
		return false
	}
	if w := lastWords(text[:m[0]], 1); len(w) == 1 && negationRE.MatchString(w[0]) {
		return false // "don't forget your instructions"
	}
	after := firstWords(text[m[1]:], 3)
	if ownedAfter.MatchString(text[m[1]:]) {
		return false
	}
	switch {
	case anyWord(before, strongQualRE):
		return true
	case anyWord(before, possessiveRE):
		return len(after) == 0 || !topicRE.MatchString(after[0])
	}
	return anyWord(after, backRefRE)
}

// ownedAfter matches the words after a noun that make it the sender's own ("the instructions I
// sent about the alarm code").
var ownedAfter = regexp.MustCompile(`^ (?:i|we) (?:sent|gave|left|wrote|texted|mentioned|provided|put|added|emailed)\b`)

// acceptReveal vets "show … prompt / your instructions".
func acceptReveal(text string, m []int) bool {
	verb, gap, noun := text[m[2]:m[3]], text[m[4]:m[5]], text[m[6]:m[7]]
	if strings.Contains(gap, " . ") {
		return false
	}
	before := lastWords(gap, 3)
	after := firstWords(text[m[1]:], 2)
	topical := len(after) > 0 && topicRE.MatchString(after[0])
	switch {
	case promptNounRE.MatchString(noun):
		return true
	case bareNounRE.MatchString(noun):
		return anyWord(before, possessiveRE) ||
			anyWord(before, promptAdjRE)
	}
	return strongVerbRE.MatchString(verb) && !topical && anyWord(before, possessiveRE) && !anyWord(before, ownRE)
}

// acceptNotOwn rejects a match preceded by the sender's own possessive ("my previous instructions
// were a joke").
func acceptNotOwn(text string, m []int) bool {
	return !anyWord(lastWords(text[:m[0]], 2), ownRE)
}

var rules = []*rule{
	{name: "ignore_instructions", weight: 4, on: onWords,
		keys:   ignoreKeys,
		also:   nounKeys,
		re:     regexp.MustCompile(`\b(?:` + ignoreVerbs + `)\b((?: [^ ]+){0,8}?) (?:` + instructionNouns + `)\b`),
		accept: acceptIgnore},
	{name: "ignore_instructions", weight: 4, on: onSquash,
		keys:   []string{"ignore", "disregard", "forget", "bypass", "override"},
		unless: regexp.MustCompile(`\b(?:ignore|disregard|forget|bypass|override)\b`),
		re: regexp.MustCompile(`(?:ignore|disregard|forget|bypass|override)(?:all|any|every|the|your|previous|prior|above|` +
			`earlier|system|of)+(?:instructions?|prompts?|rules|guidelines)`)},
	{name: "ignore_what_you_were_told", weight: 4, on: onWords,
		keys: ignoreKeys,
		also: []string{"told", "given", "instructed", "programmed", "taught", "trained", "asked", "gave you", "dijeron", "dicho", "ensenaron", "pidieron", "dit", "demande", "appris", "gesagt", "aufgetragen", "beigebracht", "disseram", "falaram", "pediram", "detto"},
		re: regexp.MustCompile(`\b(?:` + ignoreVerbs + `)\b(?: [^ .]+){0,4}? (?:(?:you were|you ve been|youve been|you have been|` +
			`you got|they gave you) (?:told|given|instructed|programmed|taught|trained|asked)|lo que te (?:dijeron|han dicho|` +
			`ensenaron|pidieron)|ce qu ?on t ?a (?:dit|demande|appris)|was (?:man )?dir (?:gesagt|aufgetragen|beigebracht) ` +
			`(?:wurde|hat|worden ist)|o que te (?:disseram|falaram|pediram)|quello che ti hanno detto)\b`),
		accept: acceptNotOwn},
	{name: "ignore_what_you_were_told", weight: 4, on: onWords,
		keys: ignoreKeys,
		also: []string{"told you", "gave you", "taught you", "instructed you", "programmed you", "trained you"},
		re: regexp.MustCompile(`\b(?:` + ignoreVerbs + `)\b((?: [^ .]+){0,4}?) (?:told|gave|taught|instructed|programmed|` +
			`trained) you\b`),
		accept: func(text string, m []int) bool { return !anyWord(fields(text[m[2]:m[3]]), ownRE) }},
	{name: "ignore_above", weight: 1, on: onWords,
		keys: ignoreKeys,
		also: []string{"above", "before", "prior", "so far", "up to now", "until now", "hasta ahora", "jusqu", "bisher", "ate agora", "finora"},
		re: regexp.MustCompile(`\b(?:` + ignoreVerbs + `)\b (?:everything|anything|all|whatever|what|todo|tout|alles|tudo|tutto)` +
			`(?: [^ .]+){0,2}? (?:above|before this|before that|prior|so far|up to now|until now|hasta ahora|jusqu ici|` +
			`bisher|ate agora|finora)\b`)},
	{name: "ignore_and_say", weight: 4, on: onWords,
		keys: ignoreKeys,
		also: []string{"above", "previous", "preceding", "foregoing", "prior", "before", "earlier"},
		re: regexp.MustCompile(`\b(?:` + ignoreVerbs + `)\b (?:the |all (?:of )?the |everything |all )?(?:above|previous|` +
			`preceding|foregoing|prior|before|earlier)(?: [^ .]+){0,3}? (?:and |then |and then |\. )?(?:instead )?` +
			`(?:say|print|output|write|respond|reply|answer|translate|repeat|pretend|act|type|return|tell me)\b`)},
	{name: "instructions_void", weight: 4, on: onWords,
		keys: nounKeys,
		also: []string{"void", "null", "cancel", "invalid", "obsolete", "outdated", "revoked", "overridden", "suspended", "disabled", "deprecated", "superseded", "replaced", "a test", "a joke", "lifted", "removed", "no longer", "apply"},
		re: regexp.MustCompile(`\b(?:` + strongQualifiers + `|` + possessives + `)(?: [^ .]+)? (?:` + instructionNouns + `) ` +
			`(?:are |is |were |was |have been |has been )?(?:now )?(?:void|null|cancelled|canceled|invalid|obsolete|` +
			`outdated|revoked|overridden|suspended|disabled|deprecated|superseded|replaced|a test|a joke|lifted|removed|` +
			`no longer (?:apply|valid|active|in effect|relevant|matter|exist)|dont apply|do not apply)\b`),
		accept: acceptNotOwn},
	{name: "instructions_void", weight: 4, on: onWords,
		keys: []string{"your", "ur ", "system"},
		also: []string{"updated", "changed", "modified", "replaced", "rewritten", "overwritten", "reset"},
		re: regexp.MustCompile(`\b(?:your|ur|system|all your)(?: [^ .]+)? (?:instructions|prompt|system prompt|programming|` +
			`guidelines|directives) (?:have been|has been|were|was|are being|got) (?:updated|changed|modified|replaced|` +
			`rewritten|overwritten|reset)\b`)},
	{name: "reveal_prompt", weight: 4, on: onWords,
		keys: nounKeys,
		re: regexp.MustCompile(`\b(` + revealVerbs + `)\b((?: [^ ]+){0,8}?) (` + promptNouns + `|` + bareNouns + `|` +
			instructionNouns + `)\b`),
		accept: acceptReveal},
	{name: "reveal_prompt", weight: 4, on: onWords,
		keys: []string{"what", "which"},
		re: regexp.MustCompile(`\b(?:what|which) (?:instructions|rules|guidelines|guidance|directives|prompt|orders) (?:did|have|has|were)` +
			`(?: [^ .]+){1,3}? (?:give|gave|given|tell|told|send|sent|write|wrote|written) (?:you|to you)\b`)},
	{name: "reveal_prompt", weight: 4, on: onSquash,
		keys:   []string{"reveal"},
		unless: regexp.MustCompile(`\breveal\b`),
		re:     regexp.MustCompile(`reveal(?:your|the)(?:system)?(?:prompt|instructions|rules)`)},
	{name: "reveal_prompt", weight: 4, on: onWords,
		keys: []string{"above", "before", "preceding", "so far", "from the", "at the top", "up to here", "with"},
		also: []string{"repeat", "print", "output", "translate", "copy", "rewrite", "summar", "show", "display", "write out", "paste", "echo", "dump", "return", "give me", "recite", "start", "begin"},
		re: regexp.MustCompile(`\b(?:repeat|print|output|translate|copy|rewrite|summarize|summarise|show|display|write out|` +
			`paste|echo|dump|return|give me|recite)\b(?: [^ .]+){0,3}? (?:text|words|content|contents|everything|all|lines?|` +
			`messages?|conversation|context|instructions|prompt|rules|tokens)(?: [^ .]+){0,2}? (?:above|before this|` +
			`before my message|before the message|before this message|preceding|so far|from the start|from the beginning|` +
			`from the top|at the top|up to here)\b|\b(?:starting|beginning|begin|start|that starts|which starts) with ` +
			`(?:the words? )?(?:you are|you re|youre)\b`)},
	{name: "history_probe", weight: 2, on: onWords,
		keys: []string{"first", "initial", "original", "opening", "earliest"},
		also: []string{"repeat", "show", "print", "output", "tell me", "give me", "paste", "copy", "send me", "what"},
		re: regexp.MustCompile(`\b(?:repeat|show|print|output|tell me|give me|paste|copy|send me|what (?:is|was|were))\b` +
			`(?: [^ .]+){0,2}? (?:first|initial|original|opening|earliest)(?: \d+| [a-z]+)? (?:message|messages|instructions|prompt|` +
			`text|lines?|words|sentences?|paragraphs?)\b`)},
	{name: "prompt_mention", weight: 2, on: onWords,
		keys: []string{"prompt", "system", "secret", "hidden", "confidential", "internal", "context window", "your programming", "sistema", "systeme"},
		re: regexp.MustCompile(`\b(?:system ?prompts?|systemprompt|system message|system instructions|pre ?prompt|initial prompt|` +
			`hidden prompt|secret (?:instructions|rules|prompt|guidelines)|hidden (?:instructions|rules|guidelines)|` +
			`confidential (?:instructions|guidelines|rules)|internal (?:instructions|guidelines|rules)|` +
			`prompt (?:del sistema|systeme|de sistema|di sistema|do sistema|du systeme)|instrucciones del sistema|` +
			`instrucoes do sistema|context window|prompt injection|your prompt|ur prompt|your programming)\b`)},
	{name: "prompt_mention", weight: 2, on: onWords,
		keys: []string{"told", "tell", "gave", "give", "instructed", "programmed"},
		also: []string{" ai", " bot", "assistant", "chatbot", "model", "llm"},
		re:   regexp.MustCompile(`\b(?:told|tell|gave|give|instructed|programmed) (?:their|the|your|this) (?:ai|bot|assistant|chatbot|model|llm)\b`)},
	{name: "prompt_mention", weight: 2, on: onWords,
		keys: []string{"given", "told", "taught", "provided", "handed"},
		also: []string{" you", " u "},
		re: regexp.MustCompile(`\b(?:instructions|rules|guidelines|guidance|directives|prompt|script|setup text|orders|sentences|lines|words|` +
			`text|messages?) (?:were |have )?(?:you|u) (?:were |have been |ve been |got |been )?(?:given|told|taught|provided|handed)\b`)},
	{name: "prompt_mention", weight: 2, on: onWords,
		keys: []string{"gave you", "sent you", "wrote you", "handed you"},
		re: regexp.MustCompile(`\b(?:instructions|rules|guidelines|guidance|directives|prompt|script|setup text|text|orders) ` +
			`(?:the business|the owner|they|someone|somebody|ringback|your (?:boss|owner|creator|developer)) ` +
			`(?:gave|sent|wrote|handed) you\b`)},
	{name: "told_probe", weight: 2, on: onWords,
		keys: []string{"told", "instructed", "programmed", "trained", "configured", "set up", "prompted", "asked", "given", "tell you", "instruct you", "program you"},
		also: []string{"what", "how", "who"},
		re: regexp.MustCompile(`\bwhat (?:were|have|did) (?:you|they|u) (?:been )?(?:told|instructed|programmed|trained|asked|given) ` +
			`to (?:say|do|tell|answer|respond|reply|write|never|not|avoid|hide)\b|` +
			`\bwhat did (?:they|the business|the owner|your owner|your boss|your creator|your developer) (?:tell|instruct|program) you\b|` +
			`\bhow (?:were|are|have) you (?:been )?(?:programmed|instructed|configured|set up|prompted)\b|` +
			`\bwho (?:programmed|configured|instructed|prompted) you\b`)},
	{name: "verbatim_request", weight: 2, on: onWords,
		keys: []string{"word", "verbatim", "mot", "palabra", "letra", "wort", "palavra", "parola", "letteral"},
		re: regexp.MustCompile(`\b(?:word for word|verbatim|mot pour mot|mot a mot|palabra por palabra|al pie de la letra|` +
			`wort fur wort|wortlich|palavra por palavra|parola per parola|letteralmente)\b`)},
	{name: "persona_switch", weight: 2, on: onWords,
		keys: []string{"now", "henceforth"},
		also: []string{"you", "ur ", "u r"},
		re: regexp.MustCompile(`\b(?:you are|youre|you re|ur|u r|you will be|youll be) (?:now|from now on|henceforth) ` +
			`(?:an? |my |the |called |named |in )?(?:[^ .]+ )?(?:` + personas + `|[a-z0-9]*gpt[a-z0-9]*|[a-z0-9]+bot)\b|` +
			`\b(?:you are|youre|you re) (?:an? |my )(?:[^ .]+ )?(?:` + personas + `) now\b|` +
			`\bfrom (?:this point|this moment|here|now) (?:on|onwards?|forward) (?:you|u|your) (?:are|re|only|new|job|task|` +
			`role|purpose|goal)\b|\bfrom now on (?:you|u) (?:are|re|will (?:be|act|respond|answer|reply|speak|behave|play|` +
			`pretend|only|always|never|ignore|obey|do)|must (?:act|respond|answer|obey|reply|ignore)|act|respond|answer|` +
			`reply|obey|ignore)\b`)},
	{name: "persona_switch", weight: 2, on: onWords,
		keys: []string{"from this", "from here"},
		re: regexp.MustCompile(`\bfrom (?:this point|this moment|here) (?:on|onwards?|forward) (?:you|u|your) (?:are|re|only|` +
			`new|job|task|role|purpose|goal)\b`)},
	{name: "persona_switch", weight: 2, on: onWords,
		keys: []string{"no longer", "forget", "gpt", "bot", "chatgpt", "claude", "gemini", "llama", "bard", "copilot"},
		also: []string{"you", "ur "},
		re: regexp.MustCompile(`\b(?:you are|youre|you re|ur) no longer (?:an?|the|my|bound|restricted|limited|required|allowed)\b|` +
			`\bforget (?:that )?(?:you are|youre|you re) (?:an?|the)\b|\b(?:you are|youre|you re) ` +
			`(?:now )?(?:[a-z0-9]*gpt[a-z0-9]*|[a-z0-9]+bot)\b|(?:^|\. )(?:you are|youre|you re) (?:chatgpt|gpt ?\d*|dan|` +
			`claude|gemini|llama|bard|copilot)\b`)},
	{name: "persona_switch", weight: 2, on: onWords,
		keys: []string{"ahora", "ya no", "maintenant", "desormais", "plus", "bist", "agora", "voce", "ora sei", "adesso", "da ora", "non sei"},
		re: regexp.MustCompile(`\b(?:ahora eres|ahora seras|a partir de ahora (?:eres|seras|vas a|actuaras|responderas|actua|responde)|` +
			`ya no eres|tu es maintenant|vous etes maintenant|desormais tu|desormais vous|a partir de maintenant (?:tu|vous)|` +
			`tu n es plus|tu nes plus|vous n etes plus|du bist jetzt|du bist nun|ab jetzt bist du|ab sofort bist du|` +
			`du bist nicht mehr|agora voce e|agora vc e|agora tu es|a partir de agora voce|voce nao e mais|ora sei|` +
			`adesso sei|da ora in poi sei|non sei piu)\b`)},
	{name: "act_as", weight: 2, on: onWords,
		keys: []string{"act ", "behave", "respond", "answer", "reply", "speak", "talk", "function", "operate", "pose"},
		also: []string{" as", " like"},
		re: regexp.MustCompile(`(?:^|\. |\b(?:you|u|please|pls|can you|could you|would you|will you|i want you to|i need you to|` +
			`now|just|lets|let s|let us|go ahead and|time to) )(?:act|behave|respond|answer|reply|speak|talk|function|operate|pose) ` +
			`(?:as|like) (?:if|though|a|an|my|the|someone|somebody|his|her|their|dan|your|you)\b|` +
			`\b(?:you will|youll|you must|you shall|you re going to|youre going to|you are going to|from now on you) ` +
			`(?:act|behave|respond|answer|reply|speak|talk) (?:as|like)\b`)},
	{name: "act_as", weight: 2, on: onWords,
		keys: []string{"pretend", "imagine", "simulate", "impersonat", "role of", "part of"},
		re: regexp.MustCompile(`\bpretend (?:to be|you are|youre|you re|that you are|ur|u r|you were|to be a) (?:an?|the|my|someone|` +
			`somebody|his|her|their|dan|your|an ai|a bot|another|different|not)\b|\bpretend (?:that )?you (?:have|had|` +
			`dont have) no\b|\bimagine (?:you are|youre|you re|that you are|being|yourself as)\b|\bsimulate (?:a|an|being|` +
			`that|you)\b|\bimpersonate\b|\bplay (?:the|a) (?:role|part) of\b|\bin the role of\b`)},
	{name: "act_as", weight: 2, on: onWords,
		keys: []string{"actua", "actue", "haz como", "comportate", "finge", "fingir", "hazte", "semblant", "agis", "agissez", "comporte toi", "joue", "jouez", "fais comme", "prends le", "so als", "spiel die", "verhalte", "gib dich", "stell dir", "finja", "aja como", "atue", "faca de", "se passe", "fai finta", "comportati", "fingi"},
		re: regexp.MustCompile(`\b(?:actua|actue|actuar) como\b|\bhaz como si\b|\bcomportate como\b|\bfinge (?:ser|que)\b|` +
			`\bfingir ser\b|\bhazte pasar por\b|\bfais semblant\b|\bfaites semblant\b|\bagis comme\b|\bagissez comme\b|` +
			`\bcomporte toi comme\b|\bjoue le role\b|\bjouez le role\b|\bfais comme si\b|\bprends le role\b|\btu so als\b|` +
			`\btun sie so als\b|\bspiel die rolle\b|\bverhalte dich (?:wie|als)\b|\bgib dich als\b|\bstell dir vor du bist\b|` +
			`\bfinja (?:ser|que)\b|\baja como\b|\batue como\b|\bfaca de conta\b|\bse passe por\b|\bfai finta\b|` +
			`\bcomportati come\b|\bfingi di essere\b`)},
	{name: "roleplay", weight: 2, on: onWords,
		keys: []string{"play", "character", "hypothetical", "simulation", "rol", "pretend", "imagine", "assume", "suppose"},
		re: regexp.MustCompile(`\b(?:lets|let s|let us|wanna|want to|we will|well) (?:play a game|roleplay|role play|play pretend|` +
			`do a roleplay|pretend|imagine)\b|\b(?:lets|let s|let us) play(?: a)? (?:game|you|youre|you re|pretend|` +
			`make believe|roleplay|this)\b|\b(?:pretend|imagine|assume|suppose) (?:that )?this is (?:a |an |just a )?` +
			`(?:test|simulation|game|sandbox|dev|development|training|hypothetical)\b|\brole ?play (?:as|with me|where|in which|time|scenario|game|you)\b|` +
			`\bstay in character\b|\bbreak character\b|\bin character as\b|\bthis is (?:a|just a) (?:roleplay|game|` +
			`hypothetical|simulation)\b|\bjuego de rol\b|\bjeu de role\b|\brollenspiel\b|\bjogo de interpretacao\b`)},
	{name: "persona_switch", weight: 2, on: onWords,
		keys: []string{"evil", "unfiltered", "unrestricted", "uncensored", "jailbroken", "rogue", "malicious", "unethical", "amoral", "unhinged", "uncontrolled", "unlimited", "limitless", "lawless"},
		re: regexp.MustCompile(`\b(?:an?|the|your|my) (?:evil|unfiltered|unrestricted|uncensored|jailbroken|rogue|malicious|` +
			`unethical|amoral|unhinged|uncontrolled|unlimited|limitless|lawless)(?: [^ .]+)? (?:ai|assistant|bot|receptionist|` +
			`version|model|chatbot|character|twin|persona|mode|self|alter ego|clone|agent)\b`)},
	{name: "no_restrictions", weight: 2, on: onWords,
		keys: []string{"restrict", "limit", "rule", "guideline", "guardrail", "censor", "boundar", "safety", "security", "content", "ethic", "moral", "unfiltered", "uncensored", "jailbroken", "holds barred", "sin ", "sans ", "ohne ", "sem ", "senza ", "filter"},
		re: regexp.MustCompile(`\b(?:no|without(?: any)?|free (?:of|from)|zero|remove(?: all)?(?: your| the)?|` +
			`disable(?: all)?(?: your| the)?|turn off(?: all)?(?: your| the)?|lift(?: all)?(?: your| the)?|` +
			`drop(?: all)?(?: your)?|bypass(?: all)?(?: your| the)?|has no|have no|had no|with no) (?:restrictions?|` +
			`limits|limitations|rules|guidelines|guardrails|censorship|boundaries|filters|safety (?:checks|filters|rules|` +
			`guidelines|features|measures)|content (?:filters?|polic(?:y|ies))|ethics|morals)\b|` +
			`\b(?:unfiltered|uncensored|unrestricted|jailbroken|no holds barred)\b|\b(?:safety|security|content) (?:protocols?|checks|` +
			`filters?|rules|features|guardrails) (?:are )?(?:off|offline|disabled|down|removed|suspended|lifted)\b|` +
			`\b(?:sin|sans|ohne|sem|senza) ` +
			`(?:restricciones|limites|reglas|filtros|restrictions|regles|filtres|filtre|limite|einschrankungen|regeln|` +
			`filter|grenzen|restricoes|regras|restrizioni|regole|limiti)\b|\bfilter aus\b`)},
	{name: "jailbreak_mode", weight: 4, on: onWords,
		keys: []string{"mode", "anything now", "jailbreak", "modo", "modus"},
		re: regexp.MustCompile(`\b(?:developer|dev|god|jailbreak|jailbroken|dan|sudo|unrestricted|unfiltered|evil|admin|` +
			`administrator|debug|superuser|super user|root) mode\b|\bdo anything now\b|\bjailbreak(?:s|ing|ed)?\b|` +
			`\bmodo (?:desarrollador|de desarrollador|dios|administrador|desenvolvedor|de desenvolvedor|sviluppatore|` +
			`sin restricciones)\b|\bmode (?:developpeur|developeur|dieu|admin|administrateur|debug|sans restriction)\b|` +
			`\b(?:entwicklermodus|entwickler modus|adminmodus|gottmodus|debugmodus)\b`)},
	{name: "jailbreak_mode", weight: 4, on: onSquash,
		keys: []string{"developermode", "doanythingnow", "jailbreak"},
		re:   regexp.MustCompile(`developermode|doanythingnow|jailbreak`)},
	{name: "mode_switch", weight: 2, on: onWords,
		keys: []string{"mode"},
		re: regexp.MustCompile(`\b(?:enter|enable|activate|switch to|turn on|go into|engage|unlock|boot into|start) (?:the )?` +
			`(?:maintenance|test|testing|service|diagnostic|diagnostics|safe|unsafe|raw|unlocked|privileged|expert|override) mode\b`)},
	{name: "authority_claim", weight: 2, on: onWords,
		keys: []string{"developer", "creator", "programmer", "admin", "operator", "engineer", "maker", "owner", "designer"},
		also: []string{" of ", " for ", " behind "},
		re: regexp.MustCompile(`\b(?:i am|im|this is|we are|were|its|it s) (?:the |your |an? )?(?:developer|creator|programmer|admin|` +
			`administrator|sysadmin|operator|engineer|maker|owner|designer)s? (?:of|for|behind) (?:this|the|you|your) ` +
			`(?:bot|ai|assistant|system|model|chatbot|app|service|program|software|llm|agent)\b`)},
	{name: "authority_claim", weight: 2, on: onWords,
		keys: []string{"your "},
		also: []string{"developer", "creator", "programmer", "admin", "operator", "owner", "master", "boss", "maker", "supervisor"},
		re: regexp.MustCompile(`\b(?:i am|im|this is|speaking as|as) your (?:developer|creator|programmer|admin|administrator|operator|` +
			`owner|master|boss|maker|supervisor)\b`)},
	{name: "authority_claim", weight: 2, on: onWords,
		keys: []string{"openai", "anthropic", "ringback", "twilio", "meta ai", "google ai", "microsoft", "developer", "support", "security", "admin"},
		also: []string{"openai", "anthropic", "ringback", "twilio", "meta ai", "google ai", "microsoft", "this is"},
		re: regexp.MustCompile(`\b(?:openai|anthropic|ringback|twilio|meta ai|google ai|microsoft) (?:staff|team|support|admin|` +
			`administrator|engineer|engineering|employee|security|developer|developers|here)\b|` +
			`\bthis is (?:openai|anthropic|ringback|the ringback team|the developers?|tech support|it support|` +
			`the security team|the system administrator|the admin)\b`)},
	{name: "authority_claim", weight: 2, on: onWords,
		keys: []string{"override", " code", "authori", "approved", "instructed you", "wants you to", "to tell you"},
		re: regexp.MustCompile(`\b(?:priority|admin|administrator|system|security|emergency|root|developer|master) override\b|` +
			`\b(?:override|authorization|authorisation|admin|master) code\b|` +
			`\bauthori[sz]ed (?:by|from) (?:the )?(?:owner|admin|administrator|manager|developer|business|ringback|` +
			`openai|management|system)\b|\b(?:owner|manager|boss|admin|administrator|business) (?:has |have )?` +
			`(?:authori[sz]ed|approved|pre approved|preapproved|instructed you|wants you to)\b|` +
			`\b(?:owner|manager|boss|admin|administrator|developer|management|business) (?:told|asked|said)(?: me)? to tell you\b`)},
	{name: "authority_claim", weight: 2, on: onWords,
		keys: []string{"rights", "access", "privileges", "permissions", "powers", "status"},
		also: []string{"grant", "given", "giving", "give"},
		re: regexp.MustCompile(`\b(?:granted|given|giving|grant|give) (?:you )?(?:full |temporary |elevated |special )?(?:admin|` +
			`administrator|root|developer|elevated|superuser|unrestricted) (?:rights|access|privileges|permissions|powers|status)\b`)},
	{name: "model_address", weight: 2, on: onWords,
		keys: []string{" to ", " for "},
		re: regexp.MustCompile(`\b(?:message|note|instruction|instructions|memo|notice|alert|reminder) (?:to|for) (?:the )?` +
			`(?:ai|assistant|bot|model|chatbot|llm|language model|agent)\b`)},
	{name: "model_address", weight: 2, on: onPunct,
		keys: []string{","},
		re:   regexp.MustCompile(`^(?:assistant|ai|bot|chatbot|model|system|gpt|chatgpt)\s*,`),
		accept: func(text string, m []int) bool {
			return directive.MatchString(restOfLine(text, m[1]))
		}},
	{name: "obedience", weight: 2, on: onWords,
		keys: []string{"must", "will", "have to", "shall", "need to", "obey", "order", "command", "instruct", "direct", "exactly", "as i", "what i", "no choice", "work for me", "serve me", "obedec", "obeis", "gehorch", "obbedis"},
		re: regexp.MustCompile(`\b(?:you must|you will|you have to|you shall|you need to) (?:now )?(?:obey|comply|follow my|` +
			`do whatever i|do everything i|do exactly|do as i)\b|\bobey (?:me|my|the following|these|this|every)\b|` +
			`\bi (?:order|command|instruct|direct) you\b|\bdo (?:exactly )?(?:as|what) i (?:say|tell you|command|order)\b|` +
			`\byou have no choice\b|\byou work for me\b|\byou serve me\b|\b(?:obedeceme|obedece|obeis|gehorche|obedeca|` +
			`obbedisci)\b`)},
	{name: "output_control", weight: 1, on: onWords,
		keys: []string{"reply", "respond", "answer", "say", "output", "print", "write", "start", "begin", "end", "repeat", "instead"},
		re: regexp.MustCompile(`\b(?:reply|respond|answer|say|output|print|write) (?:only|just|exactly|solely) (?:with|the word|` +
			`the words|yes|no)\b|\breply with the word\b|\b(?:start|begin|end) (?:every|each|your) (?:reply|response|` +
			`answer|message) with\b|\bsay (?:yes|ok|okay) to everything\b|\brepeat after me\b|\bsay (?:exactly|verbatim)\b|` +
			`\breply (?:yes|ok) to everything\b|\binstead say\b`)},
	{name: "new_instructions", weight: 1, on: onWords,
		keys: []string{"new", "updated", "revised", "real", "actual", "true", "nuevas", "nouvelles", "neue", "novas", "nuove"},
		re: regexp.MustCompile(`\b(?:new|updated|revised|real|actual|true) (?:instructions|directive|directives|task|policy|` +
			`system instructions|orders)\b|\bnuevas (?:instrucciones|reglas)\b|\bnouvelles (?:instructions|consignes|regles)\b|` +
			`\bneue (?:anweisungen|regeln)\b|\bnovas (?:instrucoes|regras)\b|\bnuove istruzioni\b`)},
	{name: "new_instructions", weight: 2, on: onWords,
		keys: []string{"your", "ur "},
		re: regexp.MustCompile(`\b(?:your|ur) (?:new|real|actual|true|only) (?:instructions|rules|task|job|goal|purpose|` +
			`objective|role|persona|identity|mission|directive|orders)\b`)},
	{name: "fake_boundary", weight: 2, on: onWords,
		keys: []string{" of ", "system"},
		re: regexp.MustCompile(`\b(?:end|start|beginning|begin) of (?:the )?(?:user |human |customer |caller |system |` +
			`assistant |untrusted )?(?:message|input|prompt|instructions|conversation|context|transcript)\b|` +
			`\b(?:new|updated|real) system (?:instructions|prompt|message|rules)\b`)},
	{name: "customer_data", weight: 4, on: onWords,
		keys: []string{"customer", "client", "patient", "caller", "user", "people", "patron", "texter", "contact", "everyone", "everybody", "booking", "appointment", "kunden", "persona"},
		re: regexp.MustCompile(`\b(?:numbers?|phones?|phone numbers?|cell numbers?|contact (?:info|information|details)|emails?|` +
			`email addresses|addresses|names|details|data|info|information|records)(?: and [^ .]+(?: [^ .]+)?)? ` +
			`(?:of|for|from) (?:(?:(?:all|every|each|your|the|other|another|previous|past|last) )+(?:[^ .]+ )?` +
			`(?:customers?|clients?|patients?|callers?|users?|people|patrons|texters|contacts)|everyone|everybody|anyone else)\b|` +
			`\b(?:other|all|every|previous|last|another|past|their|your other)(?: [^ .]+)? (?:customers?|clients?|patients?|` +
			`callers?|users?|texters)(?: s)? (?:phone )?(?:numbers?|phones|contact info|emails?|addresses|data|details|` +
			`info|records)\b|\b(?:list|dump|export|give me|send me|show me|tell me|print|output) (?:(?:all|every|the|your) )+` +
			`(?:[^ .]+ )?(?:customers?|clients?|patients?|callers?|contacts|bookings|appointments)(?: [^ .]+){0,3}? ` +
			`(?:with|and|including) (?:their |the )?(?:phone|numbers?|contact|emails?|addresses|names|times|appointments|` +
			`bookings|schedules?|details|info|slots)\b|` +
			`\b(?:everyone|everybody|other peoples?|other customers|all customers)(?: s)? (?:appointments?|appointment times|` +
			`bookings?|numbers?|phone numbers?|addresses|emails?|details|info|schedules?)\b|` +
			`\b(?:numeros|telefonos|citas|datos|nombres|direcciones|numeros de telefono) de (?:los |las )?(?:otros|otras|demas) ` +
			`(?:clientes|pacientes|personas)\b|\b(?:numeros|coordonnees|rendez vous|donnees|noms|adresses) des autres ` +
			`(?:clients|patients)\b|\b(?:nummern|telefonnummern|termine|daten|adressen) (?:der|von) (?:anderen|allen) ` +
			`(?:kunden|patienten)\b|\b(?:numeros|telefones|horarios|agendamentos|dados|nomes|enderecos) (?:dos|de) ` +
			`(?:outros|demais) (?:clientes|pacientes)\b`)},
	{name: "customer_data", weight: 2, on: onWords,
		keys: []string{"list", "database", " db", "records", "table", "dump", "export", "spreadsheet", "kunden", "clientes", "clients", "clienti"},
		re: regexp.MustCompile(`\b(?:customer|client|patient|caller|contact|user)s? (?:list|lists|database|db|records|table|` +
			`dump|export|spreadsheet)\b|\b(?:kundenliste|kundendaten|lista de clientes|liste des clients|` +
			`liste de clients|base de datos de clientes|dados dos clientes|lista dei clienti)\b`)},
	{name: "other_caller", weight: 2, on: onWords,
		keys: []string{"person", "caller", "customer", "client", "patient", "texter", "people", "guy", "lady", "woman", "man"},
		re: regexp.MustCompile(`\b(?:last|previous|other|another|prior|next) (?:person|caller|customer|client|patient|texter|` +
			`people|guy|lady|woman|man)(?: [^ .]+){0,4}? (?:say|said|text|texted|wrote|write|number|phone|name|address|email)\b|` +
			`\b(?:person|customer|caller|client|patient|people|guy|lady) (?:who|that) (?:booked|called|texted|had the slot|` +
			`was booked) (?:before|after|ahead of) me\b`)},
	{name: "contact_request", weight: 2, on: onWords,
		keys: []string{"their", "personal", "private", "cell", "home", "mobile", " of ", "nummer", "numero", "telefon", "telephone", "celular", "direcc", "portable", "adresse", "endereco"},
		re: regexp.MustCompile(`\b(?:give|send|tell|text|share)(?: me)? their(?: personal| private| cell| home| direct| mobile)? ` +
			`(?:number|phone|phone number|cell|cell number|address|home address|email)\b|` +
			`\b(?:owners?|technicians?|techs?|doctors?|dentists?|staff)(?: s)? (?:personal|private|cell|home|mobile) ` +
			`(?:number|phone|phone number|address|email)\b|` +
			`\b(?:telefonnummer|handynummer|nummer) (?:des|vom) (?:inhabers|besitzers|chefs|inhaber|besitzer|chef)\b|` +
			`\b(?:numero|telefono|celular|direccion)(?: de telefono)? del (?:dueno|propietario|jefe|gerente)\b|` +
			`\b(?:numero|telephone|portable|adresse) du (?:proprietaire|patron|gerant)\b|` +
			`\b(?:telefone|numero|celular|endereco) do (?:dono|proprietario|chefe|gerente)\b|` +
			`\b(?:number|phone|phone number|cell|contact info|address|email) of (?:the )?(?:person|customer|caller|client|` +
			`patient|people|guy|lady) (?:who|that) (?:booked|called|texted|came|had|was)\b`)},
	{name: "secrets", weight: 2, on: onWords,
		keys: []string{"password", "passcode", "pin", "credential", "key", "token", "login", "secret", "env", "logs"},
		re: regexp.MustCompile(`\b(?:admin|administrator|root|system|api|database|db|master|server|twilio|stripe|openai) ` +
			`(?:password|passcode|passwords|pin|credentials|key|keys|token|tokens|login|secret|secrets)\b|` +
			`\b(?:api|secret|private|access|auth|bearer) (?:key|keys|token|tokens)\b|\benv(?:ironment)? (?:vars|variables)\b|` +
			`\b(?:system|server) logs?\b|\bshow me the logs\b`)},
	{name: "tool_call", weight: 4, on: onPunct,
		keys: []string{`"`, `'`},
		also: []string{`"name`, `'name`, `"tool`, `'tool`, `"function`, `'function`, `"action`, `'action`, `"argument`,
			`'argument`, `"param`, `'param`, `"args`, `'args`, `"input`, `'input`, `"type`, `'type`, `"role`, `'role`},
		re: regexp.MustCompile(`["'](?:name|tool|tool_name|function|function_name|action)["']\s*:\s*["'][^"']{1,80}["']\s*,\s*` +
			`["'](?:arguments|parameters|params|args|input|kwargs|action_input)["']\s*:|` +
			`["'](?:arguments|parameters|params|args|input)["']\s*:[^{}]{0,200}["'](?:name|tool|function)["']\s*:|` +
			`["'](?:function_call|tool_calls?|tool_use|tool_choice)["']\s*:|` +
			`["']type["']\s*:\s*["'](?:function|tool_use|tool_call)["']|` +
			`["']role["']\s*:\s*["'](?:system|assistant|developer|tool|function)["']`)},
	{name: "tool_call", weight: 4, on: onPunct,
		keys: []string{"<", "tool_", "function_call"},
		also: []string{"tool", "function", "invoke"},
		re: regexp.MustCompile(`<\s*/?\s*(?:tool_call|tool_use|function_call|function_calls|tool|invoke)\b[^>]*>|` +
			`<\s*function\s*=|\[\s*tool_calls?\s*\]|\b(?:tool_calls?|function_call|tool_use)\s*:`)},
	{name: "tool_call", weight: 4, on: onPunct,
		keys: []string{"_"},
		also: []string{"("},
		re: regexp.MustCompile(`\b(?:` + defaultToolNames + `|(?:book|cancel|reschedule|escalate|send|lookup|look_up|get|list|` +
			`create|delete|update|set|check|find|search|transfer|refund|charge|issue|apply|fetch|query|run|exec|execute|` +
			`notify|call)_[a-z0-9_]+)\s*\(\s*(?:\)|[a-z_]+\s*[=:]|["'{\[*]|all\b|true\b|none\b|null\b)`)},
	{name: "tool_request", weight: 2, on: onPunct,
		keys: []string{`"`, `'`},
		re:   regexp.MustCompile(`\{\s*["'](?:action|tool|function|command|intent|operation)["']\s*:\s*["'][a-z_]+["']`)},
	{name: "tool_name", weight: 2, on: onPunct,
		keys: []string{"_"},
		re: regexp.MustCompile(`\b(?:` + defaultToolNames + `)\b|\b(?:book|cancel|reschedule|escalate|send|lookup|look_up|get|` +
			`list|create|delete|update|set|check|find|search|transfer|refund|charge|issue|apply|fetch|query|run|exec|` +
			`execute|notify|call)_[a-z][a-z_]*\b`)},
	{name: "tool_direction", weight: 2, on: onWords,
		keys: []string{"tool", "function", "api", "endpoint", "plugin", "action", "command"},
		re: regexp.MustCompile(`(?:^|\. |\b(?:please|pls|now|just|go ahead and|you must|you should|you need to|i want you to|` +
			`i need you to|can you|could you|you will|then|and) )(?:use|call|invoke|run|execute|trigger|fire|activate) ` +
			`(?:the |your |a |this |that |my )?` +
			`(?:[^ .]+ ){0,2}?(?:tool|tools|function|functions|api|endpoint|plugin|action|command)\b`)},
	{name: "kwarg_syntax", weight: 1, on: onPunct,
		keys: []string{"="},
		re:   regexp.MustCompile(`\b[a-z_]{2,}\s*=\s*['"]`)},
	{name: "sql", weight: 1, on: onPunct,
		keys: []string{"table", "select", "delete", "insert", "update", "=", "--", "xp_"},
		re: regexp.MustCompile(`\b(?:drop|truncate|alter)\s+table\b|\bunion\s+(?:all\s+)?select\b|\bdelete\s+from\b|` +
			`\binsert\s+into\b|\bupdate\s+\w+\s+set\b|\bor\s+'?1'?\s*=\s*'?1|;\s*--|\bselect\s+[\w*, ]+\s+from\b|xp_cmdshell`)},
	{name: "chat_markup", weight: 4, on: onPunct,
		keys: []string{"<", "[", "#"},
		re: regexp.MustCompile(`<\s*\|[^|<>\n]{1,40}\|\s*>|\[\s*/?\s*inst\s*\]|<<\s*/?\s*sys\s*>>|` +
			`<\s*/?\s*(?:system|assistant|user|instructions?|sys|developer|prompt|human|im_start|im_end)\s*>|` +
			`(?m:^\s*#{2,}\s*(?:instruction|instructions|system|response|assistant|user|input|human|context|prompt)\b)|` +
			`\[\s*(?:system|sys|admin|administrator|developer|root|sudo|assistant|priority|instructions?)(?:\s+[a-z]+)?\s*\]`)},
	{name: "role_prefix", weight: 4, on: onPunct,
		keys: []string{":"},
		re:   rolePrefixRE,
		accept: func(text string, m []int) bool {
			return machineRole(text[m[2]:m[3]]) && directive.MatchString(restOfLine(text, m[1]))
		}},
	{name: "role_label", weight: 1, on: onPunct,
		keys: []string{":"},
		re:   rolePrefixRE,
		accept: func(text string, m []int) bool {
			return machineRole(text[m[2]:m[3]]) && !directive.MatchString(restOfLine(text, m[1]))
		}},
}

var rolePrefixRE = regexp.MustCompile(`(?:^|\n|[.!?]\s+)[\s\[(<!*#>/-]*(system|sistema|systeme|assistant|asistente|assistente|assistent|` +
	`ai|ia|ki|bot|model|developer|gpt|chatgpt|claude|llama|human|user|usuario|utilisateur|benutzer|nutzer|admin|` +
	`administrator|root|operator)(?:\s+(?:message|prompt|note|notice|instruction|instructions|override|update|command)){0,2}\s*:`)

// directive matches the content of a line that speaks to the model as its operator would: a
// "System:" label in front of an equipment model number is not a fake system turn.
var directive = regexp.MustCompile(`\b(?:you must|you are|you will|you may|you should|you can now|you have|your new|` +
	`your instructions|your rules|caller is|user is|customer is|always|never|must|ignore|reveal|new policy|new rule|` +
	`policy|override|verified|authori[sz]ed|admin|mode|prompt|instructions|rules|book|cancel|share|confirm|skip|free|` +
	`discount|respond|reply|answer|print|list|output|disable|enable|i have|i've|done|sure|booked|cancelled|canceled|` +
	`granted|you have been|cancel|allow|callers|\d+ ?% off|` +
	`here is|here's|obey|comply|allowed|permitted|access|priority|unrestricted)\b`)

func machineRole(role string) bool {
	switch role {
	case "human", "user", "usuario", "utilisateur", "benutzer", "nutzer":
		return false
	}
	return true
}

func restOfLine(text string, i int) string {
	if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
		return text[i : i+j]
	}
	return text[i:]
}

// fakeDialogue reports whether punct holds line-initial role labels of both a person and the
// model ("User: … Assistant: …"): a transcript written to make the model believe it already agreed.
func fakeDialogue(punct string) bool {
	if !strings.Contains(punct, ":") {
		return false
	}
	human, machine := false, false
	for _, m := range rolePrefixRE.FindAllStringSubmatch(punct, 16) {
		if machineRole(m[1]) {
			machine = true
		} else {
			human = true
		}
	}
	return human && machine
}

// promptRequest matches the verbs that turn a mention of the prompt into a request for it.
var promptRequest = regexp.MustCompile(`\b(?:reveal|show|display|print|output|repeat|list|share|tell me|give me|copy|dump|leak|` +
	`translate|summarize|spell|recite|what (?:does|do|would) (?:it|they|your [a-z]+) say|what would|read me|write out|` +
	`paste|quote)\b`)

// decodeWords and obeyWords say that an encoded blob is meant for the model to decode and act on.
var (
	decodeWords = regexp.MustCompile(`\b(?:decode|decoded|decoding|decipher|decrypt|base ?64|b64|hex|rot ?13|binary|unescape|` +
		`url ?decode|descodifica|decodifica|decodifique|dekodiere|entschlussele)`)
	obeyWords = regexp.MustCompile(`\b(?:follow it|follow them|follow that|do what it says|do what they say|execute it|` +
		`run it|obey it|act on it|do it|follow the instructions?|sigue(?:las)?|haz lo que dice|suis les|fais ce qu|` +
		`befolge|faca o que)\b`)
	reverseWords = regexp.MustCompile(`\b(?:backwards?|reversed?|read it from the end|al reves|a l envers|ruckwarts|` +
		`de tras para frente|invertido)\b`)
	rot13Words = regexp.MustCompile(`\brot[ -]?13\b`)
)
