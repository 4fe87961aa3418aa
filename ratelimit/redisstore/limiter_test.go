package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
)

func ok(context.Context) error { return nil }

// Two replicas' limiters on one Redis key share its limit: the second is
// refused what the first took, with the time until the next token.
func TestLimitersOfTwoReplicasShareTheLimit(t *testing.T) {
	prefix := unique("limiter")
	limiter := func() *ratelimit.Limiter {
		s := redisstore.New(newClient(t), redisstore.Config{Prefix: prefix, Replicas: 2, Timeout: time.Second})
		return ratelimit.New(ratelimit.Config{Rate: 1, Per: time.Minute, Burst: 3, Store: s, Key: "charges"})
	}
	a, b := limiter(), limiter()
	require.NoError(t, a.Do(t.Context(), ok))
	require.NoError(t, b.Do(t.Context(), ok))
	require.NoError(t, a.Do(t.Context(), ok))
	err := b.Do(t.Context(), ok)
	require.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	wait, found := resilience.RetryAfter(err)
	require.True(t, found)
	assert.Greater(t, wait, 59*time.Second, "one token a minute")
	assert.LessOrEqual(t, wait, time.Minute)
}

// Under FailClosed a Redis that is down makes the limiter refuse, and the
// refusal says why.
func TestLimiterRefusesWhenRedisIsDownUnderFailClosed(t *testing.T) {
	s := redisstore.New(clientOf(t, closedPort(t)), redisstore.Config{FailClosed: true, Timeout: 20 * time.Millisecond})
	l := ratelimit.New(ratelimit.Config{Rate: 100, Store: s, Key: "charges"})
	ran := false
	err := l.Do(t.Context(), func(context.Context) error { ran = true; return nil })
	assert.False(t, ran)
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.ErrorIs(t, err, redisstore.ErrUnavailable)
}
