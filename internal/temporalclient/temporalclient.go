// Package temporalclient builds the Temporal client options every Ringback process uses, from the
// SDK's environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS
// settings, or a TOML profile), so the worker, the starter and the CLI always agree.
package temporalclient

import (
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
)

// DefaultAddress is the dev server's gRPC address, used when nothing is configured.
const DefaultAddress = "127.0.0.1:7233"

// Options loads client options and attaches logger. With a codec, every payload the client
// writes is encrypted, and failure messages and stack traces travel as encrypted payloads too
// (they can quote personal data).
func Options(logger *slog.Logger, codec converter.PayloadCodec) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration: %w", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = DefaultAddress
	}
	if opts.Namespace == "" {
		opts.Namespace = client.DefaultNamespace
	}
	opts.Logger = log.NewStructuredLogger(logger)
	return WithCodec(opts, codec), nil
}

// WithCodec sets the data and failure converters that encrypt through codec; a nil codec leaves
// opts unchanged.
func WithCodec(opts client.Options, codec converter.PayloadCodec) client.Options {
	if codec == nil {
		return opts
	}
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec)
	opts.DataConverter = dc
	opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: dc, EncodeCommonAttributes: true,
	})
	return opts
}
