package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ringback/ringback/connect"
	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/internal/legalclock"
	"github.com/ringback/ringback/internal/phone"
	"github.com/ringback/ringback/lifecycle"
	"github.com/ringback/ringback/store"
)

// dsrCmd files and follows data-subject requests, as compliance staff do.
func dsrCmd(ctx context.Context, cfg config.Config, sub string, args []string, out, stderr io.Writer) error {
	fs := newFlags("dsr " + sub)
	kind := fs.String("kind", "", "access, correction, deletion, portability, restriction or objection (start)")
	tenant := fs.String("tenant", "", "the tenant's ID (start, list)")
	var phones multiFlag
	fs.Var(&phones, "phone", "a number the request is about, repeatable; the first is the requester's own")
	regime := fs.String("regime", "", "gdpr or ccpa (default: ccpa for +1 numbers, gdpr otherwise)")
	attest := fs.String("attest", "", "you verified the person another way: why (start; skips the one-time codes)")
	name := fs.String("name", "", "the corrected name (correction)")
	booking := fs.Int64("booking", 0, "limit a correction to one booking")
	request := fs.String("request", "", "the request's ID")
	code := fs.String("code", "", "the one-time code the requester received (verify)")
	reason := fs.String("reason", "", "why (attest, extend, hold)")
	outFile := fs.String("out", "", "where to write the export (export)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: dsr %s: unexpected argument %q", errUsage, sub, fs.Arg(0))
	}
	switch {
	case sub == "start" && (*tenant == "" || *kind == "" || len(phones) == 0):
		return fmt.Errorf("%w: dsr start: --kind, --tenant and --phone are required", errUsage)
	case sub == "lift" && (*tenant == "" || len(phones) != 1 || (*kind != "restriction" && *kind != "objection")):
		return fmt.Errorf("%w: dsr lift: --tenant, one --phone and --kind restriction|objection", errUsage)
	case sub != "start" && sub != "list" && sub != "lift" && *request == "":
		return fmt.Errorf("%w: dsr %s: --request is required", errUsage, sub)
	case sub == "export" && *outFile == "":
		return fmt.Errorf("%w: dsr export: --out is required", errUsage)
	case cfg.DatabaseURL == "":
		return errors.New("DATABASE_URL is not set")
	}
	conn, err := connect.Open(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer conn.Close()
	hasher, err := phone.NewHasher(cfg.PhoneHashKey)
	if err != nil {
		return fmt.Errorf("dsr: RINGBACK_PHONE_HASH_KEY: %w", err)
	}
	reqs := &lifecycle.Requests{Store: conn.Store, Temporal: conn.Temporal, TaskQueue: cfg.ComplianceTaskQueue, Hasher: hasher, Zone: cfg.Compliance.ComplianceZone}
	actor := store.ActorFrom(ctx)

	switch sub {
	case "start":
		in := lifecycle.NewRequest{TenantID: *tenant, Kind: store.DSRKind(*kind), Regime: legalclock.Regime(*regime), Phones: phones, AttestReason: *attest}
		if *name != "" || *booking != 0 {
			in.Correction = &store.Correction{Name: *name, BookingID: *booking}
		}
		return startRequest(ctx, reqs, actor, in, out, *asJSON)
	case "status":
		r, err := conn.Store.DSR(ctx, *request)
		if err != nil {
			return fmt.Errorf("dsr status: %w", err)
		}
		st, err := reqs.State(ctx, r.ID)
		if err != nil && !errors.Is(err, lifecycle.ErrNoRequest) {
			return fmt.Errorf("dsr status: %w", err)
		}
		for i := range st.Exports {
			st.Exports[i].Token, st.Exports[i].Link = "", ""
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(map[string]any{"request": r, "workflow": st})
		}
		fmt.Fprintf(out, "request:   %s (%s, %s) for tenant %s\nstatus:    %s\nreceived:  %s\ndeadline:  %s\n",
			r.ID, r.Kind, r.Regime, r.TenantID, r.Status, r.ReceivedAt.UTC().Format(time.RFC3339), r.Deadline().UTC().Format(time.RFC3339))
		for _, id := range st.Identifiers {
			fmt.Fprintf(out, "number:    %s verified=%t %s\n", id.Phone, id.Verified, id.How)
		}
		if st.Ignored > 0 {
			fmt.Fprintf(out, "ignored:   %d unverified number(s), left out of the answer\n", st.Ignored)
		}
		return nil
	case "list":
		rs, err := conn.Store.ListDSRs(ctx, store.DSRFilter{TenantID: *tenant})
		if err != nil {
			return fmt.Errorf("dsr list: %w", err)
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(rs)
		}
		for _, r := range rs {
			fmt.Fprintf(out, "%s  %-11s %-4s %-11s tenant %s  due %s\n", r.ID, r.Kind, r.Regime, r.Status, r.TenantID, r.Deadline().UTC().Format("2006-01-02"))
		}
		return nil
	case "export":
		return exportRequest(ctx, conn, reqs, *request, *outFile, out)
	case "lift":
		return liftRestriction(ctx, conn.Store, hasher, *tenant, phones, *kind, out)
	case "verify":
		if len(phones) != 1 || *code == "" {
			return fmt.Errorf("%w: dsr verify: one --phone and --code", errUsage)
		}
		err = reqs.VerifyCode(ctx, *request, phones[0], *code)
	case "attest":
		if len(phones) != 1 {
			return fmt.Errorf("%w: dsr attest: one --phone", errUsage)
		}
		err = reqs.Attest(ctx, *request, phones[0], actor, *reason)
	case "extend":
		err = reqs.Extend(ctx, *request, actor, *reason)
	case "hold":
		err = reqs.Hold(ctx, *request, actor, *reason)
	case "release":
		err = reqs.Release(ctx, *request, actor)
	}
	if err != nil {
		return fmt.Errorf("dsr %s: %w", sub, err)
	}
	fmt.Fprintf(out, "%s: done for request %s\n", sub, *request)
	return nil
}

func startRequest(ctx context.Context, reqs *lifecycle.Requests, actor string, in lifecycle.NewRequest, out io.Writer, asJSON bool) error {
	r, err := reqs.Start(ctx, actor, in)
	if err != nil {
		if errors.Is(err, lifecycle.ErrInvalid) {
			return fmt.Errorf("%w: dsr start: %v", errUsage, err)
		}
		return fmt.Errorf("dsr start: %w", err)
	}
	if asJSON {
		return json.NewEncoder(out).Encode(r)
	}
	how := "one-time codes texted to each number"
	if in.AttestReason != "" {
		how = "attested by " + actor
	}
	fmt.Fprintf(out, "request %s filed (%s, %s): due %s; identity: %s\n", r.ID, r.Kind, r.Regime, r.Deadline().UTC().Format(time.RFC3339), how)
	return nil
}

// exportRequest writes an access request's export to a file for the compliance officer handling
// it; opening it records the read, with the officer's login, in the tenant's audit log.
func exportRequest(ctx context.Context, conn *connect.Conn, reqs *lifecycle.Requests, requestID, file string, out io.Writer) error {
	st, err := reqs.State(ctx, requestID)
	if err != nil {
		return fmt.Errorf("dsr export: %w", err)
	}
	if len(st.Exports) == 0 {
		return fmt.Errorf("dsr export: request %s has no export (status %s)", requestID, st.Status)
	}
	exp, err := conn.Store.OpenDSRExport(ctx, conn.Keys, st.Exports[0].Token, time.Now())
	if err != nil {
		return fmt.Errorf("dsr export: %w", err)
	}
	if err := os.WriteFile(file, exp.Data, 0o600); err != nil {
		return fmt.Errorf("dsr export: %w", err)
	}
	fmt.Fprintf(out, "wrote %s (%d bytes, sha256 %x)\n", file, len(exp.Data), exp.SHA256)
	return nil
}

// deleteCustomerCmd is the shortcut compliance staff expect: a deletion request for one number,
// attested by them with a reason (they verified the person), answered at once.
func deleteCustomerCmd(ctx context.Context, cfg config.Config, args []string, out, stderr io.Writer) error {
	if len(args) == 0 || len(args[0]) == 0 || args[0][0] == '-' {
		return fmt.Errorf("%w: delete-customer PHONE --tenant ID --attest REASON", errUsage)
	}
	number, rest := args[0], args[1:]
	fs := newFlags("delete-customer")
	tenant := fs.String("tenant", "", "the tenant's ID")
	attest := fs.String("attest", "", "how you verified the person (recorded with your name)")
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if *tenant == "" || *attest == "" {
		return fmt.Errorf("%w: delete-customer: --tenant and --attest are required (an unverified deletion is never run)", errUsage)
	}
	return dsrCmd(ctx, cfg, "start", []string{"--kind", "deletion", "--tenant", *tenant, "--phone", number, "--attest", *attest}, out, stderr)
}

// liftRestriction ends a restriction or objection the caller asked to lift: the assistant and
// automated texts resume for the number. The lift is recorded in the tenant's audit log.
func liftRestriction(ctx context.Context, db *store.Store, hasher *phone.Hasher, tenantID string, phones []string, kind string, out io.Writer) error {
	sub, err := store.NewSubject(hasher, tenantID, phones[0])
	if err != nil {
		return fmt.Errorf("%w: dsr lift: %v", errUsage, err)
	}
	lifted, err := db.LiftRestriction(ctx, sub.TenantID, sub.PhoneHash, store.RestrictionKind(kind))
	if err != nil {
		return fmt.Errorf("dsr lift: %w", err)
	}
	if !lifted {
		fmt.Fprintf(out, "no %s was in force for that number\n", kind)
		return nil
	}
	fmt.Fprintf(out, "%s lifted\n", kind)
	return nil
}
