package bench

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
)

// memoryBase answers every request at once from memory, so that what a
// Transport over it costs is the Transport's own.
type memoryBase struct{}

func (memoryBase) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader("hello")), Request: req}, nil
}

// httpTransport is resiliencehttp's Transport over base with DESIGN.md's
// target policy: per host, retries (three attempts) around a breaker.
func httpTransport(base http.RoundTripper) *resiliencehttp.Transport {
	return resiliencehttp.New(resiliencehttp.Config{
		Base: base,
		PerHost: func(string) resilience.Policy {
			return resilience.Chain(retry.New(retry.Config{MaxAttempts: retryAttempts}), breaker.New(breaker.Config{}))
		},
	})
}

// httpGet sends one GET through rt and reads its body to the end.
func httpGet(b *testing.B, rt http.RoundTripper, url string) {
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

// runHTTP benchmarks a GET of url through each subject, in a new random
// order each run (as BenchmarkGRPCUnary does), reporting cpu-ns/op too.
func runHTTP(b *testing.B, url string, subjects []struct {
	lib string
	rt  http.RoundTripper
}) {
	rand.Shuffle(len(subjects), func(i, j int) { subjects[i], subjects[j] = subjects[j], subjects[i] })
	for _, s := range subjects {
		b.Run("lib="+s.lib, func(b *testing.B) {
			httpGet(b, s.rt, url) // connect outside the loop
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				httpGet(b, s.rt, url)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkHTTPInMemory: a GET that succeeds at once through resiliencehttp
// (retry and breaker per host) over an in-memory RoundTripper, and through
// that RoundTripper alone ("call"). DESIGN.md's target: at most 500 ns and
// 8 allocations more.
func BenchmarkHTTPInMemory(b *testing.B) {
	runHTTP(b, "http://api.test/", []struct {
		lib string
		rt  http.RoundTripper
	}{{"resilience", httpTransport(memoryBase{})}, {"call", memoryBase{}}})
}

// BenchmarkHTTPLoopback: a GET over loopback TCP through resiliencehttp
// (retry and breaker per host) over an http.Transport, and through a bare
// http.Transport ("call"). DESIGN.md's target: at most 1.05× the bare one.
func BenchmarkHTTPLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	bare, under := &http.Transport{}, &http.Transport{}
	defer bare.CloseIdleConnections()
	defer under.CloseIdleConnections()
	runHTTP(b, srv.URL, []struct {
		lib string
		rt  http.RoundTripper
	}{{"resilience", httpTransport(under)}, {"call", bare}})
}

// httpBlock is how many requests BenchmarkHTTPInMemoryPaired times as one
// block.
const httpBlock = 32

// BenchmarkHTTPInMemoryPaired: the request of BenchmarkHTTPInMemory through
// resiliencehttp and through the bare RoundTripper, in blocks of httpBlock
// requests taken in turn (see paired). It reports each one's median time
// per request, what ours adds ("extra-ns/call"; DESIGN.md's target: at most
// 500) and ours as a multiple of the bare one ("x-call").
func BenchmarkHTTPInMemoryPaired(b *testing.B) {
	ours, bare := httpTransport(memoryBase{}), memoryBase{}
	med := paired(b, httpBlock,
		pairedRun{"resilience", func() { httpGet(b, ours, "http://api.test/") }},
		pairedRun{"call", func() { httpGet(b, bare, "http://api.test/") }})
	b.ReportMetric(med["resilience"]-med["call"], "extra-ns/call")
	b.ReportMetric(med["resilience"]/med["call"], "x-call")
}
