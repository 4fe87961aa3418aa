package bulkhead_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/bulkhead"
)

func TestZeroConfigAdmits25AndRefusesThe26thAtOnce(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{})
	require.Equal(t, 25, b.Limit())
	permits := make([]bulkhead.Permit, 25)
	for i := range permits {
		p, err := b.Allow()
		require.NoError(t, err, "permit %d", i+1)
		permits[i] = p
	}
	assert.Equal(t, 25, b.InFlight())

	_, err := b.Allow()
	assert.ErrorIs(t, err, bulkhead.ErrFull)
	ran := false
	err = b.Do(context.Background(), func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, bulkhead.ErrFull, "no queue by default: Do refuses at once")
	assert.False(t, ran)

	for i := range permits {
		permits[i].Done()
	}
	assert.Equal(t, bulkhead.Metrics{InFlight: 0, Queued: 0, Rejected: 2}, b.Metrics())
}

func TestRefusalMatchesErrFullAndErrRejectedWithoutHint(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	p, err := b.Allow()
	require.NoError(t, err)
	defer p.Done()

	_, err = b.Allow()
	require.Error(t, err)
	assert.ErrorIs(t, err, bulkhead.ErrFull)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	assert.ErrorIs(t, bulkhead.ErrFull, resilience.ErrRejected)
	assert.Equal(t, "bulkhead: full", err.Error())
	_, hinted := resilience.RetryAfter(err)
	assert.False(t, hinted, "a bulkhead cannot know when a slot frees")
}

func TestDoRunsFnInASlotAndReturnsItsError(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	errApp := errors.New("app")
	err := b.Do(context.Background(), func(context.Context) error {
		assert.Equal(t, 1, b.InFlight(), "fn runs holding a slot")
		return errApp
	})
	assert.Same(t, errApp, err)
	assert.Zero(t, b.InFlight())
}

func TestDoNextRunsTheRestOfTheChainInTheSlot(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	inner := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		assert.Equal(t, 1, b.InFlight(), "the inner policy runs in the slot")
		return fn(ctx)
	})
	ran := 0
	err := resilience.Chain(b, inner).Do(context.Background(), func(context.Context) error { ran++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 1, ran)
	assert.Zero(t, b.InFlight())
}

func TestNilFuncIsAnError(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{})
	assert.ErrorIs(t, b.Do(context.Background(), nil), resilience.ErrNilFunc)
	assert.Zero(t, b.InFlight())
}

func TestDoneContextRunsNothing(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := b.Do(ctx, func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, resilience.ErrRejected)
	assert.False(t, ran)
	_, err = b.Acquire(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, bulkhead.Metrics{}, b.Metrics())
}

// TestNeverMoreThanMaxConcurrentInFlight hammers a bulkhead from 64
// goroutines, with and without a queue, and checks that no more than
// MaxConcurrent calls ever run at once.
func TestNeverMoreThanMaxConcurrentInFlight(t *testing.T) {
	for _, c := range []bulkhead.Config{
		{MaxConcurrent: 4},
		{MaxConcurrent: 4, MaxQueue: 64},
		{MaxConcurrent: 4, MaxQueue: 16, LIFO: true},
		{MaxConcurrent: 1, MaxQueue: 8},
	} {
		b := bulkhead.New(c)
		var running, peak, ran atomic.Int64
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for i := range 200 {
					call := func(context.Context) error {
						n := running.Add(1)
						for {
							p := peak.Load()
							if n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
						ran.Add(1)
						runtime.Gosched()
						running.Add(-1)
						return nil
					}
					if i%2 == 0 {
						_ = b.Do(context.Background(), call)
					} else if p, err := b.Allow(); err == nil {
						_ = call(context.Background())
						p.Done()
					}
				}
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, peak.Load(), int64(c.MaxConcurrent), "%+v", c)
		assert.Positive(t, ran.Load())
		m := b.Metrics()
		assert.Zero(t, m.InFlight, "%+v", c)
		assert.Zero(t, m.Queued, "%+v", c)
		if c.MaxQueue >= 64 {
			// Every Do caller fits in the queue: only Allow is refused.
			assert.LessOrEqual(t, m.Rejected, uint64(64*100))
		}
	}
}

func TestFnPanicReleasesTheSlotAndThePanicGoesOn(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	func() {
		defer func() { assert.Equal(t, "fn broke", recover()) }()
		_ = b.Do(context.Background(), func(context.Context) error { panic("fn broke") })
	}()
	assert.Zero(t, b.InFlight())
	assert.NoError(t, b.Do(context.Background(), ok), "the slot is free again")
}

func TestPermitDoneTwiceReleasesOnce(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	p1, err := b.Allow()
	require.NoError(t, err)
	p2, err := b.Allow()
	require.NoError(t, err)
	p1.Done()
	p1.Done() // does nothing: p2 still holds its slot
	assert.Equal(t, 1, b.InFlight())
	p2.Done()
	assert.Zero(t, b.InFlight())

	var zero bulkhead.Permit
	zero.Done() // a permit for nothing
	assert.Zero(t, b.InFlight())
}

func TestDoneOnACopyOfAReleasedPermitPanics(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	p, err := b.Allow()
	require.NoError(t, err)
	cp := p
	p.Done()
	assert.PanicsWithValue(t, "bulkhead: Done called on a permit that was already released (a copy's Done?)", cp.Done)
	assert.Zero(t, b.InFlight())
}

func TestBadConfigPanicsAndValidateSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		c    bulkhead.Config
		want string
	}{
		{bulkhead.Config{MaxConcurrent: -1}, "bulkhead: MaxConcurrent must not be negative, got -1"},
		{bulkhead.Config{MaxQueue: -3}, "bulkhead: MaxQueue must not be negative, got -3"},
		{bulkhead.Config{MaxWait: -1}, "bulkhead: MaxWait must not be negative, got -1"},
		{bulkhead.Config{MaxConcurrent: math.MaxInt32 + 1}, "bulkhead: MaxConcurrent must be at most 2147483647, got 2147483648"},
		{bulkhead.Config{MaxQueue: math.MaxInt}, "bulkhead: MaxQueue must be at most 2147483647, got 9223372036854775807"},
	} {
		err := tc.c.Validate()
		require.Error(t, err, "%+v", tc.c)
		assert.Equal(t, tc.want, err.Error())
		assert.PanicsWithValue(t, tc.want, func() { bulkhead.New(tc.c) })
	}
	err := bulkhead.Config{MaxConcurrent: -1, MaxWait: -1}.Validate()
	assert.ErrorContains(t, err, "MaxConcurrent")
	assert.ErrorContains(t, err, "MaxWait", "every problem is reported")

	for _, c := range []bulkhead.Config{{}, {MaxConcurrent: math.MaxInt32, MaxQueue: math.MaxInt32}} {
		assert.NoError(t, c.Validate())
		assert.NotPanics(t, func() { bulkhead.New(c) })
	}
}

func TestNothingAllocatesOnAdmitAndRelease(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{})
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		p, err := b.Allow()
		if err == nil {
			p.Done()
		}
	}), "Allow and Done")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) }), "Do")
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		p, err := b.Acquire(ctx)
		if err == nil {
			p.Done()
		}
	}), "Acquire and Done")

	full := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	p, err := full.Allow()
	require.NoError(t, err)
	defer p.Done()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = full.Do(ctx, ok) }), "a refusal")
}

// TestHammeringWithQueueAndCancelsLosesNoSlot mixes every way in and out —
// Do, Allow, Acquire, waiters that give up on a short deadline or MaxWait,
// and waiters that wait as long as it takes — from 64 goroutines. A lost
// hand-over would leave a waiter without a deadline parked for ever (the
// test would hang); a lost or doubled slot would show in the final counts.
func TestHammeringWithQueueAndCancelsLosesNoSlot(t *testing.T) {
	for _, c := range []bulkhead.Config{
		{MaxConcurrent: 3, MaxQueue: 64},
		{MaxConcurrent: 3, MaxQueue: 8, LIFO: true},
		{MaxConcurrent: 2, MaxQueue: 64, MaxWait: 50 * time.Microsecond},
	} {
		b := bulkhead.New(c)
		var running, peak atomic.Int64
		call := func(context.Context) error {
			n := running.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			runtime.Gosched()
			running.Add(-1)
			return nil
		}
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				for i := range 300 {
					switch (g + i) % 4 {
					case 0:
						_ = b.Do(context.Background(), call)
					case 1:
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%3)*10*time.Microsecond)
						_ = b.Do(ctx, call)
						cancel()
					case 2:
						if p, err := b.Allow(); err == nil {
							_ = call(context.Background())
							p.Done()
						}
					case 3:
						if p, err := b.Acquire(context.Background()); err == nil {
							_ = call(context.Background())
							p.Done()
						}
					}
				}
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, peak.Load(), int64(c.MaxConcurrent), "%+v", c)
		m := b.Metrics()
		assert.Zero(t, m.InFlight, "%+v", c)
		assert.Zero(t, m.Queued, "%+v", c)
		for range c.MaxConcurrent {
			_, err := b.Allow()
			assert.NoError(t, err, "every slot is free again (%+v)", c)
		}
	}
}
