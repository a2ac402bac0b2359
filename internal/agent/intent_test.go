package agent

import "testing"

func TestIntroducedName(t *testing.T) {
	b := Business{Name: "Demo Salon", Services: []Service{{Name: "Haircut", Minutes: 30}, {Name: "Color", Minutes: 90}}}
	for text, want := range map[string]string{
		"Hi, I'm Dana Whitfield, call me at 614-555-0142": "Dana Whitfield",
		"this is dana":                     "Dana",
		"me llamo Ana":                     "Ana",
		"Dana Lee":                         "Dana Lee",
		"Can I get a haircut tomorrow?":    "",
		"Haircut":                          "",
		"what times do you have on Monday": "",
	} {
		if got := IntroducedName(text, b); got != want {
			t.Errorf("IntroducedName(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestDetectBookingChange(t *testing.T) {
	for text, want := range map[string]BookingChange{
		"I need to cancel my appointment":       CancelBooking,
		"Can you cancel it please":              CancelBooking,
		"Please cancel the booking for Monday":  CancelBooking,
		"quiero cancelar mi cita":               CancelBooking,
		"don't cancel my appointment, I'm late": NoBookingChange,
		"do not cancel my appointment":          NoBookingChange,
		"can I move it to 4pm instead":          NoBookingChange,
		"what's your cancellation policy?":      NoBookingChange,
		"thanks, see you then":                  NoBookingChange,
	} {
		if got := DetectBookingChange(text); got != want {
			t.Errorf("DetectBookingChange(%q) = %v, want %v", text, got, want)
		}
	}
}
