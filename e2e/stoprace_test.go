package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ringback/ringback/internal/optout"
	"github.com/ringback/ringback/internal/testenv"
)

// gatedModel is a model that holds every request until the test lets it answer, so a STOP can
// be recorded while a turn is in flight.
type gatedModel struct {
	arrived chan struct{}
	release chan struct{}
	srv     *httptest.Server
}

func newGatedModel(t *testing.T) *gatedModel {
	g := &gatedModel{arrived: make(chan struct{}, 16), release: make(chan struct{})}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.arrived <- struct{}{}
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "model": "local",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": "Sure, we have openings tomorrow at 10am. Want one?"}}},
		})
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// TestStopRacingAnInFlightTurnWins: the caller texts, the model is thinking, the caller sends
// STOP. The STOP is recorded before the webhook answers, and the model's reply, arriving after,
// is never sent: the caller gets exactly one text, the opt-out confirmation. Repeated for many
// callers, because a race that is lost once in twenty is still lost.
func TestStopRacingAnInFlightTurnWins(t *testing.T) {
	testenv.RequireIntegration(t)
	model := newGatedModel(t)
	st := startStack(t, "RINGBACK_MODEL_URL="+model.srv.URL+"/v1", "RINGBACK_MODEL=local", "RINGBACK_MODEL_TIMEOUT=60s")
	conn, err := pgx.Connect(context.Background(), st.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	confirmation := optout.Confirmation(optout.OptOut, "Demo Salon")

	const rounds = 12
	for i := range rounds {
		caller := fmt.Sprintf("+1614555%04d", 300+i)
		if out, err := run(t, st.cli, st.env, "simulate", "sms", "--from", caller, "--to", "+15005550006", "--body", "Do you have time tomorrow?"); err != nil {
			t.Fatalf("round %d: simulate sms: %v\n%s", i, err, out)
		}
		<-model.arrived // the turn is in flight
		if out, err := run(t, st.cli, st.env, "simulate", "sms", "--from", caller, "--to", "+15005550006", "--body", "STOP"); err != nil {
			t.Fatalf("round %d: simulate STOP: %v\n%s", i, err, out)
		}
		model.release <- struct{}{} // the model answers, after the STOP was recorded
		eventually(t, fmt.Sprintf("round %d: the conversation to close", i), func() bool {
			var open int
			err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+pgx.Identifier{"t_" + st.tenant.ID}.Sanitize()+`.conversations
				WHERE closed_at IS NULL`).Scan(&open)
			return err == nil && open == 0
		})
		eventually(t, fmt.Sprintf("round %d: the confirmation", i), func() bool {
			for _, m := range st.twilio.Texts() {
				if m.To == caller && m.Body == confirmation {
					return true
				}
			}
			return false
		})
		var to []string
		for _, m := range st.twilio.Texts() {
			if m.To == caller {
				to = append(to, m.Body)
			}
		}
		if len(to) != 1 {
			t.Fatalf("round %d: the caller got %d texts after STOP raced the model, want only the confirmation: %s", i, len(to), strings.Join(to, " | "))
		}
		if i == 0 {
			st.recordHistory(t, st.conversationID(t, caller), "conversation_stop_during_model_turn")
		}
	}
}
