package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"strings"

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

// DeriveKey returns the key under which to keep a client's key clientKey in
// a scope of the caller's choosing (a service, an account, an endpoint), so
// that equal client keys in different scopes never share a record:
//
//	ctx = idempotency.WithKey(ctx, idempotency.DeriveKey("refunds", clientKey))
//
// The result is scope, a colon, and clientKey ("refunds:order-42") when
// that fits: scope contains no colon, the whole is at most [MaxKeyLen]
// bytes, and every byte is printable ASCII (space to '~'), which an HTTP
// header can carry. Otherwise it is a fixed-length key: '#' and the 64 hex
// digits of a SHA-256 digest of scope and clientKey (65 bytes). The mapping
// is one to one as far as SHA-256 is collision resistant: the plain form
// always has a colon after its scope and the hashed form has none, and the
// digest covers scope's length, so no two (scope, clientKey) pairs share a
// key.
//
// An empty clientKey returns "", which is no key (see [WithKey]): a request
// that carries no key gets none from its scope.
func DeriveKey(scope, clientKey string) string {
	if clientKey == "" {
		return ""
	}
	if n := len(scope) + 1 + len(clientKey); n <= MaxKeyLen &&
		!strings.Contains(scope, ":") && printable(scope) && printable(clientKey) {
		return scope + ":" + clientKey
	}
	h := sha256.New()
	_, _ = io.WriteString(h, strconv.Itoa(len(scope)))
	_, _ = io.WriteString(h, ":")
	_, _ = io.WriteString(h, scope)
	_, _ = io.WriteString(h, clientKey)
	var sum [sha256.Size]byte
	return "#" + hex.EncodeToString(h.Sum(sum[:0]))
}
