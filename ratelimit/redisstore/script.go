package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/ratelimit"
)

// A limit is a string under one key:
//
//	"ts tn c|id remaining resetAfter|id remaining resetAfter|..."
//
// ts and tn are the theoretical arrival time on Redis's clock: whole
// seconds since 1970 and nanoseconds within the second (two integers, so
// that a Lua number keeps the TAT to the nanosecond). c counts the records
// after them: the last eight allowed Takes, oldest first, each one's
// request id and the decision it got. One string rather than a hash, so
// that the script writes the state and its TTL in one command (SET PX):
// each command a script calls costs more than the script's own arithmetic.
//
// A denied Take writes nothing. An allowed one writes the new TAT and its
// record and makes the key expire when the bucket is full again (the TAT
// has passed: the same as a key never seen), but not before twice the
// store's Timeout, so that a re-send of the same Take finds its record.
// Redis's TIME has a microsecond; the script counts in nanoseconds, with
// the rounding and the slack of the Store contract.

// takeScript: KEYS[1] limit; ARGV request id, emission interval T in ns,
// burst, n, shortest TTL in ms. Returns {allowed (0 or 1), remaining,
// retryAfter ns, resetAfter ns}, every number clamped to [0, maxReply].
var takeScript = redis.NewScript(takeSource)

const takeSource = `
local k, id = KEYS[1], ARGV[1]
local t, burst, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local v = redis.call('GET', k)
local clock = redis.call('TIME')
local now_s, now_n = tonumber(clock[1]), tonumber(clock[2]) * 1000
local d, recs, c = 0, '', 0
if v then
  local at = string.find(v, '|' .. id .. ' ', 1, true)
  if at then
    local rem, reset = string.match(v, '^|[^ ]+ (%d+) (%d+)', at)
    if not reset then return redis.error_reply('redisstore: malformed record in ' .. string.sub(v, 1, 100)) end
    return {1, tonumber(rem), 0, tonumber(reset)}
  end
  local ts, tn, count, p = string.match(v, '^(%d+) (%d+) (%d)()')
  if not ts or not (p > #v or string.byte(v, p) == 124) then -- 124: '|'
    return redis.error_reply('redisstore: malformed limit ' .. string.sub(v, 1, 100))
  end
  d = (tonumber(ts) - now_s) * 1e9 + (tonumber(tn) - now_n)
  if d < 0 then d = 0 end
  c = tonumber(count)
  if c >= 8 then -- drop the oldest record
    p = string.find(v, '|', p + 1, true) or #v + 1
    c = 7
  end
  recs = string.sub(v, p)
end
local big = 9223372036854774784
local tau = t * burst
local slack = math.min(1, t / 2)
local nd = d + math.floor(n * t + 0.5)
local ok = nd <= tau + slack
if ok then d = nd end
local f, rem = (tau - d + slack) / t, 0
if f >= burst then rem = burst elseif f > 0 then rem = math.floor(f) end
if rem > big then rem = big end
local reset = d
if reset > big then reset = big end
if not ok then
  local wait = math.ceil(nd - tau)
  if wait > big then wait = big end
  return {0, rem, wait, reset}
end
local total = now_n + d
local carry = math.floor(total / 1e9)
local tn = total - carry * 1e9
if not (tn >= 0 and tn < 1e9) then tn = 0 end
local ts = now_s + carry
local ttl = math.min(math.max(math.ceil(reset / 1e6), tonumber(ARGV[5])), 1e15)
-- One format builds the whole string: every string a script makes is
-- garbage Redis's Lua collects, at a cost that grows with its bytes. %d
-- formats an integer faster than %.0f; ts overflows it past 2^63 s.
local layout = '%d %d %d%s|%s %d %d'
if ts > 9e18 then layout = '%.0f %d %d%s|%s %d %d' end
redis.call('SET', k, string.format(layout, ts, tn, c + 1, recs, id, rem, reset), 'PX', string.format('%d', ttl))
return {1, rem, 0, reset}
`

// takeArgs are the arguments of the take script's EVALSHA: the command,
// the script's hash, the key count and the key, then ARGV.
type takeArgs [9]any

// The first arguments of every EVALSHA of the take script, boxed once.
var (
	evalsha any = "evalsha"
	takeSHA any = takeScript.Hash()
)

// runScript sends the EVALSHA in args (command, hash, key count, one key,
// ARGV) and, when the server does not have the script yet, the same as
// EVAL of the take script. It is takeScript.Run, with the arguments built
// by the caller in one allocation rather than copied.
func runScript(ctx context.Context, client redis.UniversalClient, args []any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	_ = client.Process(ctx, cmd)
	if err := cmd.Err(); err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
		args[0], args[1] = "eval", takeSource
		cmd = redis.NewCmd(ctx, args...)
		cmd.SetFirstKeyPos(3)
		_ = client.Process(ctx, cmd)
	}
	return cmd
}

// maxReply is the script's largest number, the largest float64 below
// 2^63: it stands for anything at least as large.
const maxReply = 1<<63 - 1024

// errGarbage is matched by the error of a Take that Redis answered with
// something other than a decision: a key of another type, a string that
// is not a limit, a reply of the wrong shape.
var errGarbage = errors.New("redisstore: not a limit")

// parseTake turns the script's reply into a Decision for a Take of the
// normalised limit l.
func parseTake(cmd *redis.Cmd, l ratelimit.Limit) (ratelimit.Decision, error) {
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
