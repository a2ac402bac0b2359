package ingress

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/ringback/ringback/internal/access"
	"github.com/ringback/ringback/store"
)

// getUsage reports a tenant's counts over whole days of its own zone: ?from=YYYY-MM-DD&to=…, to
// inclusive, the last 30 days by default. Counts hold no personal data; whoever may read the
// tenant may read them.
func (a *tenantAPI) getUsage(w http.ResponseWriter, r *http.Request, p access.Principal) {
	id := r.PathValue("id")
	if err := p.CanReadTenant(id); err != nil {
		forbid(w, r, a.log, a.store, p, err)
		return
	}
	t, ok := a.loadTenant(w, r, id)
	if !ok {
		return
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		a.log.Error("tenant time zone does not load", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not compute usage")
		return
	}
	q := r.URL.Query()
	days, err := store.ParseUsageDays(q.Get("from"), q.Get("to"), loc, a.now())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	u, err := a.store.Usage(r.Context(), id, days.Start, days.End)
	if err != nil {
		a.log.Error("usage failed", slog.String("tenant_id", id), slog.String("error", err.Error()))
		writeJSONError(w, http.StatusInternalServerError, "could not compute usage")
		return
	}
	writeJSON(w, http.StatusOK, store.UsageReport{TenantID: id, Timezone: t.Timezone, From: days.From, To: days.To, Usage: u})
}
