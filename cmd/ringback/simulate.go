package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringback/ringback/internal/callstatus"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/twiliosig"
)

// simulateCmd posts a webhook signed exactly as Twilio would sign it, so a new user sees the
// whole path run without a Twilio account.
func simulateCmd(ctx context.Context, cfg config.Config, kind string, args []string, out io.Writer) error {
	fs := newFlags("simulate " + kind)
	from := fs.String("from", "", "the caller's number")
	to := fs.String("to", "", "the business's Twilio number")
	status := fs.String("status", callstatus.NoAnswer, "call outcome (simulate call)")
	body := fs.String("body", "", "message text (simulate sms)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return fmt.Errorf("%w: simulate %s: --from and --to are required", errUsage, kind)
	}
	fromE164, err := phone.Normalize(*from)
	if err != nil {
		return fmt.Errorf("simulate: --from: %w", err)
	}
	toE164, err := phone.Normalize(*to)
	if err != nil {
		return fmt.Errorf("simulate: --to: %w", err)
	}
	if cfg.PublicURL == "" || cfg.TwilioAuthToken == "" {
		return errors.New("simulate: RINGBACK_PUBLIC_URL and TWILIO_AUTH_TOKEN must be set (source .dev/env after make dev)")
	}
	account := cfg.TwilioAccountSID
	if account == "" {
		account = "AC" + strings.Repeat("0", 32)
	}
	var path string
	form := map[string]string{"AccountSid": account, "From": fromE164, "To": toE164, "ApiVersion": "2010-04-01"}
	switch kind {
	case "call":
		if err := callstatus.Validate(*status); err != nil {
			return fmt.Errorf("%w: simulate call: --status: %v", errUsage, err)
		}
		path = "/twilio/voice/status"
		form["CallSid"] = newSid("CA")
		form["CallStatus"] = *status
		form["Direction"] = "inbound"
	case "sms":
		if *body == "" {
			return fmt.Errorf("%w: simulate sms: --body is required", errUsage)
		}
		path = "/twilio/sms"
		form["MessageSid"] = newSid("SM")
		form["Body"] = *body
		form["NumMedia"] = "0"
		form["NumSegments"] = "1"
	}
	endpoint := cfg.PublicURL + path
	values := url.Values{}
	for k, v := range form {
		values.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(values.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliosig.Sign(cfg.TwilioAuthToken, endpoint, form))
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("simulate: post to the starter: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulate: starter answered %s: %s", resp.Status, strings.TrimSpace(string(reply)))
	}
	id := form["CallSid"] + form["MessageSid"]
	fmt.Fprintf(out, "posted %s %s from %s to %s: %s\n", kind, id, phone.Mask(fromE164), toE164, resp.Status)
	return nil
}

// newSid returns a random Twilio-shaped SID: the prefix and 32 hex digits.
func newSid(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
