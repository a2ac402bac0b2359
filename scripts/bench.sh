#!/usr/bin/env bash
# Benchmarks the real path (signed webhook → first text) against the bare engine (workflow →
# activity) in one process run on one Temporal dev server, then the audit log (append rates
# against a plain INSERT, verify over 1M entries) and the payload codec against the plain data
# converter; prints the figures and their ratios, and writes docs/performance.md. Extra arguments go to the bench command (see go run ./bench -h).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(rb_root)
cd "$root"

rb_ensure_postgres
rb_ensure_temporal_cli
export RINGBACK_TEST_DATABASE_URL=$RB_PG_ADMIN_URL
go run ./bench -temporal-cli "$RINGBACK_TEMPORAL_CLI" -database-url "$RB_PG_ADMIN_URL" "$@"
