package resiliencehttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencehttp"
)

// overloadStatusServer answers every request with the status it holds.
func overloadStatusServer(t *testing.T, status *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func getOnce(t *testing.T, c *http.Client, url string) error {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	return err
}

func TestIsOverloadClassifiesAttemptsOverRealHTTP(t *testing.T) {
	var status atomic.Int64
	srv := overloadStatusServer(t, &status)
	var seen error
	record := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		seen = fn(ctx)
		return seen
	})
	client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{Policy: record})}
	for code, want := range map[int]bool{
		http.StatusOK:                  false,
		http.StatusInternalServerError: false,
		http.StatusBadGateway:          false,
		http.StatusGatewayTimeout:      false,
		http.StatusTooManyRequests:     true,
		http.StatusServiceUnavailable:  true,
	} {
		status.Store(int64(code))
		seen = nil
		require.NoError(t, getOnce(t, client, srv.URL))
		assert.Equal(t, want, resiliencehttp.IsOverload(seen), "status %d: attempt error %v", code, seen)
	}
}

func TestIsOverloadAcceptsLocalRejections(t *testing.T) {
	assert.False(t, resiliencehttp.IsOverload(nil))
	assert.False(t, resiliencehttp.IsOverload(errors.New("connection reset")))
	assert.False(t, resiliencehttp.IsOverload(context.DeadlineExceeded), "a timeout is left to the caller's choice")
	assert.True(t, resiliencehttp.IsOverload(resilience.ErrRejected))
	assert.True(t, resiliencehttp.IsOverload(breaker.ErrOpen))
	assert.True(t, resiliencehttp.IsOverload(adaptive.ErrThrottled))
	assert.True(t, resiliencehttp.IsOverload(fmt.Errorf("attempt 2: %w", &resiliencehttp.StatusError{StatusCode: 503})))
	assert.False(t, resiliencehttp.IsOverload(&resiliencehttp.StatusError{StatusCode: 504}))
}

// A throttler in the Transport's policy sees every 503 as overload, with
// IsOverload or with the adaptive default, and turns requests away
// locally once the server refuses most of them.
func TestThrottlerInATransportCountsOverloadAnswers(t *testing.T) {
	for name, classify := range map[string]func(error) bool{"IsOverload": resiliencehttp.IsOverload, "default": nil} {
		t.Run(name, func(t *testing.T) {
			var status atomic.Int64
			status.Store(http.StatusServiceUnavailable)
			var served atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				served.Add(1)
				w.WriteHeader(int(status.Load()))
			}))
			defer srv.Close()
			th := adaptive.NewThrottler(adaptive.ThrottlerConfig{IsOverload: classify, MaxRejectRate: 1, Rand: overloadNeverReject{}})
			client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{Policy: th})}
			for range 20 {
				require.NoError(t, getOnce(t, client, srv.URL))
			}
			assert.InDelta(t, 20/21.0, th.RejectProbability(), 1e-12, "20 requests, none accepted")
			status.Store(http.StatusOK)
			for range 10 {
				require.NoError(t, getOnce(t, client, srv.URL))
			}
			assert.InDelta(t, (30-2*10)/31.0, th.RejectProbability(), 1e-12, "30 requests, 10 accepted")
			for range 10 {
				require.NoError(t, getOnce(t, client, srv.URL))
			}
			assert.Zero(t, th.RejectProbability(), "40 requests, 20 accepted")
			assert.Equal(t, int64(40), served.Load())
		})
	}
}

// overloadNeverReject draws 1: no request is rejected whatever the probability.
type overloadNeverReject struct{}

func (overloadNeverReject) Float64() float64 { return 1 }
