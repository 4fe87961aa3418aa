package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A short run of the HTTP part: twice the handler's capacity for a second.
// Without protection the handler's queue grows past the timeout; with
// adaptive.Limiter in front of it the excess is refused at once and what is
// admitted is served quickly.
func TestHTTPLimiterRefusesTheExcessAndKeepsLatencyLow(t *testing.T) {
	c := defaultHTTPConfig()
	c.Duration = time.Second
	res, err := runHTTP(context.Background(), c)
	require.NoError(t, err)
	require.Len(t, res, len(httpVariants()))
	byName := map[string]httpResult{}
	for _, r := range res {
		byName[r.Variant] = r
		assert.InDelta(t, c.Rate*c.Duration.Seconds(), r.Requests, 0.25*c.Rate, "%s: Poisson arrivals at the rate", r.Variant)
		assert.Positive(t, r.Succeeded, r.Variant)
		assert.GreaterOrEqual(t, r.Attempts, int64(r.Succeeded), r.Variant)
	}
	none, lim := byName["no protection"], byName["adaptive.Limiter (server)"]
	assert.Zero(t, none.Refused, "nothing refuses without a limiter")
	assert.Positive(t, lim.Refused, "the limiter refuses the excess")
	assert.Less(t, lim.P99, none.P99, "p99 with the limiter")
	assert.Less(t, lim.P99, c.Timeout, "what the limiter admits is served within the timeout")
	assert.Positive(t, none.Abandoned, "without a limiter the handler serves requests whose client left")

	table := httpTable(c, res)
	assert.Contains(t, table, "| adaptive.Limiter (server) |")
}
