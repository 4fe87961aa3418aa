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
// Every script is idempotent by owner token, so a command that go-redis
// sends again after a dropped connection (MaxRetries, 3 by default) gets the
// answer its first send would have had: a re-sent Claim finds its own
// record and acquires it again, a re-sent Complete or Release finds the
// record completed or released under its own lock and succeeds. A completed
// record keeps its owner's token, and a released one keeps its token and
// fence for the retention Release is given (the key's TTL), so that the next
// claim's fence is higher.
//
// Time comes only from Redis: a lease and a retention are key TTLs, never
// the application's clock, so replicas whose clocks disagree still agree on
// every deadline. An in-progress record's key lives for twice its lease, so
// that after the lease has passed the owner can still complete or release it
// and the next claimer gets the next fence; a completed or released record's
// key lives for its retention. Deadlines have Redis's resolution of a
// millisecond: leases and retentions are rounded up to whole milliseconds.
//
// # Timeouts: set ContextTimeoutEnabled on the client
//
// Each call of a Store method runs under its own deadline, Config.Timeout
// (2s unless set), so that a Redis that went silent cannot hold a request
// for longer; a call whose context has an earlier deadline runs under that
// context as it is, with no context of the store's. In go-redis v9 (as of v9.22.0) a context's deadline reaches
// the socket only when the client's options have ContextTimeoutEnabled set:
// without it, socket reads and writes are bounded by the client's
// ReadTimeout and WriteTimeout alone (5s by default in v9.22.0); the
// context is consulted while getting a connection from the pool and between
// retries, never by a read waiting for a reply. With it, each read and write
// ends at the earlier of the context's deadline and the read or write
// timeout. redis.ParseURL does not read the setting, so set the field:
//
//	opts, err := redis.ParseURL(url)
//	...
//	opts.ContextTimeoutEnabled = true
//	store := redisstore.New(redis.NewClient(opts), redisstore.Config{})
//
// A call that timed out may still have been applied by Redis; its re-send
// (by go-redis, or by the caller: [idempotency.Do] claims again with the
// same token) is answered as the first send would have been.
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
// error so the operation does not run.
//
// # Durability: a Redis that forgets keys runs operations twice
//
// The store is exactly as durable as the Redis behind it. A record Redis
// loses is a key whose next request runs the operation again:
//
//   - Without persistence (no AOF, no RDB), a restart forgets every key.
//   - RDB snapshots lose every write since the last snapshot.
//   - AOF with appendfsync everysec (the usual setting) can lose about the
//     last second of writes when the host crashes; a Redis process that
//     crashes on a healthy host loses nothing already written to the file.
//   - Only AOF with appendfsync always survives a host crash, at the cost
//     of an fsync per write.
//   - Replication is asynchronous: a failover to a replica that had not yet
//     received a write forgets it. Sending WAIT after a write narrows that
//     window but does not close it (a replica may acknowledge and still
//     lose the write, or the write may be lost before WAIT is sent), and it
//     costs one more round trip per write; this store does not send it.
//
// For effects that must happen exactly once whatever the store loses,
// fence them downstream with the lock's fence, or keep the record in the
// same database as the effect (pgstore.CompleteTx does, for PostgreSQL).
package redisstore
