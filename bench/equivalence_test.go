package bench

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmarks compare like with like only if every subject does the same
// work. These tests hold each one to that.

func TestEveryRetrySubjectRunsASucceedingOperationOnce(t *testing.T) {
	for _, s := range retrySubjects() {
		op, calls := flaky(1)

		err := s.do(context.Background(), op)

		assert.NoError(t, err, s.lib)
		assert.Equal(t, 1, *calls, s.lib)
	}
}

func TestEveryRetrySubjectSucceedsOnTheThirdAttempt(t *testing.T) {
	for _, s := range retrySubjects() {
		op, calls := flaky(retryAttempts)

		err := s.do(context.Background(), op)

		assert.NoError(t, err, s.lib)
		assert.Equal(t, retryAttempts, *calls, s.lib)
	}
}

func TestEveryRetrySubjectGivesUpAfterThreeAttempts(t *testing.T) {
	for _, s := range retrySubjects() {
		op, calls := flaky(retryAttempts + 1)

		err := s.do(context.Background(), op)

		assert.ErrorIs(t, err, errFlaky, s.lib)
		assert.Equal(t, retryAttempts, *calls, s.lib)
	}
}

// TestEveryRetrySubjectWaitsNoTimeBetweenAttempts runs in a synctest bubble,
// where time moves only when every goroutine waits: a zero delay, even one
// that goes through a timer, takes no time at all.
func TestEveryRetrySubjectWaitsNoTimeBetweenAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, s := range retrySubjects() {
			op, _ := flaky(retryAttempts)
			start := time.Now()

			require.NoError(t, s.do(t.Context(), op), s.lib)

			assert.Zero(t, time.Since(start), s.lib)
		}
	})
}

func TestEveryBreakerSubjectRunsCallsWhileClosed(t *testing.T) {
	for _, s := range breakerSubjects(time.Hour) {
		op, calls := flaky(1)

		for range 100 {
			require.NoError(t, s.do(context.Background(), op), s.lib)
		}

		assert.Equal(t, 100, *calls, s.lib)
	}
}

func TestEveryBreakerSubjectOpensAfterFailuresAndRejectsWithoutRunning(t *testing.T) {
	for _, s := range breakerSubjects(time.Hour) {
		require.True(t, trip(s), s.lib)
		op, calls := flaky(1)

		err := s.do(context.Background(), op)

		assert.Error(t, err, s.lib)
		assert.Zero(t, *calls, s.lib)
	}
}

// TestEveryBreakerSubjectStaysClosedBelowHalfFailures leaves eapache out: it
// has no failure rate, only a count of errors with no error-free period of
// its timeout between them, and so trips after its 50th error.
func TestEveryBreakerSubjectStaysClosedBelowHalfFailures(t *testing.T) {
	for _, s := range breakerSubjects(time.Hour) {
		if s.lib == "eapache" {
			continue
		}
		var n int
		op := func(context.Context) error {
			n++
			if n%3 == 0 {
				return errFlaky
			}
			return nil
		}

		for range 300 {
			_ = s.do(context.Background(), op)
		}

		assert.Equal(t, 300, n, "%s: a third of calls failing must not trip it", s.lib)
	}
}

// TestChainSubjectsEndTheOperationAtTheTotalTimeout: failsafe-go's timeout
// cancels the context rather than giving it a deadline, so the test waits for
// the end of the context.
func TestChainSubjectsEndTheOperationAtTheTotalTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, s := range chainSubjects() {
			if s.lib == "call" {
				continue
			}
			start := time.Now()

			err := s.do(t.Context(), func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			})

			assert.Error(t, err, s.lib)
			assert.Equal(t, chainTimeout, time.Since(start), s.lib)
		}
	})
}

func TestChainSubjectsRetryThroughTheBreaker(t *testing.T) {
	for _, s := range chainSubjects()[:2] {
		op, calls := flaky(retryAttempts)

		err := s.do(context.Background(), op)

		assert.NoError(t, err, s.lib)
		assert.Equal(t, retryAttempts, *calls, s.lib)
	}
}
