package resiliencetest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
)

const orderJSON = `{"order_id":"ord-1","amount":100}`

// order is the handler under test: it counts its runs and answers with an
// order.
type order struct{ runs atomic.Int64 }

func (o *order) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	o.runs.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, orderJSON)
}

// serve starts a loopback server running FaultyHandler(o, f) and returns it
// with a client that opens a fresh connection per request, so that no
// dropped connection is retried by the transport.
func serve(t *testing.T, cfg resiliencetest.HandlerConfig) (*httptest.Server, *http.Client, *resiliencetest.Handler, *order) {
	t.Helper()
	o := new(order)
	fh := resiliencetest.FaultyHandler(o, cfg)
	srv := httptest.NewServer(fh)
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return srv, &http.Client{Transport: tr}, fh, o
}

// get fetches url and reads the whole body.
func get(c *http.Client, url string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	return do(c, req)
}

// do sends req and reads the whole body.
func do(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func TestFaultyHandlerWithoutFaultsServesNormally(t *testing.T) {
	srv, c, fh, o := serve(t, resiliencetest.HandlerConfig{})
	resp, body, err := get(c, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, orderJSON, string(body))
	assert.Empty(t, resp.Header.Get(resiliencehttp.DigestHeader))
	assert.EqualValues(t, 1, o.runs.Load())
	assert.Equal(t, resiliencetest.Stats{Requests: 1, Passed: 1}, fh.Stats())
}

func TestStatusAnswersWithTheCodeAndRetryAfter(t *testing.T) {
	srv, c, fh, o := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{
		resiliencetest.Status(http.StatusServiceUnavailable, 1500*time.Millisecond),
		resiliencetest.Status(http.StatusTooManyRequests, 0),
	}})
	resp, _, err := get(c, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))

	resp, _, err = get(c, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Retry-After"))

	assert.Zero(t, o.runs.Load())
	assert.Equal(t, 2, fh.Stats().Status)
}

func TestStatusPanicsOnAnInvalidCode(t *testing.T) {
	assert.PanicsWithValue(t, "resiliencetest: status code 42 outside 100-999", func() { resiliencetest.Status(42, 0) })
}

func TestDropClosesTheConnectionWithoutRunningTheHandler(t *testing.T) {
	srv, c, fh, o := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.Drop()}})
	_, _, err := get(c, srv.URL)
	assert.Error(t, err)
	srv.Close()
	assert.Zero(t, o.runs.Load())
	assert.Equal(t, 1, fh.Stats().Dropped)
}

func TestLoseResponseRunsTheHandlerButTheClientGetsAnError(t *testing.T) {
	srv, c, fh, o := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.LoseResponse()}})
	_, _, err := get(c, srv.URL)
	assert.Error(t, err)
	srv.Close()
	assert.EqualValues(t, 1, o.runs.Load(), "the work must have been done")
	assert.Equal(t, 1, fh.Stats().Lost)
}

func TestResetBodyFailsTheBodyReadPartway(t *testing.T) {
	srv, c, fh, _ := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(5)}})
	resp, body, err := get(c, srv.URL)
	require.NotNil(t, resp, "status and headers arrive")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, len(orderJSON), resp.ContentLength)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, orderJSON[:5], string(body))
	assert.Equal(t, 1, fh.Stats().Reset)
}

func TestResetBodyNeverSendsTheWholeBody(t *testing.T) {
	srv, c, _, _ := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(1000)}})
	_, body, err := get(c, srv.URL)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, orderJSON[:len(orderJSON)-1], string(body))
}

func TestTruncateSendsAShortBodyWithoutATransportError(t *testing.T) {
	srv, c, fh, _ := serve(t, resiliencetest.HandlerConfig{Digest: true, Script: []resiliencetest.HTTPFault{resiliencetest.Truncate(10)}})
	resp, body, err := get(c, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, orderJSON[:10], string(body))
	assert.ErrorIs(t, resiliencehttp.VerifyDigest(resp.Header, body), resiliencehttp.ErrDigestMismatch)
	assert.Error(t, json.Unmarshal(body, new(map[string]any)))
	assert.Equal(t, 1, fh.Stats().Truncated)
}

func TestCorruptSendsABodyThatDecodesButBreaksAnInvariant(t *testing.T) {
	srv, c, fh, _ := serve(t, resiliencetest.HandlerConfig{Digest: true, Script: []resiliencetest.HTTPFault{
		resiliencetest.Corrupt(resiliencetest.SetJSONField("amount", -100)),
		resiliencetest.Corrupt(resiliencetest.SetJSONField("order_id", "ord-other")),
	}})
	var got struct {
		OrderID string `json:"order_id"`
		Amount  int    `json:"amount"`
	}
	resp, body, err := get(c, srv.URL)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, -100, got.Amount)
	assert.Equal(t, "ord-1", got.OrderID)
	assert.NoError(t, resiliencehttp.VerifyDigest(resp.Header, body), "a byzantine server vouches for its wrong answer")

	_, body, err = get(c, srv.URL)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, "ord-other", got.OrderID)
	assert.Equal(t, 2, fh.Stats().Corrupted)
}

func TestCorruptPanicsOnANilFunc(t *testing.T) {
	assert.Panics(t, func() { resiliencetest.Corrupt(nil) })
}

func TestWrongDigestKeepsTheBodyButBreaksTheChecksum(t *testing.T) {
	srv, c, fh, _ := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.WrongDigest()}})
	resp, body, err := get(c, srv.URL)
	require.NoError(t, err)
	assert.JSONEq(t, orderJSON, string(body))
	assert.ErrorIs(t, resiliencehttp.VerifyDigest(resp.Header, body), resiliencehttp.ErrDigestMismatch)
	assert.Equal(t, 1, fh.Stats().WrongDigest)
}

func TestDigestOptionSignsEveryHealthyResponse(t *testing.T) {
	srv, c, _, _ := serve(t, resiliencetest.HandlerConfig{Digest: true})
	resp, body, err := get(c, srv.URL)
	require.NoError(t, err)
	assert.Equal(t, resiliencehttp.ContentDigest([]byte(orderJSON)), resp.Header.Get(resiliencehttp.DigestHeader))
	assert.NoError(t, resiliencehttp.VerifyDigest(resp.Header, body))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
}

func TestStallGivenUpByTheClientNeverRunsTheHandler(t *testing.T) {
	srv, c, fh, o := serve(t, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.Stall(time.Hour)}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	srv.Close() // waits for the stalled handler to return
	assert.Zero(t, o.runs.Load())
	assert.Equal(t, 1, fh.Stats().Stalled)
}

func TestStallDelaysTheHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := new(order)
		fh := resiliencetest.FaultyHandler(o, resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.Stall(2 * time.Second)}})
		start := time.Now()
		rec := httptest.NewRecorder()
		fh.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.EqualValues(t, 1, o.runs.Load())
		assert.Equal(t, orderJSON, rec.Body.String())
	})
}

func TestExemptRequestsGetNoFaultAndKeepTheScriptInPlace(t *testing.T) {
	srv, c, fh, _ := serve(t, resiliencetest.HandlerConfig{
		Script: []resiliencetest.HTTPFault{resiliencetest.Status(http.StatusInternalServerError, 0)},
		Exempt: func(r *http.Request) bool { return r.URL.Path == "/healthz" },
	})
	resp, _, err := get(c, srv.URL+"/healthz")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _, err = get(c, srv.URL+"/orders")
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, resiliencetest.Stats{Requests: 2, Exempt: 1, Status: 1}, fh.Stats())
}

// codes serves n requests directly and returns their status codes.
func codes(fh *resiliencetest.Handler, n int) []int {
	out := make([]int, n)
	for i := range out {
		rec := httptest.NewRecorder()
		fh.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		out[i] = rec.Code
	}
	return out
}

func TestOddsAreDeterministicForASeed(t *testing.T) {
	faults := func(seed uint64) resiliencetest.HandlerConfig {
		return resiliencetest.HandlerConfig{Seed: seed, Odds: []resiliencetest.Odds{
			{Rate: 0.2, Fault: resiliencetest.Status(http.StatusServiceUnavailable, 0)},
			{Rate: 0.1, Fault: resiliencetest.Status(http.StatusBadGateway, 0)},
		}}
	}
	a := codes(resiliencetest.FaultyHandler(new(order), faults(9)), 300)
	b := codes(resiliencetest.FaultyHandler(new(order), faults(9)), 300)
	c := codes(resiliencetest.FaultyHandler(new(order), faults(10)), 300)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}

func TestOddsInjectEachFaultAtItsRate(t *testing.T) {
	fh := resiliencetest.FaultyHandler(new(order), resiliencetest.HandlerConfig{Seed: 3, Odds: []resiliencetest.Odds{
		{Rate: 0.2, Fault: resiliencetest.Status(http.StatusServiceUnavailable, 0)},
		{Rate: 0.1, Fault: resiliencetest.Corrupt(resiliencetest.Garble)},
	}})
	codes(fh, 10000)
	s := fh.Stats()
	assert.InDelta(t, 2000, s.Status, 150)
	assert.InDelta(t, 1000, s.Corrupted, 100)
	assert.Equal(t, 10000, s.Passed+s.Injected())
}

func TestScriptComesBeforeOdds(t *testing.T) {
	fh := resiliencetest.FaultyHandler(new(order), resiliencetest.HandlerConfig{
		Script: []resiliencetest.HTTPFault{resiliencetest.Status(http.StatusBadGateway, 0), {}},
		Odds:   []resiliencetest.Odds{{Rate: 1, Fault: resiliencetest.Status(http.StatusServiceUnavailable, 0)}},
	})
	assert.Equal(t, []int{http.StatusBadGateway, http.StatusOK, http.StatusServiceUnavailable}, codes(fh, 3))
}

func TestFaultyHandlerPanicsOnBadOdds(t *testing.T) {
	assert.PanicsWithValue(t, "resiliencetest: Odds[0].Rate 2 outside [0, 1]", func() {
		resiliencetest.FaultyHandler(new(order), resiliencetest.HandlerConfig{Odds: []resiliencetest.Odds{{Rate: 2}}})
	})
	assert.Panics(t, func() {
		resiliencetest.FaultyHandler(new(order), resiliencetest.HandlerConfig{Odds: []resiliencetest.Odds{{Rate: 0.6}, {Rate: 0.6}}})
	})
	assert.Panics(t, func() { resiliencetest.FaultyHandler(nil, resiliencetest.HandlerConfig{}) })
}

func TestFaultyHandlerCountsConcurrentRequestsExactly(t *testing.T) {
	fh := resiliencetest.FaultyHandler(new(order), resiliencetest.HandlerConfig{Seed: 1, Odds: []resiliencetest.Odds{
		{Rate: 0.5, Fault: resiliencetest.Status(http.StatusServiceUnavailable, 0)},
	}})
	var wg sync.WaitGroup
	var unavailable atomic.Int64
	for range 8 {
		wg.Go(func() {
			for _, code := range codes(fh, 100) {
				if code == http.StatusServiceUnavailable {
					unavailable.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s := fh.Stats()
	assert.Equal(t, 800, s.Requests)
	assert.EqualValues(t, unavailable.Load(), s.Status)
	assert.Equal(t, 800, s.Passed+s.Status)
}

func TestHTTPFaultStringNamesTheFault(t *testing.T) {
	assert.Equal(t, "pass", resiliencetest.HTTPFault{}.String())
	assert.Equal(t, "status(503)", resiliencetest.Status(503, 0).String())
	assert.Equal(t, "stall(1s)", resiliencetest.Stall(time.Second).String())
	assert.Equal(t, "drop", resiliencetest.Drop().String())
	assert.Equal(t, "lose_response", resiliencetest.LoseResponse().String())
	assert.Equal(t, "reset_body(3)", resiliencetest.ResetBody(3).String())
	assert.Equal(t, "truncate(4)", resiliencetest.Truncate(4).String())
	assert.Equal(t, "corrupt", resiliencetest.Corrupt(resiliencetest.Garble).String())
	assert.Equal(t, "wrong_digest", resiliencetest.WrongDigest().String())
}
