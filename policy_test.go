package resilience_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tag is a policy that records the order in which policies are entered.
func tag(name string, log *[]string) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		*log = append(*log, name+">")
		err := fn(ctx)
		*log = append(*log, "<"+name)
		return err
	})
}

func TestChainRunsOutermostFirst(t *testing.T) {
	var log []string
	p := resilience.Chain(tag("a", &log), tag("b", &log), tag("c", &log))
	err := p.Do(context.Background(), func(context.Context) error {
		log = append(log, "fn")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a>", "b>", "c>", "fn", "<c", "<b", "<a"}, log)
}

func TestChainFlattensNestedChains(t *testing.T) {
	var log []string
	inner := resilience.Chain(tag("b", &log), tag("c", &log))
	p := resilience.Chain(tag("a", &log), inner, tag("d", &log))
	require.NoError(t, p.Do(context.Background(), func(context.Context) error { return nil }))
	assert.Equal(t, []string{"a>", "b>", "c>", "d>", "<d", "<c", "<b", "<a"}, log)
}

func TestEmptyChainRunsFn(t *testing.T) {
	want := errors.New("boom")
	calls := 0
	err := resilience.Chain().Do(context.Background(), func(context.Context) error {
		calls++
		return want
	})
	assert.ErrorIs(t, err, want)
	assert.Equal(t, 1, calls)
}

func TestChainPassesContextThrough(t *testing.T) {
	type key struct{}
	add := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		return fn(context.WithValue(ctx, key{}, "set by policy"))
	})
	var got any
	err := resilience.Chain(add, resilience.Chain()).Do(context.Background(), func(ctx context.Context) error {
		got = ctx.Value(key{})
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "set by policy", got)
}

func TestChainPanicsOnNilPolicy(t *testing.T) {
	var log []string
	assert.PanicsWithValue(t, "resilience: Chain: policy 1 is nil", func() {
		resilience.Chain(tag("a", &log), nil)
	})
}

func TestChainPanicsAtConstructionOnTypedNilPolicy(t *testing.T) {
	var log []string
	var nilRetry *retry.Policy
	var nilFunc resilience.PolicyFunc
	assert.PanicsWithValue(t, "resilience: Chain: policy 2 is a nil *retry.Policy", func() {
		resilience.Chain(tag("a", &log), tag("b", &log), nilRetry)
	})
	assert.PanicsWithValue(t, "resilience: Chain: policy 0 is a nil resilience.PolicyFunc", func() {
		resilience.Chain(nilFunc)
	})
}

func TestNilFuncReturnsError(t *testing.T) {
	var log []string
	policies := map[string]resilience.Policy{
		"empty chain": resilience.Chain(),
		"single":      resilience.Chain(tag("a", &log)),
		"chain":       resilience.Chain(tag("a", &log), tag("b", &log)),
		"policy func": resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error { return fn(ctx) }),
	}
	for name, p := range policies {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, p.Do(context.Background(), nil), resilience.ErrNilFunc)
		})
	}
	assert.Empty(t, log, "no policy ran for a nil fn")
}

func TestDoValueReturnsValueAndError(t *testing.T) {
	v, err := resilience.DoValue(context.Background(), resilience.Chain(), func(context.Context) (int, error) {
		return 42, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 42, v)

	want := errors.New("boom")
	v, err = resilience.DoValue(context.Background(), resilience.Chain(), func(context.Context) (int, error) {
		return 7, want
	})
	assert.ErrorIs(t, err, want)
	assert.Zero(t, v, "a failure comes back with the zero value")
}

func TestDoValueRejectsNilArguments(t *testing.T) {
	_, err := resilience.DoValue[int](context.Background(), nil, func(context.Context) (int, error) { return 1, nil })
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	_, err = resilience.DoValue[int](context.Background(), resilience.Chain(), nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

// hedged runs two attempts at once, the second started once the first has,
// and returns nil as soon as either succeeds (after both have ended), as a
// hedging policy does.
func hedged(firstStarted <-chan struct{}) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		errs := make(chan error, 2)
		go func() { errs <- fn(ctx) }()
		<-firstStarted
		go func() { errs <- fn(ctx) }()
		e1, e2 := <-errs, <-errs
		if e1 == nil || e2 == nil {
			return nil
		}
		return e1
	})
}

// TestDoValueReturnsTheSuccessWhenALaterAttemptFailsAfterIt: the attempt
// started second fails after the first has succeeded; the policy reports
// success, so the first attempt's value comes back, not the zero value.
func TestDoValueReturnsTheSuccessWhenALaterAttemptFailsAfterIt(t *testing.T) {
	firstStarted, firstDone := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	calls := 0
	v, err := resilience.DoValue(context.Background(), hedged(firstStarted), func(context.Context) (string, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			close(firstStarted)
			close(firstDone)
			return "first", nil
		}
		<-firstDone
		return "", errors.New("second attempt failed")
	})
	require.NoError(t, err)
	assert.Equal(t, "first", v)
}

// TestDoValueReturnsTheFirstAttemptToSucceed: of two successful attempts,
// the one that succeeded first wins, though it started second.
func TestDoValueReturnsTheFirstAttemptToSucceed(t *testing.T) {
	firstStarted, secondDone := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	calls := 0
	v, err := resilience.DoValue(context.Background(), hedged(firstStarted), func(context.Context) (string, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			close(firstStarted)
			<-secondDone
			return "slow", nil
		}
		defer close(secondDone)
		return "fast", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "fast", v)
}

func TestDoValueWithoutASuccessfulAttemptReturnsErrNoValue(t *testing.T) {
	absorb := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		_ = fn(ctx) // a fallback that answers for the failure
		return nil
	})
	replay := resilience.PolicyFunc(func(context.Context, resilience.Func) error {
		return nil // a recorded success, replayed without running fn
	})
	for name, p := range map[string]resilience.Policy{"absorbed failure": absorb, "nothing ran": replay} {
		t.Run(name, func(t *testing.T) {
			v, err := resilience.DoValue(context.Background(), p, func(context.Context) (int, error) {
				return 7, errors.New("down")
			})
			assert.ErrorIs(t, err, resilience.ErrNoValue)
			assert.Zero(t, v)
		})
	}
}

// TestDoValueDropsResultsAfterReturn uses a policy that abandons the attempt
// and returns early; the late result must neither race nor change the value.
func TestDoValueDropsResultsAfterReturn(t *testing.T) {
	for _, policyErr := range []error{errors.New("gave up waiting"), nil} {
		finished := make(chan struct{})
		proceed := make(chan struct{})
		abandon := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
			go func() { _ = fn(ctx); close(finished) }()
			return policyErr
		})
		v, err := resilience.DoValue(context.Background(), abandon, func(context.Context) (int, error) {
			<-proceed
			return 99, nil
		})
		close(proceed)
		<-finished
		if policyErr != nil {
			assert.ErrorIs(t, err, policyErr)
		} else {
			assert.ErrorIs(t, err, resilience.ErrNoValue, "the success came after the policy returned")
		}
		assert.Zero(t, v)
	}
}

func TestObserverFuncReceivesEvents(t *testing.T) {
	var got []resilience.Event
	obs := resilience.ObserverFunc(func(e resilience.Event) { got = append(got, e) })
	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindRetry, Attempt: 1, Delay: time.Second})
	require.Len(t, got, 1)
	assert.Equal(t, resilience.KindRetry, got[0].Kind)
}
