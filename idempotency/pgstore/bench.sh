#!/usr/bin/env bash
# Benchmarks the PostgreSQL store against the server at DATABASE_URL and
# compares its throughput at 1, 8 and 64 concurrent callers with pgbench's
# select-only run (-S) on the same server, in the same run. pgbench creates
# its tables (pgbench -i) in that database. Start the server first:
#
#     source .ci/services.sh && idempotency/pgstore/bench.sh; services_stop
#
# BENCHTIME sets go test's -benchtime (default 2s); PGBENCH_SECONDS the
# length of each pgbench run (default 5).
set -u
cd "$(dirname "$0")" || exit 1
if [ -z "${DATABASE_URL:-}" ]; then
	echo "bench.sh: DATABASE_URL is not set: source .ci/services.sh first" >&2
	exit 1
fi
out=$(go test -run '^$' -bench . -benchtime="${BENCHTIME:-2s}" -benchmem .) || { echo "$out"; exit 1; }
echo "$out"
echo
pgbench -i -q -s 1 "$DATABASE_URL" >/dev/null 2>&1 || { echo "bench.sh: pgbench -i failed" >&2; exit 1; }
printf '%-8s %8s %12s %16s %8s\n' op callers 'store ops/s' 'pgbench -S tps' ratio
for c in 1 8 64; do
	tps=$(pgbench -S -n -c "$c" -j 2 -T "${PGBENCH_SECONDS:-5}" "$DATABASE_URL" 2>/dev/null |
		awk '/^tps = / {print $3}' | tail -n 1)
	for op in NewKey Replay; do
		ops=$(echo "$out" | awk -v name="BenchmarkThroughput/$op/callers=$c-" \
			'index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "ops/s") print $(i-1) }')
		awk -v op="$op" -v c="$c" -v ops="$ops" -v tps="$tps" \
			'BEGIN { printf "%-8s %8d %12.0f %16.0f %8.3f\n", op, c, ops, tps, ops / tps }'
	done
done
