package resilience_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
)

func TestSlogObserverWritesEventFields(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	obs := resilience.SlogObserver(logger)
	require.NotNil(t, obs)

	obs.Observe(resilience.Event{Policy: "retry", Name: "payments", Kind: resilience.KindRetry, Attempt: 2, Delay: 150 * time.Millisecond, Err: errors.New("connection reset")})
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindStateChange, From: "closed", To: "open"})

	out := buf.String()
	assert.Contains(t, out, `level=DEBUG msg="resilience event" policy=retry kind=retry name=payments attempt=2 delay=150ms error="connection reset"`)
	assert.Contains(t, out, `level=INFO msg="resilience event" policy=breaker kind=state_change from=closed to=open`)
}

func TestSlogObserverLevels(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	obs := resilience.SlogObserver(logger)
	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindRetry})
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindStateChange})
	assert.Empty(t, buf.String(), "debug and info events are filtered at warn")
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindRejected})
	assert.Contains(t, buf.String(), "level=WARN")
}

func TestSlogObserverNilLogger(t *testing.T) {
	assert.Nil(t, resilience.SlogObserver(nil))
}

func TestSlogObserverLevelsSetsTheLevelPerKind(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	levels := map[resilience.Kind]slog.Level{
		resilience.KindRetry:    slog.LevelInfo,
		resilience.KindFallback: slog.LevelError,
	}
	obs := resilience.SlogObserverLevels(logger, levels)
	levels[resilience.KindRetry] = slog.LevelDebug // the observer keeps its own copy

	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindRetry, Attempt: 1})
	obs.Observe(resilience.Event{Policy: "fallback", Kind: resilience.KindFallback})
	obs.Observe(resilience.Event{Policy: "idempotency", Kind: resilience.KindReplay})
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindRejected})

	out := buf.String()
	assert.Contains(t, out, `level=INFO msg="resilience event" policy=retry kind=retry attempt=1`, "retries are visible at Info")
	assert.Contains(t, out, `level=ERROR msg="resilience event" policy=fallback kind=fallback`)
	assert.NotContains(t, out, "kind=replay", "a kind not named keeps its default level, Debug")
	assert.Contains(t, out, `level=WARN msg="resilience event" policy=breaker kind=rejected`)
}

func TestSlogObserverLevelsNilLogger(t *testing.T) {
	assert.Nil(t, resilience.SlogObserverLevels(nil, map[resilience.Kind]slog.Level{resilience.KindRetry: slog.LevelInfo}))
}
