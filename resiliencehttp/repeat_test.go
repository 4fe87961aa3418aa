package resiliencehttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
)

// Requests that cannot be sent twice, under policies that would send them
// again.

// nestedRetries are chains that retry a failure at two levels.
func nestedRetries() map[string]func() resilience.Policy {
	return map[string]func() resilience.Policy{
		"retry, retry": func() resilience.Policy { return resilience.Chain(quickRetry(3), quickRetry(3)) },
		"retry, breaker, retry": func() resilience.Policy {
			return resilience.Chain(quickRetry(3), breaker.New(breaker.Config{}), quickRetry(3))
		},
	}
}

func TestTransportSendsKeylessPostOnceUnderNestedRetries(t *testing.T) {
	for name, policy := range nestedRetries() {
		t.Run(name, func(t *testing.T) {
			s := serve(t, drop, ok("paid"))
			tr := newTransport(t, resiliencehttp.Config{Policy: policy()})
			req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay 10"))
			require.NoError(t, err)

			resp, err := tr.RoundTrip(req)

			assert.Nil(t, resp)
			assert.Error(t, err)
			assert.True(t, resilience.IsPermanent(err))
			assert.Equal(t, 1, s.requests(), "a POST without a key is sent at most once")
		})
	}
}

func TestTransportReturnsRetryableStatusOfKeylessPostOnceUnderNestedRetries(t *testing.T) {
	for name, policy := range nestedRetries() {
		t.Run(name, func(t *testing.T) {
			s := serve(t, status(http.StatusServiceUnavailable), ok("paid"))
			tr := newTransport(t, resiliencehttp.Config{Policy: policy()})
			req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay 10"))
			require.NoError(t, err)

			resp, body, err := send(tr, req)

			require.NoError(t, err)
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the server's real answer")
			assert.Equal(t, "Service Unavailable", body)
			assert.Equal(t, 1, s.requests())
		})
	}
}

// again is a policy that runs the operation a second time whatever the
// first returned, as a policy that ignores resilience.Permanent would.
var again = resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
	_ = fn(ctx)
	return fn(ctx)
})

func TestTransportRefusesSecondSendOfKeylessPost(t *testing.T) {
	s := serve(t, drop, ok("paid"))
	var events []resilience.Event
	var mu sync.Mutex
	tr := newTransport(t, resiliencehttp.Config{
		Policy: again,
		Observer: resilience.ObserverFunc(func(e resilience.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}),
	})
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay 10"))
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.Equal(t, 1, s.requests(), "the second attempt sends nothing")
	assert.ErrorIs(t, err, resiliencehttp.ErrNotRepeatable)
	assert.ErrorIs(t, err, resilience.ErrRejected, "nothing was sent: not a failure of the server")
	assert.True(t, resilience.IsPermanent(err))
	assert.False(t, idempotency.IsFinal(err))
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "the first send's failure stays reachable: %v", err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 3)
	assert.Equal(t, resilience.KindGiveUp, events[0].Kind)
	assert.Equal(t, resilience.KindRejected, events[1].Kind)
	assert.Equal(t, 2, events[1].Attempt)
	assert.Equal(t, resilience.KindCall, events[2].Kind)
	assert.ErrorIs(t, events[2].Err, resiliencehttp.ErrNotRepeatable)
}

func TestTransportRefusesSecondSendAndReturnsFirstRetryableResponse(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable, "Retry-After", "3"), ok("paid"))
	tr := newTransport(t, resiliencehttp.Config{Policy: again})
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay 10"))
	require.NoError(t, err)

	resp, body, err := send(tr, req)

	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "Service Unavailable", body)
	assert.Equal(t, 1, s.requests())
}

func TestTransportRefusesSecondSendAfterSuccess(t *testing.T) {
	s := serve(t, ok("paid"))
	tr := newTransport(t, resiliencehttp.Config{Policy: again})
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay 10"))
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, resiliencehttp.ErrNotRepeatable)
	assert.Equal(t, 1, s.requests())
}

func TestTransportRefusesSecondSendOfBodyThatCannotBeRewound(t *testing.T) {
	s := serve(t, drop, ok("done"))
	tr := newTransport(t, resiliencehttp.Config{Policy: again})
	body := &trackedBody{Reader: strings.NewReader("v2")}
	req, err := http.NewRequest(http.MethodPut, s.URL(), body)
	require.NoError(t, err)
	require.Nil(t, req.GetBody, "precondition: a body net/http cannot rewind")

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, resiliencehttp.ErrNotRepeatable)
	assert.ErrorIs(t, err, resiliencehttp.ErrBodyNotRewindable)
	assert.Equal(t, 1, s.requests())
	assert.True(t, body.isClosed())
}

// A transport failure is never an outcome for idempotency.Do to record:
// not when nothing was sent (a refused connection), and not when the
// request cannot be repeated and its failure is marked permanent.
func TestTransportFailureIsNotRecordedByIdempotencyDo(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connections to it are refused
	live := serve(t, ok("paid"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	client := &http.Client{Transport: tr}
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	charge := func(url string) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("pay 10"))
			if err != nil {
				return "", err
			}
			resp, err := client.Do(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return string(b), err
		}
	}

	_, _, err := idempotency.Do(context.Background(), store, "order-1", charge(deadURL), idempotency.Options{})
	require.Error(t, err)
	require.True(t, resilience.IsPermanent(err), "precondition: a keyless POST's failure is not resent")
	assert.False(t, idempotency.IsFinal(err))
	v, replayed, err := idempotency.Do(context.Background(), store, "order-1", charge(live.URL()), idempotency.Options{})

	require.NoError(t, err)
	assert.False(t, replayed, "the refused connection was not recorded as the order's outcome")
	assert.Equal(t, "paid", v)
	assert.Equal(t, 1, live.requests())
}
