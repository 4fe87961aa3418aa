#!/usr/bin/env bash
# Benchmarks the Redis store against the server at REDIS_URL and compares
# its throughput at 1, 8 and 64 concurrent callers with redis-benchmark's SET
# on the same server, in the same run. Start the server first:
#
#     source .ci/services.sh && idempotency/redisstore/bench.sh; services_stop
#
# BENCHTIME sets go test's -benchtime (default 2s).
set -u
cd "$(dirname "$0")" || exit 1
if [ -z "${REDIS_URL:-}" ] || [ -z "${REDIS_PORT:-}" ]; then
	echo "bench.sh: REDIS_URL and REDIS_PORT are not set: source .ci/services.sh first" >&2
	exit 1
fi
out=$(go test -run '^$' -bench . -benchtime="${BENCHTIME:-2s}" -benchmem .) || { echo "$out"; exit 1; }
echo "$out"
echo
printf '%-8s %8s %12s %16s %8s\n' op callers 'store ops/s' 'SET requests/s' ratio
for c in 1 8 64; do
	set_rps=$(redis-benchmark -p "$REDIS_PORT" -t set -q -n 100000 -c "$c" | tr '\r' '\n' |
		awk '/requests per second/ {print $2}' | tail -n 1)
	for op in NewKey Replay; do
		ops=$(echo "$out" | awk -v name="BenchmarkThroughput/$op/callers=$c-" \
			'index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "ops/s") print $(i-1) }')
		awk -v op="$op" -v c="$c" -v ops="$ops" -v set="$set_rps" \
			'BEGIN { printf "%-8s %8d %12.0f %16.0f %8.3f\n", op, c, ops, set, ops / set }'
	done
done
