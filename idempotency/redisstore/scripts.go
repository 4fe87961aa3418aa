package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// A record is a string under one key, in one of three layouts:
//
//	p<fence> <token> <n> <fingerprint><lease>    in progress
//	c<fence> <token> <n> <fingerprint><result>   completed
//	x<fence> <token>                             released (a space ends it)
//
// The first byte is the state; fence and lease (in milliseconds) are
// decimal; n is the fingerprint's length in bytes, in decimal, so that a
// fingerprint may hold any bytes; a token is printable ASCII without a
// space. One string rather than a hash, so that each script writes the
// record and its TTL in one command (SET PX), and the prefix "<fence>
// <token> " that Complete, Release and Extend compare is one substring.
// A fence is at most 2^53 − 1, the largest integer a Lua number (a double)
// holds exactly, so that the claim script's fence + 1 is exact: a claim
// that would take a fence past it, or acquire a record whose fence is past
// it, is an error and changes nothing.
//
// An in-progress record's key expires 2×lease after the last claim or
// extend, so the lease is live while PTTL > lease and has lease PTTL −
// lease left. A completed record's key expires at the end of its
// retention, so it is live while PTTL > 0 (Redis keeps a key until its TTL
// is below zero; at zero the deadline has been reached and the record
// counts as expired). A released record keeps its token and fence until
// its retention ends, and counts as absent for Claim.
//
// Records of the earlier layout (a hash, before the first release) are not
// read: a script finds a key of the wrong type, and the call returns
// Redis's WRONGTYPE error, so that no operation runs on them.

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

// The scripts make as few strings as they can: Redis's Lua interns every
// string a script makes and collects it later, at a cost that grows with
// its bytes, and each command a script calls costs more than the script's
// own work. A new key costs GET and SET in each of its two scripts; a
// replay costs GET and PTTL and returns the record as it is stored.

// claimScript: KEYS[1] record; ARGV the record a first claim writes
// ("p1 <token> <n> <fingerprint><lease>", which holds the claim's token,
// fingerprint and lease) and 2×lease in ms. Returns the fence (an integer)
// acquired, a completed record as it is stored (a string: the store
// compares its fingerprint and cuts out its result) while it is live,
// {"p", remaining ms} in progress, or {"m"} mismatch. The two replies a
// service sends most are bare, the cheapest to send and to read.
var claimScript = newScript(`
local k, rec = KEYS[1], ARGV[1]
local v = redis.call('GET', k)
if not v then
  redis.call('SET', k, rec, 'PX', ARGV[2])
  return 1
end
local st = string.byte(v, 1) -- 99 'c' completed, 112 'p' in progress, 120 'x' released
local left = 0
if st ~= 120 then left = redis.call('PTTL', k) end
if st == 99 and left > 0 then return v end
local fence, tok, at = string.match(v, '^(%d+) (%S+) ()', 2)
if not at or not (st == 99 or st == 112 or st == 120) then
  return redis.error_reply('redisstore: malformed record')
end
if st == 112 then
  local n, fp = string.match(v, '^(%d+) ()', at)
  if not fp then return redis.error_reply('redisstore: malformed record') end
  n = tonumber(n)
  local rtok, rn, rfp = string.match(rec, '^p1 (%S+) (%d+) ()')
  local lease = tonumber(string.sub(v, fp + n))
  if not lease then return redis.error_reply('redisstore: malformed record') end
  left = left - lease
  local mine = tok == rtok
  if (left > 0 or mine) and (tonumber(rn) ~= n or
      string.sub(v, fp, fp + n - 1) ~= string.sub(rec, rfp, rfp + n - 1)) then
    return {'m'}
  end
  if mine then
    if tonumber(fence) > 9007199254740991 then return redis.error_reply('redisstore: fence out of range') end
    redis.call('SET', k, 'p' .. fence .. string.sub(rec, 3), 'PX', ARGV[2])
    return tonumber(fence)
  end
  if left > 0 then return {'p', left} end
end
-- Released, completed past its retention, or in progress past its lease:
-- the claim takes the next fence.
fence = tonumber(fence) + 1
if fence > 9007199254740991 then return redis.error_reply('redisstore: fence out of range') end
fence = string.format('%d', fence)
redis.call('SET', k, 'p' .. fence .. string.sub(rec, 3), 'PX', ARGV[2])
return tonumber(fence)
`)

// The compare-and-set scripts take the lock as the record holds it,
// "<fence> <token> ", as their first ARGV, and return 1 when done (now, or
// by an earlier send under the same lock), 0 when the lock is lost.
// Each begins with lockHeld, which returns 0 unless the record holds the
// lock, and leaves k the key, v the record and st its state byte.
const lockHeld = `
local k, lock = KEYS[1], ARGV[1]
local v = redis.call('GET', k)
if not v or string.sub(v, 2, #lock + 1) ~= lock then return 0 end
local st = string.byte(v, 1)
`

// completeScript: KEYS[1] record; ARGV lock, result, retention ms.
var completeScript = newScript(lockHeld + `if st == 99 then return 1 end
if st ~= 112 then return 0 end
local n, fp = string.match(v, '^(%d+) ()', #lock + 2)
if not fp then return redis.error_reply('redisstore: malformed record') end
redis.call('SET', k, 'c' .. string.sub(v, 2, fp + tonumber(n) - 1) .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// releaseScript: KEYS[1] record; ARGV lock, retention ms.
var releaseScript = newScript(lockHeld + `if st == 120 then return 1 end
if st ~= 112 then return 0 end
redis.call('SET', k, 'x' .. lock, 'PX', ARGV[2])
return 1
`)

// extendScript: KEYS[1] record; ARGV lock, lease ms, 2×lease ms. Returns 1
// also when the record is completed under the lock (an Extend that crossed
// its owner's Complete).
var extendScript = newScript(lockHeld + `if st == 99 then return 1 end
if st ~= 112 then return 0 end
local n, fp = string.match(v, '^(%d+) ()', #lock + 2)
if not fp then return redis.error_reply('redisstore: malformed record') end
redis.call('SET', k, string.sub(v, 1, fp + tonumber(n) - 1) .. ARGV[2], 'PX', ARGV[3])
return 1
`)
