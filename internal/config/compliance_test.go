package config

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestComplianceDefaults(t *testing.T) {
	c, err := Load(FromMap(base()), Worker)
	if err != nil {
		t.Fatal(err)
	}
	cc := c.Compliance
	if cc.ClosureRetention != 90*24*time.Hour || cc.BackupKeep != 14*24*time.Hour || cc.BackupInterval != 24*time.Hour {
		t.Fatalf("defaults wrong: %+v", cc)
	}
	if cc.StripeSecretKey != "" || cc.BackupDir != "" || cc.BackupKey != nil {
		t.Fatalf("billing and backups must be off unless configured: %+v", cc)
	}
}

func TestComplianceSettings(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(Compliance) bool
	}{
		{"thirty-day product family", map[string]string{"RINGBACK_CLOSURE_RETENTION_DAYS": "30"}, "",
			func(c Compliance) bool { return c.ClosureRetention == 30*24*time.Hour }},
		{"retention out of range", map[string]string{"RINGBACK_CLOSURE_RETENTION_DAYS": "0"}, "RINGBACK_CLOSURE_RETENTION_DAYS", nil},
		{"retention not a number", map[string]string{"RINGBACK_CLOSURE_RETENTION_DAYS": "90d"}, "RINGBACK_CLOSURE_RETENTION_DAYS", nil},
		{"stripe needs a price", map[string]string{"STRIPE_SECRET_KEY": "sk_test_123"}, "STRIPE_PRICE_ID", nil},
		{"stripe configured", map[string]string{"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_PRICE_ID": "price_1", "STRIPE_WEBHOOK_SECRET": "whsec_abc", "STRIPE_API_URL": "https://stripe.internal/"}, "",
			func(c Compliance) bool {
				return c.StripePriceID == "price_1" && c.StripeAPIURL == "https://stripe.internal"
			}},
		{"webhook secret shape", map[string]string{"STRIPE_WEBHOOK_SECRET": "abc"}, "STRIPE_WEBHOOK_SECRET", nil},
		{"stripe url plain http in production", map[string]string{"STRIPE_API_URL": "http://127.0.0.1:12111"}, "must be https", nil},
		{"backups need a key in production", map[string]string{"RINGBACK_BACKUP_DIR": "/var/backups/ringback"}, "RINGBACK_BACKUP_KEY", nil},
		{"backups configured", map[string]string{"RINGBACK_BACKUP_DIR": "/b", "RINGBACK_BACKUP_KEY": key, "RINGBACK_BACKUP_KEEP_DAYS": "7", "RINGBACK_BACKUP_INTERVAL": "6h"}, "",
			func(c Compliance) bool {
				return c.BackupDir == "/b" && string(c.BackupKey) == strings.Repeat("b", 32) && c.BackupKeep == 7*24*time.Hour && c.BackupInterval == 6*time.Hour
			}},
		{"backup key too short", map[string]string{"RINGBACK_BACKUP_KEY": base64.StdEncoding.EncodeToString([]byte("short"))}, "RINGBACK_BACKUP_KEY", nil},
		{"backup key equals master key", map[string]string{"RINGBACK_BACKUP_KEY": base()["RINGBACK_MASTER_KEY"]}, "must differ from the master key", nil},
		{"backup interval too short", map[string]string{"RINGBACK_BACKUP_INTERVAL": "5m"}, "RINGBACK_BACKUP_INTERVAL", nil},
		{"compliance phone needs a sender", map[string]string{"RINGBACK_COMPLIANCE_PHONE": "+16145550100"}, "RINGBACK_PLATFORM_NUMBER", nil},
		{"compliance phone malformed", map[string]string{"RINGBACK_COMPLIANCE_PHONE": "call me", "RINGBACK_PLATFORM_NUMBER": "+16145550101"}, "RINGBACK_COMPLIANCE_PHONE", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := base()
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := Load(FromMap(env), Worker)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want an error naming %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c.Compliance) {
				t.Fatalf("settings not read: %+v", c.Compliance)
			}
		})
	}
}

func TestDevBackupKeyIsAnnounced(t *testing.T) {
	c, err := Load(FromMap(map[string]string{"RINGBACK_ENV": "dev", "DATABASE_URL": "postgres://x/y", "RINGBACK_PHONE_HASH_KEY": strings.Repeat("k", 32)}), Worker)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Compliance.BackupKeyIsDevDefault || len(c.Compliance.BackupKey) != 32 {
		t.Fatalf("dev must fall back to the published backup key, flagged: %+v", c.Compliance)
	}
}
