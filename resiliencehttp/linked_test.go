package resiliencehttp_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
)

// Under retry and a breaker, which give an attempt no deadline or
// cancellation of its own, the request goes out under a context that ends
// with the caller's: these tests hold that path to the same contract as
// the one under a per-attempt timeout.

// TestLinkedAttemptEndsWithCallersContext: the response is returned
// readable, the context it was fetched under ends when the caller's does,
// and the body then fails with the caller's cancellation.
func TestLinkedAttemptEndsWithCallersContext(t *testing.T) {
	base := &fakeBase{respond: always(http.StatusOK)}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: resilience.Chain(quickRetry(2), breaker.New(breaker.Config{}))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/", nil)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sent := base.requests()[0].Context()
	assert.Equal(t, 1, retry.Attempt(sent), "the attempt's values reach the base")
	assert.NoError(t, sent.Err(), "the response's context outlives the policy's return")

	cancel()
	assert.ErrorIs(t, sent.Err(), context.Canceled, "the caller's cancel ends it")
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestLinkedAttemptLosesResponseWhenCallerCancels: a response that arrives
// after the caller's context ended is closed and not returned; the error
// is the caller's cancellation, and the attempt is not retried.
func TestLinkedAttemptLosesResponseWhenCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var body *closeCounter
	base := &fakeBase{respond: func(_ int, req *http.Request) (*http.Response, error) {
		cancel()
		resp := reply(req, http.StatusOK, "late")
		body = &closeCounter{ReadCloser: resp.Body}
		resp.Body = body
		return resp, nil
	}}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: resilience.Chain(quickRetry(3), breaker.New(breaker.Config{}))})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/", nil)

	resp, err := tr.RoundTrip(req)
	assert.Nil(t, resp)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, base.requests(), 1)
	require.NotNil(t, body)
	assert.Equal(t, 1, body.closed, "the lost response's body is closed")
}

type closeCounter struct {
	io.ReadCloser
	closed int
}

func (c *closeCounter) Close() error {
	c.closed++
	return c.ReadCloser.Close()
}
