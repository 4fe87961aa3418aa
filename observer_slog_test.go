package resilience_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
)

func TestSlogObserverLogsCallsAtDebug(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	obs := resilience.SlogObserver(logger)

	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindCall, Duration: time.Millisecond})
	assert.Empty(t, buf.String(), "a call, emitted on every call, is not shown at Info")

	obs = resilience.SlogObserver(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindCall, Duration: time.Millisecond})
	assert.Contains(t, buf.String(), `level=DEBUG msg="resilience event" policy=breaker kind=call duration=1ms`)
}

func TestSlogObserverWritesDurationAndDelayApart(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	obs := resilience.SlogObserver(logger)

	obs.Observe(resilience.Event{Policy: "timeout", Name: "db", Kind: resilience.KindTimeout, Duration: 2 * time.Second, Err: errors.New("timed out")})
	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindCall, Attempt: 3, Duration: 250 * time.Millisecond, Err: errors.New("unavailable")})
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindRejected, Delay: 5 * time.Second})

	out := buf.String()
	assert.Contains(t, out, `level=INFO msg="resilience event" policy=timeout kind=timeout name=db duration=2s error="timed out"`)
	assert.Contains(t, out, `level=DEBUG msg="resilience event" policy=retry kind=call attempt=3 duration=250ms error=unavailable`)
	assert.Contains(t, out, `level=WARN msg="resilience event" policy=breaker kind=rejected delay=5s`+"\n", "no duration for an event without one")
}

func TestSlogObserverLevelsCanRaiseCalls(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	obs := resilience.SlogObserverLevels(logger, map[resilience.Kind]slog.Level{resilience.KindCall: slog.LevelInfo})

	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindCall, Duration: time.Second})
	assert.Contains(t, buf.String(), `level=INFO msg="resilience event" policy=retry kind=call duration=1s`)
}
