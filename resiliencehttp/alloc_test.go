package resiliencehttp_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencehttp"
)

// addedAllocs returns how many allocations a GET under ctx, read to the
// end and closed, makes through rt beyond the same GET through staticBase.
func addedAllocs(t *testing.T, ctx context.Context, rt http.RoundTripper) float64 {
	t.Helper()
	get := func(rt http.RoundTripper) func() {
		return func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	n := testing.AllocsPerRun(1000, get(rt)) - testing.AllocsPerRun(1000, get(staticBase{}))
	return n
}

// TestSuccessAllocations pins what a GET that succeeds at once costs in
// allocations on top of the base transport. Retry+breaker: the call, its
// method value, retry's attempt context, the request's copy, and the
// cancellable context the response's body ends (with its cancel func).
// A per-attempt timeout adds its own context and timer, and the hook
// that detaches the request's context from it until the headers arrive.
func TestSuccessAllocations(t *testing.T) {
	perHost := func(p func() resilience.Policy) *resiliencehttp.Transport {
		return resiliencehttp.New(resiliencehttp.Config{Base: staticBase{}, PerHost: func(string) resilience.Policy { return p() }})
	}
	live, cancel := context.WithCancel(context.Background())
	defer cancel()

	assert.LessOrEqual(t, addedAllocs(t, context.Background(), perHost(retryBreaker)), 6.0, "retry+breaker per host")
	assert.LessOrEqual(t, addedAllocs(t, live, perHost(retryBreaker)), 6.0, "retry+breaker per host, cancellable request")
	assert.LessOrEqual(t, addedAllocs(t, context.Background(), perHost(benchPolicy)), 15.0, "retry, breaker and per-attempt timeout per host")
}
