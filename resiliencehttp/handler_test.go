package resiliencehttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/timeout"
)

// seen is a policy that runs the operation once and keeps the error it
// returned, what a server-side policy learns of the request.
type seen struct {
	ran bool
	err error
}

func (s *seen) Do(ctx context.Context, fn resilience.Func) error {
	s.ran = true
	s.err = fn(ctx)
	return s.err
}

func serveTo(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func request() *http.Request { return httptest.NewRequest(http.MethodGet, "/charges", nil) }

func answering(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
	})
}

func TestHandlerFullBulkheadAnswers503WithoutRunningTheHandler(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	held, err := b.Allow()
	require.NoError(t, err)
	defer held.Done()
	ran := false
	h := resiliencehttp.Handler(b, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))

	rec := serveTo(h, request())
	assert.False(t, ran)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Header().Get("Retry-After"), "a bulkhead cannot say when a slot frees")
	assert.NotContains(t, rec.Body.String(), "bulkhead", "the body does not echo the error")
}

func TestHandlerRateLimitAnswers429WithRetryAfter(t *testing.T) {
	refuse := resilience.PolicyFunc(func(context.Context, resilience.Func) error {
		return &ratelimit.LimitedError{Wait: 1500 * time.Millisecond}
	})
	rec := serveTo(resiliencehttp.Handler(refuse, answering(http.StatusOK)), request())
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "2", rec.Header().Get("Retry-After"), "rounded up, so an obedient client is not early")

	synctest.Test(t, func(t *testing.T) {
		lim := ratelimit.New(ratelimit.Config{Rate: 1, Per: time.Minute})
		h := resiliencehttp.Handler(lim, answering(http.StatusCreated))
		assert.Equal(t, http.StatusCreated, serveTo(h, request()).Code)
		time.Sleep(30 * time.Second)
		rec := serveTo(h, request())
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, "30", rec.Header().Get("Retry-After"), "the time until a token")
	})
}

func TestHandlerOpenBreakerAnswers503WithItsHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 10 * time.Second})
		h := resiliencehttp.Handler(b, answering(http.StatusInternalServerError))
		assert.Equal(t, http.StatusInternalServerError, serveTo(h, request()).Code, "the handler's own answer")
		require.Equal(t, breaker.Open, b.State(), "the 500 was a failure")
		rec := serveTo(h, request())
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "10", rec.Header().Get("Retry-After"))
	})
}

func TestHandlerStatusIsWhatThePolicySees(t *testing.T) {
	for _, tc := range []struct {
		h     http.Handler
		want  int  // status of the *StatusError the policy sees; 0 for nil
		early bool // writes a 1xx first, which the recorder keeps as its Code
	}{
		{answering(http.StatusOK), 0, false},
		{http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), 0, false}, // implicit 200
		{http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), 0, false},
		{answering(http.StatusNotFound), 0, false},
		{answering(http.StatusTooManyRequests), 0, false},
		{answering(499), 0, false},
		{answering(http.StatusInternalServerError), 500, false},
		{answering(http.StatusServiceUnavailable), 503, false},
		{answering(599), 599, false},
		{http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints) // informational: not the answer
			w.WriteHeader(http.StatusBadGateway)
		}), 502, true},
	} {
		p := &seen{}
		rec := serveTo(resiliencehttp.Handler(p, tc.h), request())
		require.True(t, p.ran)
		if tc.want == 0 {
			assert.NoError(t, p.err, "status %d", rec.Code)
			continue
		}
		var se *resiliencehttp.StatusError
		require.ErrorAs(t, p.err, &se)
		assert.Equal(t, tc.want, se.StatusCode)
		if !tc.early {
			assert.Equal(t, tc.want, rec.Code, "the handler's answer reaches the client")
		}
	}
}

func TestHandler503CarriesTheHandlersRetryAfter(t *testing.T) {
	p := &seen{}
	h := resiliencehttp.Handler(p, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	serveTo(h, request())
	d, ok := resilience.RetryAfter(p.err)
	require.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	assert.Equal(t, "resiliencehttp: 503 Service Unavailable (Retry-After 7s)", p.err.Error())
}

func TestHandlerClientGoneIsTheRequestContextsError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &seen{}
	h := resiliencehttp.Handler(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the client hangs up while the handler runs
		<-r.Context().Done()
		w.WriteHeader(http.StatusInternalServerError) // what many handlers do then
	}))
	serveTo(h, request().WithContext(ctx))
	assert.ErrorIs(t, p.err, context.Canceled)
	var se *resiliencehttp.StatusError
	assert.False(t, errors.As(p.err, &se), "not a server failure")

	// A breaker, then, counts nothing.
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	ctx, cancel = context.WithCancel(context.Background())
	h = resiliencehttp.Handler(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	serveTo(h, request().WithContext(ctx))
	assert.Equal(t, breaker.Closed, b.State())
	assert.Zero(t, b.Metrics().Failures)
}

func TestHandlerTimeoutBeforeAnyAnswerIs503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := resiliencehttp.Handler(timeout.New(100*time.Millisecond), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			deadline, ok := r.Context().Deadline()
			assert.True(t, ok, "the handler runs under the policy's context")
			assert.Equal(t, 100*time.Millisecond, time.Until(deadline))
			<-r.Context().Done() // slow work that honours the deadline
		}))
		rec := serveTo(h, request())
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	})
}

func TestHandlerAnswerWrittenBeforeThePolicyFailedStands(t *testing.T) {
	late := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		_ = fn(ctx)
		return timeout.ErrTimeout // a deadline that passed after the answer
	})
	h := resiliencehttp.Handler(late, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "receipt")
	}))
	rec := serveTo(h, request())
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "receipt", rec.Body.String())
	assert.Empty(t, rec.Header().Get("Content-Type"), "no problem body appended")
}

func TestHandlerPassesFlushThrough(t *testing.T) {
	h := resiliencehttp.Handler(&seen{}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "part")
		require.NoError(t, http.NewResponseController(w).Flush())
		w.(http.Flusher).Flush()
	}))
	rec := serveTo(h, request())
	assert.True(t, rec.Flushed)
}

func TestHandlerNilArgumentsPanic(t *testing.T) {
	assert.PanicsWithValue(t, "resiliencehttp: Handler: nil policy", func() { resiliencehttp.Handler(nil, answering(200)) })
	assert.PanicsWithValue(t, "resiliencehttp: Handler: nil handler", func() { resiliencehttp.Handler(&seen{}, nil) })
}

// TestHandlerBulkheadOverLoopback sheds over a real server: with the only
// slot taken by a request in progress, the next one gets 503.
func TestHandlerBulkheadOverLoopback(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	inside, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(resiliencehttp.Handler(b, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		inside <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "done")
	})))
	defer srv.Close()
	client := srv.Client()

	first := make(chan int, 1)
	go func() {
		resp, err := client.Get(srv.URL)
		if !assert.NoError(t, err) {
			first <- 0
			return
		}
		_ = resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-inside
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), `"status":503`)
	close(release)
	assert.Equal(t, http.StatusOK, <-first)
	assert.Equal(t, uint64(1), b.Metrics().Rejected)
	client.CloseIdleConnections()
}

func ExampleHandler() {
	// At most one request at a time is served; the rest are shed with 503.
	limit := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	h := resiliencehttp.Handler(limit, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A second request arriving now finds the only slot taken.
		rec := httptest.NewRecorder()
		resiliencehttp.Handler(limit, http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		fmt.Println("second request:", rec.Code)
		_, _ = io.WriteString(w, "served")
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println("first request:", rec.Code, rec.Body.String())
	// Output:
	// second request: 503
	// first request: 200 served
}
