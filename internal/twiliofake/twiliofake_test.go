package twiliofake

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
)

func post(t *testing.T, s *Server, form url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/2010-04-01/Accounts/"+testSID+"/Messages.json", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testSID, testToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// OnAccept sees each accepted text before its sender has the answer, and only accepted texts.
func TestOnAcceptSeesEachAcceptedTextBeforeTheAnswer(t *testing.T) {
	s := New(testSID, testToken)
	defer s.Close()
	accepted := make(chan Text, 3)
	s.OnAccept(func(txt Text) { accepted <- txt })

	resp := post(t, s, url.Values{"To": {"+16145550123"}, "From": {"+15005550006"}, "Body": {"hello"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("send answered %d", resp.StatusCode)
	}
	if len(accepted) != 1 {
		t.Fatalf("the answer came back with %d texts reported to OnAccept, want 1", len(accepted))
	}
	// Not accepted: a refusal, and a server error.
	post(t, s, url.Values{"To": {"+16145550123"}})
	s.SetFault(ServerErrors)
	post(t, s, url.Values{"To": {"+16145550124"}, "From": {"+15005550006"}, "Body": {"again"}})

	close(accepted)
	var seen []Text
	for txt := range accepted {
		seen = append(seen, txt)
	}
	texts := s.Texts()
	if len(seen) != 1 || len(texts) != 1 || seen[0] != texts[0] {
		t.Fatalf("OnAccept saw %+v; the fake accepted %+v", seen, texts)
	}
	if seen[0].To != "+16145550123" || seen[0].Body != "hello" || seen[0].At.IsZero() || seen[0].SID == "" {
		t.Fatalf("accepted text = %+v", seen[0])
	}
}
