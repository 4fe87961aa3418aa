package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/resiliencedebug"
)

// A short run with -dash: the dashboard shows the card network's breaker
// from the registry, both servers' bulkheads with their limit, and the
// charges the retry policy made, and its server stops with the demo.
func TestDashboardShowsTheRun(t *testing.T) {
	o := defaultOptions()
	o.orders, o.spread = 40, time.Second
	o.outageAt, o.outageFor = 300*time.Millisecond, 400*time.Millisecond
	o.progress = false
	var out bytes.Buffer
	d, err := startDashboard("127.0.0.1:0", &out)
	require.NoError(t, err)
	defer d.close()
	o.dashboard = d
	_, err = run(context.Background(), o, io.Discard)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "Dashboard: http://127.0.0.1:")

	resp, err := http.Get(d.url + "snapshot.json")
	require.NoError(t, err)
	defer resp.Body.Close()
	var snap resiliencedebug.Snapshot
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&snap))
	tiles := map[string]resiliencedebug.Tile{}
	for _, tl := range snap.Policies {
		tiles[tl.Policy+" "+tl.Name] = tl
	}
	var breakers int
	for _, tl := range snap.Policies {
		if tl.Policy == "breaker" {
			breakers++
			assert.NotNil(t, tl.Breaker, "registered")
			assert.Contains(t, []string{"closed", "open", "half-open"}, tl.State)
			assert.Positive(t, tl.Calls)
		}
	}
	assert.Equal(t, 1, breakers, "the resilient client's one host")
	for _, name := range []string{"card network, naive server", "card network, resilient server"} {
		tl, ok := tiles["bulkhead "+name]
		require.True(t, ok, "%s: %v", name, tiles)
		require.NotNil(t, tl.Limit)
		assert.Equal(t, cardSlots, *tl.Limit)
	}
	assert.Positive(t, tiles["retry "+chargesPolicy].Calls)
	assert.True(t, snap.Actions, "the breaker's buttons work from loopback")
}
