package config

import (
	"encoding/base64"
	"os"
	"path/filepath"
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
		"RINGBACK_PUBLIC_URL":     "https://ringback.example.com/",
		"RINGBACK_MASTER_KEY":     base64.StdEncoding.EncodeToString([]byte(strings.Repeat("m", 32))),
		// A key made for these tests by `ringback audit keygen`.
		"RINGBACK_AUDIT_SIGNING_KEY": "PRIVATE+KEY+config-test+aa6fb76f+AZX4zKWhpPvNU+fmjr9c5yhEjdFdj6nqukNNIhwgKfrz",
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
	if c.ComplianceTaskQueue != "ringback-compliance" {
		t.Fatalf("compliance task queue = %q, want one of its own next to the default", c.ComplianceTaskQueue)
	}
	if c.Sandbox() {
		t.Fatal("sandbox with an account SID")
	}
}

func TestComplianceTaskQueueIsSeparate(t *testing.T) {
	m := base()
	m["RINGBACK_TASK_QUEUE"] = "calls"
	c, err := Load(FromMap(m), Worker)
	if err != nil {
		t.Fatal(err)
	}
	if c.ComplianceTaskQueue != "calls-compliance" {
		t.Fatalf("compliance task queue = %q, want it named after RINGBACK_TASK_QUEUE", c.ComplianceTaskQueue)
	}
	m["RINGBACK_COMPLIANCE_TASK_QUEUE"] = "legal"
	if c, err = Load(FromMap(m), Worker); err != nil || c.ComplianceTaskQueue != "legal" {
		t.Fatalf("explicit compliance task queue: %q, %v", c.ComplianceTaskQueue, err)
	}
	m["RINGBACK_COMPLIANCE_TASK_QUEUE"] = "calls"
	if _, err := Load(FromMap(m), Worker); err == nil || !strings.Contains(err.Error(), "RINGBACK_COMPLIANCE_TASK_QUEUE") {
		t.Fatalf("the same queue for both: err = %v", err)
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

func TestMasterKey(t *testing.T) {
	m := base()
	c, err := Load(FromMap(m), Worker)
	if err != nil || string(c.MasterKey) != strings.Repeat("m", 32) || c.MasterKeyIsDevDefault {
		t.Fatalf("inline key: %v %q", err, c.MasterKey)
	}

	file := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(file, []byte(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("f", 32)))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	delete(m, "RINGBACK_MASTER_KEY")
	m["RINGBACK_MASTER_KEY_FILE"] = file
	if c, err = Load(FromMap(m), Starter); err != nil || string(c.MasterKey) != strings.Repeat("f", 32) {
		t.Fatalf("key file: %v", err)
	}

	bad := map[string]map[string]string{
		"both":    {"RINGBACK_MASTER_KEY": m["RINGBACK_MASTER_KEY"] + "x", "RINGBACK_MASTER_KEY_FILE": file},
		"short":   {"RINGBACK_MASTER_KEY": base64.StdEncoding.EncodeToString([]byte("short"))},
		"not b64": {"RINGBACK_MASTER_KEY": "!!!"},
		"no file": {"RINGBACK_MASTER_KEY_FILE": filepath.Join(t.TempDir(), "missing")},
		"no key":  {},
	}
	for name, over := range bad {
		mm := base()
		delete(mm, "RINGBACK_MASTER_KEY")
		for k, v := range over {
			mm[k] = v
		}
		if name == "both" {
			mm["RINGBACK_MASTER_KEY"] = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("m", 32)))
		}
		if _, err := Load(FromMap(mm), Worker); err == nil || !strings.Contains(err.Error(), "RINGBACK_MASTER_KEY") {
			t.Errorf("%s: err = %v", name, err)
		}
	}

	dev := base()
	delete(dev, "RINGBACK_MASTER_KEY")
	dev["RINGBACK_ENV"] = "dev"
	if c, err = Load(FromMap(dev), Worker); err != nil || !c.MasterKeyIsDevDefault || len(c.MasterKey) != 32 {
		t.Fatalf("dev fallback: %v %d", err, len(c.MasterKey))
	}
}

func TestCodecSettings(t *testing.T) {
	m := base()
	m["RINGBACK_CODEC_CORS_ORIGINS"] = "https://temporal.example.com, http://localhost:8233/"
	c, err := Load(FromMap(m), Starter)
	if err != nil || len(c.CodecCORSOrigins) != 2 || c.CodecCORSOrigins[1] != "http://localhost:8233" {
		t.Fatalf("origins = %v, %v", c.CodecCORSOrigins, err)
	}
	m["RINGBACK_CODEC_CORS_ORIGINS"] = "https://temporal.example.com/ui"
	if _, err := Load(FromMap(m), Starter); err == nil {
		t.Fatal("origin with a path accepted")
	}
}

func TestAuditSigningKey(t *testing.T) {
	m := base()
	m["RINGBACK_AUDIT_SIGNING_KEY"] = "PRIVATE+KEY+broken"
	if _, err := Load(FromMap(m), Worker); err == nil || !strings.Contains(err.Error(), "RINGBACK_AUDIT_SIGNING_KEY") {
		t.Fatalf("malformed key: %v", err)
	} else if strings.Contains(err.Error(), "PRIVATE+KEY+broken") {
		t.Fatal("error repeats the secret")
	}
	delete(m, "RINGBACK_AUDIT_SIGNING_KEY")
	if _, err := Load(FromMap(m), Starter); err == nil || !strings.Contains(err.Error(), "RINGBACK_AUDIT_SIGNING_KEY") {
		t.Fatalf("production without a key: %v", err)
	}
	m["RINGBACK_ENV"] = "dev"
	c, err := Load(FromMap(m), Worker)
	if err != nil || !c.AuditSigningKeyIsDevDefault || c.AuditSigningKey != DevAuditSigningKey {
		t.Fatalf("dev fallback: %v", err)
	}
}

func TestRates(t *testing.T) {
	c, err := Load(FromMap(base()), Starter)
	if err != nil || c.CallerTextRate != (Rate{20, 10 * time.Minute}) || c.TenantInboundRate != (Rate{1000, time.Hour}) {
		t.Fatalf("defaults: %+v %+v %v", c.CallerTextRate, c.TenantInboundRate, err)
	}
	for _, bad := range []string{"20", "0/1m", "-1/1m", "x/1m", "5/0s", "5/soon", "05/1m", "1.5/1m"} {
		m := base()
		m["RINGBACK_RATE_CALLER_TEXTS"] = bad
		if _, err := Load(FromMap(m), Starter); err == nil || !strings.Contains(err.Error(), "RINGBACK_RATE_CALLER_TEXTS") {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}

func TestQuietHours(t *testing.T) {
	c, err := Load(FromMap(base()), Worker)
	if err != nil || c.IgnoreQuietHours {
		t.Fatalf("default: ignore=%v err=%v, want enforced", c.IgnoreQuietHours, err)
	}
	for _, tc := range []struct {
		env, value string
		ignore     bool
		errPart    string
	}{
		{"production", "enforce", false, ""},
		{"production", "off", false, "dev only"},
		{"dev", "off", true, ""},
		{"dev", "enforce", false, ""},
		{"dev", "sometimes", false, "neither enforce nor off"},
	} {
		m := base()
		m["RINGBACK_ENV"], m["RINGBACK_QUIET_HOURS"] = tc.env, tc.value
		c, err := Load(FromMap(m), Worker)
		switch {
		case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("%s/%s: err = %v, want one mentioning %q", tc.env, tc.value, err, tc.errPart)
		case tc.errPart == "" && err != nil:
			t.Errorf("%s/%s: %v", tc.env, tc.value, err)
		case c.IgnoreQuietHours != tc.ignore:
			t.Errorf("%s/%s: ignore = %v, want %v", tc.env, tc.value, c.IgnoreQuietHours, tc.ignore)
		}
	}
}

func TestModelSettings(t *testing.T) {
	c, err := Load(FromMap(base()), Worker)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.BaseURL != "http://localhost:11434/v1" || c.Model.Model == "" || c.Model.Timeout != 20*time.Second || c.ModelDisabled || c.FallbackModel != nil {
		t.Fatalf("defaults = %+v disabled=%v fallback=%v", c.Model, c.ModelDisabled, c.FallbackModel)
	}
	m := base()
	m["RINGBACK_MODEL_URL"] = "none"
	m["RINGBACK_FALLBACK_MODEL_URL"] = "https://api.example.com/v1"
	m["RINGBACK_FALLBACK_MODEL"] = "small"
	if c, err := Load(FromMap(m), Worker); err != nil || !c.ModelDisabled || c.FallbackModel == nil || c.FallbackModel.Model != "small" {
		t.Fatalf("none + fallback: %+v %v", c, err)
	}
	for k, v := range map[string]string{
		"RINGBACK_MODEL_URL":             "ftp://x",
		"RINGBACK_MODEL_TIMEOUT":         "forever",
		"RINGBACK_FALLBACK_MODEL_URL":    "http://plain.example.com/v1",
		"RINGBACK_WEBHOOK_ALLOW_PRIVATE": "true",
	} {
		m := base()
		m[k] = v
		m["RINGBACK_FALLBACK_MODEL"] = "small"
		if _, err := Load(FromMap(m), Worker); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err = %v", k, v, err)
		}
	}
}

func TestWorkflowCacheSize(t *testing.T) {
	c, err := Load(FromMap(base()), Worker)
	if err != nil || c.WorkflowCacheSize != 2000 {
		t.Fatalf("default = %d, %v", c.WorkflowCacheSize, err)
	}
	for _, bad := range []string{"0", "-5", "lots", "12abc"} {
		m := base()
		m["RINGBACK_WORKFLOW_CACHE_SIZE"] = bad
		if _, err := Load(FromMap(m), Worker); err == nil || !strings.Contains(err.Error(), "RINGBACK_WORKFLOW_CACHE_SIZE") {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}
