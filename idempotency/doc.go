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
package idempotency
