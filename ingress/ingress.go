// Package ingress is Ringback's HTTP surface: Twilio's voice and messaging webhooks become
// workflow starts, signals and updates; operators manage tenants through the admin API; load
// balancers probe health. The starter command serves it; the benchmark drives it in-process.
package ingress

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/store"
)

// Deps are the ingress's dependencies.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Temporal sdkclient.Client
	Hasher   *phone.Hasher
	// Now is the clock stamped on calls and texts; nil means time.Now.
	Now func() time.Time
	// Codec decrypts payloads for the Web UI's codec endpoint.
	Codec converter.PayloadCodec
	// Keys seal tenants' webhook secrets under their data keys; nil leaves the webhook routes out.
	Keys codec.Keys
	// AckKey checks the links in escalation texts (acktoken.DeriveKey of the phone-hash key);
	// without one the link pages are not served.
	AckKey []byte
	// Closures starts and signals account-closure workflows for the tenant API and the Stripe
	// webhook; nil leaves those routes out.
	Closures ClosureAdmin
	// Requests files and steers data-subject requests; nil leaves those routes out.
	Requests DSRControl
	// Onboarding starts a new tenant's billing; nil when billing is not configured.
	Onboarding interface {
		Start(ctx context.Context, tenantID, name string) error
	}
}

// New returns the ingress HTTP handler: Twilio webhooks, the admin API, escalation links and
// health probes.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	twilio := &twilioIngress{
		publicURL:     d.Config.PublicURL,
		validator:     twclient.NewRequestValidator(d.Config.TwilioAuthToken),
		temporal:      d.Temporal,
		tenants:       d.Store,
		hasher:        d.Hasher,
		taskQueue:     d.Config.TaskQueue,
		idleTimeout:   d.Config.ConversationIdleTimeout,
		log:           d.Log,
		now:           d.Now,
		closingRetry:  8 * time.Second,
		limits:        d.Store,
		audit:         d.Store,
		consent:       d.Store,
		signals:       d.Temporal,
		callerTexts:   store.Limit(d.Config.CallerTextRate),
		tenantInbound: store.Limit(d.Config.TenantInboundRate),
	}
	if d.Codec != nil {
		twilio.payloads = converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), d.Codec)
	}
	admin := &adminAPI{store: d.Store, log: d.Log, onboarding: d.Onboarding}
	tenant := &tenantAPI{store: d.Store, keys: d.Keys, signals: d.Temporal, log: d.Log, now: d.Now}
	health := &health{temporal: d.Temporal, db: d.Store}

	mux := http.NewServeMux()
	mux.Handle("POST /twilio/voice/status", twilio.signed(twilio.voiceStatus))
	mux.Handle("POST /twilio/voice/dial", twilio.signed(twilio.voiceDial))
	mux.Handle("POST /twilio/sms", twilio.signed(twilio.sms))
	mux.HandleFunc("POST /api/tenants", admin.route(admin.createTenant))
	mux.HandleFunc("GET /api/tenants/{id}", admin.route(admin.getTenant))
	mux.HandleFunc("GET /api/tenants/{id}/profile", tenant.route(tenant.getProfile))
	mux.HandleFunc("PUT /api/tenants/{id}/profile", tenant.route(tenant.putProfile))
	mux.HandleFunc("GET /api/tenants/{id}/usage", tenant.route(tenant.getUsage))
	if d.Keys != nil {
		mux.HandleFunc("PUT /api/tenants/{id}/webhook", tenant.route(tenant.putWebhook))
		mux.HandleFunc("GET /api/tenants/{id}/webhook", tenant.route(tenant.getWebhook))
		mux.HandleFunc("DELETE /api/tenants/{id}/webhook", tenant.route(tenant.deleteWebhook))
	}
	mux.HandleFunc("POST /api/conversations/ack", tenant.route(tenant.acknowledge))
	// A short key would let anyone mint links (Verify takes whatever key it is given).
	if len(d.AckKey) >= acktoken.MinKeyLen {
		link := &ackLink{key: d.AckKey, now: d.Now, tenants: d.Store, audit: d.Store, signals: d.Temporal, log: d.Log}
		mux.HandleFunc("GET /ack/{token}", link.show)
		mux.HandleFunc("POST /ack/{token}", link.take)
	}
	if d.Closures != nil {
		closures := &closureAPI{closures: d.Closures, tenants: d.Store, log: d.Log}
		mux.HandleFunc("POST /api/tenants/{id}/closure", closures.route(closures.start))
		mux.HandleFunc("GET /api/tenants/{id}/closure", closures.route(closures.get))
		mux.HandleFunc("POST /api/tenants/{id}/closure/delete-now", closures.route(closures.deleteNow))
		mux.HandleFunc("POST /api/tenants/{id}/closure/reactivate", closures.route(closures.reactivate))
		mux.HandleFunc("POST /api/tenants/{id}/closure/legal-hold", closures.route(closures.hold))
		mux.HandleFunc("POST /api/tenants/{id}/closure/release-hold", closures.route(closures.release))
	}
	// Without closures a deleted subscription could not be acted on: leave the route out, so
	// Stripe keeps retrying until it is served.
	if d.Config.Compliance.StripeWebhookSecret != "" && d.Closures != nil {
		mux.Handle("POST /stripe/webhook", newStripeWebhook(d))
	}
	if d.Requests != nil && d.Keys != nil {
		dsr := &dsrAPI{requests: d.Requests, store: d.Store, keys: d.Keys, log: d.Log, now: d.Now}
		mux.HandleFunc("POST /api/dsr", dsr.route(dsr.start))
		mux.HandleFunc("GET /api/dsr", dsr.route(dsr.list))
		mux.HandleFunc("GET /api/dsr/{id}", dsr.route(dsr.get))
		for _, action := range []string{"attest", "extend", "legal-hold", "release-hold"} {
			mux.HandleFunc("POST /api/dsr/{id}/"+action, dsr.route(dsr.manage(action)))
		}
		mux.HandleFunc("POST /dsr/{id}/verify", dsr.verify)
		mux.HandleFunc("GET /dsr/export/{token}", dsr.download)
	}
	mux.HandleFunc("POST /api/tokens", admin.route(admin.createToken))
	mux.HandleFunc("GET /api/tokens", admin.route(admin.listTokens))
	mux.HandleFunc("DELETE /api/tokens/{id}", admin.route(admin.revokeToken))
	if d.Codec != nil {
		codec := newCodecEndpoint(d.Codec, d.Store, d.Config.CodecCORSOrigins, d.Log)
		mux.HandleFunc("OPTIONS /codec/", codec.preflight)
		mux.HandleFunc("POST /codec/{op}", codec.withCORS(authenticate(d.Store, d.Log, codec.serve)))
		mux.HandleFunc("POST /codec/{token}/{op}", codec.withCORS(authenticate(d.Store, d.Log, codec.serve)))
	}
	mux.HandleFunc("GET /healthz", health.live)
	mux.HandleFunc("GET /readyz", health.ready)
	return mux
}
