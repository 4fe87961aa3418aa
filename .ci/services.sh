# shellcheck shell=bash
#
# Throwaway Redis and PostgreSQL servers on loopback for the integration tests
# of idempotency/redisstore and idempotency/pgstore, and the headless Chromium
# that resiliencedebug/browser drives.
#
# Sourced (by .ci/run, or by hand):
#
#     source .ci/services.sh || exit 1
#     trap services_stop EXIT
#
# it installs redis-server, postgresql and chromium from Debian's packages
# when they are missing, starts both servers on free loopback ports with their
# data in a fresh temporary folder, and exports what the tests read:
#
#     CHROME_PATH    the chromium binary
#     REDIS_URL      redis://127.0.0.1:PORT/0
#     REDIS_PORT     the Redis port
#     REDIS_CONF     config file: `redis-server "$REDIS_CONF"` starts it again
#     DATABASE_URL   postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#     PG_PORT        the PostgreSQL port
#     PG_DATA        the data folder (port and addresses are in its config)
#     PG_CTL         path of pg_ctl
#     PG_OS_USER     the system user the server runs as; when it is not the
#                    current user, run pg_ctl through `runuser -u "$PG_OS_USER" --`
#
# The outage tests stop and start the servers with those variables:
# `redis-cli -p "$REDIS_PORT" shutdown nosave` / `redis-server "$REDIS_CONF"`,
# and `$PG_CTL -D "$PG_DATA" -w -m fast stop` / `$PG_CTL -D "$PG_DATA" -w -l
# "$PG_DATA/log" start` (through runuser as above). The functions below do the
# same from a shell: redis_stop, redis_start, pg_stop, pg_start, and
# services_stop, which stops both and removes the temporary folder.
#
# Executed instead of sourced, the script starts the servers, runs its
# arguments as a command, stops the servers and exits with the command's
# status:
#
#     bash .ci/services.sh go test -race -count=1 ./...
#
# The script never uses a server left behind by an earlier run: every run
# gets new ports and a new data folder. It does not set -e, so a failure never
# ends the shell that sourced it; it returns non-zero instead.

services_log() { printf 'services: %s\n' "$*" >&2; }

# services_install installs what is missing, with one apt-get update.
services_install() {
	local need=()
	command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || need+=(redis-server)
	[ -n "$(services_pg_bindir)" ] || need+=(postgresql)
	command -v chromium >/dev/null 2>&1 || need+=(chromium)
	[ ${#need[@]} -eq 0 ] && { services_chrome; return; }
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	local log
	log=$(mktemp) || return 1
	services_log "installing ${need[*]}"
	if ! { "${sudo[@]}" apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}"; } >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		services_log "apt-get install ${need[*]} failed"
		return 1
	fi
	rm -f "$log"
	services_chrome
}

# services_chrome exports CHROME_PATH, the path of the chromium binary.
services_chrome() {
	CHROME_PATH=$(command -v chromium) || { services_log "chromium is not installed"; return 1; }
	export CHROME_PATH
	services_log "chromium $("$CHROME_PATH" --version 2>/dev/null | awk '{print $2}') at $CHROME_PATH (CHROME_PATH)"
}

# services_pg_bindir prints the newest /usr/lib/postgresql/N/bin that has
# pg_ctl, or the folder of pg_ctl on PATH.
services_pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
	elif command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v pg_ctl)"
	fi
}

# services_free_port prints a loopback TCP port nobody listens on.
services_free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# services_wait runs its arguments until they succeed, for up to 10 seconds.
services_wait() {
	local i
	for i in $(seq 1 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

redis_start() {
	redis-server "$REDIS_CONF" || return 1
	# The dir check makes sure the server answering is the one just started.
	services_wait sh -c '[ "$(redis-cli -p "$1" config get dir | tail -n 1)" = "$2" ]' _ "$REDIS_PORT" "$SERVICES_DIR/redis"
}

redis_stop() {
	redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
	services_wait sh -c '! redis-cli -p "$1" ping' _ "$REDIS_PORT"
}

# services_start_redis starts Redis on a free port, retrying when another
# process wins the port first.
services_start_redis() {
	local try
	mkdir -p "$SERVICES_DIR/redis" || return 1
	for try in 1 2 3 4 5; do
		REDIS_PORT=$(services_free_port) || return 1
		REDIS_CONF=$SERVICES_DIR/redis/redis.conf
		cat >"$REDIS_CONF" <<-EOF
			port $REDIS_PORT
			bind 127.0.0.1
			save ""
			appendonly no
			daemonize yes
			maxmemory-policy noeviction
			dir $SERVICES_DIR/redis
			pidfile $SERVICES_DIR/redis/redis.pid
			logfile $SERVICES_DIR/redis/redis.log
		EOF
		if redis_start; then
			export REDIS_PORT REDIS_CONF REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
			services_log "redis $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/') on 127.0.0.1:$REDIS_PORT (REDIS_URL)"
			return 0
		fi
		redis_stop
	done
	services_log "redis did not start; log: $SERVICES_DIR/redis/redis.log"
	return 1
}

# services_as_pg runs its arguments as the PostgreSQL system user.
services_as_pg() {
	if [ "$PG_OS_USER" = "$(id -un)" ]; then
		"$@"
	else
		runuser -u "$PG_OS_USER" -- "$@"
	fi
}

pg_start() {
	services_as_pg "$PG_CTL" -D "$PG_DATA" -w -t 30 -l "$PG_DATA/log" \
		-o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $SERVICES_DIR/pgsock" start >/dev/null || return 1
	services_wait "$(dirname "$PG_CTL")/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
}

pg_stop() {
	services_as_pg "$PG_CTL" -D "$PG_DATA" -w -m fast stop >/dev/null 2>&1
}

# services_start_pg creates a cluster in the temporary folder and starts it
# on a free port. CI runs as root, which PostgreSQL refuses: the cluster then
# belongs to, and runs as, the postgres user.
services_start_pg() {
	local bindir try
	bindir=$(services_pg_bindir)
	PG_CTL=$bindir/pg_ctl
	PG_DATA=$SERVICES_DIR/pgdata
	PG_OS_USER=$(id -un)
	[ "$(id -u)" -eq 0 ] && PG_OS_USER=postgres
	mkdir -p "$PG_DATA" "$SERVICES_DIR/pgsock" || return 1
	chmod 700 "$PG_DATA"
	chown "$PG_OS_USER" "$PG_DATA" "$SERVICES_DIR/pgsock" || return 1
	services_as_pg "$bindir/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --no-sync >"$SERVICES_DIR/initdb.log" 2>&1 ||
		{ services_log "initdb failed; log: $SERVICES_DIR/initdb.log"; return 1; }
	for try in 1 2 3 4 5; do
		PG_PORT=$(services_free_port) || return 1
		# The same settings in the config, so that a plain `pg_ctl start`
		# (as the outage tests run it) brings the server back identically.
		cat >>"$PG_DATA/postgresql.conf" <<-EOF
			port = $PG_PORT
			listen_addresses = '127.0.0.1'
			unix_socket_directories = '$SERVICES_DIR/pgsock'
			fsync = off
		EOF
		if pg_start; then
			export PG_PORT PG_DATA PG_CTL PG_OS_USER
			export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
			services_log "postgresql $("$PG_CTL" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (DATABASE_URL)"
			return 0
		fi
		pg_stop
	done
	services_log "postgresql did not start; log: $PG_DATA/log"
	return 1
}

# services_stop stops both servers, removes the temporary folder and unsets
# the variables. It is safe to call twice.
services_stop() {
	[ -n "${SERVICES_DIR:-}" ] || return 0
	[ -n "${REDIS_PORT:-}" ] && redis_stop
	[ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ] && pg_stop
	rm -rf "$SERVICES_DIR"
	unset SERVICES_DIR REDIS_URL REDIS_PORT REDIS_CONF DATABASE_URL PG_PORT PG_DATA PG_CTL PG_OS_USER
}

# services_start installs what is missing and starts both servers. On
# failure it stops whatever it started and returns non-zero.
services_start() {
	services_install || return 1
	SERVICES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/resilience-services.XXXXXX") || return 1
	chmod 755 "$SERVICES_DIR" # the postgres user must reach its data folder
	if ! services_start_redis || ! services_start_pg; then
		services_stop
		return 1
	fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	services_start || exit 1
	trap services_stop EXIT
	"$@"
	exit $?
fi
services_start
