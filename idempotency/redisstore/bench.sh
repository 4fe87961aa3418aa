#!/usr/bin/env bash
# Benchmarks the Redis store against the server at REDIS_URL and compares
# its throughput at 1, 8 and 64 concurrent callers with redis-benchmark's SET
# on the same server at the same concurrency, right after, in the same run.
# It also shows go-redis's own SET: what the client library alone reaches.
# Start the server first:
#
#     source .ci/services.sh && idempotency/redisstore/bench.sh; services_stop
#
# BENCHTIME sets go test's -benchtime (default 2s); ROUNDS repeats the
# whole comparison (default 1), each round measuring every concurrency.
set -u
cd "$(dirname "$0")" || exit 1
if [ -z "${REDIS_URL:-}" ] || [ -z "${REDIS_PORT:-}" ]; then
	echo "bench.sh: REDIS_URL and REDIS_PORT are not set: source .ci/services.sh first" >&2
	exit 1
fi
go test -c -o /dev/null . || exit 1 # build once before measuring
out=$(go test -run '^$' -bench '^Benchmark(NewKey|Replay)$' -benchtime="${BENCHTIME:-2s}" -benchmem .) || { echo "$out"; exit 1; }
echo "$out" | grep '^Benchmark'
table=""
for r in $(seq "${ROUNDS:-1}"); do
	for c in 1 8 64; do
		# -bench matches each level of a name (split at /) on its own, and
		# the store's names have one level more than the client's.
		out=$(go test -run '^$' -bench "^BenchmarkThroughput\$/^(NewKey|Replay)\$/^callers=$c\$" \
			-benchtime="${BENCHTIME:-2s}" -benchmem . &&
			go test -run '^$' -bench "^BenchmarkClientSet\$/^callers=$c\$" -benchtime="${BENCHTIME:-2s}" -benchmem .) ||
			{ echo "$out"; exit 1; }
		echo "$out" | grep '^Benchmark'
		set_rps=$(redis-benchmark -p "$REDIS_PORT" -t set -q -n 100000 -c "$c" | tr '\r' '\n' |
			awk '/requests per second/ {print $2}' | tail -n 1)
		echo "redis-benchmark SET -c $c: $set_rps requests/s"
		ops() {
			echo "$out" | awk -v name="$1/callers=$c-" \
				'index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "ops/s") print $(i-1) }'
		}
		table+=$(awk -v c="$c" -v nk="$(ops BenchmarkThroughput/NewKey)" -v rp="$(ops BenchmarkThroughput/Replay)" \
			-v gs="$(ops BenchmarkClientSet)" -v set="$set_rps" \
			'BEGIN { printf "%8d %12.0f %12.0f %12.0f %10.0f %8.3f %8.3f %8.3f", c, nk, rp, gs, set, nk / set, rp / set, gs / set }')$'\n'
	done
done
echo
printf '%8s %12s %12s %12s %10s %8s %8s %8s\n' callers 'NewKey op/s' 'Replay op/s' 'go-redis SET' 'SET req/s' 'new key' replay go-redis
printf '%s' "$table"
echo "ratios: ÷ redis-benchmark SET (targets at 1, 8 and 64 callers: new key 0.4, replay 0.8); go-redis: its own SET ÷ the same"
