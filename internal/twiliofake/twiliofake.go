// Package twiliofake is Twilio's Messages resource for tests: it accepts texts (POST), lists them
// newest first (GET, filtered by To and From, as Ringback looks for an earlier attempt), checks
// the account's credentials, and records everything it accepted so tests can assert on it. A
// fault can be switched on to answer 500s, hang until the client gives up, or accept a text and
// drop the answer.
package twiliofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// Text is one message the fake accepted.
type Text struct {
	SID, To, From, Body string
	At                  time.Time
}

// Fault is how the fake misbehaves, for a while.
type Fault int

const (
	// Healthy answers every request properly.
	Healthy Fault = iota
	// ServerErrors answers every request with a 500 and accepts nothing.
	ServerErrors
	// Hang holds every request until the client gives up (or the fault ends), accepting nothing.
	Hang
	// AcceptThenDrop accepts a text and closes the connection without an answer: the case an
	// outbox must reconcile rather than resend.
	AcceptThenDrop
)

// Server is a running fake.
type Server struct {
	*httptest.Server
	accountSID, authToken string

	mu       sync.Mutex
	texts    []Text
	fault    Fault
	faultEnd chan struct{} // closed when a Hang ends
	posts    int
	lists    int
	onAccept func(Text)
}

// New starts a fake for one account; Close stops it.
func New(accountSID, authToken string) *Server {
	s := &Server{accountSID: accountSID, authToken: authToken, faultEnd: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetFault switches the fake's behaviour; Healthy ends a fault (and releases hung requests).
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault == Hang && f != Hang {
		close(s.faultEnd)
		s.faultEnd = make(chan struct{})
	}
	s.fault = f
}

// OnAccept has fn called with each text as it is accepted, before the answer is written: for a
// caller that times arrivals and must not poll for them. Set it before texts arrive.
func (s *Server) OnAccept(fn func(Text)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAccept = fn
}

// Texts returns every text accepted so far, in order.
func (s *Server) Texts() []Text {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.texts)
}

// Requests counts the sends (POST) and lookups (GET) received, faulty answers included.
func (s *Server) Requests() (posts, lists int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts, s.lists
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/2010-04-01/Accounts/"+s.accountSID+"/Messages.json" {
		writeError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != s.accountSID || pass != s.authToken {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 21100, "malformed request")
		return
	}
	s.mu.Lock()
	switch r.Method {
	case http.MethodPost:
		s.posts++
	case http.MethodGet:
		s.lists++
	}
	fault, ended := s.fault, s.faultEnd
	s.mu.Unlock()

	switch fault {
	case ServerErrors:
		writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-ended:
			writeError(w, http.StatusServiceUnavailable, 20503, "Service Unavailable")
		}
		return
	}
	switch r.Method {
	case http.MethodPost:
		s.create(w, r, fault == AcceptThenDrop)
	case http.MethodGet:
		s.list(w, r)
	default:
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, drop bool) {
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	if to == "" || from == "" || body == "" {
		writeError(w, http.StatusBadRequest, 21604, "A 'To', 'From' and 'Body' are required")
		return
	}
	s.mu.Lock()
	t := Text{SID: fmt.Sprintf("SM%032d", len(s.texts)+1), To: to, From: from, Body: body, At: time.Now()}
	s.texts = append(s.texts, t)
	notify := s.onAccept
	s.mu.Unlock()
	if notify != nil {
		notify(t)
	}
	if drop {
		// The text is accepted; the answer is lost on the way back.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, http.StatusCreated, message(t))
}

// list answers newest first, one page, like Twilio's Messages list.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	to, from := r.Form.Get("To"), r.Form.Get("From")
	s.mu.Lock()
	var out []map[string]any
	for i := len(s.texts) - 1; i >= 0; i-- {
		t := s.texts[i]
		if (to == "" || t.To == to) && (from == "" || t.From == from) {
			out = append(out, message(t))
		}
	}
	s.mu.Unlock()
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "page": 0, "page_size": 50, "next_page_uri": nil})
}

func message(t Text) map[string]any {
	return map[string]any{"sid": t.SID, "to": t.To, "from": t.From, "body": t.Body, "status": "queued",
		"date_created": t.At.UTC().Format(time.RFC1123Z)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
}
