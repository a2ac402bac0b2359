package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/ringback/ringback/internal/config"
)

func TestUnknownCommandsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"frobnicate"}, {"tenant"}, {"tenant", "delete"}, {"simulate", "fax"}} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}, config.FromMap(nil))
		if !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &out, &bytes.Buffer{}, config.FromMap(nil)); err != nil || !strings.Contains(out.String(), "simulate call") {
		t.Fatalf("help: %v %q", err, out.String())
	}
}

func TestSimulateCallPostsASignatureTwilioAccepts(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	var got url.Values
	var valid bool
	srv := httptest.NewServer(nil)
	defer srv.Close()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm
		params := map[string]string{}
		for k := range r.PostForm {
			params[k] = r.PostForm.Get(k)
		}
		v := client.NewRequestValidator(token)
		valid = r.URL.Path == "/twilio/voice/status" && v.Validate(srv.URL+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature"))
	})
	env := config.FromMap(map[string]string{"RINGBACK_PUBLIC_URL": srv.URL, "TWILIO_AUTH_TOKEN": token})
	var out bytes.Buffer
	err := run(context.Background(), []string{"simulate", "call", "--from", "(614) 555-0123", "--to", "+15005550006", "--status", "busy"}, &out, &bytes.Buffer{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !valid {
		t.Fatal("twilio-go's validator rejected the simulated webhook")
	}
	if got.Get("From") != "+16145550123" || got.Get("CallStatus") != "busy" || !strings.HasPrefix(got.Get("CallSid"), "CA") {
		t.Fatalf("posted %v", got)
	}
	if strings.Contains(out.String(), "6145550123") {
		t.Fatalf("output shows the caller's number: %q", out.String())
	}
	if err := run(context.Background(), []string{"simulate", "call", "--from", "nope", "--to", "+15005550006"}, &out, &bytes.Buffer{}, env); err == nil {
		t.Fatal("invalid --from accepted")
	}
	if err := run(context.Background(), []string{"simulate", "call", "--from", "+16145550123", "--to", "+15005550006"}, &out, &bytes.Buffer{}, config.FromMap(nil)); err == nil || !strings.Contains(err.Error(), "RINGBACK_PUBLIC_URL") {
		t.Fatalf("missing configuration: %v", err)
	}
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"postgres":"ok"}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck", "--url", srv.URL}, &out, &bytes.Buffer{}, config.FromMap(nil)); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := run(context.Background(), []string{"healthcheck", "--url", srv.URL}, &out, &bytes.Buffer{}, config.FromMap(nil)); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unhealthy server: %v", err)
	}
}
