// Package redisstore keeps fleet-wide rate limits on Redis (or Valkey): a
// [ratelimit.Store] that every replica of a service points at, so that a
// limit of 200 a second is 200 a second for the fleet, however many
// replicas share it.
//
// # One script, one key, one round trip
//
// Each Take is one Lua script over a single key (Prefix + key), run with
// EVALSHA (EVAL the first time the server sees it): one round trip per
// decision, atomic, and safe on Redis Cluster, since a script touches one
// key only. It decides by GCRA as the Store contract spells out, reading
// the time from Redis's TIME, so the fleet shares one clock and replicas
// whose clocks disagree still agree on every limit. A limit's key holds a
// short string and expires when its bucket is full again: an idle limit
// costs nothing. Redis 5.0 or later is needed (scripts that read TIME
// before writing replicate their effects, the default since 5.0).
//
// # Re-sends take once
//
// go-redis sends a command again on a new connection when the reply of the
// first send was lost (MaxRetries, 3 by default), and the first send may
// still have been applied. Each Take carries a request id (random per
// Store, and a counter), and the key keeps the ids of its last eight
// allowed Takes with their decisions, for at least twice Timeout: a
// re-sent Take finds its id and gets the recorded decision, taking
// nothing. A denied Take writes nothing, so its re-send is decided afresh,
// which takes at most once too. The memory this costs is bounded per key
// (eight records of about forty bytes). A re-send arriving after eight
// other Takes of the key were allowed since its first send is not
// recognised and takes again: the caller then pays for its call twice, so
// the fleet admits less than the limit, never more. go-redis re-sends
// within the call's Timeout: only a key allowing eight Takes in less than
// that (over 160 a second, at the default) can miss a re-send.
//
// # When Redis fails
//
// A Take that Redis does not decide within Config.Timeout (50ms unless
// set): unreachable, silent, or answering any error but those of the
// garbage below (LOADING, READONLY, OOM under maxmemory, NOPERM, ...), is
// decided without it:
//
//   - by default, locally, from an in-process GCRA bucket per key (a
//     [ratelimit.MemoryStore] of up to 10,000 keys) at Rate/Replicas with a
//     burst of Burst/Replicas, at least one: each replica admits its share,
//     and the fleet stays near its limit while every replica is cut off. A
//     Take of more tokens than the local burst passes only from a full
//     local bucket;
//   - with Config.FailClosed, not at all: Take returns an error matching
//     [ErrUnavailable], and a [ratelimit] limiter refuses the call.
//
// The store then asks Redis again with one Take every 100ms, while the
// others decide at once without waiting for it; the first answer puts
// every Take back on Redis. The store emits a resilience.Event with Kind
// KindStateChange, Policy "ratelimit" and Name Config.Name on each change:
// From "shared" To "local" (or "refused" under FailClosed), with Err the
// failure, when it stops using Redis, and back To "shared" when Redis
// answers again. It emits no other event: the limiter using the store
// emits its calls and rejections.
//
// A Take whose own context ends first returns the context's error and
// changes nothing. A key holding something other than a limit (another
// type, or a string someone SET) or a reply of the wrong shape is an
// error prefixed "redisstore: not a limit", whatever FailClosed says: that
// is not an outage but a key to clean up.
//
// # Timeouts: set ContextTimeoutEnabled on the client
//
// In go-redis v9 (as of v9.22.0) a context's deadline reaches the socket
// only when the client's options have ContextTimeoutEnabled set: without
// it, a read waiting for a reply is bounded by the client's ReadTimeout
// alone (seconds), and a Redis that went silent would hold every Take that
// long. redis.ParseURL does not read the setting, so set the field:
//
//	opts, err := redis.ParseURL(url)
//	...
//	opts.ContextTimeoutEnabled = true
//	store := redisstore.New(redis.NewClient(opts), redisstore.Config{Replicas: 4})
//
// # Eviction and restarts
//
// A limit Redis forgets (evicted under an allkeys-* policy, lost in a
// restart without persistence or a failover) starts again as a full
// bucket: the fleet may admit one more burst, no more.
package redisstore
