package twiliosig

import (
	"testing"

	"github.com/twilio/twilio-go/client"
)

// Twilio's published test vector (twilio-go client/request_validator_test.go).
var (
	vectorToken  = "12345"
	vectorURL    = "https://mycompany.com/myapp.php?foo=1&bar=2"
	vectorParams = map[string]string{
		"Digits": "1234", "CallSid": "CA1234567890ABCDE", "To": "+18005551212",
		"Caller": "+14158675309", "From": "+14158675309",
	}
	vectorSignature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
)

func TestSignMatchesPublishedVector(t *testing.T) {
	if got := Sign(vectorToken, vectorURL, vectorParams); got != vectorSignature {
		t.Fatalf("Sign = %q, want %q", got, vectorSignature)
	}
}

func TestTwilioValidatorAcceptsOurSignatures(t *testing.T) {
	v := client.NewRequestValidator("secret-token")
	params := map[string]string{"CallSid": "CA00000000000000000000000000000001", "CallStatus": "no-answer", "Body": "héllo & more"}
	url := "https://ringback.example.com/twilio/voice/status"
	sig := Sign("secret-token", url, params)
	if !v.Validate(url, params, sig) {
		t.Fatal("twilio-go rejected our signature")
	}
	params["CallStatus"] = "completed"
	if v.Validate(url, params, sig) {
		t.Fatal("tampered parameter still validates")
	}
	other := client.NewRequestValidator("other")
	if other.Validate(url, map[string]string{"CallSid": "x"}, Sign("secret-token", url, map[string]string{"CallSid": "x"})) {
		t.Fatal("signature valid under another token")
	}
}
