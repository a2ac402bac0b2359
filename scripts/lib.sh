# shellcheck shell=bash
# Shared helpers for scripts/dev.sh and scripts/test.sh. Source it; do not run it.
#
# Every function is safe under `set -euo pipefail`. Functions that fail print
# a one-line reason prefixed with "ringback:" to stderr and return non-zero.

# The Go version is pinned in go.mod; never let the go command download a
# different toolchain behind our back.
export GOTOOLCHAIN=local

RB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RB_ROOT

# Pinned tool versions. staticcheck 2026.2.2 is the newest release and the
# first one that understands Go 1.26 code.
RB_STATICCHECK_MODULE_VERSION=v0.8.2
# stripe-mock answers Stripe API calls offline, from Stripe's OpenAPI spec.
RB_STRIPE_MOCK_VERSION=v0.203.0

rb_log() { printf 'ringback: %s\n' "$*" >&2; }
rb_die() { rb_log "$*"; return 1; }

# rb_root prints the repository root.
rb_root() {
	export GOTOOLCHAIN=local
	printf '%s\n' "$RB_ROOT"
}

# rb_as_root runs a command as root: directly when we are root, through
# passwordless sudo otherwise.
rb_as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		rb_die "need root to run: $* (re-run as root, or set DATABASE_URL to an existing server)"
	fi
}

# rb_apt_install installs Debian packages non-interactively.
rb_apt_install() {
	command -v apt-get >/dev/null 2>&1 ||
		rb_die "apt-get not found; install $* yourself" || return 1
	rb_log "installing $* with apt-get"
	rb_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
	rb_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || return 1
}

# rb_now_ms prints the current time in milliseconds.
rb_now_ms() {
	local us=${EPOCHREALTIME/[.,]/}
	printf '%s\n' "$((us / 1000))"
}

# rb_deadline SECONDS prints a deadline for rb_deadline_passed.
rb_deadline() { printf '%s\n' "$(($(rb_now_ms) + $1 * 1000))"; }

# rb_deadline_passed DEADLINE is true once DEADLINE (from rb_deadline) is reached.
rb_deadline_passed() { (($(rb_now_ms) >= $1)); }

# rb_port_open HOST PORT is true when something accepts TCP connections there.
rb_port_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# rb_wait_port HOST PORT SECONDS [PID]
# Polls until HOST:PORT accepts a TCP connection. Fails after SECONDS, or as
# soon as PID (when given) is no longer running.
rb_wait_port() {
	local host=$1 port=$2 seconds=$3 pid=${4:-}
	local deadline
	deadline=$(rb_deadline "$seconds")
	until rb_port_open "$host" "$port"; do
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			rb_die "process $pid exited before $host:$port accepted connections"
			return 1
		fi
		if rb_deadline_passed "$deadline"; then
			rb_die "$host:$port did not accept connections within ${seconds}s"
			return 1
		fi
		sleep 0.1
	done
}

# rb_http_ok URL is true when URL answers with a 2xx status.
rb_http_ok() {
	local url=$1
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
		return
	fi
	# Plain-bash fallback for http://host:port/path URLs.
	local rest=${url#http://} hostport path host port status
	hostport=${rest%%/*}
	path=/${rest#*/}
	[[ $rest == */* ]] || path=/
	host=${hostport%%:*}
	port=80
	[[ $hostport == *:* ]] && port=${hostport##*:}
	status=$(
		exec 3<>"/dev/tcp/$host/$port" || exit 1
		printf 'GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$hostport" >&3
		IFS= read -r -t 2 line <&3 || exit 1
		printf '%s' "$line"
	) 2>/dev/null || return 1
	[[ $status =~ ^HTTP/[0-9.]+\ 2[0-9][0-9] ]]
}

# rb_wait_http URL SECONDS [PID]: like rb_wait_port, for a 2xx HTTP answer.
rb_wait_http() {
	local url=$1 seconds=$2 pid=${3:-}
	local deadline
	deadline=$(rb_deadline "$seconds")
	until rb_http_ok "$url"; do
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			rb_die "process $pid exited before $url answered"
			return 1
		fi
		if rb_deadline_passed "$deadline"; then
			rb_die "$url did not answer 2xx within ${seconds}s"
			return 1
		fi
		sleep 0.2
	done
}

# rb_url_with_db URL DBNAME prints URL with its database replaced by DBNAME.
# Handles postgres:// URLs (keeping user, password, host and query) and
# key=value connection strings (where a later dbname= wins).
rb_url_with_db() {
	local url=$1 db=$2 query="" scheme rest authority
	if [[ $url != *://* ]]; then
		printf '%s dbname=%s\n' "$url" "$db"
		return
	fi
	if [[ $url == *\?* ]]; then
		query="?${url#*\?}"
		url=${url%%\?*}
	fi
	scheme=${url%%://*}
	rest=${url#*://}
	authority=${rest%%/*}
	printf '%s://%s/%s%s\n' "$scheme" "$authority" "$db" "$query"
}

# rb_url_redact URL prints URL with any password replaced by "***".
rb_url_redact() {
	local url=$1
	if [[ $url =~ ^([a-z0-9+]+://[^:/@]*):[^@/]*@(.*)$ ]]; then
		printf '%s:***@%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	elif [[ $url == *password=* ]]; then
		printf '%s\n' "$url" | sed 's/password=[^ ]*/password=***/g'
	else
		printf '%s\n' "$url"
	fi
}

# rb_url_db URL prints the database name of a postgres:// URL.
rb_url_db() {
	local url=$1 rest
	if [[ $url != *://* ]]; then
		# key=value form: the last dbname= wins.
		local db="" word
		for word in $url; do
			[[ $word == dbname=* ]] && db=${word#dbname=}
		done
		printf '%s\n' "$db"
		return
	fi
	url=${url%%\?*}
	rest=${url#*://}
	[[ $rest == */* ]] || { printf '\n'; return; }
	printf '%s\n' "${rest#*/}"
}

rb__psql_ok() {
	PGCONNECT_TIMEOUT=5 psql "$1" -X -q -tA -v ON_ERROR_STOP=1 -c 'select 1' >/dev/null 2>&1
}

rb__pg_ready() {
	local host=$1 port=$2
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$host" -p "$port" -t 2
	else
		rb_port_open "$host" "$port"
	fi
}

# rb__start_cluster starts the newest PostgreSQL cluster found under
# /etc/postgresql and prints its port.
rb__start_cluster() {
	local version cluster port deadline
	version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
	[[ -n $version ]] || return 1
	if [[ -d /etc/postgresql/$version/main ]]; then
		cluster=main
	else
		cluster=$(find "/etc/postgresql/$version" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -n 1)
	fi
	[[ -n $cluster ]] || return 1
	port=$(sed -n 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
		"/etc/postgresql/$version/$cluster/postgresql.conf" 2>/dev/null | tail -n 1)
	port=${port:-5432}
	if ! rb__pg_ready 127.0.0.1 "$port"; then
		rb_log "starting PostgreSQL cluster $version/$cluster on port $port"
		rb_as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2 || return 1
		deadline=$(rb_deadline 60)
		until rb__pg_ready 127.0.0.1 "$port"; do
			if rb_deadline_passed "$deadline"; then
				rb_die "PostgreSQL $version/$cluster did not become ready within 60s"
				return 1
			fi
			sleep 0.2
		done
	fi
	printf '%s\n' "$port"
}

# rb_ensure_postgres finds or starts a PostgreSQL server and exports
# RB_PG_ADMIN_URL, a URL to an existing database on it from which other
# databases can be created. Discovery order:
#   1. DATABASE_URL, if set;
#   2. a server already listening on 127.0.0.1:5432 (user postgres, trust auth);
#   3. a cluster under /etc/postgresql, started with pg_ctlcluster;
#   4. apt-get install postgresql, then 3.
rb_ensure_postgres() {
	if ! command -v psql >/dev/null 2>&1; then
		rb_apt_install postgresql-client || return 1
	fi

	if [[ -n ${DATABASE_URL:-} ]]; then
		rb__psql_ok "$DATABASE_URL" ||
			rb_die "DATABASE_URL is set but 'select 1' fails against it" || return 1
		RB_PG_ADMIN_URL=$DATABASE_URL
		export RB_PG_ADMIN_URL
		return 0
	fi

	local url port
	if rb__pg_ready 127.0.0.1 5432; then
		url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		rb__psql_ok "$url" ||
			rb_die "a server answers on 127.0.0.1:5432 but '$url' is refused; set DATABASE_URL" || return 1
		RB_PG_ADMIN_URL=$url
		export RB_PG_ADMIN_URL
		return 0
	fi

	local installed=""
	if ! compgen -G '/etc/postgresql/*/*/postgresql.conf' >/dev/null; then
		rb_apt_install postgresql || return 1
		installed=1
	fi
	port=$(rb__start_cluster) || rb_die "could not start a PostgreSQL cluster from /etc/postgresql" || return 1

	if [[ -n $installed ]]; then
		# A fresh Debian cluster only allows peer auth over the socket and
		# password auth over TCP; give the local superuser a password so the
		# URL below works over TCP.
		rb_log "setting a local password for the postgres role of the new cluster"
		(cd / && rb_as_root su postgres -c "psql -X -q -p $port -c \"ALTER ROLE postgres PASSWORD 'postgres'\"") >/dev/null || return 1
		url="postgres://postgres:postgres@127.0.0.1:$port/postgres?sslmode=disable"
	else
		url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	fi
	rb__psql_ok "$url" ||
		rb_die "PostgreSQL is running on port $port but '$url' is refused; set DATABASE_URL" || return 1
	RB_PG_ADMIN_URL=$url
	export RB_PG_ADMIN_URL
}

rb__check_db_name() {
	[[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || rb_die "invalid database name: $1"
}

# rb_create_database_if_missing NAME creates NAME on the RB_PG_ADMIN_URL server
# unless it exists, and prints its URL.
rb_create_database_if_missing() {
	local name=$1 exists
	rb__check_db_name "$name" || return 1
	[[ -n ${RB_PG_ADMIN_URL:-} ]] || rb_die "call rb_ensure_postgres first" || return 1
	exists=$(psql "$RB_PG_ADMIN_URL" -X -q -tA -v ON_ERROR_STOP=1 \
		-c "select 1 from pg_database where datname = '$name'") || return 1
	if [[ $exists != 1 ]]; then
		psql "$RB_PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$name\"" >/dev/null || return 1
	fi
	rb_url_with_db "$RB_PG_ADMIN_URL" "$name"
}

# rb_fresh_database PREFIX creates a new, empty database named
# PREFIX_<timestamp>_<pid> and prints its URL.
rb_fresh_database() {
	local prefix=$1 name
	[[ -n ${RB_PG_ADMIN_URL:-} ]] || rb_die "call rb_ensure_postgres first" || return 1
	name="${prefix}_$(date +%Y%m%d%H%M%S)_$$"
	rb__check_db_name "$name" || return 1
	psql "$RB_PG_ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$name\"" >/dev/null || return 1
	rb_url_with_db "$RB_PG_ADMIN_URL" "$name"
}

# rb_drop_database URL drops the database URL points at, disconnecting any
# sessions still using it. It refuses to drop the admin database.
rb_drop_database() {
	local url=$1 name admin
	name=$(rb_url_db "$url")
	rb__check_db_name "$name" || return 1
	case $name in
	postgres | template0 | template1) rb_die "refusing to drop $name" || return 1 ;;
	esac
	admin=${RB_PG_ADMIN_URL:-$(rb_url_with_db "$url" postgres)}
	[[ $(rb_url_db "$admin") != "$name" ]] || rb_die "refusing to drop the admin database $name" || return 1
	psql "$admin" -X -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
}

# rb_ensure_postgres_binaries makes sure initdb and pg_ctl exist (the fault
# suite runs a PostgreSQL cluster of its own so that it can restart it),
# installing the server package when they do not.
rb_ensure_postgres_binaries() {
	if command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
		return 0
	fi
	rb_apt_install postgresql
}

# rb_ensure_temporal_cli builds bin/temporal (Temporal CLI with its embedded
# dev server) from the separate module in tools/temporal unless it exists,
# and exports RINGBACK_TEMPORAL_CLI. An executable already named by
# RINGBACK_TEMPORAL_CLI is used as is.
rb_ensure_temporal_cli() {
	if [[ -n ${RINGBACK_TEMPORAL_CLI:-} && -x ${RINGBACK_TEMPORAL_CLI} ]]; then
		export RINGBACK_TEMPORAL_CLI
		return 0
	fi
	local bin=$RB_ROOT/bin/temporal
	if [[ ! -x $bin ]]; then
		rb_log "building the Temporal CLI into bin/temporal (the first build takes about 3 minutes)"
		mkdir -p "$RB_ROOT/bin"
		(cd "$RB_ROOT/tools/temporal" &&
			go build -o "$bin.tmp.$$" github.com/temporalio/cli/cmd/temporal) ||
			{ rm -f "$bin.tmp.$$"; rb_die "building the Temporal CLI failed"; return 1; }
		mv -f "$bin.tmp.$$" "$bin"
	fi
	RINGBACK_TEMPORAL_CLI=$bin
	export RINGBACK_TEMPORAL_CLI
}

# rb_ensure_staticcheck installs the pinned staticcheck into bin/.
rb_ensure_staticcheck() {
	local bin=$RB_ROOT/bin/staticcheck have=""
	[[ -x $bin ]] && have=$("$bin" -version 2>/dev/null || true)
	# `staticcheck -version` prints e.g. "staticcheck 2026.2.2 (0.8.2)".
	if [[ $have == *"(${RB_STATICCHECK_MODULE_VERSION#v})"* ]]; then
		return 0
	fi
	rb_log "installing staticcheck $RB_STATICCHECK_MODULE_VERSION into bin/"
	(cd "$RB_ROOT" && GOBIN="$RB_ROOT/bin" go install "honnef.co/go/tools/cmd/staticcheck@$RB_STATICCHECK_MODULE_VERSION") ||
		rb_die "installing staticcheck failed" || return 1
}

# rb_ensure_stripe_mock installs the pinned stripe-mock into bin/. Its
# -version flag prints "master", so the version is read from the binary's
# build information instead.
rb_ensure_stripe_mock() {
	local bin=$RB_ROOT/bin/stripe-mock
	if [[ -x $bin ]] && go version -m "$bin" 2>/dev/null |
		grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/stripe/stripe-mock[[:space:]]+${RB_STRIPE_MOCK_VERSION}([[:space:]]|$)"; then
		return 0
	fi
	rb_log "installing stripe-mock $RB_STRIPE_MOCK_VERSION into bin/"
	(cd "$RB_ROOT" && GOBIN="$RB_ROOT/bin" go install "github.com/stripe/stripe-mock@$RB_STRIPE_MOCK_VERSION") ||
		rb_die "installing stripe-mock failed" || return 1
}

# rb__stripe_mock_port LOG prints the HTTP port stripe-mock reported in LOG.
rb__stripe_mock_port() {
	sed -n 's/^Listening for HTTP at address: 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$1" 2>/dev/null | head -n 1
}

# rb__wait_stripe_mock PID LOG waits until the stripe-mock running as PID has
# reported its port in LOG and accepts connections there, then sets
# RB_STRIPE_MOCK_URL.
rb__wait_stripe_mock() {
	local pid=$1 log=$2 port="" deadline
	deadline=$(rb_deadline 30)
	until [[ -n $port ]]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rb_die "stripe-mock exited: $(tail -n 3 "$log" 2>/dev/null | tr '\n' ' ')"
			return 1
		fi
		if rb_deadline_passed "$deadline"; then
			rb_die "stripe-mock did not report its port within 30s"
			return 1
		fi
		sleep 0.1
		port=$(rb__stripe_mock_port "$log")
	done
	rb_wait_port 127.0.0.1 "$port" 10 "$pid" || return 1
	RB_STRIPE_MOCK_URL=http://127.0.0.1:$port
}

# rb__spawn_stripe_mock LOG starts bin/stripe-mock in the background, HTTP and
# HTTPS both bound to 127.0.0.1 only (HTTPS would listen on every interface
# otherwise) on ports the kernel picks, so runs side by side never collide.
# The new process's id is in $!.
rb__spawn_stripe_mock() {
	"$RB_ROOT/bin/stripe-mock" -http-addr 127.0.0.1:0 -https-addr 127.0.0.1:0 </dev/null >"$1" 2>&1 &
}

# rb_start_stripe_mock LOG starts a stripe-mock that belongs to the calling
# script, waits until it accepts connections, and sets RB_STRIPE_MOCK_PID and
# RB_STRIPE_MOCK_URL. Stop it with rb_stop_stripe_mock, typically from an EXIT
# trap.
rb_start_stripe_mock() {
	local log=$1
	rb__spawn_stripe_mock "$log"
	RB_STRIPE_MOCK_PID=$!
	rb__wait_stripe_mock "$RB_STRIPE_MOCK_PID" "$log" || { rb_stop_stripe_mock; return 1; }
}

# rb_stop_stripe_mock stops the stripe-mock rb_start_stripe_mock started.
rb_stop_stripe_mock() {
	[[ -n ${RB_STRIPE_MOCK_PID:-} ]] || return 0
	kill -TERM "$RB_STRIPE_MOCK_PID" 2>/dev/null || true
	wait "$RB_STRIPE_MOCK_PID" 2>/dev/null || true
	RB_STRIPE_MOCK_PID=""
}

# rb_shared_stripe_mock sets RB_STRIPE_MOCK_URL to a stripe-mock for tests run
# by hand. Unlike rb_start_stripe_mock's, this one outlives the script, so
# that `eval "$(scripts/test.sh --print-env)"` leaves it running for go test;
# later calls reuse it while it runs. Its pid and output are in
# bin/stripe-mock.pid and bin/stripe-mock.log; stop it with
# `kill "$(cat bin/stripe-mock.pid)"`.
rb_shared_stripe_mock() {
	local dir=$RB_ROOT/bin pid port
	if [[ -f $dir/stripe-mock.pid ]]; then
		pid=$(cat "$dir/stripe-mock.pid")
		port=$(rb__stripe_mock_port "$dir/stripe-mock.log")
		# The pid file may be stale and its number reused: check the process is stripe-mock.
		if [[ $pid =~ ^[0-9]+$ && -n $port && $(cat "/proc/$pid/comm" 2>/dev/null) == stripe-mock ]] &&
			rb_port_open 127.0.0.1 "$port"; then
			RB_STRIPE_MOCK_URL=http://127.0.0.1:$port
			return 0
		fi
	fi
	rb_log "starting stripe-mock for tests run by hand (stop it with: kill \$(cat bin/stripe-mock.pid))"
	mkdir -p "$dir"
	rb__spawn_stripe_mock "$dir/stripe-mock.log"
	pid=$!
	printf '%s\n' "$pid" >"$dir/stripe-mock.pid"
	rb__wait_stripe_mock "$pid" "$dir/stripe-mock.log"
}

# rb_go_files prints the repository's Go files (tracked and untracked, not
# ignored), excluding the separate tools/ modules.
rb_go_files() {
	if git -C "$RB_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		local f
		git -C "$RB_ROOT" ls-files --cached --others --exclude-standard -- '*.go' |
			while IFS= read -r f; do
				# Deleted-but-tracked files are listed too; skip them.
				if [[ $f != tools/* && -f $RB_ROOT/$f ]]; then
					printf '%s\n' "$f"
				fi
			done
	else
		(cd "$RB_ROOT" && find . \( -path ./tools -o -path ./bin -o -path ./.dev -o -path ./.git \) -prune \
			-o -type f -name '*.go' -print | sed 's|^\./||')
	fi
}

# rb_build builds the three binaries into bin/.
rb_build() {
	(cd "$RB_ROOT" && mkdir -p bin && go build -o bin/ ./worker ./starter ./cmd/ringback)
}
