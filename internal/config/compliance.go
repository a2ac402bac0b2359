package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ringback/ringback/internal/phone"
)

// Compliance holds the settings of billing, account closure, backups and the compliance contact.
type Compliance struct {
	// StripeSecretKey authenticates API calls (customers, subscriptions). Empty: tenants are
	// onboarded without billing (dev, or a deployment that bills elsewhere).
	StripeSecretKey string
	// StripeWebhookSecret checks the Stripe-Signature of POST /stripe/webhook (whsec_…). Empty:
	// the route is not served.
	StripeWebhookSecret string
	// StripePriceID is the subscription price every new tenant is subscribed to.
	StripePriceID string
	// StripeAPIURL replaces https://api.stripe.com, for stripe-mock in tests. Empty: Stripe.
	StripeAPIURL string

	// ClosureRetention is how long a cancelled account is kept for reactivation before it is
	// erased: 90 days unless a product family promises otherwise.
	ClosureRetention time.Duration

	// BackupDir is where encrypted database backups are written. Empty: no scheduled backups.
	BackupDir string
	// BackupKey encrypts backups (AES-256-GCM, 32 bytes). It is not the master key: a stolen
	// backup and a stolen master key are separate incidents.
	BackupKey []byte
	// BackupKeyIsDevDefault is true when dev runs on the published development backup key.
	BackupKeyIsDevDefault bool
	// BackupKeep is how long a backup is kept before the schedule prunes it.
	BackupKeep time.Duration
	// BackupInterval is how often the schedule takes a backup.
	BackupInterval time.Duration

	// CompliancePhone receives escalations of data-subject requests about to miss their legal
	// deadline and incident reminders (E.164). Empty: those escalations land in the audit log and
	// the worker's log only.
	CompliancePhone string
	// PlatformNumber is the number Ringback texts from when a text is not one tenant's (to the
	// compliance contact). Required with CompliancePhone.
	PlatformNumber string
	// ComplianceZone is the compliance team's time zone, in which the legal deadlines of
	// data-subject requests are counted by date.
	ComplianceZone *time.Location
}

// DevBackupKey encrypts backups under RINGBACK_ENV=dev when no key is configured. It is public, so
// it protects nothing; production refuses to take backups without a real one.
var DevBackupKey = []byte("ringback-dev-backup-key-NOTSECRET")[:32]

// loadCompliance reads the Compliance settings into c.
func loadCompliance(get func(k, def string) string, c *Config, role Role, errs []error) []error {
	cc := Compliance{
		StripeSecretKey:     get("STRIPE_SECRET_KEY", ""),
		StripeWebhookSecret: get("STRIPE_WEBHOOK_SECRET", ""),
		StripePriceID:       get("STRIPE_PRICE_ID", ""),
		StripeAPIURL:        strings.TrimRight(get("STRIPE_API_URL", ""), "/"),
		BackupDir:           get("RINGBACK_BACKUP_DIR", ""),
		CompliancePhone:     get("RINGBACK_COMPLIANCE_PHONE", ""),
		PlatformNumber:      get("RINGBACK_PLATFORM_NUMBER", ""),
	}
	if cc.StripeSecretKey != "" && cc.StripePriceID == "" {
		errs = append(errs, errors.New("STRIPE_PRICE_ID: required with STRIPE_SECRET_KEY (the price new tenants subscribe to)"))
	}
	if cc.StripeWebhookSecret != "" && !strings.HasPrefix(cc.StripeWebhookSecret, "whsec_") {
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET: the endpoint's signing secret, whsec_…"))
	}
	if cc.StripeAPIURL != "" {
		u, err := url.Parse(cc.StripeAPIURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, errors.New("STRIPE_API_URL: an http(s) URL"))
		case c.Env == Production && u.Scheme != "https":
			errs = append(errs, errors.New("STRIPE_API_URL: must be https in production (the secret key travels with every request)"))
		}
	}

	days, err := strconv.Atoi(get("RINGBACK_CLOSURE_RETENTION_DAYS", "90"))
	if err != nil || days < 1 || days > 365 {
		errs = append(errs, errors.New("RINGBACK_CLOSURE_RETENTION_DAYS: whole days between 1 and 365"))
	}
	cc.ClosureRetention = time.Duration(days) * 24 * time.Hour

	keepDays, err := strconv.Atoi(get("RINGBACK_BACKUP_KEEP_DAYS", "14"))
	if err != nil || keepDays < 1 || keepDays > 365 {
		errs = append(errs, errors.New("RINGBACK_BACKUP_KEEP_DAYS: whole days between 1 and 365"))
	}
	cc.BackupKeep = time.Duration(keepDays) * 24 * time.Hour
	every, err := time.ParseDuration(get("RINGBACK_BACKUP_INTERVAL", "24h"))
	if err != nil || every < time.Hour {
		errs = append(errs, errors.New("RINGBACK_BACKUP_INTERVAL: a duration of at least 1h"))
	}
	cc.BackupInterval = every
	if encoded := get("RINGBACK_BACKUP_KEY", ""); encoded != "" {
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(key) != 32 {
			errs = append(errs, errors.New("RINGBACK_BACKUP_KEY: must be base64 of exactly 32 bytes"))
		}
		cc.BackupKey = key
	} else if c.Env == Dev {
		cc.BackupKey, cc.BackupKeyIsDevDefault = DevBackupKey, true
	} else if cc.BackupDir != "" && role == Worker {
		errs = append(errs, errors.New("RINGBACK_BACKUP_KEY: required with RINGBACK_BACKUP_DIR outside dev (base64 of 32 random bytes)"))
	}
	if cc.BackupKey != nil && c.MasterKey != nil && string(cc.BackupKey) == string(c.MasterKey) && !cc.BackupKeyIsDevDefault {
		errs = append(errs, errors.New("RINGBACK_BACKUP_KEY: must differ from the master key"))
	}

	if cc.CompliancePhone != "" {
		if _, err := phone.Normalize(cc.CompliancePhone); err != nil {
			errs = append(errs, fmt.Errorf("RINGBACK_COMPLIANCE_PHONE: %w", err))
		}
		if cc.PlatformNumber == "" {
			errs = append(errs, errors.New("RINGBACK_PLATFORM_NUMBER: required with RINGBACK_COMPLIANCE_PHONE (the number it is texted from)"))
		}
	}
	if cc.PlatformNumber != "" {
		if _, err := phone.Normalize(cc.PlatformNumber); err != nil {
			errs = append(errs, fmt.Errorf("RINGBACK_PLATFORM_NUMBER: %w", err))
		}
	}
	zone, err := time.LoadLocation(get("RINGBACK_COMPLIANCE_TIMEZONE", "UTC"))
	if err != nil {
		errs = append(errs, errors.New("RINGBACK_COMPLIANCE_TIMEZONE: an IANA time zone, e.g. America/New_York"))
		zone = time.UTC
	}
	cc.ComplianceZone = zone
	c.Compliance = cc
	return errs
}
