package idempotency_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// faultyStore wraps a store and lets a test replace any method.
type faultyStore struct {
	idempotency.Store
	claim    func(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error)
	complete func(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error
	extend   func(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error
}

func (s *faultyStore) Claim(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error) {
	if s.claim != nil {
		return s.claim(ctx, key, fp, token, lease)
	}
	return s.Store.Claim(ctx, key, fp, token, lease)
}

func (s *faultyStore) Complete(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if s.complete != nil {
		return s.complete(ctx, key, lock, result, retention)
	}
	return s.Store.Complete(ctx, key, lock, result, retention)
}

func (s *faultyStore) Extend(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error {
	if s.extend != nil {
		return s.extend(ctx, key, lock, lease)
	}
	return s.Store.Extend(ctx, key, lock, lease)
}

func newStore() *idempotency.MemoryStore {
	return idempotency.NewMemoryStore(idempotency.MemoryConfig{})
}

type charge struct {
	ID     string
	Amount int
}

func TestDoRunsOnceAndReplaysTheResult(t *testing.T) {
	s := newStore()
	var runs atomic.Int32
	op := func(context.Context) (charge, error) {
		runs.Add(1)
		return charge{ID: "ch_1", Amount: 50}, nil
	}
	v, replayed, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Equal(t, charge{ID: "ch_1", Amount: 50}, v)

	v, replayed, err = idempotency.Do(t.Context(), s, "k", op, idempotency.Options{})
	require.NoError(t, err)
	assert.True(t, replayed)
	assert.Equal(t, charge{ID: "ch_1", Amount: 50}, v)
	assert.Equal(t, int32(1), runs.Load())
}

func TestDoDuplicateGetsErrInProgressWhileFirstRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		release := make(chan struct{})
		go func() {
			_, _, _ = idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
				<-release
				return 1, nil
			}, idempotency.Options{})
		}()
		synctest.Wait()
		_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
			t.Error("the duplicate ran")
			return 0, nil
		}, idempotency.Options{})
		assert.ErrorIs(t, err, idempotency.ErrInProgress)
		close(release)
	})
}

func TestDoDuplicateWaitsForTheResultWhenAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		go func() {
			_, _, _ = idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
				time.Sleep(3 * time.Second)
				return 42, nil
			}, idempotency.Options{})
		}()
		synctest.Wait()
		start := time.Now()
		v, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
			t.Error("the duplicate ran")
			return 0, nil
		}, idempotency.Options{Wait: true})
		require.NoError(t, err)
		assert.True(t, replayed)
		assert.Equal(t, 42, v)
		assert.Less(t, time.Since(start), 4*time.Second, "polls at most a second apart")
	})
}

func TestDoWaitEndsWithTheCallersContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		_, err := s.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, _, err = idempotency.Do(ctx, s, "k", func(context.Context) (int, error) { return 0, nil }, idempotency.Options{Wait: true})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, idempotency.ErrInProgress)
		assert.Equal(t, 5*time.Second, time.Since(time.Unix(946684800, 0)), "returned as the context ended")
	})
}

func TestDoReleasesTheKeyOnAnOrdinaryError(t *testing.T) {
	s := newStore()
	boom := errors.New("boom")
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 0, boom }, idempotency.Options{})
	require.ErrorIs(t, err, boom)
	v, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 7, nil }, idempotency.Options{})
	require.NoError(t, err)
	assert.False(t, replayed, "the retry ran")
	assert.Equal(t, 7, v)
}

func TestDoRecordsAndReplaysAPermanentError(t *testing.T) {
	s := newStore()
	declined := errors.New("card declined")
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
		return 0, idempotency.Final(declined)
	}, idempotency.Options{})
	require.ErrorIs(t, err, declined)

	_, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
		t.Error("the retry ran")
		return 0, nil
	}, idempotency.Options{})
	assert.True(t, replayed)
	var rec *idempotency.RecordedError
	require.ErrorAs(t, err, &rec)
	assert.Equal(t, "card declined", rec.Message)
}

// TestDoDoesNotRecordAPermanentError: resilience.Permanent means "do not
// send again" (a transport failure of a request that cannot be repeated), not
// "this is the outcome": the key is released and a retry runs fn.
func TestDoDoesNotRecordAPermanentError(t *testing.T) {
	s := newStore()
	refused := errors.New("connection refused")
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
		return 0, resilience.Permanent(refused)
	}, idempotency.Options{})
	require.ErrorIs(t, err, refused)
	v, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 1, nil }, idempotency.Options{})
	require.NoError(t, err)
	assert.False(t, replayed, "a permanent error was recorded as the outcome")
	assert.Equal(t, 1, v)
}

func TestDoReleasesTheKeyAndRepanicsOnPanic(t *testing.T) {
	s := newStore()
	assert.PanicsWithValue(t, "bug", func() {
		_, _, _ = idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { panic("bug") }, idempotency.Options{})
	})
	_, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 1, nil }, idempotency.Options{})
	require.NoError(t, err)
	assert.False(t, replayed, "the key was released")
}

func TestDoKeepsTheLeaseAliveWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		opts := idempotency.Options{Lease: 3 * time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, err := idempotency.Do(t.Context(), s, "k", func(ctx context.Context) (int, error) {
				time.Sleep(10 * time.Second)
				return 1, ctx.Err()
			}, opts)
			assert.NoError(t, err)
		}()
		time.Sleep(9 * time.Second)
		_, err := s.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Second)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "three leases later the key is still held")
		<-done
	})
}

func TestDoCancelsTheOperationAndRecordsNothingWhenTheLeaseIsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := newStore()
		lost := func() error { return idempotency.ErrLockLost }
		s := &faultyStore{Store: mem,
			extend:   func(context.Context, string, idempotency.Lock, time.Duration) error { return lost() },
			complete: func(context.Context, string, idempotency.Lock, []byte, time.Duration) error { return lost() },
		}
		var cause error
		_, _, err := idempotency.Do(t.Context(), s, "k", func(ctx context.Context) (int, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 1, nil
		}, idempotency.Options{Lease: 3 * time.Second})
		assert.ErrorIs(t, err, idempotency.ErrLockLost)
		assert.ErrorIs(t, cause, idempotency.ErrLockLost)
		assert.Equal(t, time.Second, time.Since(time.Unix(946684800, 0)), "lost at the first heartbeat")
		_, err = mem.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Second)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "nothing completed or released")
	})
}

func TestDoDoesNotRunWhenTheStoreFailsAtClaim(t *testing.T) {
	down := errors.New("store down")
	s := &faultyStore{Store: newStore(), claim: func(context.Context, string, string, string, time.Duration) (idempotency.Claim, error) {
		return idempotency.Claim{}, down
	}}
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
		t.Error("ran without a claim")
		return 0, nil
	}, idempotency.Options{})
	assert.ErrorIs(t, err, down)
}

func TestDoKeepsTheKeyWhenTheStoreNeverTakesTheOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("store down")
		mem := newStore()
		s := &faultyStore{Store: mem, complete: func(context.Context, string, idempotency.Lock, []byte, time.Duration) error {
			return down
		}}
		var events resiliencetest.Recorder
		start := time.Now()
		v, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 5, nil },
			idempotency.Options{Lease: 3 * time.Second, Observer: &events})
		assert.ErrorIs(t, err, idempotency.ErrNotRecorded)
		assert.ErrorIs(t, err, down)
		assert.Equal(t, 5, v, "the operation's value is still returned")
		assert.LessOrEqual(t, time.Since(start), 3*time.Second, "gave up within a lease")
		assert.Equal(t, []resilience.Kind{resilience.KindGiveUp}, kinds(events.Events(), resilience.KindGiveUp, resilience.KindRecorded))

		_, err = mem.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Second)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "an outcome that may have had effects never releases the key")
		time.Sleep(3 * time.Second)
		c, err := mem.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Second)
		require.NoError(t, err, "the lease ended")
		assert.Equal(t, int64(2), c.Lock.Fence, "the takeover runs with a higher fence")
	})
}

func TestDoRetriesTheRecordUntilTheStoreTakesIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := newStore()
		var fails atomic.Int32
		s := &faultyStore{Store: mem, complete: func(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
			if fails.Add(1) <= 3 {
				return errors.New("redis: connection reset")
			}
			return mem.Complete(ctx, key, lock, result, retention)
		}}
		var events resiliencetest.Recorder
		var runs atomic.Int32
		op := func(context.Context) (int, error) { runs.Add(1); return 7, nil }
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // the caller is gone by the time the outcome is recorded: it must not matter
		opts := idempotency.Options{Lease: 3 * time.Second, Observer: &events}
		v, _, err := idempotency.Do(context.WithoutCancel(ctx), s, "k", op, opts)
		require.NoError(t, err)
		assert.Equal(t, 7, v)
		assert.Equal(t, []resilience.Kind{resilience.KindRetry, resilience.KindRetry, resilience.KindRetry, resilience.KindRecorded},
			kinds(events.Events(), resilience.KindRetry, resilience.KindRecorded, resilience.KindGiveUp))

		v, replayed, err := idempotency.Do(t.Context(), s, "k", op, opts)
		require.NoError(t, err)
		assert.True(t, replayed)
		assert.Equal(t, 7, v)
		assert.Equal(t, int32(1), runs.Load())
	})
}

func TestDoKeepsTheLeaseAliveAfterTheCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		ctx, cancel := context.WithCancel(t.Context())
		opts := idempotency.Options{Lease: 3 * time.Second}
		done := make(chan struct{})
		go func() {
			defer close(done)
			// The operation ignores its context, as a handler that has
			// already sent a charge does.
			_, _, err := idempotency.Do(ctx, s, "k", func(context.Context) (int, error) {
				time.Sleep(10 * time.Second)
				return 1, nil
			}, opts)
			assert.NoError(t, err)
		}()
		time.Sleep(time.Second)
		cancel()
		time.Sleep(8 * time.Second)
		_, err := s.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Second)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "the heartbeat died with the caller")
		<-done
		_, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 2, nil }, opts)
		require.NoError(t, err)
		assert.True(t, replayed, "the first run's outcome was recorded")
	})
}

func TestDoDetectsALostLeaseAtItsDeadlineWhenExtendHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := newStore()
		s := &faultyStore{Store: mem, extend: func(ctx context.Context, _ string, _ idempotency.Lock, _ time.Duration) error {
			<-ctx.Done() // a link gone silent: only the call's own timeout ends it
			return ctx.Err()
		}}
		start := time.Now()
		var lostAt time.Duration
		_, _, err := idempotency.Do(t.Context(), s, "k", func(ctx context.Context) (int, error) {
			<-ctx.Done()
			lostAt = time.Since(start)
			return 0, context.Cause(ctx)
		}, idempotency.Options{Lease: 3 * time.Second})
		assert.ErrorIs(t, err, idempotency.ErrLockLost)
		assert.Equal(t, 3*time.Second, lostAt, "lost exactly when the store's lease could have ended")
	})
}

func TestDoNeverWaitsOnAnExtendInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		unblock := make(chan struct{})
		var once sync.Once
		s := &faultyStore{Store: newStore(), extend: func(context.Context, string, idempotency.Lock, time.Duration) error {
			<-unblock // ignores its context entirely
			return nil
		}}
		start := time.Now()
		_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
			time.Sleep(1500 * time.Millisecond) // an Extend is in flight since 1s
			return 1, nil
		}, idempotency.Options{Lease: 3 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, 1500*time.Millisecond, time.Since(start), "Do returned as soon as the outcome was recorded")
		once.Do(func() { close(unblock) })
		synctest.Wait()
	})
}

func TestDoOwnsAKeyWhoseClaimReplyWasLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := newStore()
		var claims atomic.Int32
		s := &faultyStore{Store: mem, claim: func(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error) {
			c, err := mem.Claim(ctx, key, fp, token, lease)
			if claims.Add(1) == 1 {
				return idempotency.Claim{}, errors.New("read tcp: connection reset by peer") // applied, reply lost
			}
			return c, err
		}}
		var runs atomic.Int32
		start := time.Now()
		v, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { runs.Add(1); return 3, nil }, idempotency.Options{})
		require.NoError(t, err)
		assert.Equal(t, 3, v)
		assert.Equal(t, int32(1), runs.Load())
		assert.Less(t, time.Since(start), time.Second, "no orphan for a lease")
	})
}

func TestDoRunsUnderAFenceThatRisesAcrossReleases(t *testing.T) {
	s := newStore()
	var fences []int64
	op := func(ctx context.Context) (int, error) {
		f, ok := idempotency.FenceFrom(ctx)
		require.True(t, ok)
		assert.Equal(t, "k", f.Key)
		fences = append(fences, f.Fence)
		return 0, errors.New("did nothing lasting")
	}
	for range 3 {
		_, _, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{})
		require.Error(t, err)
	}
	assert.Equal(t, []int64{1, 2, 3}, fences)
	_, ok := idempotency.FenceFrom(t.Context())
	assert.False(t, ok)
}

func TestDoReleasesTheKeyWhenTheOperationAsks(t *testing.T) {
	s := newStore()
	var runs atomic.Int32
	op := func(ctx context.Context) (int, error) {
		runs.Add(1)
		assert.True(t, idempotency.ReleaseKey(ctx))
		return 1, nil
	}
	for range 2 {
		_, replayed, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{})
		require.NoError(t, err)
		assert.False(t, replayed)
	}
	assert.Equal(t, int32(2), runs.Load())
	assert.False(t, idempotency.ReleaseKey(t.Context()), "outside a run")
}

func TestDoRejectsBadKeysAndDurationsPermanently(t *testing.T) {
	s := newStore()
	op := func(context.Context) (int, error) { t.Error("ran"); return 0, nil }
	_, _, err := idempotency.Do(t.Context(), s, strings.Repeat("k", idempotency.MaxKeyLen+1), op, idempotency.Options{})
	assert.ErrorIs(t, err, idempotency.ErrInvalidKey)
	assert.True(t, resilience.IsPermanent(err), "no retry makes a key valid")
	_, _, err = idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Lease: -time.Second})
	assert.ErrorIs(t, err, idempotency.ErrInvalidDuration)
	_, _, err = idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Retention: -time.Second})
	assert.ErrorIs(t, err, idempotency.ErrInvalidDuration)
	assert.Equal(t, 0, s.Len(), "nothing was stored")
}

func TestDoRunsNothingUnderADoneContext(t *testing.T) {
	s := newStore()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := idempotency.Do(ctx, s, "k", func(context.Context) (int, error) { t.Error("ran"); return 0, nil }, idempotency.Options{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, s.Len())
}

func TestDoRecordsAPlaceholderForAnOversizedResult(t *testing.T) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxResultSize: 64})
	var runs atomic.Int32
	op := func(context.Context) (string, error) { runs.Add(1); return strings.Repeat("x", 100), nil }
	v, _, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{})
	assert.ErrorIs(t, err, idempotency.ErrNotRecorded)
	assert.ErrorIs(t, err, idempotency.ErrResultTooLarge)
	assert.Len(t, v, 100, "the first caller still gets the value")
	_, replayed, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{})
	assert.True(t, replayed, "the key was not released")
	assert.ErrorIs(t, err, idempotency.ErrNotRecorded)
	assert.Equal(t, int32(1), runs.Load())
}

func TestDoReportsAMismatchedFingerprint(t *testing.T) {
	s := newStore()
	op := func(context.Context) (int, error) { return 1, nil }
	_, _, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Fingerprint: "charge 50"})
	require.NoError(t, err)
	_, _, err = idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Fingerprint: "charge 60"})
	assert.ErrorIs(t, err, idempotency.ErrMismatch)
}

func TestDoRejectsNilFuncAndNilStore(t *testing.T) {
	_, _, err := idempotency.Do[int](t.Context(), newStore(), "k", nil, idempotency.Options{})
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
	_, _, err = idempotency.Do(t.Context(), nil, "k", func(context.Context) (int, error) { return 1, nil }, idempotency.Options{})
	assert.EqualError(t, err, "idempotency: nil store")
}

// upperCodec records strings upper-cased, to show the codec is used.
type upperCodec struct{}

func (upperCodec) Marshal(v any) ([]byte, error) { return []byte(v.(string) + "!"), nil }
func (upperCodec) Unmarshal(data []byte, v any) error {
	*v.(*string) = string(data)
	return nil
}

func TestDoEncodesWithTheGivenCodec(t *testing.T) {
	s := newStore()
	opts := idempotency.Options{Codec: upperCodec{}}
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (string, error) { return "hi", nil }, opts)
	require.NoError(t, err)
	v, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (string, error) { return "", nil }, opts)
	require.NoError(t, err)
	assert.True(t, replayed)
	assert.Equal(t, "hi!", v)
}

func TestDoEmitsReplayAndRejectedEvents(t *testing.T) {
	s := newStore()
	var kinds []resilience.Kind
	opts := idempotency.Options{Name: "charges", Observer: resilience.ObserverFunc(func(e resilience.Event) {
		assert.Equal(t, "idempotency", e.Policy)
		assert.Equal(t, "charges", e.Name)
		kinds = append(kinds, e.Kind)
	})}
	op := func(context.Context) (int, error) { return 1, nil }
	_, _, _ = idempotency.Do(t.Context(), s, "k", op, opts)
	_, _, _ = idempotency.Do(t.Context(), s, "k", op, opts)
	opts.Fingerprint = "other"
	_, _, _ = idempotency.Do(t.Context(), s, "k", op, opts)
	assert.Equal(t, []resilience.Kind{
		resilience.KindCall,
		resilience.KindReplay, resilience.KindCall,
		resilience.KindRejected, resilience.KindCall,
	}, kinds)
}

func TestDoEmitsOneCallEventWithItsDurationAndOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		boom := errors.New("boom")
		_, _, err := idempotency.Do(t.Context(), newStore(), "k", func(context.Context) (int, error) {
			time.Sleep(300 * time.Millisecond)
			return 0, boom
		}, idempotency.Options{Name: "charges", Observer: &rec})
		require.ErrorIs(t, err, boom)
		events := rec.Events()
		require.Len(t, events, 1)
		assert.Equal(t, resilience.KindCall, events[0].Kind)
		assert.Equal(t, "charges", events[0].Name)
		assert.Equal(t, 300*time.Millisecond, events[0].Duration)
		assert.ErrorIs(t, events[0].Err, boom)
	})
}

func TestDoGivesUpTheLeaseWhenNoExtensionSucceedsForAWholeLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var flaky atomic.Int32
		mem := newStore()
		s := &faultyStore{Store: mem, extend: func(context.Context, string, idempotency.Lock, time.Duration) error {
			flaky.Add(1)
			return errors.New("timeout talking to the store")
		}}
		start := time.Now()
		var cause error
		_, _, err := idempotency.Do(t.Context(), s, "k", func(ctx context.Context) (int, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 0, nil
		}, idempotency.Options{Lease: 3 * time.Second})
		assert.ErrorIs(t, cause, idempotency.ErrLockLost)
		assert.Equal(t, 3*time.Second, time.Since(start), "held on through transient errors until the lease ran out")
		assert.GreaterOrEqual(t, flaky.Load(), int32(2))
		// Nobody took the key over, so the compare-and-set record still
		// succeeded: the outcome is kept rather than run again.
		require.NoError(t, err)
		c, err := mem.Claim(t.Context(), "k", "", idempotency.NewToken(), time.Second)
		require.NoError(t, err)
		assert.True(t, c.Replayed)
	})
}

func TestDoOwnsAnOrphanLeftWhenTheStoreWentAwayAfterTakingTheClaim(t *testing.T) {
	mem := newStore()
	var down atomic.Bool
	down.Store(true)
	s := &faultyStore{Store: mem, claim: func(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error) {
		c, err := mem.Claim(ctx, key, fp, token, lease)
		if down.Load() {
			return idempotency.Claim{}, errors.New("read tcp: i/o timeout") // applied, every reply lost
		}
		return c, err
	}}
	var runs atomic.Int32
	op := func(context.Context) (int, error) { runs.Add(1); return 9, nil }
	key := "orphan-" + idempotency.NewToken()
	_, _, err := idempotency.Do(t.Context(), s, key, op, idempotency.Options{})
	require.Error(t, err, "the store never answered")
	assert.Zero(t, runs.Load())

	down.Store(false)
	v, replayed, err := idempotency.Do(t.Context(), s, key, op, idempotency.Options{})
	require.NoError(t, err, "the next call takes the orphan over instead of answering in progress for a lease")
	assert.False(t, replayed)
	assert.Equal(t, 9, v)
	assert.Equal(t, int32(1), runs.Load())
}

func TestDoGivesAnOrphansTokenToOneCallerOnly(t *testing.T) {
	mem := newStore()
	var down atomic.Bool
	down.Store(true)
	s := &faultyStore{Store: mem, claim: func(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error) {
		c, err := mem.Claim(ctx, key, fp, token, lease)
		if down.Load() {
			return idempotency.Claim{}, errors.New("read tcp: i/o timeout")
		}
		return c, err
	}}
	key := "orphan-" + idempotency.NewToken()
	_, _, err := idempotency.Do(t.Context(), s, key, func(context.Context) (int, error) { return 0, nil }, idempotency.Options{})
	require.Error(t, err)
	down.Store(false)

	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = idempotency.Do(t.Context(), s, key, func(context.Context) (int, error) {
				runs.Add(1)
				<-release
				return 1, nil
			}, idempotency.Options{})
		})
	}
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), runs.Load(), "the orphan's token went to one caller")
	inProgress := 0
	for _, err := range errs {
		if errors.Is(err, idempotency.ErrInProgress) {
			inProgress++
		}
	}
	assert.GreaterOrEqual(t, inProgress, 1)
}
