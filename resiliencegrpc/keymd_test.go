package resiliencegrpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencegrpc"
)

// A key the caller put in the outgoing metadata itself makes a call of a
// method not declared idempotent a keyed call, retried with that key, just
// as idempotency.WithKey does; the interceptor looks for it once an attempt
// has failed.
func TestUnaryKeyInTheCallersMetadataMakesTheCallKeyed(t *testing.T) {
	f := &flaky{unary: failFirst(2, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3)})

	ctx := withCallMetadata(withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "order-7"))
	_, err := call(ctx, cc, callMethod, "x")
	require.NoError(t, err)
	md := f.seen()
	require.Len(t, md, 3)
	for i, m := range md {
		assert.Equal(t, []string{"order-7"}, m.Get(resiliencegrpc.KeyMetadata), "attempt %d", i+1)
	}
}

// The caller's key in metadata wins over a key of idempotency.WithKey,
// even one metadata could not carry: it is sent as it is, and only it.
func TestUnaryKeyInTheCallersMetadataWinsOverWithKey(t *testing.T) {
	f := &flaky{unary: failFirst(1, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3)})

	ctx := withKeyMD(idempotency.WithKey(t.Context(), "bad\nkey"), resiliencegrpc.KeyMetadata, "order-8")
	_, err := call(ctx, cc, callMethod, "x")
	require.NoError(t, err)
	md := f.seen()
	require.Len(t, md, 2)
	for i, m := range md {
		assert.Equal(t, []string{"order-8"}, m.Get(resiliencegrpc.KeyMetadata), "attempt %d", i+1)
	}
}

// Other metadata does not make a call keyed: a method not declared
// idempotent is still not retried.
func TestUnaryMetadataWithoutAKeyIsNotAKey(t *testing.T) {
	f := &flaky{unary: failFirst(1, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3)})

	_, err := call(withCallMetadata(t.Context()), cc, callMethod, "x")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.ErrorIs(t, err, resiliencegrpc.ErrNotIdempotent)
	assert.True(t, resilience.IsPermanent(err))
	assert.EqualValues(t, 1, f.calls.Load())
}

// A stream whose caller put the key in the metadata is reopened like one
// of idempotency.WithKey.
func TestStreamKeyInTheCallersMetadataMakesTheStreamKeyed(t *testing.T) {
	f := failingCollect()
	c := streamConfig()
	c.Idempotent = nil
	cc := clientConn(t, f, c)
	out, err := collect(withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k-2"), t, cc, "a", "b")
	require.NoError(t, err)
	assert.Equal(t, "ab", out)
	for _, md := range f.seen() {
		assert.Equal(t, []string{"k-2"}, md.Get(resiliencegrpc.KeyMetadata))
	}
	assert.EqualValues(t, 2, f.streams.Load())
}
