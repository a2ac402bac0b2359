package ingress

import (
	"context"
	"net/http"
	"time"

	sdkclient "go.temporal.io/sdk/client"
)

type healthChecker interface {
	CheckHealth(ctx context.Context, req *sdkclient.CheckHealthRequest) (*sdkclient.CheckHealthResponse, error)
}

type pinger interface {
	Ping(ctx context.Context) error
}

type health struct {
	temporal healthChecker
	db       pinger
}

// live answers as long as the process serves HTTP.
func (h *health) live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready checks both dependencies a webhook needs; a load balancer stops sending traffic while
// either is down rather than letting webhooks fail.
func (h *health) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"temporal": "ok", "postgres": "ok"}
	status := http.StatusOK
	if _, err := h.temporal.CheckHealth(ctx, &sdkclient.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unavailable"
		status = http.StatusServiceUnavailable
	}
	if err := h.db.Ping(ctx); err != nil {
		checks["postgres"] = "unavailable"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}
