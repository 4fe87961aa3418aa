package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
)

// The injected tail of part 2: this share of requests is held this long
// (or until the client gives up on it).
const (
	slowShare = 0.01
	slowHold  = 500 * time.Millisecond
)

// httpVariant is one client of part 2: the policy its resiliencehttp
// Transport runs every request under (nil: none, resilience.Chain()).
type httpVariant struct {
	Name   string
	Policy func() resilience.Policy
}

func httpVariants() []httpVariant {
	return []httpVariant{
		{Name: "no hedging", Policy: func() resilience.Policy { return resilience.Chain() }},
		{Name: "hedge after 10 ms", Policy: func() resilience.Policy {
			return hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Budget: retry.NewBudget(retry.BudgetConfig{Ratio: 0.05})})
		}},
		{Name: "hedge at p97", Policy: func() resilience.Policy {
			return hedge.New(hedge.Config{Quantile: 0.97, Delay: 10 * time.Millisecond, MinDelay: time.Millisecond,
				Budget: retry.NewBudget(retry.BudgetConfig{Ratio: 0.05})})
		}},
	}
}

// tailServer answers "ok" at once, except a seeded 1% of requests, which it
// holds for slowHold unless the client cancels first. It counts requests
// and new connections.
type tailServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	rng      *rand.Rand
	requests atomic.Int64
	conns    atomic.Int64
}

func newTailServer(seed uint64) *tailServer {
	s := &tailServer{rng: rand.New(rand.NewPCG(seed, 3))}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	return s
}

func (s *tailServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	slow := s.rng.Float64() < slowShare
	s.mu.Unlock()
	if slow {
		t := time.NewTimer(slowHold)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	io.WriteString(w, "ok")
}

// loopback runs n GETs per variant, from concurrency callers, through a
// resiliencehttp Transport over one http.Transport, against a fresh
// tailServer with the same seed.
func loopback(vs []httpVariant, n, concurrency int, seed uint64) ([]result, error) {
	out := make([]result, 0, len(vs))
	for _, v := range vs {
		r, err := loopbackRun(v, n, concurrency, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func loopbackRun(v httpVariant, n, concurrency int, seed uint64) (result, error) {
	s := newTailServer(seed)
	defer s.srv.Close()
	base := &http.Transport{MaxIdleConnsPerHost: 4 * concurrency}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: v.Policy()})}

	lat := make([]float64, n)
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				start := time.Now()
				if err := getOK(client, s.srv.URL); err != nil {
					errs <- err
					return
				}
				lat[i] = float64(time.Since(start)) / float64(time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return result{}, err
	}
	took := time.Since(began)
	r := result{Name: v.Name, Calls: n, Sent: int(s.requests.Load()), Base: n, NewConns: int(s.conns.Load()), PerSecond: float64(n) / took.Seconds()}
	r.P50, r.P99, r.P999 = percentiles(lat)
	return r, nil
}

// getOK sends one GET and reads its body.
func getOK(c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		return fmt.Errorf("got %s %q", resp.Status, body)
	}
	return nil
}
