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
#
# Beside the ratios it prints the server's own time per call from INFO
# commandstats (the difference over each run, so other clients' calls
# before and after do not count): a new key's scripts, a replay's, and
# redis-benchmark's SET. On a busy machine the ratios scatter; these move
# only when the scripts or the server do.
set -u
cd "$(dirname "$0")" || exit 1
if [ -z "${REDIS_URL:-}" ] || [ -z "${REDIS_PORT:-}" ]; then
	echo "bench.sh: REDIS_URL and REDIS_PORT are not set: source .ci/services.sh first" >&2
	exit 1
fi
go test -c -o /dev/null . || exit 1 # build once before measuring
out=$(go test -run '^$' -bench '^Benchmark(NewKey|Replay)$' -benchtime="${BENCHTIME:-2s}" -benchmem .) || { echo "$out"; exit 1; }
echo "$out" | grep '^Benchmark'
# stats prints the calls and microseconds INFO commandstats has for the
# command $1 so far; per_call the microseconds per call between two.
stats() {
	redis-cli -p "$REDIS_PORT" info commandstats |
		awk -F'[:=,]' -v c="cmdstat_$1" '$1 == c { print $3, $5; found = 1 } END { if (!found) print 0, 0 }'
}
per_call() {
	echo "$1 $2" | awk '{ if ($3 > $1) printf "%.2f", ($4 - $2) / ($3 - $1); else print "-" }'
}
table=""
server=""
for r in $(seq "${ROUNDS:-1}"); do
	for c in 1 8 64; do
		# -bench matches each level of a name (split at /) on its own, and
		# the store's names have one level more than the client's.
		s0=$(stats evalsha)
		out=$(go test -run '^$' -bench "^BenchmarkThroughput\$/^NewKey\$/^callers=$c\$" \
			-benchtime="${BENCHTIME:-2s}" -benchmem .) || { echo "$out"; exit 1; }
		s1=$(stats evalsha)
		out+=$'\n'$(go test -run '^$' -bench "^BenchmarkThroughput\$/^Replay\$/^callers=$c\$" \
			-benchtime="${BENCHTIME:-2s}" -benchmem .) || { echo "$out"; exit 1; }
		s2=$(stats evalsha)
		out+=$'\n'$(go test -run '^$' -bench "^BenchmarkClientSet\$/^callers=$c\$" -benchtime="${BENCHTIME:-2s}" -benchmem .) ||
			{ echo "$out"; exit 1; }
		echo "$out" | grep '^Benchmark'
		s3=$(stats set)
		set_rps=$(redis-benchmark -p "$REDIS_PORT" -t set -q -n 100000 -c "$c" | tr '\r' '\n' |
			awk '/requests per second/ {print $2}' | tail -n 1)
		s4=$(stats set)
		echo "redis-benchmark SET -c $c: $set_rps requests/s"
		server+=$(printf '%8d %12s %12s %10s' "$c" "$(per_call "$s0" "$s1")" "$(per_call "$s1" "$s2")" "$(per_call "$s3" "$s4")")$'\n'
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
echo
printf '%8s %12s %12s %10s\n' callers 'new key µs' 'replay µs' 'SET µs'
printf '%s' "$server"
echo "server time per call (INFO commandstats): a new key's two scripts (each), a replay's script, redis-benchmark's SET"
