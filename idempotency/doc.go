// Package idempotency runs an operation at most once per key and gives every
// retry of it the first run's recorded result.
//
// A client that sends "charge $50" and loses the response cannot tell whether
// the charge happened; it retries with the same key, and the retry gets the
// first charge's result instead of charging again. The pieces:
//
//   - [Store]: the record of each key (in progress under a lease, or
//     completed with its result), kept atomically. [NewMemoryStore] is the
//     embedded default; the redisstore and pgstore modules serve services
//     with many replicas; package storetest checks any Store against the
//     contract.
//   - [Do]: runs a typed operation under a key, keeping its lease alive,
//     recording its result, and replaying it to later calls.
//   - [NewPolicy]: the same as a resilience.Policy that reads the key from the
//     context ([WithKey]), to chain with retry, breaker and timeout.
//   - [Middleware]: HTTP server middleware following the IETF
//     Idempotency-Key header draft.
//   - [NewKey]: a fresh UUIDv7 key for clients.
//
// # What at most once means
//
// A keyed operation runs once, and every retry of it gets the first run's
// recorded outcome. A second run of a key happens only when:
//
//   - its owner lost the lease: it crashed, or was cut off from the store
//     for longer than the lease. The second run then has a higher fence,
//     which the operation reads from its context ([FenceFrom]) to fence its
//     own writes downstream, so that a system that has seen the higher
//     fence refuses the stale owner's late write;
//   - or the key was released on purpose: [Do]'s fn returned an ordinary
//     error (it says it did nothing lasting), the [Middleware] handler
//     answered a status that means "not processed" (408, 409, 425, 429 or
//     503: the only ones not recorded by default; a 500 is recorded, as
//     Stripe does), or the operation called [ReleaseKey].
//
// Once fn has returned success or a final error ([Final]), or the handler
// has answered any other status, the key is never released; an outcome too
// large or impossible to encode is recorded as a placeholder that replays as
// an error. A store outage between the run and the record does not by
// itself cause a second run: the owner keeps extending the lease and
// retrying the record until it succeeds or the lease is really lost, and
// says so in an event (KindRetry, then KindRecorded or KindGiveUp). The
// heartbeat that extends the lease does not end with the caller: a client
// that hangs up does not stop it while the operation runs. A claim whose
// reply was lost leaves no orphan that blocks the key for a whole lease: the
// claimer asks again with the same owner token and owns the key.
//
// For effects inside PostgreSQL, pgstore's CompleteTx records the outcome in
// the same transaction as the effect: exactly once.
//
// A store that loses records forgets keys, and a forgotten key runs again: a
// Redis restarted without persistence, or a failover to a replica that had
// not received the write (redisstore's documentation measures the settings).
package idempotency
