package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	twilio "github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// Twilio error codes that mean the message can never be delivered as addressed.
// https://www.twilio.com/docs/api/errors
var permanentCodes = map[int]string{
	21211: "invalid recipient number",
	21408: "region not enabled for this account",
	21606: "sender number cannot send sms",
	21610: "recipient unsubscribed",
	21612: "recipient unreachable from this sender",
	21614: "recipient is not a mobile number",
	21660: "sender number not owned by this account",
}

// Twilio sends texts through Twilio's Messages API.
type Twilio struct {
	api *api.ApiService
}

// TwilioOptions configures a Twilio sender.
type TwilioOptions struct {
	AccountSID string
	AuthToken  string
	// APIURL replaces https://api.twilio.com (a proxy or a test fake). twilio-go has no base-URL
	// option, so requests are rewritten in the transport.
	APIURL string
	// HTTPClient is the client to send with; nil means a client with a 15 s timeout. twilio-go
	// takes no context, so this timeout is what bounds a hung request.
	HTTPClient *http.Client
}

// NewTwilio returns a sender for one Twilio account.
func NewTwilio(o TwilioOptions) (*Twilio, error) {
	if o.AccountSID == "" || o.AuthToken == "" {
		return nil, errors.New("twilio: account SID and auth token are required")
	}
	// twilio-go refuses non-alphanumeric credentials on every request (codes 21222/21224); catch
	// the misconfiguration at start-up instead of on the first text.
	if !alphanumeric(o.AccountSID) || !alphanumeric(o.AuthToken) {
		return nil, errors.New("twilio: account SID and auth token must be alphanumeric, as Twilio issues them")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	if o.APIURL != "" && o.APIURL != "https://api.twilio.com" {
		base, err := url.Parse(o.APIURL)
		if err != nil || base.Host == "" {
			return nil, errors.New("twilio: API URL is not a valid URL")
		}
		next := hc.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		rewritten := *hc
		rewritten.Transport = rewriteHost{base: base, next: next}
		hc = &rewritten
	}
	cl := &twclient.Client{Credentials: twclient.NewCredentials(o.AccountSID, o.AuthToken), HTTPClient: hc}
	cl.SetAccountSid(o.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: cl})
	return &Twilio{api: rc.Api}, nil
}

// Send creates a message. The context is checked before sending; see TwilioOptions.HTTPClient.
func (t *Twilio) Send(ctx context.Context, m Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	params := (&api.CreateMessageParams{}).SetTo(m.To).SetFrom(m.From).SetBody(m.Body)
	msg, err := t.api.CreateMessage(params)
	if err != nil {
		return "", classify(err)
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", errors.New("twilio: response without a message SID")
	}
	return *msg.Sid, nil
}

// findPageSize bounds the search for an earlier attempt's message: the most recent texts from
// the business number to the caller, newest first. A retry follows its first attempt within
// minutes, and a caller is not sent fifty texts in between.
const findPageSize = 50

// clockSkew allows for Twilio's clock and ours disagreeing about when the first attempt began.
const clockSkew = 2 * time.Minute

// Find looks for a message an earlier attempt may have got Twilio to accept before the attempt
// was lost (a crash, or a timeout after Twilio had the request): one from m.From to m.To with
// exactly m.Body, created since the first attempt began. Matching by content is safe here because
// the same text to the same caller within the same few minutes is the same send.
func (t *Twilio) Find(ctx context.Context, m Message, since time.Time) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	params := (&api.ListMessageParams{}).SetTo(m.To).SetFrom(m.From).SetPageSize(findPageSize)
	page, err := t.api.PageMessage(params, "", "")
	if err != nil {
		// A failed lookup must not become a refusal of the text: it is retried like a failed
		// send, so a permanent-looking error loses its type here.
		err = classify(err)
		var perm *PermanentError
		if errors.As(err, &perm) {
			return "", false, fmt.Errorf("twilio: look up an earlier attempt: http %d, provider code %d", perm.Status, perm.Code)
		}
		return "", false, fmt.Errorf("look up an earlier attempt: %w", err)
	}
	for _, msg := range page.Messages {
		if msg.Sid == nil || msg.Body == nil || *msg.Body != m.Body || msg.DateCreated == nil {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, *msg.DateCreated)
		if err != nil || created.Before(since.Add(-clockSkew)) {
			continue
		}
		return *msg.Sid, true, nil
	}
	return "", false, nil
}

// classify turns twilio-go errors into ours. Twilio's messages can quote the recipient's number,
// so only the status and code are kept.
func classify(err error) error {
	var rest *twclient.TwilioRestError
	if errors.As(err, &rest) {
		if reason, ok := permanentCodes[rest.Code]; ok {
			return &PermanentError{Status: rest.Status, Code: rest.Code, Reason: reason}
		}
		// Bad or rotated credentials are our configuration, not the recipient: keep retrying so
		// the texts go out once an operator fixes them, instead of dropping every one.
		if rest.Status == http.StatusUnauthorized || rest.Status == http.StatusForbidden || rest.Code == 21222 || rest.Code == 21224 {
			return fmt.Errorf("twilio: credentials refused (http %d, code %d)", rest.Status, rest.Code)
		}
		if rest.Status >= 400 && rest.Status < 500 && rest.Status != http.StatusTooManyRequests {
			return &PermanentError{Status: rest.Status, Code: rest.Code, Reason: "request refused"}
		}
		return fmt.Errorf("twilio: http %d, code %d", rest.Status, rest.Code)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		// url.Error quotes the request URL, which holds only the account SID; keep the cause.
		return fmt.Errorf("twilio: transport: %w", uerr.Err)
	}
	return fmt.Errorf("twilio: %w", err)
}

func alphanumeric(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

type rewriteHost struct {
	base *url.URL
	next http.RoundTripper
}

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme = r.base.Scheme
	out.URL.Host = r.base.Host
	out.Host = r.base.Host
	return r.next.RoundTrip(out)
}
