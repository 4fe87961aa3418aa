package resiliencehttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// Tests against real servers on loopback that misbehave in scripted ways.

func TestTransportRetriesDroppedConnection(t *testing.T) {
	s := serve(t, drop, ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})

	resp, body := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello", body)
	assert.Equal(t, 2, s.requests())
}

func TestTransportRetriesStalledAttemptAfterPerAttemptTimeout(t *testing.T) {
	s := serve(t, stall, ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{
		Policy: resilience.Chain(quickRetry(2), timeout.New(200*time.Millisecond)),
	})

	resp, body := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello", body)
	assert.Equal(t, 2, s.requests())
}

func TestTransportRetriesRetryableResponseResetMidBody(t *testing.T) {
	s := serve(t, resetMidBody(http.StatusServiceUnavailable), ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})

	resp, body := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello", body)
	assert.Equal(t, 2, s.requests())
}

func TestTransportReturnsSuccessfulResponseResetMidBodyWithReadError(t *testing.T) {
	s := serve(t, resetMidBody(http.StatusOK), ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)

	assert.Error(t, err, "a body cut short must not read as complete")
	assert.Equal(t, "0123456789", string(body))
	assert.Equal(t, 1, s.requests(), "a response already returned is not retried")
}

func TestTransportHonoursRetryAfterInSeconds(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable, "Retry-After", "1"), ok("hello"))
	var events resiliencetest.Recorder
	// Without the hint the delay would be 0; the hint of 1s is clamped to
	// MaxDelay, so the wait is MaxDelay, plus the retry policy's jitter.
	p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), MaxDelay: 5 * time.Millisecond, Observer: &events})
	tr := newTransport(t, resiliencehttp.Config{Policy: p})

	resp, _ := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	delays := events.Delays()
	require.Len(t, delays, 1)
	assertHintWait(t, 5*time.Millisecond, delays[0])
}

func TestTransportHonoursRetryAfterAsHTTPDate(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	s := serve(t, status(http.StatusTooManyRequests, "Retry-After", date), ok("hello"))
	var events resiliencetest.Recorder
	p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), MaxDelay: 5 * time.Millisecond, Observer: &events})
	tr := newTransport(t, resiliencehttp.Config{Policy: p})

	resp, _ := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	delays := events.Delays()
	require.Len(t, delays, 1)
	assertHintWait(t, 5*time.Millisecond, delays[0])
}

func TestTransportIgnoresMalformedRetryAfter(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable, "Retry-After", "soon"), ok("hello"))
	var events resiliencetest.Recorder
	p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(time.Millisecond), MaxDelay: 5 * time.Millisecond, Observer: &events})
	tr := newTransport(t, resiliencehttp.Config{Policy: p})

	resp, _ := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []time.Duration{time.Millisecond}, events.Delays(), "the backoff's delay, not a hint")
}

func TestTransportReturnsLastResponseWhenRetriesAreExhausted(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})

	resp, body := get(t, tr, s.URL())

	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "Service Unavailable", body)
	assert.Equal(t, 3, s.requests())
}

func TestTransportReturnsErrorWhenRetriesAreExhaustedWithErrorOnExhausted(t *testing.T) {
	s := serve(t, status(http.StatusBadGateway))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3), ErrorOnExhausted: true})
	req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, retry.ErrExhausted)
	var se *resiliencehttp.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusBadGateway, se.StatusCode)
	assert.Equal(t, 3, s.requests())
}

func TestTransportDoesNotRetryPostWithoutKey(t *testing.T) {
	s := serve(t, drop, ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay"))
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.Error(t, err)
	assert.True(t, resilience.IsPermanent(err), "the mark survives the retry policy, so an outer retry stops too")
	assert.False(t, idempotency.IsFinal(err), "a transport failure is never an outcome to record")
	assert.Equal(t, 1, s.requests())
}

func TestTransportReturnsRetryableStatusOfPostWithoutKeyAtOnce(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable), ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay"))
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()

	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, 1, s.requests())
}

func TestTransportRetriesPostWithKeyFromContextSendingTheSameKeyAndBody(t *testing.T) {
	s := serve(t, drop, status(http.StatusServiceUnavailable), ok("paid"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	key := idempotency.NewKey()
	ctx := idempotency.WithKey(context.Background(), key)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL(), strings.NewReader("pay 10"))
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	assert.Equal(t, "paid", string(body))
	assert.Equal(t, []string{`"` + key + `"`, `"` + key + `"`, `"` + key + `"`}, s.receivedKeys(), "sent as an RFC 8941 string")
	assert.Equal(t, []string{"pay 10", "pay 10", "pay 10"}, s.receivedBodies())
	assert.Empty(t, req.Header.Get("Idempotency-Key"), "the caller's request is not modified")
}

func TestTransportRetriesPostWithKeyHeader(t *testing.T) {
	s := serve(t, drop, ok("paid"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay 10"))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", "k-1")

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"k-1", "k-1"}, s.receivedKeys())
}

func TestTransportDoesNotRetryBodyThatCannotBeRewound(t *testing.T) {
	s := serve(t, drop, ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	body := &trackedBody{Reader: strings.NewReader("data")}
	req, err := http.NewRequest(http.MethodPut, s.URL(), body)
	require.NoError(t, err)
	require.Nil(t, req.GetBody, "precondition: a body net/http cannot rewind")

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, resiliencehttp.ErrBodyNotRewindable)
	assert.Equal(t, 1, s.requests())
	assert.True(t, body.isClosed())
}

func TestTransportStopsWhenCallerCancelsDuringAttempt(t *testing.T) {
	arrived := make(chan struct{}, 1)
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		stall(w, r)
	})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(5)})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL(), nil)
	require.NoError(t, err)
	go func() {
		<-arrived
		cancel()
	}()

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, s.requests())
}

func TestTransportStopsWhenCallerCancelsDuringBackoff(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := retry.New(retry.Config{
		MaxAttempts: 5,
		Backoff:     backoff.Constant(time.Hour),
		MaxDelay:    time.Hour,
		Observer: resilience.ObserverFunc(func(e resilience.Event) {
			if e.Kind == resilience.KindRetry {
				cancel()
			}
		}),
	})
	tr := newTransport(t, resiliencehttp.Config{Policy: p})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL(), nil)
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp, "a canceled call returns no response, not the 503")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, s.requests())
}

func TestTransportErrorFromHTTPClientMatchesCause(t *testing.T) {
	s := serve(t, drop)
	client := &http.Client{Transport: newTransport(t, resiliencehttp.Config{Policy: quickRetry(2)})}

	_, err := client.Get(s.URL())

	assert.ErrorIs(t, err, retry.ErrExhausted)
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "the transport error stays reachable: %v", err)
	assert.Equal(t, 2, s.requests())
}
