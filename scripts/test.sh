#!/usr/bin/env bash
# Everything CI checks, runnable on a fresh clone:
#   gofmt, go vet, staticcheck, then go test -race over the whole module
# against a real PostgreSQL server and the real Temporal dev server.
#
# Usage:
#   scripts/test.sh [go test flags and packages]   e.g. -short, -run TestX ./workflows/
#   scripts/test.sh --lint-only                    gofmt + vet + staticcheck only
#   eval "$(scripts/test.sh --print-env)"          export what go test needs, for
#                                                  running go test by hand
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(rb_root)
cd "$root"

mode=all
case ${1:-} in
--lint-only) mode="lint"; shift ;;
--print-env) mode="env"; shift ;;
esac

ensure_test_env() {
	rb_ensure_postgres
	# Test helpers create and drop their own database per test package on
	# this server.
	export RINGBACK_TEST_DATABASE_URL=$RB_PG_ADMIN_URL
	rb_ensure_postgres_binaries
	rb_ensure_temporal_cli
	rb_ensure_stripe_mock
}

if [[ $mode == env ]]; then
	ensure_test_env >&2
	# go test runs after this script has exited, so its stripe-mock must outlive it.
	rb_shared_stripe_mock >&2
	printf 'export %s=%q\n' \
		GOTOOLCHAIN "$GOTOOLCHAIN" \
		RINGBACK_TEST_DATABASE_URL "$RINGBACK_TEST_DATABASE_URL" \
		RINGBACK_TEMPORAL_CLI "$RINGBACK_TEMPORAL_CLI" \
		RINGBACK_TEST_STRIPE_URL "$RB_STRIPE_MOCK_URL"
	exit 0
fi

failed=()
step() {
	local name=$1
	shift
	printf '\n==> %s\n' "$name"
	if "$@"; then
		return 0
	fi
	failed+=("$name")
}

check_gofmt() {
	local files unformatted
	mapfile -t files < <(rb_go_files)
	((${#files[@]} > 0)) || return 0
	unformatted=$(gofmt -l "${files[@]}")
	if [[ -n $unformatted ]]; then
		printf 'gofmt would reformat (run gofmt -w on them):\n%s\n' "$unformatted"
		return 1
	fi
}

if [[ $mode == all ]]; then
	ensure_test_env
	# The billing tests call stripe-mock; this run's copy is stopped when the script exits.
	stripe_mock_log=$(mktemp "${TMPDIR:-/tmp}/ringback-stripe-mock.XXXXXX")
	# shellcheck disable=SC2317 # invoked through trap
	stop_stripe_mock() {
		rb_stop_stripe_mock
		rm -f "$stripe_mock_log"
	}
	trap stop_stripe_mock EXIT
	rb_start_stripe_mock "$stripe_mock_log"
	export RINGBACK_TEST_STRIPE_URL=$RB_STRIPE_MOCK_URL
	# -race needs cgo and a C compiler.
	if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
		rb_apt_install gcc libc6-dev
	fi
fi
rb_ensure_staticcheck

step gofmt check_gofmt
step "go vet" go vet ./...
step staticcheck bin/staticcheck ./...

if [[ $mode == all ]]; then
	# Packages default to ./... unless the arguments name some.
	args=("$@")
	packages=(./...)
	for arg in "${args[@]}"; do
		case $arg in
		./* | . | github.com/ringback/ringback*) packages=() ;;
		esac
	done
	# The end-to-end package drives real binaries through closures and erasures that wait on the
	# dev server; under -race it can outgrow go test's default 10-minute limit per package.
	step "go test" env CGO_ENABLED=1 go test -race -count=1 -timeout 30m "${args[@]}" "${packages[@]}"
fi

echo
if ((${#failed[@]} > 0)); then
	printf 'FAILED: %s\n' "${failed[*]}"
	exit 1
fi
echo "ok: all checks passed"
