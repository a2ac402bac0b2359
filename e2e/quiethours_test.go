package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/optout"
	"github.com/ringback/ringback/internal/quiethours"
	"github.com/ringback/ringback/internal/testenv"
)

// nightCaller returns a caller whose local time is outside the allowed window right now. One of
// New York, London and Tokyo always is, whatever the hour and daylight saving.
func nightCaller(t *testing.T) string {
	t.Helper()
	for _, caller := range []string{"+12125550123", "+442079460123", "+81312345678"} {
		d, err := quiethours.Next(time.Now(), caller, quiethours.Policy{TenantTimezone: "America/New_York"})
		if err != nil {
			t.Fatal(err)
		}
		// Asleep for at least ten more minutes, so the window cannot open during the test.
		if !d.Allowed && time.Until(d.At) > 10*time.Minute {
			return caller
		}
	}
	t.Fatal("no candidate caller is in quiet hours now")
	return ""
}

// TestStopDuringQuietHoursSendsNothing on the real stack: a call from someone whose local time is
// night is not texted back; the conversation waits on a durable timer; the caller's STOP ends it,
// and the only text they ever get is the opt-out confirmation.
func TestStopDuringQuietHoursSendsNothing(t *testing.T) {
	testenv.RequireIntegration(t)
	st := startStack(t, "RINGBACK_QUIET_HOURS=enforce", "RINGBACK_MODEL_URL=none")
	caller := nightCaller(t)
	if out, err := run(t, st.cli, st.env, "simulate", "call", "--from", caller, "--to", "+15005550006"); err != nil {
		t.Fatalf("simulate call: %v\n%s", err, out)
	}
	conn, err := pgx.Connect(context.Background(), st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	conversations := pgx.Identifier{"t_" + st.tenant.ID}.Sanitize() + ".conversations"
	eventually(t, "the conversation to wait in quiet hours", func() bool {
		var stage string
		err := conn.QueryRow(context.Background(), `SELECT stage FROM `+conversations).Scan(&stage)
		return err == nil && stage == "quiet_hours"
	})
	if n := len(st.twilio.Texts()); n != 0 {
		t.Fatalf("%d texts sent at night", n)
	}
	if out, err := run(t, st.cli, st.env, "simulate", "sms", "--from", caller, "--to", "+15005550006", "--body", "stop"); err != nil {
		t.Fatalf("simulate STOP: %v\n%s", err, out)
	}
	eventually(t, "the conversation to close", func() bool {
		var closed bool
		err := conn.QueryRow(context.Background(), `SELECT closed_at IS NOT NULL FROM `+conversations).Scan(&closed)
		return err == nil && closed
	})
	confirmation := optout.Confirmation(optout.OptOut, "Demo Salon")
	eventually(t, "the confirmation", func() bool { return len(st.twilio.Texts()) == 1 })
	if got := st.twilio.Texts(); got[0].To != caller || got[0].Body != confirmation {
		t.Fatalf("texts = %v, want only the confirmation", got)
	}
	st.recordHistory(t, st.conversationID(t, caller), fmt.Sprintf("conversation_%s", "stop_during_quiet_hours"))
}
