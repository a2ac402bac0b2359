package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/store"
)

// reportCmd prints a tenant's usage over whole days of its own zone, the last 30 by default.
func reportCmd(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	var from, to string
	var asJSON bool
	tenant, err := tenantFlag("report", args, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 30 days before --to)")
		fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD, included (default: today)")
		fs.BoolVar(&asJSON, "json", false, "print as JSON")
	})
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.Tenant(ctx, tenant)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("report: no such tenant")
	}
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil {
		return fmt.Errorf("report: tenant time zone: %w", err)
	}
	days, err := store.ParseUsageDays(from, to, loc, time.Now())
	if err != nil {
		return fmt.Errorf("%w: report: --%v", errUsage, err)
	}
	u, err := db.Usage(ctx, tenant, days.Start, days.End)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	report := store.UsageReport{TenantID: tenant, Timezone: t.Timezone, From: days.From, To: days.To, Usage: u}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	fmt.Fprintf(out, "usage of %s (tenant %s), %s to %s, %s\n\n", t.Name, tenant, days.From, days.To, t.Timezone)
	rows := []struct {
		label string
		n     int64
	}{
		{"missed calls", u.MissedCalls},
		{"conversations", u.Conversations},
		{"bookings", u.Bookings},
		{"bookings rescheduled", u.BookingsRescheduled},
		{"bookings cancelled", u.BookingsCancelled},
		{"escalations", u.Escalations},
		{"opt-outs", u.OptOuts},
		{"texts received", u.MessagesInbound},
		{"texts sent", u.MessagesOutbound},
	}
	width := 1
	for _, r := range rows {
		width = max(width, len(strconv.FormatInt(r.n, 10)))
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%*d\n", r.label, width, r.n)
	}
	return tw.Flush()
}
