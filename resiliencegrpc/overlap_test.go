package resiliencegrpc_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// twoAtOnce runs two attempts at once, as a hedge does once its delay has
// passed: the second starts once started says the first reached the
// server. The first success wins; release then lets the other attempt
// answer too, and Do returns once both have.
func twoAtOnce(started <-chan struct{}, release chan<- struct{}) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		errs := make(chan error, 2)
		var wg sync.WaitGroup
		wg.Go(func() { errs <- fn(ctx) })
		<-started
		wg.Go(func() { errs <- fn(ctx) })
		first := <-errs
		close(release)
		wg.Wait()
		return first
	})
}

func TestOverlappingAttemptsEachDecodeIntoTheirOwnMessage(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if n == 1 {
			close(started)
			<-release // answers after the second attempt has succeeded
			return wrapperspb.String("slow"), nil
		}
		return wrapperspb.String("fast"), nil
	}}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: twoAtOnce(started, release), Idempotent: always})
	out, err := call(t.Context(), cc, callMethod, "x")
	require.NoError(t, err)
	assert.Equal(t, "fast", out, "the first success is the reply, though the other decoded later")
	assert.EqualValues(t, 2, f.calls.Load())
}

func TestObserverSeesStreamReopens(t *testing.T) {
	var rec resiliencetest.Recorder
	f := failingCollect()
	c := streamConfig()
	c.Observer = &rec
	cc := clientConn(t, f, c)
	_, err := collect(t.Context(), t, cc, "a")
	require.NoError(t, err)
	assert.Equal(t, 1, rec.Count(resilience.KindCall), "one setup")
	require.Equal(t, 1, rec.Count(resilience.KindRetry), "one re-open")
	for _, ev := range rec.Events() {
		if ev.Kind == resilience.KindRetry {
			assert.Equal(t, 1, ev.Attempt)
			assert.Equal(t, codes.Unavailable, status.Code(ev.Err))
		}
	}
}

func TestObserverSeesCallsAndGiveUps(t *testing.T) {
	var rec resiliencetest.Recorder
	f := &flaky{unary: failFirst(1, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Name: "payments", Observer: &rec})
	_, err := call(t.Context(), cc, callMethod, "x")
	require.Error(t, err)
	_, err = call(t.Context(), cc, callMethod, "x")
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Count(resilience.KindCall))
	assert.Equal(t, 1, rec.Count(resilience.KindGiveUp), "a retryable failure of a call that may not be repeated")
	for _, ev := range rec.Events() {
		assert.Equal(t, "resiliencegrpc", ev.Policy)
		assert.Equal(t, "payments", ev.Name)
	}
}

// A hedge with no delay starts its second attempt at once; the server holds
// the first until the second arrives, or for hold.
func TestOnlyIdempotentMethodsAreHedged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		idem  func(string) bool
		hold  time.Duration
		calls int32
	}{
		{"idempotent", always, time.Minute, 2},
		{"keyed", nil, 200 * time.Millisecond, 1}, // no second attempt comes
	} {
		t.Run(tc.name, func(t *testing.T) {
			second := make(chan struct{})
			f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				if n == 2 {
					close(second)
					return in, nil
				}
				hold := time.NewTimer(tc.hold)
				defer hold.Stop()
				select {
				case <-second:
				case <-hold.C:
				case <-ctx.Done():
				}
				return in, nil
			}}
			cc := clientConn(t, f, resiliencegrpc.Config{Policy: hedge.New(hedge.Config{}), Idempotent: tc.idem})
			out, err := call(idempotency.WithKey(t.Context(), "k"), cc, callMethod, "x")
			require.NoError(t, err)
			assert.Equal(t, "x", out)
			assert.Equal(t, tc.calls, f.calls.Load())
		})
	}
}
