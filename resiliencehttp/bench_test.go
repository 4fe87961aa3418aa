package resiliencehttp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// benchPolicy is the recommended chain: retries, each attempt guarded by a
// breaker and a timeout.
func benchPolicy() resilience.Policy {
	return resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{}), timeout.New(time.Second))
}

// retryBreaker is the policy of the performance target: retries, each
// attempt guarded by a breaker, with no per-attempt timeout.
func retryBreaker() resilience.Policy {
	return resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{}))
}

func benchGet(b *testing.B, rt http.RoundTripper, url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// BenchmarkLoopbackGet compares a GET on loopback through a bare
// http.Transport and through a Transport over one, in the same run;
// the "ratio" cases interleave the two and report transport/bare, with
// the recommended chain (per-attempt timeout included) and with
// retry+breaker.
func BenchmarkLoopbackGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	bare := &http.Transport{}
	defer bare.CloseIdleConnections()
	tr := resiliencehttp.New(resiliencehttp.Config{Base: &http.Transport{}, Policy: benchPolicy()})
	defer tr.CloseIdleConnections()
	rb := resiliencehttp.New(resiliencehttp.Config{Base: &http.Transport{}, PerHost: func(string) resilience.Policy { return retryBreaker() }})
	defer rb.CloseIdleConnections()

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, bare, srv.URL)
		}
	})
	b.Run("transport", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, tr, srv.URL)
		}
	})
	b.Run("ratio", func(b *testing.B) { benchRatio(b, bare, tr, srv.URL) })
	b.Run("retry-breaker-ratio", func(b *testing.B) { benchRatio(b, bare, rb, srv.URL) })
}

// benchRatio times GETs through bare and through tr in turns, the one
// first in a turn alternating so that neither gains from going second,
// and reports their times, what tr adds and tr's over bare's.
func benchRatio(b *testing.B, bare, tr http.RoundTripper, url string) {
	b.ReportAllocs()
	var bareTime, trTime time.Duration
	first := false
	for b.Loop() {
		first = !first
		start := time.Now()
		if first {
			benchGet(b, bare, url)
		} else {
			benchGet(b, tr, url)
		}
		mid := time.Now()
		if first {
			benchGet(b, tr, url)
		} else {
			benchGet(b, bare, url)
		}
		end := time.Now()
		if first {
			bareTime += mid.Sub(start)
			trTime += end.Sub(mid)
		} else {
			trTime += mid.Sub(start)
			bareTime += end.Sub(mid)
		}
	}
	b.ReportMetric(float64(bareTime.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(trTime.Nanoseconds())/float64(b.N), "transport-ns/op")
	b.ReportMetric(float64((trTime-bareTime).Nanoseconds())/float64(b.N), "added-ns/op")
	b.ReportMetric(float64(trTime)/float64(bareTime), "ratio")
}

// staticBase answers every request at once from memory, so the benchmark
// measures the Transport's own cost.
type staticBase struct{}

func (staticBase) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader("hello")), Request: req}, nil
}

// BenchmarkOverheadInMemory measures what the Transport adds to a request
// that succeeds at once, without the network.
func BenchmarkOverheadInMemory(b *testing.B) {
	b.Run("base", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, staticBase{}, "http://api.test/")
		}
	})
	b.Run("shared", func(b *testing.B) {
		tr := resiliencehttp.New(resiliencehttp.Config{Base: staticBase{}, Policy: benchPolicy()})
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, tr, "http://api.test/")
		}
	})
	b.Run("per-host", func(b *testing.B) {
		tr := resiliencehttp.New(resiliencehttp.Config{Base: staticBase{}, PerHost: func(string) resilience.Policy { return benchPolicy() }})
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, tr, "http://api.test/")
		}
	})
	b.Run("retry-breaker-per-host", func(b *testing.B) {
		tr := resiliencehttp.New(resiliencehttp.Config{Base: staticBase{}, PerHost: func(string) resilience.Policy { return retryBreaker() }})
		b.ReportAllocs()
		for b.Loop() {
			benchGet(b, tr, "http://api.test/")
		}
	})
	b.Run("retry-breaker-per-host-ratio", func(b *testing.B) {
		tr := resiliencehttp.New(resiliencehttp.Config{Base: staticBase{}, PerHost: func(string) resilience.Policy { return retryBreaker() }})
		benchRatio(b, staticBase{}, tr, "http://api.test/")
	})
}
