#!/usr/bin/env bash
# The fault suite at full size, then every fuzz target for a bounded time.
#
#   scripts/faults.sh                      500 conversations per scenario, a 1-minute Twilio outage,
#                                          each fuzz target for FUZZTIME (default 30s)
#   FUZZTIME=2m scripts/faults.sh          longer fuzzing
#   scripts/faults.sh -conversations 100   extra arguments go to the fault suite
#
# The suite starts its own PostgreSQL cluster and Temporal dev server (file-backed) so that it can
# restart them; it prints a table of scenario, conversations, lost, duplicated and recovery time.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(rb_root)
cd "$root"

rb_ensure_postgres
export RINGBACK_TEST_DATABASE_URL=$RB_PG_ADMIN_URL
rb_ensure_postgres_binaries
rb_ensure_temporal_cli

printf '\n==> fault suite\n'
go test -count=1 -timeout 90m -run '^TestFaults$' -v ./faults -args -conversations 500 "$@" |
	grep -v -E '^=== (RUN|PAUSE|CONT)'

# Each parser and checker that reads what an outsider sends, and each that must not lose data.
fuzz_targets=(
	"./ingress FuzzSignedWebhook"
	"./ingress FuzzStripeWebhook"
	"./internal/stdwebhook FuzzVerify"
	"./internal/acktoken FuzzVerify"
	"./internal/optout FuzzParse"
	"./internal/quiethours FuzzNext"
	"./internal/pii FuzzMaskRoundTrip"
	"./internal/auditlog FuzzVerify"
	"./internal/twiml FuzzSayThenHangup"
	"./internal/backupfile FuzzReader"
	"./internal/guard FuzzInbound"
	"./internal/guard FuzzOutbound"
	"./internal/agent FuzzParseToolCall"
	"./internal/agent FuzzScriptNext"
	"./internal/agent FuzzDetectEscalation"
	"./internal/schedule FuzzSlots"
)
fuzztime=${FUZZTIME:-30s}
for t in "${fuzz_targets[@]}"; do
	read -r pkg name <<<"$t"
	printf '\n==> fuzz %s %s for %s\n' "$pkg" "$name" "$fuzztime"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done
echo
echo "ok: no fault lost or duplicated a text, and no fuzz target found anything"
