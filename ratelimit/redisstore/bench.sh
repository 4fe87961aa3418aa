#!/usr/bin/env bash
# Benchmarks the Redis store's decisions against the server at REDIS_URL and
# compares their throughput at 1, 8 and 64 concurrent callers with
# redis-benchmark running EVALSHA of a trivial script (return 1) on the same
# server at the same concurrency, right after, in the same run. It also
# shows go-redis running that trivial script: what the client library alone
# reaches. Start the server first:
#
#     source .ci/services.sh && ratelimit/redisstore/bench.sh; services_stop
#
# BENCHTIME sets go test's -benchtime (default 2s); ROUNDS repeats the
# whole comparison (default 1), each round measuring every concurrency, so
# that a busy machine shows as a spread of ratios rather than one figure.
set -u
cd "$(dirname "$0")" || exit 1
if [ -z "${REDIS_URL:-}" ] || [ -z "${REDIS_PORT:-}" ]; then
	echo "bench.sh: REDIS_URL and REDIS_PORT are not set: source .ci/services.sh first" >&2
	exit 1
fi
sha=$(redis-cli -p "$REDIS_PORT" script load 'return 1') || exit 1
go test -c -o /dev/null . || exit 1 # build once before measuring
table=""
for r in $(seq "${ROUNDS:-1}"); do
	for c in 1 8 64; do
		out=$(go test -run '^$' -bench "^Benchmark(Take|TrivialScript)/callers=$c\$" -benchtime="${BENCHTIME:-2s}" -benchmem .) ||
			{ echo "$out"; exit 1; }
		echo "$out" | grep '^Benchmark'
		eval_rps=$(redis-benchmark -p "$REDIS_PORT" -q -n 100000 -c "$c" evalsha "$sha" 0 | tr '\r' '\n' |
			awk '/requests per second/ { for (i = 1; i < NF; i++) if ($(i+1) == "requests") print $i }' | tail -n 1)
		echo "redis-benchmark EVALSHA -c $c: $eval_rps requests/s"
		ops() {
			echo "$out" | awk -v name="$1/callers=$c-" \
				'index($1, name) == 1 { for (i = 2; i <= NF; i++) if ($i == "ops/s") print $(i-1) }'
		}
		table+=$(awk -v c="$c" -v take="$(ops BenchmarkTake)" -v triv="$(ops BenchmarkTrivialScript)" -v ev="$eval_rps" \
			'BEGIN { printf "%8d %12.0f %14.0f %14.0f %8.3f %8.3f", c, take, triv, ev, take / ev, triv / ev }')$'\n'
	done
done
echo
printf '%8s %12s %14s %14s %8s %8s\n' callers 'Take ops/s' 'go-redis ops/s' 'EVALSHA req/s' ratio go-redis
printf '%s' "$table"
echo "ratio: Take ÷ redis-benchmark EVALSHA (target at 8 callers: 0.8); go-redis: the trivial script through go-redis ÷ the same"
