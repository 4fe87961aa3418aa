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
	assert.Equal(t, 7, v, "the value of the failed attempt comes back with its error")
}

func TestDoValueRejectsNilArguments(t *testing.T) {
	_, err := resilience.DoValue[int](context.Background(), nil, func(context.Context) (int, error) { return 1, nil })
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	_, err = resilience.DoValue[int](context.Background(), resilience.Chain(), nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

// TestDoValueKeepsLastStartedAttempt runs two attempts where the first
// finishes after the second: the second's value must win.
func TestDoValueKeepsLastStartedAttempt(t *testing.T) {
	firstStarted := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	twice := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		wg.Add(1)
		go func() { defer wg.Done(); _ = fn(ctx) }() // attempt 1, left running
		<-firstStarted
		err := fn(ctx) // attempt 2
		close(release)
		wg.Wait() // attempt 1 finishes last
		return err
	})
	var mu sync.Mutex
	calls := 0
	v, err := resilience.DoValue(context.Background(), twice, func(context.Context) (string, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			close(firstStarted)
			<-release
			return "stale", nil
		}
		return "fresh", nil
	})
	require.NoError(t, err)
	assert.Equal(t, "fresh", v)
}

// TestDoValueDropsResultsAfterReturn uses a policy that abandons the attempt
// and returns early; the late result must neither race nor change the value.
func TestDoValueDropsResultsAfterReturn(t *testing.T) {
	finished := make(chan struct{})
	proceed := make(chan struct{})
	abandon := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		go func() { _ = fn(ctx); close(finished) }()
		return errors.New("gave up waiting")
	})
	v, err := resilience.DoValue(context.Background(), abandon, func(context.Context) (int, error) {
		<-proceed
		return 99, nil
	})
	close(proceed)
	<-finished
	assert.Error(t, err)
	assert.Zero(t, v)
}

func TestObserverFuncReceivesEvents(t *testing.T) {
	var got []resilience.Event
	obs := resilience.ObserverFunc(func(e resilience.Event) { got = append(got, e) })
	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindRetry, Attempt: 1, Delay: time.Second})
	require.Len(t, got, 1)
	assert.Equal(t, resilience.KindRetry, got[0].Kind)
}
