// Command starter is Ringback's HTTP ingress: Twilio webhooks become workflow starts, signals and
// updates; operators create tenants through the admin API; load balancers probe /healthz and
// /readyz.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "time/tzdata" // tenant time zones must resolve in minimal container images

	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/ingress"
	"github.com/ringback/ringback/internal/acktoken"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/lifecycle"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.LookupEnv, log); err != nil {
		log.Error("starter stopped", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context, lookup config.Lookup, log *slog.Logger) error {
	cfg, err := config.Load(lookup, config.Starter)
	if err != nil {
		return err
	}
	conn, err := connect.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	hasher, err := phone.NewHasher(cfg.PhoneHashKey)
	if err != nil {
		return err
	}
	// A nil interface, not a nil pointer in one, when billing is off: the API checks for nil.
	var onboarding interface {
		Start(ctx context.Context, tenantID, name string) error
	}
	if cfg.Compliance.StripeSecretKey != "" {
		onboarding = &lifecycle.Onboarding{Temporal: conn.Temporal, TaskQueue: cfg.ComplianceTaskQueue, PriceID: cfg.Compliance.StripePriceID}
	} else {
		log.Warn("billing is off (no STRIPE_SECRET_KEY): new tenants get no Stripe customer or subscription")
	}
	handler := ingress.New(ingress.Deps{
		Config: cfg, Log: log, Store: conn.Store, Temporal: conn.Temporal, Hasher: hasher, Codec: conn.Codec,
		// Webhook secrets are sealed under the tenants' data keys, the payload codec's keyring.
		Keys: conn.Keys, AckKey: acktoken.DeriveKey(cfg.PhoneHashKey),
		Closures:   &lifecycle.Closures{Temporal: conn.Temporal, TaskQueue: cfg.ComplianceTaskQueue, Retention: cfg.Compliance.ClosureRetention},
		Onboarding: onboarding,
		Requests: &lifecycle.Requests{Store: conn.Store, Temporal: conn.Temporal, TaskQueue: cfg.ComplianceTaskQueue, Hasher: hasher,
			Zone: cfg.Compliance.ComplianceZone},
	})
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	return serve(ctx, ln, handler, log)
}

// serve runs the HTTP server until ctx ends, then drains in-flight requests: a webhook already
// being handled finishes, so Twilio is not left to retry work that was done.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("starter listening", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("starter shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
