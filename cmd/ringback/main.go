// Command ringback is the operator's CLI: apply migrations, create tenants, and simulate Twilio
// webhooks against a running starter.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // tenant time zones must resolve in minimal container images

	"github.com/ringback/ringback/internal/config"
	"github.com/ringback/ringback/store"
)

const usage = `ringback: operate a Ringback deployment

Usage:
  ringback migrate
  ringback tenant create --name NAME --number +1... [--number ...] --timezone ZONE --owner-phone +1... [--greeting TEXT] [--json]
  ringback tenant show ID [--json]
  ringback tenant onboard --tenant ID
  ringback tenant profile show --tenant ID
  ringback tenant profile set --tenant ID --file profile.json|-
  ringback tenant webhook set --tenant ID --url https://...
  ringback tenant webhook show|delete --tenant ID
  ringback report --tenant ID [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
  ringback escalation ack --workflow conv/TENANT/... --escalation N
  ringback dsr start --kind access|correction|deletion|portability|restriction|objection --tenant ID --phone +1... [--phone ...]
                     [--regime gdpr|ccpa] [--attest REASON] [--name NEW --booking N] [--json]
  ringback dsr status|export|verify|attest|extend|hold|release --request ID [--phone P] [--code C] [--reason R] [--out FILE]
  ringback dsr list [--tenant ID] [--json]
  ringback dsr lift --tenant ID --phone +1... --kind restriction|objection
  ringback delete-customer +1... --tenant ID --attest REASON
  ringback incident open --tenants ID[,ID...] --summary TEXT [--aware-at RFC3339]
  ringback incident notify --incident ID --message TEXT | close --incident ID --summary TEXT | status --incident ID [--json]
  ringback closure start|status|reactivate|release --tenant ID [--json]
  ringback closure hold --tenant ID --reason TEXT
  ringback closure delete-now --tenant ID --confirm ID
  ringback simulate call --from +1... --to +1... [--status no-answer|busy|failed|canceled|completed]
  ringback simulate sms  --from +1... --to +1... --body TEXT
  ringback healthcheck [--url http://127.0.0.1:8080/readyz]
  ringback token create --role ops|compliance|tenant-admin --name NAME [--tenant ID] [--json]
  ringback token list [--tenant ID]
  ringback token revoke ID
  ringback keys rotate --tenant ID | --control
  ringback keys destroy --tenant ID --confirm ID
  ringback audit verify [--tenant ID | --all] [--key VERIFIER_KEY ...] [--all-signatures] [--checkpoint FILE ...]
  ringback audit keygen [--name NAME]
  ringback backup run|list
  ringback backup restore FILE [--database-url URL] --confirm DATABASE

Configuration comes from the environment (see README): DATABASE_URL for migrate, tenant and
report; RINGBACK_MASTER_KEY for tenant webhook; TEMPORAL_ADDRESS too for escalation ack and closure;
RINGBACK_PUBLIC_URL and TWILIO_AUTH_TOKEN for simulate; RINGBACK_BACKUP_DIR and RINGBACK_BACKUP_KEY
for backup.
`

// errUsage marks a command-line mistake; main exits 2 for it.
var errUsage = errors.New("usage")

// stdin is what "--file -" reads; tests replace it.
var stdin io.Reader = os.Stdin

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "ringback: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "ringback: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup config.Lookup) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load(lookup, config.CLI)
	if err != nil {
		return err
	}
	ctx = store.WithActor(ctx, cliActor())
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		sub, rest = rest[0], rest[1:]
	}
	switch {
	case cmd == "migrate" && sub == "":
		return migrateCmd(ctx, cfg, rest, stdout)
	case cmd == "tenant" && sub == "create":
		return tenantCreateCmd(ctx, cfg, rest, stdout)
	case cmd == "tenant" && sub == "onboard":
		return tenantOnboardCmd(ctx, cfg, rest, stdout)
	case cmd == "tenant" && sub == "show":
		return tenantShowCmd(ctx, cfg, rest, stdout)
	case cmd == "tenant" && sub == "profile":
		return tenantProfileCmd(ctx, cfg, rest, stdout)
	case cmd == "tenant" && sub == "webhook":
		return tenantWebhookCmd(ctx, cfg, rest, stdout)
	case cmd == "report" && sub == "":
		return reportCmd(ctx, cfg, rest, stdout)
	case cmd == "closure" && (sub == "start" || sub == "status" || sub == "reactivate" || sub == "delete-now" || sub == "hold" || sub == "release"):
		return closureCmd(ctx, cfg, sub, rest, stdout, stderr)
	case cmd == "dsr" && (sub == "start" || sub == "status" || sub == "list" || sub == "export" || sub == "verify" ||
		sub == "attest" || sub == "extend" || sub == "hold" || sub == "release" || sub == "lift"):
		return dsrCmd(ctx, cfg, sub, rest, stdout, stderr)
	case cmd == "incident" && (sub == "open" || sub == "notify" || sub == "close" || sub == "status"):
		return incidentCmd(ctx, cfg, sub, rest, stdout, stderr)
	case cmd == "delete-customer":
		// The number comes first, where sub would be.
		return deleteCustomerCmd(ctx, cfg, append([]string{sub}, rest...), stdout, stderr)
	case cmd == "escalation" && sub == "ack":
		return escalationAckCmd(ctx, cfg, rest, stdout, stderr)
	case cmd == "simulate" && (sub == "call" || sub == "sms"):
		return simulateCmd(ctx, cfg, sub, rest, stdout)
	case cmd == "token" && (sub == "create" || sub == "list" || sub == "revoke"):
		return tokenCmd(ctx, cfg, sub, rest, stdout)
	case cmd == "keys" && (sub == "rotate" || sub == "destroy"):
		return keysCmd(ctx, cfg, sub, rest, stdout)
	case cmd == "healthcheck" && sub == "":
		return healthcheckCmd(ctx, rest, stdout)
	case cmd == "audit" && sub == "verify":
		return auditVerifyCmd(ctx, cfg, rest, stdout)
	case cmd == "audit" && sub == "keygen":
		return auditKeygenCmd(rest, stdout)
	case cmd == "backup" && (sub == "run" || sub == "list" || sub == "restore"):
		return backupCmd(ctx, cfg, sub, rest, stdout, stderr)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, strings.TrimSpace(cmd+" "+sub))
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	return nil
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
