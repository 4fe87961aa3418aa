// Package redisstore is an [idempotency.Store] kept in Redis (or Valkey), for
// services with many replicas that share one Redis.
//
// Every state change is one Lua script over a single key, so each is atomic
// and the store works on Redis Cluster as well as on a single server. Claim
// checks the record, writes it and sets its TTL in one script that also
// returns the existing record and its remaining TTL, so a new key costs two
// round trips (claim, complete) and a replay one. Complete, Release and Extend
// compare the owner's token and fence before changing anything.
//
// Time comes only from Redis: a lease and a retention are key TTLs, never
// the application's clock, so replicas whose clocks disagree still agree on
// every deadline. An in-progress record's key lives for twice its lease, so
// that after the lease has passed the owner can still complete or release it
// and the next claimer gets the next fence; a completed record's key lives for
// its retention. Deadlines have Redis's resolution of a millisecond: leases
// and retentions are rounded up to whole milliseconds.
//
// # Eviction causes duplicate executions
//
// The Redis server must run with maxmemory-policy noeviction (the default
// when maxmemory is set without a policy, but many hosted offerings default
// to an allkeys-* or volatile-* policy). Under any other policy Redis may
// silently evict a record when memory runs short: a later request with the
// same key then finds no record and runs the operation again, which is
// exactly the duplicate execution the store exists to prevent. With
// noeviction, a full Redis refuses writes instead, and Claim returns that
// error so the operation does not run. Persistence (AOF or RDB) decides
// whether records survive a Redis restart; without it a restart forgets every
// key, with the same consequence as eviction.
package redisstore
