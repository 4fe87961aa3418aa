package fallback_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
	"github.com/magicmagnets/resilience/resiliencetest"
)

var errDown = errors.New("dependency down")

func failing(err error) resilience.Func {
	return func(context.Context) error { return err }
}

// counting returns a fallback that records the errors it is given and
// returns result.
func counting(result error) (func(context.Context, error) error, *[]error) {
	var seen []error
	return func(_ context.Context, err error) error {
		seen = append(seen, err)
		return result
	}, &seen
}

func TestPolicyPassesSuccessThroughWithoutFallback(t *testing.T) {
	fb, seen := counting(nil)
	rec := &resiliencetest.Recorder{}
	p := fallback.New(fallback.Config{Fallback: fb, Observer: rec})
	calls := 0
	err := p.Do(context.Background(), func(context.Context) error { calls++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Empty(t, *seen)
	assert.Empty(t, fallbacks(rec))
}

func TestPolicyRunsFallbackWithTheOriginalError(t *testing.T) {
	fb, seen := counting(nil)
	rec := &resiliencetest.Recorder{}
	p := fallback.New(fallback.Config{Name: "quotes", Fallback: fb, Observer: rec})
	err := p.Do(context.Background(), failing(errDown))
	require.NoError(t, err, "the fallback's result is returned")
	assert.Equal(t, []error{errDown}, *seen)
	assert.Equal(t, []resilience.Event{{Policy: "fallback", Name: "quotes", Kind: resilience.KindFallback, Err: errDown}}, fallbacks(rec))
}

func TestPolicyReturnsTheFallbacksError(t *testing.T) {
	errFallback := errors.New("fallback failed too")
	fb, _ := counting(errFallback)
	p := fallback.New(fallback.Config{Fallback: fb})
	assert.Equal(t, errFallback, p.Do(context.Background(), failing(errDown)))
}

func TestPolicyIgnoresCallerCancel(t *testing.T) {
	fb, seen := counting(nil)
	rec := &resiliencetest.Recorder{}
	p := fallback.New(fallback.Config{Fallback: fb, FallbackIf: func(error) bool { return true }, Observer: rec})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := p.Do(ctx, func(ctx context.Context) error { return ctx.Err() })
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, *seen)
	assert.Empty(t, fallbacks(rec))
}

func TestPolicyHandlesCancellationThatIsNotTheCallers(t *testing.T) {
	fb, seen := counting(nil)
	p := fallback.New(fallback.Config{Fallback: fb})
	err := p.Do(context.Background(), failing(context.Canceled))
	require.NoError(t, err)
	assert.Equal(t, []error{context.Canceled}, *seen)
}

func TestPolicyHandlesTheCallersExpiredDeadline(t *testing.T) {
	fb, seen := counting(nil)
	p := fallback.New(fallback.Config{Fallback: fb})
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	err := p.Do(ctx, func(ctx context.Context) error { return ctx.Err() })
	require.NoError(t, err)
	assert.Equal(t, []error{context.DeadlineExceeded}, *seen)
}

func TestPolicyAnswersOnlyErrorsFallbackIfAccepts(t *testing.T) {
	errBadRequest := errors.New("bad request")
	fb, seen := counting(nil)
	p := fallback.New(fallback.Config{Fallback: fb, FallbackIf: func(err error) bool { return errors.Is(err, errDown) }})
	assert.Equal(t, errBadRequest, p.Do(context.Background(), failing(errBadRequest)))
	assert.NoError(t, p.Do(context.Background(), failing(errDown)))
	assert.Equal(t, []error{errDown}, *seen)
}

func TestPolicyRejectsNilFunc(t *testing.T) {
	fb, seen := counting(nil)
	p := fallback.New(fallback.Config{Fallback: fb})
	assert.ErrorIs(t, p.Do(context.Background(), nil), resilience.ErrNilFunc)
	assert.Empty(t, *seen, "a programmer error is not hidden by the fallback")
}

func TestNewPanicsWithoutFallback(t *testing.T) {
	assert.PanicsWithValue(t, "fallback: Config.Fallback is nil", func() { fallback.New(fallback.Config{}) })
}

func TestErrorReplacesTheFailureAndKeepsItsCause(t *testing.T) {
	errDegraded := errors.New("quotes unavailable")
	p := fallback.New(fallback.Config{Fallback: fallback.Error(errDegraded)})
	err := p.Do(context.Background(), failing(errDown))
	assert.ErrorIs(t, err, errDegraded)
	assert.ErrorIs(t, err, errDown)
	assert.Equal(t, "quotes unavailable: dependency down", err.Error())
}

func TestPolicyOutermostInChainRunsOnceInnerRetriesGiveUp(t *testing.T) {
	fb, seen := counting(nil)
	p := resilience.Chain(fallback.New(fallback.Config{Fallback: fb}), retryN(3))
	attempts := 0
	err := p.Do(context.Background(), func(context.Context) error { attempts++; return errDown })
	require.NoError(t, err)
	assert.Equal(t, 3, attempts)
	assert.Equal(t, []error{errDown}, *seen)
}
