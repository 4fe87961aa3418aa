package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickRunChargesEveryOrderExactlyOnce runs the demo in -quick mode and
// checks its claims against the servers' ledgers: the resilient client
// charged every order exactly once, met faults of every kind on the way,
// and its breaker opened during the outage and closed again; the naive
// client's faults show up as double charges or failed orders.
func TestQuickRunChargesEveryOrderExactlyOnce(t *testing.T) {
	o := defaultOptions()
	o.applyQuick()
	o.progress = false
	var out bytes.Buffer
	res, err := run(context.Background(), o, &out)
	require.NoError(t, err)
	t.Log("\n" + out.String())

	charges, doubled, _ := res.resilient.server.ledger.tally()
	assert.Equal(t, o.orders, charges, "one charge per order")
	assert.Zero(t, doubled, "no double charge")
	assert.Zero(t, res.resilient.t.failed.Load(), "no order failed")
	for i := 1; i <= o.orders; i++ {
		id := orderID(i)
		require.Equal(t, 1, res.resilient.server.ledger.times(id), "order %s", id)
	}
	assert.True(t, res.exactlyOnce())

	st := res.resilient.server.faults.Stats()
	assert.Positive(t, st.Lost, "some charges lost their response, and were replayed, not repeated")
	assert.Positive(t, st.Dropped)
	assert.Positive(t, st.Status)
	assert.Positive(t, res.resilient.server.outage.refused.Load(), "the outage refused charges")

	changes, path, now := res.resilient.t.breakerStates()
	assert.GreaterOrEqual(t, changes, 3, "open, half-open, closed at least: %v", path)
	assert.Equal(t, "open", path[1])
	assert.Equal(t, "closed", now, "the breaker closed again after the outage")

	naiveCharges, naiveDoubled, _ := res.naive.server.ledger.tally()
	assert.True(t, naiveDoubled > 0 || naiveCharges < o.orders, "the naive client double-charged or lost orders")
	assert.Contains(t, out.String(), "Every order was charged exactly once by the resilient client.")
}

// TestQuickRunWithRedisStore runs the same scenario with the idempotency
// records in Redis (REDIS_URL, started by make integration and CI).
func TestQuickRunWithRedisStore(t *testing.T) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_URL is not set; CI must start Redis (.ci/services.sh)")
		}
		t.Skip("REDIS_URL is not set; run make integration to start Redis")
	}
	o := defaultOptions()
	o.applyQuick()
	o.progress = false
	o.redisURL = url
	var out bytes.Buffer
	res, err := run(context.Background(), o, &out)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	assert.True(t, res.exactlyOnce(), "every order charged exactly once with the Redis store")
}
