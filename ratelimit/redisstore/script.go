package redisstore

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/ratelimit"
)

// A limit is a hash under one key:
//
//	ts, tn   the theoretical arrival time on Redis's clock: whole seconds
//	         since 1970 and nanoseconds within the second (two integers,
//	         so that a Lua number keeps the TAT to the nanosecond)
//	seq      the record slot the next allowed Take writes, 0 to 7
//	r0 … r7  the last eight allowed Takes: "id remaining resetAfter"
//
// A denied Take writes nothing. An allowed one sets the TAT, writes its
// record and makes the key expire when the bucket is full again (the TAT
// has passed: the same as a key never seen), but not before twice the
// store's Timeout, so that a re-send of the same Take finds its record.
// Redis's TIME has a microsecond; the script counts in nanoseconds, with
// the rounding and the slack of the Store contract.

// takeScript: KEYS[1] limit; ARGV request id, emission interval T in ns,
// burst, n, shortest TTL in ms. Returns {allowed (0 or 1), remaining,
// retryAfter ns, resetAfter ns}, every number clamped to [0, maxReply].
var takeScript = redis.NewScript(`
local k, mark = KEYS[1], ARGV[1] .. ' '
local t, burst, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local h = redis.call('HMGET', k, 'ts', 'tn', 'seq', 'r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7')
for i = 4, 11 do
  local r = h[i]
  if r and string.sub(r, 1, #mark) == mark then
    local rem, reset = string.match(r, '^%S+ (%d+) (%d+)$')
    if not reset then return redis.error_reply('redisstore: malformed record ' .. string.sub(r, 1, 100)) end
    return {1, tonumber(rem), 0, tonumber(reset)}
  end
end
local clock = redis.call('TIME')
local now_s, now_n = tonumber(clock[1]), tonumber(clock[2]) * 1000
local d = 0
if h[1] or h[2] then
  local ts, tn = tonumber(h[1] or ''), tonumber(h[2] or '')
  if not ts or not tn then return redis.error_reply('redisstore: malformed TAT') end
  d = (ts - now_s) * 1e9 + (tn - now_n)
  if d < 0 then d = 0 end
end
local big = 9223372036854774784
local function clamp(x)
  if x ~= x or x <= 0 then return 0 end
  if x >= big then return big end
  return x
end
local tau = t * burst
local slack = math.min(1, t / 2)
local nd = d + math.floor(n * t + 0.5)
local ok = nd <= tau + slack
if ok then d = nd end
local f, rem = (tau - d + slack) / t, 0
if f >= burst then rem = burst elseif f > 0 then rem = math.floor(f) end
rem = clamp(rem)
local reset = clamp(d)
if not ok then return {0, rem, clamp(math.ceil(nd - tau)), reset} end
local seq = tonumber(h[3]) or 0
if seq < 0 or seq > 7 then seq = 0 end
local total = now_n + d
local carry = math.floor(total / 1e9)
local tn = total - carry * 1e9
if not (tn >= 0 and tn < 1e9) then tn = 0 end
redis.call('HSET', k, 'ts', string.format('%.0f', now_s + carry), 'tn', string.format('%.0f', tn),
  'seq', (seq + 1) % 8, 'r' .. seq, mark .. string.format('%.0f %.0f', rem, reset))
local ttl = math.max(math.ceil(reset / 1e6), tonumber(ARGV[5]))
redis.call('PEXPIRE', k, string.format('%.0f', math.min(ttl, 1e15)))
return {1, rem, 0, reset}
`)

// maxReply is the script's largest number, the largest float64 below
// 2^63: it stands for anything at least as large.
const maxReply = 1<<63 - 1024

// errGarbage is matched by the error of a Take that Redis answered with
// something other than a decision: a key of another type, a hash that is
// not a limit, a reply of the wrong shape.
var errGarbage = errors.New("redisstore: not a limit")

// parseTake turns the script's reply into a Decision for a Take of n
// tokens of the normalised limit l.
func parseTake(cmd *redis.Cmd, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	if err := cmd.Err(); err != nil {
		if redis.HasErrorPrefix(err, "WRONGTYPE") || strings.HasPrefix(err.Error(), "redisstore: ") {
			return ratelimit.Decision{}, fmt.Errorf("%w: %w", errGarbage, err)
		}
		return ratelimit.Decision{}, fmt.Errorf("redisstore: take: %w", err)
	}
	v, ok := integers(cmd.Val())
	if !ok || v[0] > 1 {
		return ratelimit.Decision{}, fmt.Errorf("%w: unexpected reply %.200s", errGarbage, fmt.Sprint(cmd.Val()))
	}
	d := ratelimit.Decision{Allowed: v[0] == 1, Remaining: l.Burst, RetryAfter: nanos(v[2]), ResetAfter: nanos(v[3])}
	if v[1] < maxReply {
		d.Remaining = int(min(v[1], int64(l.Burst)))
	}
	return d, nil
}

// integers returns the four integers of a reply from the script, which
// are never negative.
func integers(reply any) (v [4]int64, ok bool) {
	a, _ := reply.([]any)
	if len(a) != len(v) {
		return v, false
	}
	for i, x := range a {
		if v[i], ok = x.(int64); !ok || v[i] < 0 {
			return v, false
		}
	}
	return v, true
}

// nanos converts the script's nanoseconds to a Duration; its largest value
// stands for any longer time and saturates.
func nanos(ns int64) time.Duration {
	if ns >= maxReply {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
