package agent

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// message is one sentence or two of a scripted reply, in English and Spanish.
type message int

const (
	msgHolding message = iota
	msgWelcome
	msgConfirming
	msgAskService
	msgAskName
	msgOpenAskName
	msgWhichTime
	msgAskDay
	msgSorry
	msgSorryName
	msgNoneThatDay
	msgTaken
	msgJustTaken
	msgBooked
	msgHandOff
	msgPerson
	msgEmergency
)

// Bounds that keep every scripted reply within MaxReplyLen whatever the business calls itself and
// its services: the longest combination of messages, with a 40-character business name, 40-character
// service names and a 60-character caller name, stays under it.
const (
	maxReplyBusinessName = 40
	maxReplyServiceName  = 40
	maxServiceListLen    = 180
)

// say composes a reply from messages. It uses only the business's name and services, the script's
// own state and the times the workflow reported: nothing else about the business is ever claimed.
// b may be the zero Business and loc nil where neither is needed (Offer, BookResult).
func (s *Script) say(b Business, loc *time.Location, msgs ...message) string {
	parts := make([]string, 0, len(msgs))
	for _, m := range msgs {
		parts = append(parts, s.text(b, loc, m))
	}
	return limitReply(strings.Join(parts, " "))
}

func (s *Script) text(b Business, loc *time.Location, m message) string {
	es := s.Lang == "es"
	// team is who follows up, as the object of "a member of", "alguien de" and "avisé a".
	team, teamDe, teamA := "our team", "nuestro equipo", "a nuestro equipo"
	if n := shorten(b.Name, maxReplyBusinessName); n != "" {
		team, teamDe, teamA = "the "+n+" team", "del equipo de "+n, "al equipo de "+n
	}
	if es {
		team = teamDe
		if !strings.HasPrefix(teamDe, "del ") {
			team = "de " + teamDe
		}
	}
	service := shorten(s.Service, maxReplyServiceName)
	slot := slotText(s.Start, s.Lang)
	pick := func(en, sp string) string {
		if es {
			return sp
		}
		return en
	}
	switch m {
	case msgHolding:
		return pick("Thanks. A member of "+team+" will get back to you as soon as they can.",
			"Gracias. Alguien "+team+" le responderá lo antes posible.")
	case msgWelcome:
		if s.Start.IsZero() {
			return pick("You're welcome!", "¡De nada!")
		}
		return pick("You're welcome! See you "+slot+".", "¡De nada! Le esperamos el "+slot+".")
	case msgConfirming:
		return pick("One moment, I'm confirming your booking.", "Un momento, estoy confirmando su cita.")
	case msgAskService:
		list, all := serviceList(b)
		if all {
			return pick("Which service would you like? "+list+". Reply with the number.",
				"¿Qué servicio desea? "+list+". Responda con el número.")
		}
		return pick("Which service would you like? "+list+"… Reply with the number or the name.",
			"¿Qué servicio desea? "+list+"… Responda con el número o el nombre.")
	case msgAskName:
		return pick("Great, "+slot+". What name should I put the booking under?",
			"Perfecto, el "+slot+". ¿A nombre de quién hago la cita?")
	case msgOpenAskName:
		return pick(slot+" is open. What name should I put the booking under?",
			"El "+slot+" está disponible. ¿A nombre de quién hago la cita?")
	case msgWhichTime:
		return s.whichTime(service)
	case msgAskDay:
		return pick(`What day works for you? For example, "tomorrow" or "Monday afternoon".`,
			`¿Qué día le conviene? Por ejemplo, "mañana" o "el lunes por la tarde".`)
	case msgSorry:
		return pick("Sorry, I didn't catch that.", "Perdón, no le entendí.")
	case msgSorryName:
		return pick("Sorry, I didn't catch your name. What name should I put the booking under?",
			"Perdón, no entendí su nombre. ¿A nombre de quién hago la cita?")
	case msgNoneThatDay:
		day := s.Day
		if !s.Start.IsZero() {
			day = s.Start
		}
		return pick("Sorry, there are no openings for "+service+" on "+dayText(day, "en")+". What other day works for you?",
			"Lo siento, no hay horarios para "+service+" el "+dayText(day, "es")+". ¿Qué otro día le conviene?")
	case msgTaken:
		return pick("Sorry, "+slot+" isn't available.", "Lo siento, el "+slot+" no está disponible.")
	case msgJustTaken:
		return pick("Sorry, that time was just taken.", "Lo siento, ese horario se acaba de ocupar.")
	case msgBooked:
		return pick("You're booked, "+s.Name+": "+service+" on "+slot+". Thank you!",
			"Listo, "+s.Name+": "+service+" el "+slot+". ¡Gracias!")
	case msgHandOff:
		return pick("Sorry for the trouble. A member of "+team+" will text you back as soon as they can.",
			"Disculpe las molestias. Alguien "+team+" le escribirá lo antes posible.")
	case msgPerson:
		return pick("Of course. I've asked a member of "+team+" to contact you as soon as they can.",
			"Claro. Le pedí a alguien "+team+" que se comunique con usted lo antes posible.")
	case msgEmergency:
		number := emergencyNumber(loc)
		if number == "" {
			return pick("If anyone is in danger, call your local emergency number now. I've alerted "+team+", and someone will contact you as soon as they can.",
				"Si alguien está en peligro, llame al número de emergencias ahora. Ya avisé "+teamA+" y alguien se comunicará con usted lo antes posible.")
		}
		return pick("If anyone is in danger, call "+number+" now. I've alerted "+team+", and someone will contact you as soon as they can.",
			"Si alguien está en peligro, llame al "+number+" ahora. Ya avisé "+teamA+" y alguien se comunicará con usted lo antes posible.")
	}
	return ""
}

// whichTime lists the offered times by number.
func (s *Script) whichTime(service string) string {
	es := s.Lang == "es"
	forService := ""
	if service != "" {
		forService = map[bool]string{false: " for ", true: " para "}[es] + service
	}
	if len(s.Offered) == 1 {
		if es {
			return "Tengo el " + slotText(s.Offered[0], "es") + forService + ". ¿Le sirve? Si no, dígame otro día."
		}
		return "I have " + slotText(s.Offered[0], "en") + forService + ". Does that work? If not, tell me another day."
	}
	var list []string
	var nums []string
	for i, t := range s.Offered {
		list = append(list, fmt.Sprintf("%d) %s", i+1, slotText(t, s.Lang)))
		nums = append(nums, strconv.Itoa(i+1))
	}
	or := " or "
	if es {
		or = " o "
	}
	choices := strings.Join(nums[:len(nums)-1], ", ") + or + nums[len(nums)-1]
	if es {
		return "Tengo estos horarios" + forService + ": " + strings.Join(list, " ") + ". Responda " + choices + ", o dígame otro día."
	}
	return "I have these times" + forService + ": " + strings.Join(list, " ") + ". Reply " + choices + ", or tell me another day."
}

// serviceList numbers the business's services for a caller to pick from, as many as fit; all
// reports whether every one of them did.
func serviceList(b Business) (list string, all bool) {
	services := b.services()
	var items []string
	n := 0
	for i, sv := range services {
		item := fmt.Sprintf("%d) %s", i+1, shorten(sv.Name, maxReplyServiceName))
		if n+runes(item)+1 > maxServiceListLen {
			return strings.Join(items, " "), false
		}
		items = append(items, item)
		n += runes(item) + 1
	}
	return strings.Join(items, " "), true
}

// shorten cuts tenant text to max characters for a reply, at a word boundary when there is one
// in the second half.
func shorten(s string, max int) string {
	s = oneLine(s, max+1)
	if runes(s) <= max {
		return s
	}
	r := string([]rune(s)[:max])
	if i := strings.LastIndex(r, " "); i > len(r)/2 {
		return r[:i]
	}
	return r
}

// limitReply is the last guard on a reply's length; the bounds above should make it unnecessary.
func limitReply(s string) string {
	if runes(s) <= MaxReplyLen {
		return s
	}
	r := []rune(s)[:MaxReplyLen-1]
	if i := strings.LastIndex(string(r), " "); i > MaxReplyLen/2 {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}

// nanpZones are zones of countries where 911 is the emergency number (the US, Canada, Mexico and
// US territories). Elsewhere, or when unsure, a reply names no number rather than a wrong one.
var nanpZones = set("America/New_York America/Detroit America/Chicago America/Denver America/Phoenix America/Los_Angeles " +
	"America/Anchorage America/Juneau America/Sitka America/Yakutat America/Nome America/Adak America/Metlakatla America/Boise " +
	"America/Menominee America/Indiana/Indianapolis America/Indiana/Knox America/Indiana/Marengo America/Indiana/Petersburg " +
	"America/Indiana/Tell_City America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac " +
	"America/Kentucky/Louisville America/Kentucky/Monticello America/North_Dakota/Beulah America/North_Dakota/Center " +
	"America/North_Dakota/New_Salem Pacific/Honolulu America/Puerto_Rico America/St_Thomas Pacific/Guam Pacific/Saipan " +
	"Pacific/Pago_Pago America/Toronto America/Vancouver America/Edmonton America/Winnipeg America/Halifax America/St_Johns " +
	"America/Regina America/Moncton America/Glace_Bay America/Goose_Bay America/Whitehorse America/Dawson America/Yellowknife " +
	"America/Iqaluit America/Rankin_Inlet America/Cambridge_Bay America/Inuvik America/Swift_Current America/Dawson_Creek " +
	"America/Fort_Nelson America/Creston America/Atikokan America/Blanc-Sablon America/Mexico_City America/Monterrey " +
	"America/Merida America/Matamoros America/Chihuahua America/Ojinaga America/Ciudad_Juarez America/Mazatlan " +
	"America/Bahia_Banderas America/Hermosillo America/Tijuana America/Cancun " +
	"US/Eastern US/Central US/Mountain US/Pacific US/Alaska US/Hawaii US/Arizona Canada/Eastern Canada/Central " +
	"Canada/Mountain Canada/Pacific Canada/Atlantic Canada/Newfoundland")

func emergencyNumber(loc *time.Location) string {
	if loc != nil && nanpZones[loc.String()] {
		return "911"
	}
	return ""
}
