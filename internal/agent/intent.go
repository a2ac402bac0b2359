package agent

import "strings"

// IntroducedName returns the name the caller gives in a message ("I'm Dana Whitfield", "this is
// dana", "me llamo Ana", "Dana Lee"), or "". The model path uses it to learn names before the
// model sees them, so a fallback endpoint gets them masked; words that are the business's
// service names are never taken for a name.
func IntroducedName(text string, b Business) string {
	return findName(clip(text, maxScanBytes), false, serviceWords(b))
}

// BookingChange is what a caller with a booking asks to do with it.
type BookingChange int

// Booking changes.
const (
	NoBookingChange BookingChange = iota
	// CancelBooking: the caller wants the appointment cancelled.
	CancelBooking
)

// cancelPhrases name the appointment explicitly: a bare "cancel" is an opt-out keyword and is
// handled (as STOP) before a message ever reaches the conversation.
var cancelPhrases = []string{
	"cancel my appointment", "cancel the appointment", "cancel my booking", "cancel the booking",
	"cancel it", "cancel that appointment", "cancel my reservation", "need to cancel", "want to cancel",
	"have to cancel", "cancelar mi cita", "cancelar la cita", "quiero cancelar", "necesito cancelar",
}

// DetectBookingChange reports whether a message asks to cancel the caller's appointment.
// Rescheduling needs no detection: a new time the caller agrees to moves the booking.
func DetectBookingChange(text string) BookingChange {
	folded := " " + strings.Join(words(fold(clip(text, maxScanBytes))), " ") + " "
	for _, p := range cancelPhrases {
		if strings.Contains(folded, " "+strings.Join(words(fold(p)), " ")+" ") {
			if cancelNegated(folded, p) {
				return NoBookingChange
			}
			return CancelBooking
		}
	}
	return NoBookingChange
}

// cancelNegated catches "don't cancel", "do not cancel", "no need to cancel" right before the phrase.
func cancelNegated(folded, phrase string) bool {
	i := strings.Index(folded, " "+strings.Join(words(fold(phrase)), " ")+" ")
	before := strings.Fields(folded[:i])
	for j := max(0, len(before)-3); j < len(before); j++ {
		switch before[j] {
		case "dont", "don", "not", "no", "never", "nao":
			return true
		}
	}
	return false
}
