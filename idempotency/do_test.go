package idempotency_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
)

// faultyStore wraps a store and lets a test replace any method.
type faultyStore struct {
	idempotency.Store
	claim    func(ctx context.Context, key, fp string, lease time.Duration) (idempotency.Claim, error)
	complete func(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error
	extend   func(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error
}

func (s *faultyStore) Claim(ctx context.Context, key, fp string, lease time.Duration) (idempotency.Claim, error) {
	if s.claim != nil {
		return s.claim(ctx, key, fp, lease)
	}
	return s.Store.Claim(ctx, key, fp, lease)
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
		_, err := s.Claim(t.Context(), "k", "", time.Minute)
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
		_, err := s.Claim(t.Context(), "k", "", time.Second)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "three leases later the key is still held")
		<-done
	})
}

func TestDoCancelsTheOperationAndRecordsNothingWhenTheLeaseIsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := newStore()
		s := &faultyStore{Store: mem, extend: func(context.Context, string, idempotency.Lock, time.Duration) error {
			return idempotency.ErrLockLost
		}}
		var cause error
		_, _, err := idempotency.Do(t.Context(), s, "k", func(ctx context.Context) (int, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 1, nil
		}, idempotency.Options{Lease: 3 * time.Second})
		assert.ErrorIs(t, err, idempotency.ErrLockLost)
		assert.ErrorIs(t, cause, idempotency.ErrLockLost)
		assert.Equal(t, time.Second, time.Since(time.Unix(946684800, 0)), "lost at the first heartbeat")
		_, err = mem.Claim(t.Context(), "k", "", time.Second)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "nothing completed or released")
	})
}

func TestDoDoesNotRunWhenTheStoreFailsAtClaim(t *testing.T) {
	down := errors.New("store down")
	s := &faultyStore{Store: newStore(), claim: func(context.Context, string, string, time.Duration) (idempotency.Claim, error) {
		return idempotency.Claim{}, down
	}}
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) {
		t.Error("ran without a claim")
		return 0, nil
	}, idempotency.Options{})
	assert.ErrorIs(t, err, down)
}

func TestDoReturnsErrNotRecordedWhenTheStoreFailsAtComplete(t *testing.T) {
	down := errors.New("store down")
	s := &faultyStore{Store: newStore(), complete: func(context.Context, string, idempotency.Lock, []byte, time.Duration) error {
		return down
	}}
	v, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (int, error) { return 5, nil }, idempotency.Options{})
	assert.ErrorIs(t, err, idempotency.ErrNotRecorded)
	assert.ErrorIs(t, err, down)
	assert.Equal(t, 5, v, "the operation's value is still returned")
}

func TestDoReturnsErrNotRecordedForAnOversizedResult(t *testing.T) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxResultSize: 8})
	_, _, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (string, error) { return "far too long", nil }, idempotency.Options{})
	assert.ErrorIs(t, err, idempotency.ErrNotRecorded)
	assert.ErrorIs(t, err, idempotency.ErrResultTooLarge)
	_, replayed, err := idempotency.Do(t.Context(), s, "k", func(context.Context) (string, error) { return "ok", nil }, idempotency.Options{})
	require.NoError(t, err)
	assert.False(t, replayed, "the key was released")
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
	assert.Equal(t, []resilience.Kind{resilience.KindReplay, resilience.KindRejected}, kinds)
}

func TestDoGivesUpTheLeaseWhenNoExtensionSucceedsForAWholeLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		flaky := 0
		s := &faultyStore{Store: newStore(), extend: func(context.Context, string, idempotency.Lock, time.Duration) error {
			flaky++
			return errors.New("timeout talking to the store")
		}}
		start := time.Now()
		_, _, err := idempotency.Do(t.Context(), s, "k", func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, nil
		}, idempotency.Options{Lease: 3 * time.Second})
		assert.ErrorIs(t, err, idempotency.ErrLockLost)
		assert.Equal(t, 3*time.Second, time.Since(start), "held on through transient errors until the lease ran out")
		assert.Equal(t, 3, flaky)
	})
}
