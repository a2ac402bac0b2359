package quiethours

// stateRule is a state's rule that is stricter than the TCPA.
type stateRule struct {
	start, end Clock
	// cap is the most automated messages allowed per rolling 24 hours;
	// 0 means no cap.
	cap int
}

// stateRules holds the state rules stricter than the federal window.
var stateRules = map[string]stateRule{
	// Florida Telephone Solicitation Act, Fla. Stat. 501.059(8)(a):
	// no calls or texts before 8 a.m. or after 8 p.m. local time, and no
	// more than 3 within 24 hours on the same subject matter.
	"FL": {start: At(8, 0), end: At(20, 0), cap: 3},
	// Oklahoma Telephone Solicitation Act of 2022, 15 O.S. 775C.4:
	// 8 a.m. to 8 p.m. local time, no more than 3 within 24 hours on the
	// same subject matter.
	"OK": {start: At(8, 0), end: At(20, 0), cap: 3},
	// Maryland Stop the Spam Calls Act of 2023, Md. Code Com. Law
	// 14-4504: 8 a.m. to 8 p.m. local time.
	"MD": {start: At(8, 0), end: At(20, 0)},
}

// areaCodeState maps the NANP area codes of the states in stateRules to
// the state. Only those states are listed: a number elsewhere gets the
// federal rule alone.
var areaCodeState = map[string]string{
	// Florida.
	"239": "FL", "305": "FL", "321": "FL", "324": "FL", "352": "FL",
	"386": "FL", "407": "FL", "448": "FL", "561": "FL", "645": "FL",
	"656": "FL", "689": "FL", "727": "FL", "728": "FL", "754": "FL",
	"772": "FL", "786": "FL", "813": "FL", "850": "FL", "863": "FL",
	"904": "FL", "941": "FL", "954": "FL",
	// Oklahoma.
	"405": "OK", "539": "OK", "572": "OK", "580": "OK", "918": "OK",
	// Maryland.
	"227": "MD", "240": "MD", "301": "MD", "410": "MD", "443": "MD",
	"667": "MD",
}

// extraZones adds zones to area codes for which phonenumbers v1.8.1 returns
// a single zone though the area spans two. Adding the second zone makes the
// window the overlap of both, which is the conservative choice.
var extraZones = map[string][]string{
	// Southwestern Indiana (Evansville and neighbouring counties) keeps
	// Central time; the library returns only America/New_York.
	"812": {"America/Chicago"},
	"930": {"America/Chicago"}, // overlay of 812
	// Florida panhandle west of the Apalachicola River is Central; the
	// library returns only America/New_York.
	"850": {"America/Chicago"},
	"448": {"America/Chicago"}, // overlay of 850
	// Western Kentucky is Central; the library returns only New_York.
	"270": {"America/Chicago"},
	"364": {"America/Chicago"}, // overlay of 270
	// The Nebraska panhandle is Mountain; the library returns only Chicago.
	"308": {"America/Denver"},
	// The Navajo Nation in northeastern Arizona observes daylight saving
	// time (Mountain, as Denver); the library returns only America/Phoenix.
	"928": {"America/Denver"},
}
