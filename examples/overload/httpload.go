package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/internal/sim"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// The second part of the study runs over real HTTP on loopback. The server's
// handler has a fixed capacity: Capacity slots (a semaphore), each request
// holds one for Service; a request that finds them all taken waits for one,
// in a queue without a bound, until its client goes away (the request's
// context ends). A load generator sends Poisson arrivals at Rate requests a
// second for Duration, each request through a resiliencehttp client with
// retries (Attempts, the default backoff) and a per-attempt timeout. The
// variants add adaptive.Limiter (Gradient2 by default) in front of the
// handler with resiliencehttp.Handler, adaptive.Throttler in the client's
// chain, or both.

// httpConfig is the setting of the HTTP part.
type httpConfig struct {
	Capacity int           // handler slots
	Service  time.Duration // how long a request holds its slot
	Rate     float64       // requests a second offered
	Duration time.Duration // how long requests arrive
	Timeout  time.Duration // per attempt
	Attempts int
	Seed     uint64
}

// defaultHTTPConfig drives a handler of 8 slots at 25 ms (320 requests a
// second) at 640 requests a second for 10 s.
func defaultHTTPConfig() httpConfig {
	return httpConfig{Capacity: 8, Service: 25 * time.Millisecond, Rate: 640, Duration: 10 * time.Second,
		Timeout: time.Second, Attempts: 3, Seed: 1}
}

// httpVariant is one configuration of the HTTP part.
type httpVariant struct {
	name     string
	limiter  bool // adaptive.Limiter in front of the handler
	throttle bool // adaptive.Throttler in the client's chain
}

func httpVariants() []httpVariant {
	return []httpVariant{
		{name: "no protection"},
		{name: "adaptive.Limiter (server)", limiter: true},
		{name: "adaptive.Throttler (client)", throttle: true},
		{name: "Limiter + Throttler", limiter: true, throttle: true},
	}
}

// httpResult is what one HTTP run measured.
type httpResult struct {
	Variant   string
	Requests  int     // requests sent
	Succeeded int     // requests answered 200 in the end
	Goodput   float64 // successes a second over Duration
	P50, P99  time.Duration
	Attempts  int64 // attempts that reached the server
	Refused   int64 // of those, refused by the limiter (503)
	Abandoned int64 // requests the handler served after their client went away
	Limit     int   // the server limiter's limit at the end (0 without one)
}

// runHTTP runs every variant in turn, each against a fresh server.
func runHTTP(ctx context.Context, c httpConfig) ([]httpResult, error) {
	var out []httpResult
	for _, v := range httpVariants() {
		r, err := runHTTPVariant(ctx, c, v)
		if err != nil {
			return out, fmt.Errorf("%s: %w", v.name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// runHTTPVariant starts a server on a free loopback port, drives it for
// c.Duration, waits for every request to end, and stops the server.
func runHTTPVariant(ctx context.Context, c httpConfig, v httpVariant) (httpResult, error) {
	res := httpResult{Variant: v.name}
	var attempts, refused, abandoned atomic.Int64
	slots := make(chan struct{}, c.Capacity)
	var work http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			return // the client went away while the request waited
		}
		// The work itself does not watch the request's context, as most
		// handlers' work does not.
		t := time.NewTimer(c.Service)
		<-t.C
		<-slots
		if r.Context().Err() != nil {
			abandoned.Add(1)
		}
		io.WriteString(w, "ok")
	})
	var limiter *adaptive.Limiter
	if v.limiter {
		limiter = adaptive.NewLimiter(adaptive.LimiterConfig{})
		work = resiliencehttp.Handler(limiter, work)
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		sw := &statusRecorder{ResponseWriter: w}
		work.ServeHTTP(sw, r)
		if sw.status == http.StatusServiceUnavailable {
			refused.Add(1)
		}
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: counted, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		<-served
	}()

	base := &http.Transport{MaxIdleConnsPerHost: 4096, IdleConnTimeout: 30 * time.Second}
	defer base.CloseIdleConnections()
	var throttler *adaptive.Throttler
	if v.throttle {
		throttler = adaptive.NewThrottler(adaptive.ThrottlerConfig{
			IsOverload: overloadAnswer,
			Rand:       &lockedRand{r: rand.New(rand.NewPCG(c.Seed, 7))},
		})
	}
	policies := []resilience.Policy{retry.New(retry.Config{MaxAttempts: c.Attempts})}
	if throttler != nil {
		policies = append(policies, throttler)
	}
	policies = append(policies, timeout.New(c.Timeout))
	client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: resilience.Chain(policies...)})}
	url := "http://" + ln.Addr().String() + "/"

	var (
		mu   sync.Mutex
		lats []time.Duration
		wg   sync.WaitGroup
	)
	r := rand.New(rand.NewPCG(c.Seed, 3))
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for next := time.Duration(0); next < c.Duration; next += time.Duration(r.ExpFloat64() / c.Rate * float64(time.Second)) {
		timer.Reset(time.Until(start.Add(next)))
		select {
		case <-ctx.Done():
			wg.Wait()
			return res, ctx.Err()
		case <-timer.C:
		}
		res.Requests++
		wg.Go(func() {
			t0 := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				d := time.Since(t0)
				mu.Lock()
				lats = append(lats, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Succeeded = len(lats)
	res.Goodput = float64(res.Succeeded) / c.Duration.Seconds()
	h := sim.NewHistogram()
	for _, d := range lats {
		h.Add(d)
	}
	res.P50, res.P99 = h.Quantile(0.5), h.Quantile(0.99)
	res.Attempts, res.Refused, res.Abandoned = attempts.Load(), refused.Load(), abandoned.Load()
	if limiter != nil {
		res.Limit = limiter.Limit()
	}
	if res.Requests == 0 {
		return res, errors.New("no request was sent")
	}
	return res, nil
}

// overloadAnswer is the throttler's test of an attempt the backend did not
// accept: a timeout, or a 429 or 503 answer.
func overloadAnswer(err error) bool {
	var se *resiliencehttp.StatusError
	if errors.As(err, &se) {
		return se.StatusCode == http.StatusTooManyRequests || se.StatusCode == http.StatusServiceUnavailable
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// lockedRand is a seeded source safe for concurrent use, as the throttler
// needs.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// httpTable returns the HTTP part's table in Markdown.
func httpTable(c httpConfig, res []httpResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| variant (%.0f/s offered to %.0f/s of capacity, %v) | goodput (/s) | p50 | p99 | attempts reaching the server | refused (503) | served after the client left | limit at the end |\n|---|--:|--:|--:|--:|--:|--:|--:|\n",
		c.Rate, float64(c.Capacity)/c.Service.Seconds(), c.Duration)
	for _, r := range res {
		lim := "–"
		if r.Limit > 0 {
			lim = strconv.Itoa(r.Limit)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %d | %d | %d | %s |\n", r.Variant, r.Goodput, ms(r.P50), ms(r.P99), r.Attempts, r.Refused, r.Abandoned, lim)
	}
	return b.String()
}
