package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthcheckCmd probes a readiness URL and succeeds only on 200. Container images without a
// shell or curl use it as their healthcheck.
func healthcheckCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("healthcheck")
	target := fs.String("url", "http://127.0.0.1:8080/readyz", "URL that answers 200 when healthy")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s: %s", *target, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(out, "healthy: %s\n", strings.TrimSpace(string(body)))
	return nil
}
