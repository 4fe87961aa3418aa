package idempotency_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
)

func TestPolicyRunsOncePerKeyFromTheContext(t *testing.T) {
	p := idempotency.NewPolicy(newStore(), idempotency.Config{})
	runs := 0
	op := func(context.Context) error { runs++; return nil }
	ctx := idempotency.WithKey(t.Context(), "k")
	require.NoError(t, p.Do(ctx, op))
	require.NoError(t, p.Do(ctx, op))
	require.NoError(t, p.Do(idempotency.WithKey(t.Context(), "other"), op))
	assert.Equal(t, 2, runs)
}

func TestPolicyRunsUnprotectedWithoutAKeyByDefault(t *testing.T) {
	p := idempotency.NewPolicy(newStore(), idempotency.Config{})
	runs := 0
	op := func(context.Context) error { runs++; return nil }
	require.NoError(t, p.Do(t.Context(), op))
	require.NoError(t, p.Do(t.Context(), op))
	assert.Equal(t, 2, runs)
}

func TestPolicyRequiresAKeyWhenConfigured(t *testing.T) {
	p := idempotency.NewPolicy(newStore(), idempotency.Config{RequireKey: true})
	err := p.Do(t.Context(), func(context.Context) error {
		t.Error("ran without a key")
		return nil
	})
	assert.ErrorIs(t, err, idempotency.ErrNoKey)
}

func TestPolicyReplaysAPermanentError(t *testing.T) {
	p := idempotency.NewPolicy(newStore(), idempotency.Config{})
	ctx := idempotency.WithKey(t.Context(), "k")
	require.Error(t, p.Do(ctx, func(context.Context) error { return idempotency.Final(errors.New("declined")) }))
	err := p.Do(ctx, func(context.Context) error { return nil })
	var rec *idempotency.RecordedError
	require.ErrorAs(t, err, &rec)
	assert.Equal(t, "declined", rec.Message)
}

func TestPolicyInsideARetryReRunsAfterAnOrdinaryError(t *testing.T) {
	p := idempotency.NewPolicy(newStore(), idempotency.Config{})
	retryTwice := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		if err := fn(ctx); err == nil {
			return nil
		}
		return fn(ctx)
	})
	runs := 0
	err := resilience.Chain(retryTwice, p).Do(idempotency.WithKey(t.Context(), "k"), func(context.Context) error {
		runs++
		if runs == 1 {
			return errors.New("transient")
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 2, runs)
}

func TestPolicyRejectsANilFunc(t *testing.T) {
	p := idempotency.NewPolicy(newStore(), idempotency.Config{})
	assert.ErrorIs(t, p.Do(t.Context(), nil), resilience.ErrNilFunc)
}

func TestNewPolicyPanicsOnProgrammerErrors(t *testing.T) {
	assert.PanicsWithValue(t, "idempotency: NewPolicy: nil store", func() { idempotency.NewPolicy(nil, idempotency.Config{}) })
	assert.Panics(t, func() { idempotency.NewPolicy(newStore(), idempotency.Config{Lease: -1}) })
}

func TestWithKeyAndKeyFromRoundTrip(t *testing.T) {
	_, ok := idempotency.KeyFrom(t.Context())
	assert.False(t, ok)
	key, ok := idempotency.KeyFrom(idempotency.WithKey(t.Context(), "abc"))
	assert.True(t, ok)
	assert.Equal(t, "abc", key)
	_, ok = idempotency.KeyFrom(idempotency.WithKey(idempotency.WithKey(t.Context(), "abc"), ""))
	assert.False(t, ok, "an empty key removes the outer one")
}

func TestNewKeyReturnsDistinctUUIDv7s(t *testing.T) {
	a, b := idempotency.NewKey(), idempotency.NewKey()
	assert.Len(t, a, 36)
	assert.Equal(t, byte('7'), a[14], "version nibble")
	assert.NotEqual(t, a, b)
	assert.NoError(t, idempotency.ValidateKey(a))
}
