#!/usr/bin/env bash
# Benchmarks the PostgreSQL store against the server at DATABASE_URL and
# compares its throughput at 1, 8 and 64 concurrent callers with pgbench on
# the same server, in the same run: a new key (a claim and a complete) with
# newkey.pgbench, one autocommit INSERT and one autocommit UPDATE of a table
# shaped like the store's (pgstore_bench, created here and dropped at the
# end), and a replay (one claim of a completed key) with pgbench's
# select-only run (-S). Each pgbench run is made twice: with its default
# simple protocol, which parses and plans every statement, and with -M
# prepared, which, like the store (pgx's statement cache), prepares each
# statement once per connection. pgbench creates its tables (pgbench -i) in
# that database. Start the server first:
#
#     source .ci/services.sh && idempotency/pgstore/bench.sh; services_stop
#
# BENCHTIME sets go test's -benchtime (default 2s); PGBENCH_SECONDS the
# length of each pgbench run (default 5); ROUNDS how many times the table of
# ratios is measured (default 1); CALLERS the numbers of callers (default
# "1 8 64"). Each store benchmark runs right before the pgbench runs it is
# compared with. BIN names a test binary of this package built elsewhere
# (go test -c), such as an earlier commit's, to measure in place of this
# folder's code.
set -u
cd "$(dirname "$0")" || exit 1
if [ -z "${DATABASE_URL:-}" ]; then
	echo "bench.sh: DATABASE_URL is not set: source .ci/services.sh first" >&2
	exit 1
fi
bin=$(mktemp) || exit 1
trap 'rm -f "$bin"' EXIT
if [ -n "${BIN:-}" ]; then
	{ cp "$BIN" "$bin" && chmod +x "$bin"; } || exit 1
else
	go test -c -o "$bin" . || exit 1
fi
# bench runs the store's benchmarks matching $1 and prints their output.
bench() {
	"$bin" -test.run '^$' -test.bench "$1" -test.benchtime="${BENCHTIME:-2s}" -test.benchmem
}
bench 'Benchmark(NewKey|Replay)$' || exit 1 # one caller, with round trips per operation
echo
pgbench -i -q -s 1 "$DATABASE_URL" >/dev/null 2>&1 || { echo "bench.sh: pgbench -i failed" >&2; exit 1; }
# The columns, primary key and index of the store's table (migrate in sql.go).
table='
DROP TABLE IF EXISTS pgstore_bench;
CREATE TABLE pgstore_bench (
	key         bytea       PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 255),
	fingerprint bytea       NOT NULL,
	token       text,
	fence       bigint      NOT NULL,
	result      bytea,
	released    boolean     NOT NULL DEFAULT false,
	deadline    timestamptz NOT NULL,
	purge_at    timestamptz NOT NULL
);
CREATE INDEX pgstore_bench_purge_at_idx ON pgstore_bench (purge_at);'
psql -q -v ON_ERROR_STOP=1 -c "$table" "$DATABASE_URL" >/dev/null 2>&1 ||
	{ echo "bench.sh: creating pgstore_bench failed" >&2; exit 1; }
trap 'rm -f "$bin"; psql -q -c "DROP TABLE IF EXISTS pgstore_bench" "$DATABASE_URL" >/dev/null 2>&1' EXIT

# tps prints the transactions per second of one pgbench run with $1 clients
# and the rest of the arguments.
tps() {
	local c=$1
	shift
	pgbench -n -c "$c" -j 2 -T "${PGBENCH_SECONDS:-5}" "$@" "$DATABASE_URL" 2>/dev/null |
		awk '/^tps = / {print $3}' | tail -n 1
}

# Each store benchmark runs right before the pgbench runs it is compared
# with, so that a change of load on the machine falls on both alike.
printf '%-8s %8s %12s %-28s %12s %8s\n' op callers 'store ops/s' 'pgbench run' 'pgbench tps' ratio
for _ in $(seq 1 "${ROUNDS:-1}"); do
	for c in ${CALLERS:-1 8 64}; do
		for op in NewKey Replay; do
			out=$(bench "^BenchmarkThroughput\$/^$op\$/^callers=$c\$") || { echo "$out"; exit 1; }
			ops=$(echo "$out" | awk -v name="BenchmarkThroughput/$op/callers=$c-" \
				'index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "ops/s") print $(i-1) }')
			if [ "$op" = NewKey ]; then
				runs=("INSERT+UPDATE|-f newkey.pgbench" "INSERT+UPDATE -M prepared|-M prepared -f newkey.pgbench")
			else
				runs=("-S|-S" "-S -M prepared|-M prepared -S")
			fi
			for run in "${runs[@]}"; do
				# shellcheck disable=SC2086 # the options are words
				t=$(tps "$c" ${run#*|})
				awk -v op="$op" -v c="$c" -v ops="$ops" -v run="${run%%|*}" -v tps="$t" \
					'BEGIN { printf "%-8s %8d %12.0f %-28s %12.0f %8.3f\n", op, c, ops, run, tps, ops / tps }'
			done
		done
	done
done
