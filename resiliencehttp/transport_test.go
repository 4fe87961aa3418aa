package resiliencehttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// Tests over an in-memory base transport, timed inside synctest bubbles.

func unavailableThenOK(header ...string) func(int, *http.Request) (*http.Response, error) {
	return func(n int, req *http.Request) (*http.Response, error) {
		if n == 1 {
			return reply(req, http.StatusServiceUnavailable, "busy", header...), nil
		}
		return reply(req, http.StatusOK, "hello"), nil
	}
}

func TestTransportWaitsRetryAfterSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := resiliencehttp.New(resiliencehttp.Config{Base: &fakeBase{respond: unavailableThenOK("Retry-After", "7")}})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
		start := time.Now()

		resp, body, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "hello", body)
		assertHintWait(t, 7*time.Second, time.Since(start))
	})
}

func TestTransportWaitsRetryAfterHTTPDate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: func(n int, req *http.Request) (*http.Response, error) {
			date := time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)
			return unavailableThenOK("Retry-After", date)(n, req)
		}}
		tr := resiliencehttp.New(resiliencehttp.Config{Base: base})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
		start := time.Now()

		resp, _, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assertHintWait(t, 10*time.Second, time.Since(start))
	})
}

func TestTransportRetryAfterIsClampedByRetryMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := resiliencehttp.New(resiliencehttp.Config{
			Base:   &fakeBase{respond: unavailableThenOK("Retry-After", "3600")},
			Policy: retry.New(retry.Config{MaxDelay: 2 * time.Second}),
		})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
		start := time.Now()

		_, _, err := send(tr, req)

		require.NoError(t, err)
		assertHintWait(t, 2*time.Second, time.Since(start))
	})
}

func TestTransportPerAttemptTimeoutBoundsTimeToHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				<-req.Context().Done() // a server that never answers
				return nil, req.Context().Err()
			}
			return reply(req, http.StatusOK, "hello"), nil
		}}
		tr := resiliencehttp.New(resiliencehttp.Config{
			Base:   base,
			Policy: resilience.Chain(quickRetry(2), timeout.New(time.Second)),
		})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
		start := time.Now()

		resp, body, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "hello", body)
		assert.Equal(t, time.Second, time.Since(start))
	})
}

func TestTransportReportsAttemptTimeoutAsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: func(_ int, req *http.Request) (*http.Response, error) {
			<-req.Context().Done()
			return nil, errors.New("connection aborted")
		}}
		tr := resiliencehttp.New(resiliencehttp.Config{
			Base:   base,
			Policy: resilience.Chain(quickRetry(2), timeout.New(time.Second)),
		})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

		_, err := tr.RoundTrip(req)

		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Len(t, base.requests(), 2)
	})
}

func TestTransportKeepsResponseContextUntilBodyIsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: always(http.StatusOK)}
		tr := resiliencehttp.New(resiliencehttp.Config{
			Base:   base,
			Policy: resilience.Chain(quickRetry(2), timeout.New(time.Second)),
		})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		time.Sleep(time.Hour) // far past the per-attempt timeout
		sent := base.requests()[0].Context()

		assert.NoError(t, sent.Err(), "the response's context outlives the attempt")
		require.NoError(t, resp.Body.Close())
		assert.ErrorIs(t, sent.Err(), context.Canceled, "closing the body ends it")
	})
}

func TestTransportEndsResponseContextAtEndOfBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: always(http.StatusOK)}
		tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: quickRetry(1)})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		buf := make([]byte, 64)
		for err == nil {
			_, err = resp.Body.Read(buf)
		}

		assert.ErrorIs(t, err, io.EOF)
		assert.Error(t, base.requests()[0].Context().Err())
	})
}

func TestTransportRetriesZeroConfigThreeTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: always(http.StatusGatewayTimeout)}
		tr := resiliencehttp.New(resiliencehttp.Config{Base: base})
		req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

		resp, body, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
		assert.Equal(t, "Gateway Timeout", body)
		assert.Len(t, base.requests(), 3)
	})
}

func TestTransportRetryResponseChoosesRetryableStatuses(t *testing.T) {
	base := &fakeBase{respond: func(n int, req *http.Request) (*http.Response, error) {
		switch n {
		case 1:
			return reply(req, http.StatusInternalServerError, "oops"), nil
		default:
			return reply(req, http.StatusServiceUnavailable, "busy"), nil
		}
	}}
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base:          base,
		Policy:        quickRetry(5),
		RetryResponse: func(r *http.Response) bool { return r.StatusCode == http.StatusInternalServerError },
	})
	req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

	resp, _, err := send(tr, req)

	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "503 is an answer here, 500 is retried")
	assert.Len(t, base.requests(), 2)
}

func TestTransportRewindsBodyForEveryAttempt(t *testing.T) {
	base := &fakeBase{respond: func(n int, req *http.Request) (*http.Response, error) {
		if n < 3 {
			return nil, errors.New("connection reset")
		}
		return reply(req, http.StatusOK, "done"), nil
	}}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: quickRetry(3)})
	req, _ := http.NewRequest(http.MethodPut, "http://api.test/doc", strings.NewReader("v2"))

	_, _, err := send(tr, req)

	require.NoError(t, err)
	assert.Equal(t, []string{"v2", "v2", "v2"}, base.bodies)
}

func TestTransportSetsKeyFromContextWithoutOverwritingHeader(t *testing.T) {
	base := &fakeBase{respond: always(http.StatusOK)}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base})
	ctx := idempotency.WithKey(context.Background(), "from-ctx")

	plain, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/", nil)
	_, _, err := send(tr, plain)
	require.NoError(t, err)
	own, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.test/", nil)
	own.Header.Set("Idempotency-Key", "own")
	_, _, err = send(tr, own)
	require.NoError(t, err)

	sent := base.requests()
	assert.Equal(t, `"from-ctx"`, sent[0].Header.Get("Idempotency-Key"), "the context's key, as an RFC 8941 string")
	assert.Equal(t, "own", sent[1].Header.Get("Idempotency-Key"), "the caller's header, as written")
	assert.Empty(t, plain.Header.Get("Idempotency-Key"), "the caller's request is not modified")
}

func TestTransportEmitsGiveUpForFailureOfUnsafeRequest(t *testing.T) {
	var events []resilience.Event
	base := &fakeBase{respond: func(int, *http.Request) (*http.Response, error) { return nil, errors.New("connection reset") }}
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base:     base,
		Policy:   quickRetry(3),
		Name:     "payments",
		Observer: resilience.ObserverFunc(func(e resilience.Event) { events = append(events, e) }),
	})
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/", strings.NewReader("pay"))

	_, err := tr.RoundTrip(req)

	require.Error(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, resilience.KindCall, events[1].Kind, "then the call's own event")
	assert.Equal(t, "resiliencehttp", events[0].Policy)
	assert.Equal(t, "payments", events[0].Name)
	assert.Equal(t, resilience.KindGiveUp, events[0].Kind)
	assert.Equal(t, 1, events[0].Attempt)
	assert.ErrorContains(t, events[0].Err, "connection reset")
}

func TestTransportClosesBodyOfRequestRejectedByBreaker(t *testing.T) {
	base := &fakeBase{respond: always(http.StatusOK)}
	b := breaker.New(breaker.Config{})
	b.ForceOpen()
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: b})
	body := &trackedBody{Reader: strings.NewReader("pay")}
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/", body)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.Empty(t, base.requests())
	assert.True(t, body.isClosed(), "a RoundTripper closes the request body even when it sends nothing")
}

func TestTransportFailsWhenPolicySucceedsWithoutResponse(t *testing.T) {
	swallow := resilience.PolicyFunc(func(context.Context, resilience.Func) error { return nil })
	tr := resiliencehttp.New(resiliencehttp.Config{Base: &fakeBase{respond: always(http.StatusOK)}, Policy: swallow})
	req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.Error(t, err)
}

func TestTransportRejectsNilRequest(t *testing.T) {
	tr := resiliencehttp.New(resiliencehttp.Config{Base: &fakeBase{respond: always(http.StatusOK)}})

	resp, err := tr.RoundTrip(nil)

	assert.Nil(t, resp)
	assert.Error(t, err)
}

func TestStatusErrorCarriesRetryAfter(t *testing.T) {
	base := &fakeBase{respond: always(http.StatusTooManyRequests, "Retry-After", "120")}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: quickRetry(1), ErrorOnExhausted: true})
	req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

	_, err := tr.RoundTrip(req)

	var se *resiliencehttp.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusTooManyRequests, se.StatusCode)
	assert.Equal(t, 2*time.Minute, se.RetryAfter())
	assert.Equal(t, "resiliencehttp: 429 Too Many Requests (Retry-After 2m0s)", se.Error())
}

func TestNewPanicsOnProgrammerErrors(t *testing.T) {
	perHost := func(string) resilience.Policy { return quickRetry(1) }
	assert.PanicsWithValue(t, "resiliencehttp: both Policy and PerHost are set", func() {
		resiliencehttp.New(resiliencehttp.Config{Policy: quickRetry(1), PerHost: perHost})
	})
	assert.PanicsWithValue(t, "resiliencehttp: negative MaxHosts -1", func() {
		resiliencehttp.New(resiliencehttp.Config{PerHost: perHost, MaxHosts: -1})
	})
	assert.PanicsWithValue(t, "resiliencehttp: negative DrainLimit -1", func() {
		resiliencehttp.New(resiliencehttp.Config{DrainLimit: -1})
	})
	assert.PanicsWithValue(t, "resiliencehttp: negative BufferBody -1", func() {
		resiliencehttp.New(resiliencehttp.Config{BufferBody: -1})
	})
}

func TestTransportIsSafeForConcurrentUse(t *testing.T) {
	base := &fakeBase{respond: func(_ int, req *http.Request) (*http.Response, error) {
		if retry.Attempt(req.Context()) == 1 {
			return reply(req, http.StatusServiceUnavailable, "busy"), nil
		}
		return reply(req, http.StatusOK, "hello"), nil
	}}
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base:     base,
		PerHost:  func(string) resilience.Policy { return quickRetry(2) },
		MaxHosts: 2,
	})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				host := []string{"a.test", "b.test", "c.test"}[(i+j)%3]
				req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
				resp, _, err := send(tr, req)
				if assert.NoError(t, err) {
					assert.Equal(t, http.StatusOK, resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
}

func TestTransportPassesAttemptContextValuesToBase(t *testing.T) {
	base := &fakeBase{respond: always(http.StatusServiceUnavailable)}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: quickRetry(3)})
	req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)

	_, _, err := send(tr, req)

	require.NoError(t, err)
	var attempts []int
	for _, r := range base.requests() {
		attempts = append(attempts, retry.Attempt(r.Context()))
	}
	assert.Equal(t, []int{1, 2, 3}, attempts)
}

func TestConfigValidateReportsWhatNewPanicsOn(t *testing.T) {
	perHost := func(string) resilience.Policy { return quickRetry(1) }
	for _, c := range []resiliencehttp.Config{
		{Policy: quickRetry(1), PerHost: perHost},
		{PerHost: perHost, MaxHosts: -1},
		{DrainLimit: -1},
		{BufferBody: -1},
	} {
		err := c.Validate()
		require.Error(t, err)
		assert.PanicsWithValue(t, err.Error(), func() { resiliencehttp.New(c) })
	}
	assert.NoError(t, resiliencehttp.Config{}.Validate())
	assert.NoError(t, resiliencehttp.Config{PerHost: perHost, MaxHosts: 3, BufferBody: 1 << 20}.Validate())
}

func TestTransportEmitsOneCallEventPerRoundTrip(t *testing.T) {
	var rec resiliencetest.Recorder
	base := &fakeBase{respond: func(_ int, req *http.Request) (*http.Response, error) {
		return reply(req, http.StatusOK, "hello"), nil
	}}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: quickRetry(2), Name: "payments", Observer: &rec})
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, "http://example.test/", nil)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	calls := 0
	for _, e := range rec.Events() {
		if e.Kind == resilience.KindCall {
			calls++
			assert.Equal(t, "payments", e.Name)
			assert.Equal(t, "resiliencehttp", e.Policy)
			assert.NoError(t, e.Err)
		}
	}
	assert.Equal(t, 2, calls)
}
