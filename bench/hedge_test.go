package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
)

// hedgeDelay is the delay of every hedge subject: far longer than the
// operation, so no hedge is ever sent.
const hedgeDelay = time.Second

// hedgeSubjects returns the hedge policies compared, each allowing one
// hedge after hedgeDelay.
func hedgeSubjects() []subject { return hedgeSubjectsAfter(hedgeDelay) }

// hedgeSubjectsAfter returns the hedge subjects with delay d.
func hedgeSubjectsAfter(d time.Duration) []subject {
	return []subject{
		{"resilience", hedge.New(hedge.Config{Delay: d}).Do},
		{"failsafe", failsafeHedge(d)},
	}
}

// failsafeHedge: hedgepolicy with a fixed delay and one hedge. The
// executor is built once with the background context, as in the retry
// case, and the caller's context reaches the operation through the
// execution's context, so that the hedge's cancellation reaches it.
func failsafeHedge(d time.Duration) func(context.Context, resilience.Func) error {
	ex := failsafe.With[any](hedgepolicy.NewBuilderWithDelay[any](d).WithMaxHedges(1).Build())
	return func(_ context.Context, op resilience.Func) error {
		return ex.RunWithExecution(func(e failsafe.Execution[any]) error { return op(e.Context()) })
	}
}

// BenchmarkHedgeFirstAttemptWins: the operation succeeds at once, before
// the delay; no hedge is sent.
func BenchmarkHedgeFirstAttemptWins(b *testing.B) {
	run(b, hedgeSubjects(), succeed, nil, false)
}

// TestEveryHedgeSubjectRunsAFastOperationOnce: an operation that succeeds
// before the delay runs once under every subject.
func TestEveryHedgeSubjectRunsAFastOperationOnce(t *testing.T) {
	for _, s := range hedgeSubjects() {
		var calls atomic.Int32
		err := s.do(t.Context(), func(context.Context) error { calls.Add(1); return nil })
		assert.NoError(t, err, s.lib)
		assert.EqualValues(t, 1, calls.Load(), s.lib)
	}
}

// TestEveryHedgeSubjectHedgesAStalledOperation: a first attempt that
// stalls is overtaken by one hedge after the delay, and is cancelled.
func TestEveryHedgeSubjectHedgesAStalledOperation(t *testing.T) {
	for _, s := range hedgeSubjectsAfter(20 * time.Millisecond) {
		var calls, cancelled atomic.Int32
		err := s.do(t.Context(), func(ctx context.Context) error {
			if calls.Add(1) == 1 {
				<-ctx.Done()
				cancelled.Add(1)
				return ctx.Err()
			}
			return nil
		})
		assert.NoError(t, err, s.lib)
		assert.EqualValues(t, 2, calls.Load(), s.lib)
		assert.Eventually(t, func() bool { return cancelled.Load() == 1 }, time.Second, time.Millisecond, s.lib)
	}
}
