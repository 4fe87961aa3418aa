package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// A record is a hash under one key:
//
//	s  state: p in progress, c completed, x released
//	f  fingerprint, while in progress or completed
//	n  fence
//	t  owner token
//	l  lease in milliseconds, only while in progress
//	r  result, only once completed
//
// An in-progress record's key expires 2×l after the last claim or extend, so
// the lease is live while PTTL > l and has lease PTTL − l left. A completed
// record's key expires at the end of its retention, so it is live while
// PTTL > 0 (Redis keeps a key until its TTL is below zero; at zero the
// deadline has been reached and the record counts as expired). A released
// record keeps its token and fence until its retention ends, and counts as
// absent for Claim.
//
// Records written before the state field existed have no s: they are in
// progress while t is set and completed once it is not (a completed record
// then kept no token, and a release deleted the key). The scripts read them
// so, and every record they write has s.

// script is a Lua script as its EVALSHA and EVAL send it: its hash and its
// source, each boxed once.
type script struct{ sha, src any }

func newScript(src string) script {
	return script{sha: redis.NewScript(src).Hash(), src: src}
}

// run sends EVALSHA with args, whose first four are left for the command,
// the hash, the key count and key (set here), and the rest is ARGV; when
// the server does not have the script yet it sends the same as EVAL. It is
// redis.Script.Run with the arguments built by the caller in one
// allocation rather than copied.
func (sc script) run(ctx context.Context, client redis.UniversalClient, key string, args []any) *redis.Cmd {
	args[0], args[1], args[2], args[3] = evalsha, sc.sha, 1, key
	cmd := redis.NewCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	_ = client.Process(ctx, cmd)
	if err := cmd.Err(); err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
		args[0], args[1] = "eval", sc.src
		cmd = redis.NewCmd(ctx, args...)
		cmd.SetFirstKeyPos(3)
		_ = client.Process(ctx, cmd)
	}
	return cmd
}

var evalsha any = "evalsha"

// state is a Lua function that returns a record's state from its s and t
// fields, for records of either layout.
const state = `
local function state(s, t)
  if s then return s end
  if t then return 'p' end
  return 'c'
end
`

// claimScript: KEYS[1] record; ARGV fingerprint, token, lease ms.
// Returns {"a", fence} acquired, the result (a bare string, the cheapest
// reply to send and to read) replay, {"p", remaining ms} in progress, or
// {"m"} mismatch; a completed record without a result gives {"r"}, which
// the store reports as a malformed reply.
var claimScript = newScript(state + `
local k = KEYS[1]
local lease = tonumber(ARGV[3])
local fence = 1
local rec = redis.call('HMGET', k, 'f', 'n', 't', 'l', 'r', 's')
if rec[2] then
  local st = state(rec[6], rec[3])
  if st ~= 'x' then
    local left = redis.call('PTTL', k)
    if st == 'p' then left = left - tonumber(rec[4]) end
    local mine = st == 'p' and rec[3] == ARGV[2]
    if (left > 0 or mine) and rec[1] ~= ARGV[1] then return {'m'} end
    if mine then
      redis.call('HSET', k, 'l', lease)
      redis.call('PEXPIRE', k, 2 * lease)
      return {'a', tonumber(rec[2])}
    end
    if left > 0 then
      if st == 'c' then return rec[5] or {'r'} end
      return {'p', left}
    end
  end
  fence = tonumber(rec[2]) + 1
  redis.call('DEL', k)
end
redis.call('HSET', k, 's', 'p', 'f', ARGV[1], 'n', fence, 't', ARGV[2], 'l', lease)
redis.call('PEXPIRE', k, 2 * lease)
return {'a', fence}
`)

// completeScript: KEYS[1] record; ARGV token, fence, result, retention ms.
// Returns 1 when completed (now, or by an earlier send under the same lock),
// 0 when the lock is lost.
var completeScript = newScript(state + `
local k = KEYS[1]
local rec = redis.call('HMGET', k, 't', 'n', 's')
if rec[1] ~= ARGV[1] or rec[2] ~= ARGV[2] then return 0 end
local st = state(rec[3], rec[1])
if st == 'c' then return 1 end
if st ~= 'p' then return 0 end
redis.call('HDEL', k, 'l')
redis.call('HSET', k, 's', 'c', 'r', ARGV[3])
redis.call('PEXPIRE', k, ARGV[4])
return 1
`)

// releaseScript: KEYS[1] record; ARGV token, fence, retention ms. Returns 1
// when the record is released (now, or by an earlier send under the same
// lock), 0 when the lock is lost.
var releaseScript = newScript(state + `
local k = KEYS[1]
local rec = redis.call('HMGET', k, 't', 'n', 's')
if rec[1] ~= ARGV[1] or rec[2] ~= ARGV[2] then return 0 end
local st = state(rec[3], rec[1])
if st == 'x' then return 1 end
if st ~= 'p' then return 0 end
redis.call('HDEL', k, 'f', 'l')
redis.call('HSET', k, 's', 'x')
redis.call('PEXPIRE', k, ARGV[3])
return 1
`)

// extendScript: KEYS[1] record; ARGV token, fence, lease ms. Returns 1 when
// the lease was extended or the record is completed under the lock (an
// Extend that crossed its owner's Complete), 0 when the lock is lost.
var extendScript = newScript(state + `
local k = KEYS[1]
local rec = redis.call('HMGET', k, 't', 'n', 's')
if rec[1] ~= ARGV[1] or rec[2] ~= ARGV[2] then return 0 end
local st = state(rec[3], rec[1])
if st == 'c' then return 1 end
if st ~= 'p' then return 0 end
local lease = tonumber(ARGV[3])
redis.call('HSET', k, 'l', lease)
redis.call('PEXPIRE', k, 2 * lease)
return 1
`)
