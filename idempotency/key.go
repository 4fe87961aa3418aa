package idempotency

import (
	"context"

	"github.com/google/uuid"
)

// NewKey returns a fresh idempotency key: a UUIDv7 in its canonical
// 36-character text form. UUIDv7 keys sort by creation time, which keeps
// database indexes of keys compact. Generate one key per logical request and
// reuse it for every retry of that request.
func NewKey() string {
	return uuid.Must(uuid.NewV7()).String()
}

type keyCtx struct{}

// WithKey returns a copy of ctx that carries key, for the idempotency
// [Policy] and the resiliencehttp client transport, which sends it as the
// Idempotency-Key header. An empty key removes a key set by an outer context.
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtx{}, key)
}

// KeyFrom returns the key carried by ctx and whether there is one (a
// non-empty key set with [WithKey]).
func KeyFrom(ctx context.Context) (string, bool) {
	key, _ := ctx.Value(keyCtx{}).(string)
	return key, key != ""
}
