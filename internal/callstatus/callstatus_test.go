package callstatus

import "testing"

func TestMissed(t *testing.T) {
	tests := map[string]bool{
		NoAnswer: true, Busy: true, Failed: true, Canceled: true,
		Completed: false, InProgress: false, Ringing: false, Answered: false, "": false, "NO-ANSWER": false,
	}
	for status, want := range tests {
		if got := Missed(status); got != want {
			t.Errorf("Missed(%q) = %v, want %v", status, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{NoAnswer, Completed, Ringing, Canceled} {
		if err := Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "missed", "No-Answer"} {
		if err := Validate(bad); err == nil {
			t.Errorf("Validate(%q) accepted", bad)
		}
	}
}
