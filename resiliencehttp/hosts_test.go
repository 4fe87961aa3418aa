package resiliencehttp_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
)

// factory is a PerHost function that records the hosts it was called for.
type factory struct {
	mu    sync.Mutex
	hosts []string
	make  func(host string) resilience.Policy
}

func (f *factory) perHost(host string) resilience.Policy {
	f.mu.Lock()
	f.hosts = append(f.hosts, host)
	f.mu.Unlock()
	if f.make == nil {
		return quickRetry(1)
	}
	return f.make(host)
}

func (f *factory) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hosts...)
}

func TestTransportCreatesOnePolicyPerHostOnFirstUse(t *testing.T) {
	a := serve(t, ok("a"))
	b := serve(t, ok("b"))
	f := &factory{}
	tr := newTransport(t, resiliencehttp.Config{PerHost: f.perHost})

	for range 3 {
		get(t, tr, a.URL())
		get(t, tr, b.URL())
	}

	assert.Equal(t, []string{hostOf(t, a.URL()), hostOf(t, b.URL())}, f.calls())
}

func hostOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

func TestTransportDropsLeastRecentlyUsedHostPolicy(t *testing.T) {
	f := &factory{}
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base:     &fakeBase{respond: always(http.StatusOK)},
		PerHost:  f.perHost,
		MaxHosts: 2,
	})

	for _, host := range []string{"a.test", "b.test", "a.test", "c.test", "a.test", "b.test"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		_, _, err := send(tr, req)
		require.NoError(t, err)
	}

	// c evicts b (a was used more recently); b's return evicts c.
	assert.Equal(t, []string{"a.test", "b.test", "c.test", "b.test"}, f.calls())
}

// Runs of requests to one host are served without the lock; the order of
// use must come out as exact as without them.
func TestTransportKeepsRecencyAcrossRunsOfOneHost(t *testing.T) {
	f := &factory{}
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base:     &fakeBase{respond: always(http.StatusOK)},
		PerHost:  f.perHost,
		MaxHosts: 2,
	})

	for _, host := range []string{"a.test", "a.test", "b.test", "b.test", "a.test", "a.test", "c.test", "c.test", "b.test", "a.test", "a.test"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		_, _, err := send(tr, req)
		require.NoError(t, err)
	}

	// c evicts b (a was used last); b's return evicts a; a's evicts c.
	assert.Equal(t, []string{"a.test", "b.test", "c.test", "b.test", "a.test"}, f.calls())
}

func TestTransportKeysHostsCaseInsensitively(t *testing.T) {
	f := &factory{}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: &fakeBase{respond: always(http.StatusOK)}, PerHost: f.perHost})

	for _, host := range []string{"API.test", "api.TEST", "api.test"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		_, _, err := send(tr, req)
		require.NoError(t, err)
	}

	assert.Equal(t, []string{"api.test"}, f.calls())
}

func TestTransportCallsPerHostOnceForConcurrentFirstRequests(t *testing.T) {
	release := make(chan struct{})
	f := &factory{make: func(string) resilience.Policy {
		<-release // hold the first call while the others arrive
		return quickRetry(1)
	}}
	tr := resiliencehttp.New(resiliencehttp.Config{Base: &fakeBase{respond: always(http.StatusOK)}, PerHost: f.perHost})
	var started, done sync.WaitGroup
	for range 10 {
		started.Add(1)
		done.Go(func() {
			started.Done()
			req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
			_, _, err := send(tr, req)
			assert.NoError(t, err)
		})
	}
	started.Wait()
	close(release)
	done.Wait()

	assert.Equal(t, []string{"api.test"}, f.calls())
}

func TestTransportReportsNilPerHostPolicy(t *testing.T) {
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base:    &fakeBase{respond: always(http.StatusOK)},
		PerHost: func(string) resilience.Policy { return nil },
	})
	body := &trackedBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPut, "http://api.test/", body)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.True(t, body.isClosed())
}

// hostBreakers is a PerHost factory of breakers that open after two
// failures in a row and stay open long past the test.
type hostBreakers struct {
	mu sync.Mutex
	m  map[string]*breaker.Breaker
}

func (h *hostBreakers) perHost(host string) resilience.Policy {
	b := breaker.New(breaker.Config{Name: host, ConsecutiveFailures: 2, OpenFor: time.Hour})
	h.mu.Lock()
	if h.m == nil {
		h.m = make(map[string]*breaker.Breaker)
	}
	h.m[host] = b
	h.mu.Unlock()
	// A retry outside the breaker, as recommended; it does not wait long
	// for an open breaker here.
	return resilience.Chain(retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), MaxDelay: time.Millisecond}), b)
}

func (h *hostBreakers) state(host string) breaker.State {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[host].State()
}

func TestTransportOpensBreakerOfFailingHostOnly(t *testing.T) {
	failing := serve(t, status(http.StatusServiceUnavailable))
	healthy := serve(t, ok("fine"))
	breakers := &hostBreakers{}
	tr := newTransport(t, resiliencehttp.Config{PerHost: breakers.perHost})

	resp, _ := get(t, tr, failing.URL()) // two attempts, two failures: open
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodGet, failing.URL(), nil)
	_, err := tr.RoundTrip(req)
	resp, body := get(t, tr, healthy.URL())

	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.Equal(t, 2, failing.requests(), "an open breaker sends nothing")
	assert.Equal(t, breaker.Open, breakers.state(hostOf(t, failing.URL())))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "fine", body)
	assert.Equal(t, breaker.Closed, breakers.state(hostOf(t, healthy.URL())))
}

func TestTransportCountsFailuresOfUnsafeRequestsInBreaker(t *testing.T) {
	s := serve(t, drop)
	breakers := &hostBreakers{}
	tr := newTransport(t, resiliencehttp.Config{PerHost: breakers.perHost})
	post := func() error {
		req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader("pay"))
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		return err
	}

	first, second := post(), post()
	require.Error(t, first)
	require.Error(t, second)
	assert.Equal(t, 2, s.requests(), "each POST is sent once, not retried")
	assert.Equal(t, breaker.Open, breakers.state(hostOf(t, s.URL())), "and each failure counts")
	assert.ErrorIs(t, post(), breaker.ErrOpen)
	assert.Equal(t, 2, s.requests())
}
