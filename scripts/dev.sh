#!/usr/bin/env bash
# Runs the whole stack on this machine: PostgreSQL, the Temporal dev server
# (file-backed), the worker and the starter, plus a demo tenant. Ctrl-C stops
# everything; so does any one of the processes exiting.
#
# State that survives restarts lives in .dev/ (see DEVELOPERS.md).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
root=$(rb_root)
cd "$root"

dev=$root/.dev
temporal_port=7233
temporal_ui_port=8233
starter_addr=127.0.0.1:8080
public_url=http://$starter_addr

# A DATABASE_URL set by the caller is used as the app database as is;
# otherwise the app gets a database named "ringback" on the server found by
# rb_ensure_postgres.
caller_database_url=${DATABASE_URL:-}

mkdir -p "$dev"
chmod 700 "$dev"

# --- single instance -------------------------------------------------------
if [[ -f $dev/dev.pid ]] && kill -0 "$(cat "$dev/dev.pid")" 2>/dev/null; then
	rb_die "make dev is already running (pid $(cat "$dev/dev.pid")); stop it first"
	exit 1
fi
for port in "$temporal_port" "$temporal_ui_port" "${starter_addr##*:}"; do
	if rb_port_open 127.0.0.1 "$port"; then
		rb_die "port $port on 127.0.0.1 is already in use; stop whatever listens there"
		exit 1
	fi
done
echo $$ >"$dev/dev.pid"

# --- process supervision ---------------------------------------------------
service_pids=()  # temporal, worker, starter (in start order)
service_names=()
logger_pids=()
stopping=""

# shellcheck disable=SC2317 # invoked through trap
stop_all() {
	local status=$?
	[[ -n $stopping ]] && return
	stopping=1
	trap - INT TERM HUP EXIT
	if ((${#service_pids[@]} > 0)); then
		printf '\nringback: stopping %s\n' "${service_names[*]}" >&2
		local i pid deadline
		# Reverse start order, one at a time, so that the starter and the worker
		# can still reach Temporal while they shut down. (Ctrl-C in a terminal
		# also signals every process directly; they all handle SIGINT.)
		for ((i = ${#service_pids[@]} - 1; i >= 0; i--)); do
			pid=${service_pids[i]}
			kill -TERM "$pid" 2>/dev/null || continue
			deadline=$(rb_deadline 15)
			while kill -0 "$pid" 2>/dev/null && ! rb_deadline_passed "$deadline"; do
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		done
		for pid in "${service_pids[@]}" "${logger_pids[@]}"; do
			wait "$pid" 2>/dev/null || true
		done
	fi
	rm -f "$dev/dev.pid" "$dev"/*.fifo "$dev"/*.pid
	exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# prefix_lines NAME LOGFILE copies stdin to LOGFILE and to stdout with every
# line prefixed by [NAME]. It ignores SIGINT so that the last lines a process
# prints while shutting down still reach the terminal.
prefix_lines() {
	trap '' INT
	local name=$1 line
	while IFS= read -r line || [[ -n $line ]]; do
		printf '%s\n' "$line" >&3
		printf '[%s] %s\n' "$name" "$line"
	done 3>>"$2"
}

# start NAME COMMAND... runs COMMAND in the background with its output
# prefixed in the terminal and appended to .dev/NAME.log.
start() {
	local name=$1
	shift
	local fifo=$dev/$name.fifo
	rm -f "$fifo"
	mkfifo -m 600 "$fifo"
	prefix_lines "$name" "$dev/$name.log" <"$fifo" &
	logger_pids+=("$!")
	"$@" >"$fifo" 2>&1 </dev/null &
	service_pids+=("$!")
	service_names+=("$name")
	printf '%s\n' "$!" >"$dev/$name.pid"
}

pid_of() {
	local i
	for i in "${!service_names[@]}"; do
		if [[ ${service_names[i]} == "$1" ]]; then
			printf '%s\n' "${service_pids[i]}"
			return
		fi
	done
	return 1
}

# count_tenants prints the number of tenants, or nothing if the table is not
# found (it lives in the control schema; any schema is accepted).
count_tenants() {
	local table
	table=$(psql "$DATABASE_URL" -X -q -tA -c "select quote_ident(table_schema) || '.' || quote_ident(table_name)
		from information_schema.tables where table_name = 'tenants'
		order by table_schema = 'control' desc, table_schema limit 1" 2>/dev/null) || return 0
	[[ -n $table ]] || return 0
	psql "$DATABASE_URL" -X -q -tA -c "select count(*) from $table" 2>/dev/null || true
}

# --- PostgreSQL ------------------------------------------------------------
rb_ensure_postgres
if [[ -n $caller_database_url ]]; then
	database_url=$caller_database_url
else
	database_url=$(rb_create_database_if_missing ringback)
fi

# --- secrets and .dev/env --------------------------------------------------
# env_get VAR prints VAR's value from an existing .dev/env, if any.
env_get() {
	[[ -f $dev/env ]] || return 0
	# shellcheck disable=SC1091
	(. "$dev/env" >/dev/null 2>&1 && printf '%s' "${!1:-}")
}
# env_line NAME VALUE [NAME VALUE]... prints export lines, single-quoted.
env_line() {
	while (($# >= 2)); do
		printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"
		shift 2
	done
}
random_secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
random_key_b64() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

twilio_auth_token=$(env_get TWILIO_AUTH_TOKEN)
phone_hash_key=$(env_get RINGBACK_PHONE_HASH_KEY)
master_key=$(env_get RINGBACK_MASTER_KEY)
ops_token=$(env_get RINGBACK_OPS_TOKEN)
audit_key=$(env_get RINGBACK_AUDIT_SIGNING_KEY)
if [[ -z $phone_hash_key ]]; then
	rb_log "generating dev secrets into .dev/env (kept across runs)"
	if [[ -z $caller_database_url ]] &&
		[[ $(DATABASE_URL=$database_url count_tenants) =~ ^[1-9] ]]; then
		rb_log "warning: database 'ringback' already holds tenants hashed with an older RINGBACK_PHONE_HASH_KEY;"
		rb_log "warning: drop it for a clean start: psql '$RB_PG_ADMIN_URL' -c 'DROP DATABASE ringback WITH (FORCE)'"
	fi
fi
twilio_auth_token=${twilio_auth_token:-$(random_secret)}
phone_hash_key=${phone_hash_key:-$(random_secret)}
# Added to an existing .dev/env on first use; data keys are created under whichever master key
# is configured when the first payload is encrypted, so it must not change afterwards.
master_key=${master_key:-$(random_key_b64)}
# The audit log's checkpoint signing key: an Ed25519 note key, made the way `ringback audit
# keygen` makes one (openssl is not needed: the CLI is built a few lines further down, so the
# key is generated there on first use).

(
	umask 077
	{
		echo "# Environment of the dev stack started by 'make dev'. Source it to use the"
		echo "# CLI against that stack:  . .dev/env && bin/ringback ..."
		echo "# The secrets below are generated once and kept; everything else is"
		echo "# rewritten on every run."
		env_line \
			RINGBACK_ENV dev \
			DATABASE_URL "$database_url" \
			TEMPORAL_ADDRESS "127.0.0.1:$temporal_port" \
			TEMPORAL_NAMESPACE default \
			RINGBACK_TASK_QUEUE ringback \
			RINGBACK_COMPLIANCE_TASK_QUEUE ringback-compliance \
			RINGBACK_LISTEN_ADDR "$starter_addr" \
			RINGBACK_PUBLIC_URL "$public_url" \
			TWILIO_ACCOUNT_SID "" \
			TWILIO_AUTH_TOKEN "$twilio_auth_token" \
			RINGBACK_PHONE_HASH_KEY "$phone_hash_key" \
			RINGBACK_MASTER_KEY "$master_key" \
			RINGBACK_QUIET_HOURS "${RINGBACK_QUIET_HOURS:-enforce}"
		[[ -z $audit_key ]] || env_line RINGBACK_AUDIT_SIGNING_KEY "$audit_key"
		# An API token with the ops role, issued by bin/ringback once the database is migrated.
		[[ -z $ops_token ]] || env_line RINGBACK_OPS_TOKEN "$ops_token"
	} >"$dev/env.tmp"
	mv -f "$dev/env.tmp" "$dev/env"
)
# TWILIO_ACCOUNT_SID is empty on purpose: the worker uses the sandbox sender,
# which records texts in PostgreSQL and prints them instead of sending them.
# shellcheck disable=SC1091
. "$dev/env"

# --- build and migrate -----------------------------------------------------
rb_ensure_temporal_cli
rb_log "building bin/worker bin/starter bin/ringback"
rb_build
rb_log "migrating $(rb_url_db "$DATABASE_URL")"
bin/ringback migrate

if [[ -z $audit_key ]]; then
	rb_log "generating the audit log signing key into .dev/env"
	audit_key=$(bin/ringback audit keygen --name ringback-dev | sed -n 's/^RINGBACK_AUDIT_SIGNING_KEY=//p')
	[[ -n $audit_key ]] || { rb_die "could not generate an audit signing key"; exit 1; }
	env_line RINGBACK_AUDIT_SIGNING_KEY "$audit_key" >>"$dev/env"
	export RINGBACK_AUDIT_SIGNING_KEY=$audit_key
fi

# An ops API token for the Web UI's codec endpoint and the admin API. Issued once; issued again if
# the database it lived in was dropped or the token was revoked.
ops_token_id=${ops_token#rbt_}
ops_token_id=${ops_token_id%%_*}
if [[ -z $ops_token ]] || ! bin/ringback token list | awk -v id="$ops_token_id" '$1 == id && $NF == "-" {found=1} END {exit !found}'; then
	rb_log "issuing an ops API token into .dev/env"
	ops_token=$(bin/ringback token create --role ops --name "make dev" --json | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
	[[ -n $ops_token ]] || { rb_die "could not issue an ops token"; exit 1; }
	sed -i '/^export RINGBACK_OPS_TOKEN=/d' "$dev/env"
	env_line RINGBACK_OPS_TOKEN "$ops_token" >>"$dev/env"
	export RINGBACK_OPS_TOKEN=$ops_token
fi

# --- Temporal --------------------------------------------------------------
start temporal "$RINGBACK_TEMPORAL_CLI" server start-dev \
	--db-filename "$dev/temporal.db" \
	--ip 127.0.0.1 --port "$temporal_port" --ui-port "$temporal_ui_port" \
	--search-attribute TenantID=Keyword --search-attribute Stage=Keyword \
	--search-attribute DSRKind=Keyword --search-attribute DueAt=Datetime \
	--ui-codec-endpoint "$public_url/codec/$RINGBACK_OPS_TOKEN" \
	--log-level error
rb_wait_port 127.0.0.1 "$temporal_port" 60 "$(pid_of temporal)"
# The port opens before the namespace and search attributes are usable.
deadline=$(rb_deadline 30)
until "$RINGBACK_TEMPORAL_CLI" operator search-attribute list \
	--address "127.0.0.1:$temporal_port" --namespace default 2>/dev/null | grep -qw DueAt; do
	kill -0 "$(pid_of temporal)" 2>/dev/null || { rb_die "the Temporal dev server exited"; exit 1; }
	rb_deadline_passed "$deadline" && { rb_die "Temporal did not register its search attributes within 30s"; exit 1; }
	sleep 0.2
done

# --- worker and starter ----------------------------------------------------
start worker bin/worker
start starter bin/starter
rb_wait_http "$public_url/readyz" 60 "$(pid_of starter)"
kill -0 "$(pid_of worker)" 2>/dev/null || { rb_die "the worker exited"; exit 1; }

# --- demo tenant -----------------------------------------------------------
tenants=$(count_tenants)
if [[ $tenants =~ ^[0-9]+$ ]] && ((tenants > 0)); then
	rb_log "$tenants tenant(s) already exist; not creating the demo tenant"
else
	if out=$(bin/ringback tenant create --name "Demo Plumbing" --number +15005550006 \
		--timezone America/New_York --owner-phone +15005550001 2>&1); then
		printf '%s\n' "$out"
	elif grep -qiE 'already (exists|belongs)' <<<"$out"; then
		rb_log "the demo tenant already exists"
	else
		printf '%s\n' "$out" >&2
		rb_die "creating the demo tenant failed"
		exit 1
	fi
fi

# --- where everything is ---------------------------------------------------
cat <<EOF

+------------------------------------------------------------------------------+
| Ringback dev stack is running. Ctrl-C stops everything.                      |
+------------------------------------------------------------------------------+
  Temporal UI     http://127.0.0.1:$temporal_ui_port
  Temporal gRPC   127.0.0.1:$temporal_port   (state: .dev/temporal.db)
  Starter (HTTP)  $public_url   (readiness: $public_url/readyz)
  PostgreSQL      $(rb_url_redact "$DATABASE_URL")
  Logs            .dev/temporal.log .dev/worker.log .dev/starter.log

  Try a missed call (in another terminal):
      . .dev/env
      bin/ringback simulate call --from +16145550123 --to +15005550006

  The sandbox SMS sender prints outbound texts here, prefixed [worker].
  Workflow payloads are encrypted; the UI decrypts them through the starter's
  codec endpoint with the ops API token RINGBACK_OPS_TOKEN from .dev/env, which
  also works for the admin API: curl -H "Authorization: Bearer \$RINGBACK_OPS_TOKEN" ...
  Source .dev/env before using bin/ringback or bin/temporal against this stack.
+------------------------------------------------------------------------------+

EOF

# --- supervise -------------------------------------------------------------
status=0
exited=""
wait -n -p exited "${service_pids[@]}" || status=$?
for i in "${!service_pids[@]}"; do
	if [[ ${service_pids[i]} == "$exited" ]]; then
		rb_log "${service_names[i]} exited with status $status; stopping the rest"
	fi
done
((status != 0)) || status=1
exit "$status"
