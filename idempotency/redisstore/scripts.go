package redisstore

import "github.com/redis/go-redis/v9"

// A record is a hash under one key:
//
//	f  fingerprint
//	n  fence
//	t  owner token, only while in progress
//	l  lease in milliseconds, only while in progress
//	r  result, only once completed
//
// An in-progress record's key expires 2×l after the last claim or extend, so
// the lease is live while PTTL > l and has lease PTTL − l left. A completed
// record's key expires at the end of its retention, so it is live while
// PTTL > 0 (Redis keeps a key until its TTL is below zero; at zero the
// deadline has been reached and the record counts as expired).

// claimScript: KEYS[1] record; ARGV fingerprint, token, lease ms.
// Returns {"a", fence} acquired, {"r", result} replay, {"p", remaining ms}
// in progress, or {"m"} mismatch.
var claimScript = redis.NewScript(`
local k = KEYS[1]
local fence = 1
local rec = redis.call('HMGET', k, 'f', 'n', 't', 'l', 'r')
if rec[2] then
  local ttl = redis.call('PTTL', k)
  local left
  if rec[3] then left = ttl - tonumber(rec[4]) else left = ttl end
  if left > 0 then
    if rec[1] ~= ARGV[1] then return {'m'} end
    if not rec[3] then return {'r', rec[5]} end
    return {'p', left}
  end
  fence = tonumber(rec[2]) + 1
  redis.call('DEL', k)
end
local lease = tonumber(ARGV[3])
redis.call('HSET', k, 'f', ARGV[1], 'n', fence, 't', ARGV[2], 'l', lease)
redis.call('PEXPIRE', k, 2 * lease)
return {'a', fence}
`)

// completeScript: KEYS[1] record; ARGV token, fence, result, retention ms.
// Returns 1 when completed, 0 when the lock is lost.
var completeScript = redis.NewScript(`
local k = KEYS[1]
local rec = redis.call('HMGET', k, 't', 'n')
if rec[1] ~= ARGV[1] or rec[2] ~= ARGV[2] then return 0 end
redis.call('HDEL', k, 't', 'l')
redis.call('HSET', k, 'r', ARGV[3])
redis.call('PEXPIRE', k, ARGV[4])
return 1
`)

// releaseScript: KEYS[1] record; ARGV token, fence. Returns 1 when the
// record was deleted, 0 when the lock is lost.
var releaseScript = redis.NewScript(`
local k = KEYS[1]
local rec = redis.call('HMGET', k, 't', 'n')
if rec[1] ~= ARGV[1] or rec[2] ~= ARGV[2] then return 0 end
redis.call('DEL', k)
return 1
`)

// extendScript: KEYS[1] record; ARGV token, fence, lease ms. Returns 1 when
// the lease was extended, 0 when the lock is lost.
var extendScript = redis.NewScript(`
local k = KEYS[1]
local rec = redis.call('HMGET', k, 't', 'n')
if rec[1] ~= ARGV[1] or rec[2] ~= ARGV[2] then return 0 end
local lease = tonumber(ARGV[3])
redis.call('HSET', k, 'l', lease)
redis.call('PEXPIRE', k, 2 * lease)
return 1
`)
