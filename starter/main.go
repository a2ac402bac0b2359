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

	sdkclient "go.temporal.io/sdk/client"

	"github.com/ringback/ringback/ingress"
	"github.com/ringback/ringback/internal/auditlog"
	"github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/internal/temporalclient"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/store"
	"github.com/ringback/ringback/workflows"
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
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	signer, _, err := auditlog.NewSigner(cfg.AuditSigningKey)
	if err != nil {
		return err
	}
	db.SetAuditSigner(signer)
	if cfg.AuditSigningKeyIsDevDefault {
		log.Warn("DEV AUDIT KEY: audit checkpoints are signed with the published development key; set RINGBACK_AUDIT_SIGNING_KEY")
	}
	keys, err := keyring.New(cfg.MasterKey, db)
	if err != nil {
		return err
	}
	if cfg.MasterKeyIsDevDefault {
		log.Warn("DEV MASTER KEY: payloads are encrypted under the published development key; set RINGBACK_MASTER_KEY")
	}
	payloadCodec := codec.New(keys, workflows.KeyScope)
	opts, err := temporalclient.Options(log, payloadCodec)
	if err != nil {
		return err
	}
	tc, err := sdkclient.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
	}
	defer tc.Close()
	hasher, err := phone.NewHasher(cfg.PhoneHashKey)
	if err != nil {
		return err
	}
	handler := ingress.New(ingress.Deps{Config: cfg, Log: log, Store: db, Temporal: tc, Hasher: hasher, Codec: payloadCodec})
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
