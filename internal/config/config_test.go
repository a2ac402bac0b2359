package config

import (
	"strings"
	"testing"
	"time"
)

func base() map[string]string {
	return map[string]string{
		"DATABASE_URL":            "postgres://localhost/ringback",
		"RINGBACK_PHONE_HASH_KEY": strings.Repeat("k", 32),
		"TWILIO_ACCOUNT_SID":      "AC123",
		"TWILIO_AUTH_TOKEN":       "token",
		"RINGBACK_ADMIN_TOKEN":    strings.Repeat("a", 24),
		"RINGBACK_PUBLIC_URL":     "https://ringback.example.com/",
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(FromMap(base()), Starter)
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != Production || c.TaskQueue != "ringback" || c.ListenAddr != ":8080" || c.ConversationIdleTimeout != 24*time.Hour {
		t.Fatalf("defaults wrong: %+v", c)
	}
	if c.PublicURL != "https://ringback.example.com" {
		t.Fatalf("trailing slash kept: %q", c.PublicURL)
	}
	if c.Sandbox() {
		t.Fatal("sandbox with an account SID")
	}
}

func TestProductionWorkerRefusesSandbox(t *testing.T) {
	m := base()
	delete(m, "TWILIO_ACCOUNT_SID")
	if _, err := Load(FromMap(m), Worker); err == nil || !strings.Contains(err.Error(), "TWILIO_ACCOUNT_SID") {
		t.Fatalf("err = %v", err)
	}
	m["RINGBACK_ENV"] = "dev"
	c, err := Load(FromMap(m), Worker)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sandbox() {
		t.Fatal("dev without SID should be sandbox")
	}
}

func TestStarterRequirements(t *testing.T) {
	cases := map[string]func(m map[string]string){
		"TWILIO_AUTH_TOKEN":       func(m map[string]string) { delete(m, "TWILIO_AUTH_TOKEN") },
		"RINGBACK_ADMIN_TOKEN":    func(m map[string]string) { m["RINGBACK_ADMIN_TOKEN"] = "short" },
		"RINGBACK_PUBLIC_URL":     func(m map[string]string) { m["RINGBACK_PUBLIC_URL"] = "http://x.example.com" },
		"RINGBACK_PHONE_HASH_KEY": func(m map[string]string) { m["RINGBACK_PHONE_HASH_KEY"] = "short" },
		"DATABASE_URL":            func(m map[string]string) { delete(m, "DATABASE_URL") },
		"RINGBACK_ENV":            func(m map[string]string) { m["RINGBACK_ENV"] = "staging" },
		"IDLE_TIMEOUT":            func(m map[string]string) { m["RINGBACK_CONVERSATION_IDLE_TIMEOUT"] = "5s" },
	}
	for want, mutate := range cases {
		m := base()
		mutate(m)
		_, err := Load(FromMap(m), Starter)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
}

func TestPublicURLWithPathRejected(t *testing.T) {
	m := base()
	m["RINGBACK_PUBLIC_URL"] = "https://example.com/prefix"
	if _, err := Load(FromMap(m), Starter); err == nil {
		t.Fatal("path accepted")
	}
}

func TestCLIDemandsNothingUpFront(t *testing.T) {
	if _, err := Load(FromMap(map[string]string{}), CLI); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(FromMap(map[string]string{}), Worker); err == nil {
		t.Fatal("worker started without DATABASE_URL")
	}
}
