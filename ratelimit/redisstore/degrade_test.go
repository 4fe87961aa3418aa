package redisstore_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// silentRedis accepts connections and reads what it is sent, but never
// answers: a Redis that hangs.
func silentRedis(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// closedPort returns an address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func clientOf(t *testing.T, addr string) *redis.Client {
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// slack is how much longer than its Timeout a Take may take under the race
// detector on a busy machine.
const slack = 100 * time.Millisecond

// timed returns the decision of a Take and how long it took.
func timed(ctx context.Context, s ratelimit.Store, key string, l ratelimit.Limit) (ratelimit.Decision, time.Duration, error) {
	start := time.Now()
	d, err := s.Take(ctx, key, l, 1)
	return d, time.Since(start), err
}

func TestRedisThatHangsIsDecidedLocallyAtItsShareWithinTheTimeout(t *testing.T) {
	for name, addr := range map[string]string{"silent": silentRedis(t), "down": closedPort(t)} {
		t.Run(name, func(t *testing.T) {
			var rec resiliencetest.Recorder
			const timeout = 50 * time.Millisecond
			s := redisstore.New(clientOf(t, addr), redisstore.Config{Replicas: 2, Timeout: timeout, Name: "api", Observer: &rec})
			l := ratelimit.Limit{Rate: 10, Burst: 4} // each of 2 replicas: 5 a second, 2 at once

			d, took, err := timed(t.Context(), s, "k", l)
			require.NoError(t, err)
			assert.Equal(t, ratelimit.Decision{Allowed: true, Remaining: 1, ResetAfter: 200 * time.Millisecond}, d)
			assert.Less(t, took, timeout+slack)

			events := rec.Events()
			require.Len(t, events, 1)
			assert.Equal(t, resilience.KindStateChange, events[0].Kind)
			assert.Equal(t, "ratelimit", events[0].Policy)
			assert.Equal(t, "api", events[0].Name)
			assert.Equal(t, "shared", events[0].From)
			assert.Equal(t, "local", events[0].To)
			assert.Error(t, events[0].Err, "the event carries the failure")

			// Until Redis may be asked again, the others decide at once.
			d, took, err = timed(t.Context(), s, "k", l)
			require.NoError(t, err)
			assert.True(t, d.Allowed)
			assert.Equal(t, 0, d.Remaining)
			assert.Less(t, took, 10*time.Millisecond, "decided without asking Redis")
			d, err = s.Take(t.Context(), "k", l, 1)
			require.NoError(t, err)
			assert.False(t, d.Allowed, "the local share's burst is 2")
			assert.InDelta(t, 200*time.Millisecond, d.RetryAfter, float64(20*time.Millisecond), "the local share's rate is 5 a second")

			// A Take of the whole shared burst passes locally from a full
			// bucket only.
			d, err = s.Take(t.Context(), "other", l, 4)
			require.NoError(t, err)
			assert.True(t, d.Allowed)
			assert.Equal(t, 800*time.Millisecond, d.ResetAfter)
			d, err = s.Take(t.Context(), "other", l, 1)
			require.NoError(t, err)
			assert.False(t, d.Allowed)

			// Later Takes keep asking Redis now and then, within the
			// timeout every time, and the store stays local: one event.
			deadline := time.Now().Add(300 * time.Millisecond)
			for time.Now().Before(deadline) {
				_, took, err := timed(t.Context(), s, "k", l)
				require.NoError(t, err)
				require.Less(t, took, timeout+slack)
				time.Sleep(5 * time.Millisecond)
			}
			assert.Len(t, rec.Events(), 1)
		})
	}
}

func TestRedisThatHangsIsRefusedUnderFailClosed(t *testing.T) {
	for name, addr := range map[string]string{"silent": silentRedis(t), "down": closedPort(t)} {
		t.Run(name, func(t *testing.T) {
			var rec resiliencetest.Recorder
			const timeout = 50 * time.Millisecond
			s := redisstore.New(clientOf(t, addr), redisstore.Config{FailClosed: true, Timeout: timeout, Observer: &rec})
			l := ratelimit.Limit{Rate: 10, Burst: 4}
			d, took, err := timed(t.Context(), s, "k", l)
			assert.ErrorIs(t, err, redisstore.ErrUnavailable)
			assert.Zero(t, d)
			assert.Less(t, took, timeout+slack)
			assert.Equal(t, []resiliencetest.Transition{{From: "shared", To: "refused"}}, rec.StateChanges())

			d, took, err = timed(t.Context(), s, "k", l)
			assert.ErrorIs(t, err, redisstore.ErrUnavailable)
			assert.Zero(t, d)
			assert.Less(t, took, 10*time.Millisecond, "refused without asking Redis")
			assert.Len(t, rec.Events(), 1)
		})
	}
}

func TestCallersOwnDeadlineIsNotAnOutage(t *testing.T) {
	var rec resiliencetest.Recorder
	s := redisstore.New(clientOf(t, silentRedis(t)), redisstore.Config{Timeout: time.Second, Observer: &rec})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	d, took, err := timed(ctx, s, "k", ratelimit.Limit{Rate: 10})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, d, "no local decision")
	assert.Less(t, took, 20*time.Millisecond+slack)
	assert.Empty(t, rec.Events(), "Redis did not fail: the caller gave up")
}

func TestObserverIsOptional(t *testing.T) {
	s := redisstore.New(clientOf(t, closedPort(t)), redisstore.Config{Timeout: 10 * time.Millisecond})
	d, err := s.Take(t.Context(), "k", ratelimit.Limit{Rate: 10}, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}
