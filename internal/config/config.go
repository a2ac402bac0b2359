// Package config reads Ringback's settings once, from a lookup function the caller supplies (the
// process environment in production, a map in tests), into one struct that is passed down.
// Nothing else in Ringback reads the environment.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/phone"
)

// Env names the deployment flavour.
type Env string

const (
	// Dev relaxes secret requirements and allows the sandbox SMS sender.
	Dev Env = "dev"
	// Production refuses to start without every secret.
	Production Env = "production"
)

// Config is everything the worker, the starter and the CLI need. Temporal connection settings are
// not here: the SDK's envconfig reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API keys.
type Config struct {
	Env         Env
	DatabaseURL string
	// TaskQueue carries the conversations and what they start (consent replies, tenant webhooks).
	TaskQueue string
	// ComplianceTaskQueue carries data-subject requests, account closures, retention sweeps,
	// backups, incidents and onboarding, on task slots of their own: a conversation holds a
	// workflow task slot while its text is in flight, so a hung SMS provider can take every slot
	// on TaskQueue, and legal deadlines must not wait for it.
	ComplianceTaskQueue string

	ListenAddr string
	// PublicURL is the scheme://host[:port] Twilio uses to reach the starter; signatures are
	// computed over it, so it must match what is configured in the Twilio console exactly.
	PublicURL string

	TwilioAccountSID string
	TwilioAuthToken  string
	// TwilioAPIURL replaces https://api.twilio.com, for a Twilio-compatible proxy or a test fake.
	TwilioAPIURL string

	PhoneHashKey []byte

	ConversationIdleTimeout time.Duration

	// AuditSigningKey signs audit-log checkpoints: a note signing key as printed by
	// `ringback audit keygen`. Its verifier key is derived from it.
	AuditSigningKey string
	// AuditSigningKeyIsDevDefault is true when dev runs on the published development signing key.
	AuditSigningKeyIsDevDefault bool

	// MasterKey wraps every data key that encrypts workflow payloads (32 bytes).
	MasterKey []byte
	// MasterKeyIsDevDefault is true when dev runs on the published development master key.
	MasterKeyIsDevDefault bool
	// CodecCORSOrigins are the Web UI origins allowed to call the codec endpoint.
	CodecCORSOrigins []string

	// CallerTextRate caps inbound texts per caller and tenant; TenantInboundRate caps every
	// webhook that would reach a tenant's conversations (calls and texts), which bounds what a
	// flood of spoofed callers can make Ringback send.
	CallerTextRate    Rate
	TenantInboundRate Rate

	// Model is the primary language model endpoint (Ollama's OpenAI-compatible API by default);
	// ModelDisabled means no model at all, so the scripted flow answers every turn.
	Model         ModelEndpoint
	ModelDisabled bool
	// FallbackModel answers when the primary fails; it only ever sees masked text. Nil for none.
	FallbackModel *ModelEndpoint
	// WebhookAllowPrivate lets tenant webhooks reach loopback and private addresses (dev only:
	// a local receiver); production refuses them at dial time.
	WebhookAllowPrivate bool

	// WorkflowCacheSize is how many workflow executions the worker keeps in memory between
	// tasks. Conversations spend nearly all their life waiting (for a reply, for 08:00), so
	// keeping every one cached costs memory for nothing; an evicted one is replayed from its
	// history when it next has work.
	WorkflowCacheSize int

	// WorkerConcurrency bounds the workflow tasks the worker runs at once, and the local
	// activities inside them. Every task must finish within its 10-second timeout, and the ones
	// that wake at 08:00 each run a few short transactions; past what the database pool serves in
	// that time, extra tasks in flight only wait for connections until they time out and are
	// retried, for everyone. Tasks beyond the bound wait on the server, where no clock runs.
	WorkerConcurrency int

	// IgnoreQuietHours lets automated texts go out at any hour (RINGBACK_QUIET_HOURS=off). Only
	// dev may set it: a developer's sandbox at night, or tests that run whatever the clock says.
	IgnoreQuietHours bool

	// Compliance: billing, account closure, backups, the compliance contact.
	Compliance Compliance
}

// ModelEndpoint is an OpenAI-compatible chat completions endpoint.
type ModelEndpoint struct {
	BaseURL string
	APIKey  string
	Model   string
	Timeout time.Duration
}

// Rate is N events per Per.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads "N/duration", e.g. "20/10m".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/duration (e.g. 20/10m)", s)
	}
	var r Rate
	if _, err := fmt.Sscanf(n, "%d", &r.N); err != nil || r.N <= 0 || fmt.Sprint(r.N) != n {
		return Rate{}, fmt.Errorf("%q: N must be a positive integer", s)
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q: the period must be a positive duration", s)
	}
	r.Per = d
	return r, nil
}

// DevAuditSigningKey signs audit checkpoints under RINGBACK_ENV=dev when no key is configured.
// Like DevMasterKey it is public; production refuses to run without a real one.
const DevAuditSigningKey = "PRIVATE+KEY+ringback-dev-audit+c6257211+AbS2JtPVdI9BhTTAfGQZwj4eLN0XGfkSsE+sE6fWZr9e"

// DevMasterKey is the master key RINGBACK_ENV=dev falls back to when none is configured. It is
// public, so it protects nothing; production refuses to start without a real one.
var DevMasterKey = []byte("ringback-dev-master-key-NOT-SECRET")[:32]

// Sandbox reports whether outbound texts go to the sandbox sender instead of Twilio.
func (c Config) Sandbox() bool { return c.TwilioAccountSID == "" }

// Lookup returns an environment variable and whether it was set.
type Lookup func(key string) (string, bool)

// FromMap adapts a map to a Lookup, for tests and for composing defaults.
func FromMap(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Role says which process is loading, so only the settings it uses are demanded.
type Role int

const (
	// Worker runs workflows and activities.
	Worker Role = iota
	// Starter serves HTTP ingress.
	Starter
	// CLI runs operator commands; each command checks the settings it uses.
	CLI
)

// Load reads and validates the configuration for role.
func Load(lookup Lookup, role Role) (Config, error) {
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var errs []error
	c := Config{
		Env:              Env(get("RINGBACK_ENV", string(Production))),
		DatabaseURL:      get("DATABASE_URL", ""),
		TaskQueue:        get("RINGBACK_TASK_QUEUE", "ringback"),
		ListenAddr:       get("RINGBACK_LISTEN_ADDR", ":8080"),
		PublicURL:        strings.TrimRight(get("RINGBACK_PUBLIC_URL", ""), "/"),
		TwilioAccountSID: get("TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken:  get("TWILIO_AUTH_TOKEN", ""),
		TwilioAPIURL:     strings.TrimRight(get("TWILIO_API_URL", "https://api.twilio.com"), "/"),
		AuditSigningKey:  get("RINGBACK_AUDIT_SIGNING_KEY", ""),
	}
	c.ComplianceTaskQueue = get("RINGBACK_COMPLIANCE_TASK_QUEUE", c.TaskQueue+"-compliance")
	if c.ComplianceTaskQueue == c.TaskQueue {
		errs = append(errs, errors.New("RINGBACK_COMPLIANCE_TASK_QUEUE: must differ from RINGBACK_TASK_QUEUE, so that compliance work keeps task slots of its own"))
	}
	if c.Env != Dev && c.Env != Production {
		errs = append(errs, fmt.Errorf("RINGBACK_ENV: %q is neither %q nor %q", c.Env, Dev, Production))
	}
	if c.DatabaseURL == "" && role != CLI {
		errs = append(errs, errors.New("DATABASE_URL: required"))
	}
	idle, err := time.ParseDuration(get("RINGBACK_CONVERSATION_IDLE_TIMEOUT", "24h"))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("RINGBACK_CONVERSATION_IDLE_TIMEOUT: %w", err))
	case idle < time.Minute:
		errs = append(errs, errors.New("RINGBACK_CONVERSATION_IDLE_TIMEOUT: must be at least 1m"))
	}
	c.ConversationIdleTimeout = idle
	if key := get("RINGBACK_PHONE_HASH_KEY", ""); key != "" {
		c.PhoneHashKey = []byte(key)
		if len(key) < phone.MinKeyLen {
			errs = append(errs, fmt.Errorf("RINGBACK_PHONE_HASH_KEY: need at least %d characters", phone.MinKeyLen))
		}
	}
	c.MasterKey, c.MasterKeyIsDevDefault, errs = loadMasterKey(get, c.Env, role, errs)
	switch {
	case c.AuditSigningKey != "":
		if _, _, err := auditlog.NewSigner(c.AuditSigningKey); err != nil {
			errs = append(errs, fmt.Errorf("RINGBACK_AUDIT_SIGNING_KEY: %w", err))
		}
	case c.Env == Dev:
		c.AuditSigningKey, c.AuditSigningKeyIsDevDefault = DevAuditSigningKey, true
	case role == Worker || role == Starter:
		errs = append(errs, errors.New("RINGBACK_AUDIT_SIGNING_KEY: required outside dev (make one with `ringback audit keygen`)"))
	}
	for _, o := range strings.Split(get("RINGBACK_CODEC_CORS_ORIGINS", "http://127.0.0.1:8233,http://localhost:8233"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			if u, err := url.Parse(o); err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") {
				errs = append(errs, fmt.Errorf("RINGBACK_CODEC_CORS_ORIGINS: %q is not an origin (scheme://host[:port])", o))
				continue
			}
			c.CodecCORSOrigins = append(c.CodecCORSOrigins, strings.TrimRight(o, "/"))
		}
	}
	for _, r := range []struct {
		env, def string
		dst      *Rate
	}{
		{"RINGBACK_RATE_CALLER_TEXTS", "20/10m", &c.CallerTextRate},
		{"RINGBACK_RATE_TENANT_INBOUND", "1000/1h", &c.TenantInboundRate},
	} {
		rate, err := ParseRate(get(r.env, r.def))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.env, err))
		}
		*r.dst = rate
	}
	c.Model = ModelEndpoint{
		BaseURL: get("RINGBACK_MODEL_URL", "http://localhost:11434/v1"),
		APIKey:  get("RINGBACK_MODEL_API_KEY", "ollama"),
		Model:   get("RINGBACK_MODEL", "llama3.2"),
	}
	timeout, err := time.ParseDuration(get("RINGBACK_MODEL_TIMEOUT", "20s"))
	if err != nil || timeout <= 0 || timeout > 2*time.Minute {
		errs = append(errs, errors.New("RINGBACK_MODEL_TIMEOUT: a duration between 0 and 2m"))
	}
	c.Model.Timeout = timeout
	if c.Model.BaseURL == "none" {
		c.ModelDisabled = true
	} else if !httpURL(c.Model.BaseURL) {
		errs = append(errs, errors.New("RINGBACK_MODEL_URL: an http(s) URL, or none for the scripted flow only"))
	}
	if fb := get("RINGBACK_FALLBACK_MODEL_URL", ""); fb != "" {
		c.FallbackModel = &ModelEndpoint{BaseURL: fb, APIKey: get("RINGBACK_FALLBACK_MODEL_API_KEY", ""), Model: get("RINGBACK_FALLBACK_MODEL", ""), Timeout: timeout}
		switch {
		case !httpURL(fb):
			errs = append(errs, errors.New("RINGBACK_FALLBACK_MODEL_URL: an http(s) URL"))
		case c.FallbackModel.Model == "":
			errs = append(errs, errors.New("RINGBACK_FALLBACK_MODEL: required with RINGBACK_FALLBACK_MODEL_URL"))
		case c.Env == Production && !strings.HasPrefix(fb, "https://"):
			errs = append(errs, errors.New("RINGBACK_FALLBACK_MODEL_URL: must be https in production (its API key travels with every request)"))
		}
	}
	if c.WorkflowCacheSize, err = strconv.Atoi(get("RINGBACK_WORKFLOW_CACHE_SIZE", "2000")); err != nil || c.WorkflowCacheSize < 1 {
		errs = append(errs, errors.New("RINGBACK_WORKFLOW_CACHE_SIZE: a positive number of workflow executions"))
	}
	if c.WorkerConcurrency, err = strconv.Atoi(get("RINGBACK_WORKER_CONCURRENCY", "64")); err != nil || c.WorkerConcurrency < 1 {
		errs = append(errs, errors.New("RINGBACK_WORKER_CONCURRENCY: a positive number of workflow tasks"))
	}
	switch v := get("RINGBACK_WEBHOOK_ALLOW_PRIVATE", "false"); {
	case v == "false":
	case v == "true" && c.Env == Dev:
		c.WebhookAllowPrivate = true
	default:
		errs = append(errs, errors.New("RINGBACK_WEBHOOK_ALLOW_PRIVATE: true is for RINGBACK_ENV=dev only"))
	}
	switch q := get("RINGBACK_QUIET_HOURS", "enforce"); {
	case q == "enforce":
	case q == "off" && c.Env == Dev:
		c.IgnoreQuietHours = true
	case q == "off":
		errs = append(errs, errors.New("RINGBACK_QUIET_HOURS: off is for RINGBACK_ENV=dev only; callers are never texted outside 08:00–21:00"))
	default:
		errs = append(errs, fmt.Errorf("RINGBACK_QUIET_HOURS: %q is neither enforce nor off", q))
	}
	errs = loadCompliance(get, &c, role, errs)
	if u, err := url.Parse(c.TwilioAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("TWILIO_API_URL: must be an http(s) URL"))
	}
	if c.Env == Production && c.TwilioAccountSID == "" && role == Worker {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID: required in production (the sandbox sender is for RINGBACK_ENV=dev only)"))
	}
	if c.TwilioAccountSID != "" && c.TwilioAuthToken == "" && role == Worker {
		errs = append(errs, errors.New("TWILIO_AUTH_TOKEN: required when TWILIO_ACCOUNT_SID is set"))
	}
	if role == Worker || role == Starter {
		if c.PhoneHashKey == nil {
			errs = append(errs, errors.New("RINGBACK_PHONE_HASH_KEY: required"))
		}
	}
	if role == Starter {
		if c.TwilioAuthToken == "" {
			errs = append(errs, errors.New("TWILIO_AUTH_TOKEN: required to check webhook signatures"))
		}
		if u, err := url.Parse(c.PublicURL); c.PublicURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, errors.New("RINGBACK_PUBLIC_URL: required, as scheme://host[:port] exactly as configured in Twilio"))
		} else if c.Env == Production && u.Scheme != "https" {
			errs = append(errs, errors.New("RINGBACK_PUBLIC_URL: must be https in production"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration:\n%w", err)
	}
	return c, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// loadMasterKey reads RINGBACK_MASTER_KEY (base64 of 32 bytes) or RINGBACK_MASTER_KEY_FILE (a
// file holding the same). Without either, dev uses DevMasterKey and production refuses to run
// the processes that encrypt.
func loadMasterKey(get func(k, def string) string, env Env, role Role, errs []error) ([]byte, bool, []error) {
	inline, file := get("RINGBACK_MASTER_KEY", ""), get("RINGBACK_MASTER_KEY_FILE", "")
	if inline != "" && file != "" {
		return nil, false, append(errs, errors.New("RINGBACK_MASTER_KEY and RINGBACK_MASTER_KEY_FILE: set one, not both"))
	}
	source, encoded := "RINGBACK_MASTER_KEY", inline
	if file != "" {
		source = "RINGBACK_MASTER_KEY_FILE"
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, false, append(errs, fmt.Errorf("RINGBACK_MASTER_KEY_FILE: %w", err))
		}
		encoded = strings.TrimSpace(string(b))
	}
	if encoded == "" {
		if env == Dev {
			return DevMasterKey, true, errs
		}
		if role == Worker || role == Starter {
			return nil, false, append(errs, errors.New("RINGBACK_MASTER_KEY or RINGBACK_MASTER_KEY_FILE: required outside dev (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)"))
		}
		return nil, false, errs
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(key) != 32 {
		return nil, false, append(errs, fmt.Errorf("%s: must be base64 of exactly 32 bytes", source))
	}
	return key, false, errs
}
