package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/testenv"
)

var ackLink = regexp.MustCompile(`https?://\S+/ack/\S+`)

// TestEscalationReachesTheOwnerWhoTakesItOver: with no model configured, a caller asking for a
// person is handed over: the caller is told someone will get back to them, the owner gets the
// caller's number and a link, opening the link changes nothing, and confirming it marks the
// escalation acknowledged.
func TestEscalationReachesTheOwnerWhoTakesItOver(t *testing.T) {
	testenv.RequireIntegration(t)
	st := startStack(t, "RINGBACK_MODEL_URL=none")
	const caller, owner = "+16145550177", "+16145550100"
	if out, err := run(t, st.cli, st.env, "simulate", "sms", "--from", caller, "--to", "+15005550006", "--body", "Can I talk to a real person please?"); err != nil {
		t.Fatalf("simulate sms: %v\n%s", err, out)
	}
	var toCaller, toOwner string
	eventually(t, "the holding text and the owner's alert", func() bool {
		toCaller, toOwner = "", ""
		for _, m := range st.twilio.Texts() {
			switch m.To {
			case caller:
				toCaller = m.Body
			case owner:
				toOwner = m.Body
			}
		}
		return toCaller != "" && toOwner != ""
	})
	if !strings.Contains(toCaller, "get back to you") {
		t.Fatalf("caller was told %q", toCaller)
	}
	link := ackLink.FindString(toOwner)
	if !strings.Contains(toOwner, "(614) 555-0177") || !strings.Contains(toOwner, "asked for a person") || link == "" {
		t.Fatalf("owner's alert = %q", toOwner)
	}

	conn, err := pgx.Connect(context.Background(), st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	escalations := pgx.Identifier{"t_" + st.tenant.ID}.Sanitize() + ".escalations"
	acknowledged := func() bool {
		var ok bool
		err := conn.QueryRow(context.Background(), `SELECT acknowledged_at IS NOT NULL FROM `+escalations).Scan(&ok)
		return err == nil && ok
	}
	resp, err := http.Get(link) // what a phone's link preview does
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || acknowledged() {
		t.Fatalf("GET %d, acknowledged %v: opening the link must not take the conversation over", resp.StatusCode, acknowledged())
	}
	resp, err = http.PostForm(link, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST the link: %d", resp.StatusCode)
	}
	eventually(t, "the acknowledgement to be recorded", acknowledged)
	var stage string
	eventually(t, "the conversation to show it is handed off", func() bool {
		err := conn.QueryRow(context.Background(), `SELECT stage FROM `+pgx.Identifier{"t_" + st.tenant.ID}.Sanitize()+`.conversations`).Scan(&stage)
		return err == nil && stage == "handed_off"
	})
	st.recordHistory(t, st.conversationID(t, caller), "conversation_escalated_and_acknowledged")
}
