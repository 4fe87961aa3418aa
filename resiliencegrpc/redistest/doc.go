// Package redistest proves resiliencegrpc's idempotency interceptor over a
// real Redis: replicas of a gRPC service sharing one idempotency store run
// a keyed call once. It is a module of its own, so that resiliencegrpc's
// go.mod does not require a Redis client; nobody imports it.
package redistest
