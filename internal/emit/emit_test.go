package emit_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEmitterFillsInThePolicyAndName(t *testing.T) {
	var got []resilience.Event
	e := emit.Emitter{Policy: "retry", Name: "payments", Observer: resilience.ObserverFunc(func(ev resilience.Event) { got = append(got, ev) })}
	e.Emit(resilience.Event{Kind: resilience.KindRetry, Attempt: 2})
	assert.Equal(t, []resilience.Event{{Policy: "retry", Name: "payments", Kind: resilience.KindRetry, Attempt: 2}}, got)
}

func TestEmitterCallMeasuresTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got resilience.Event
		e := emit.Emitter{Policy: "timeout", Observer: resilience.ObserverFunc(func(ev resilience.Event) { got = ev })}
		start := e.Start()
		time.Sleep(250 * time.Millisecond)
		boom := errors.New("boom")
		e.Call(start, boom)
		assert.Equal(t, resilience.Event{Policy: "timeout", Kind: resilience.KindCall, Duration: 250 * time.Millisecond, Err: boom}, got)
	})
}

func TestEmitterWithoutObserverDoesNothing(t *testing.T) {
	var e emit.Emitter
	assert.False(t, e.On())
	assert.True(t, e.Start().IsZero(), "the clock is not read")
	e.Emit(resilience.Event{Kind: resilience.KindRetry})
	e.Call(time.Time{}, nil)
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.Call(e.Start(), nil) }))
}
