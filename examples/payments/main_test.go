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
// checks its claims against the servers' own records: the resilient client
// charged every order exactly once and accepted only genuine receipts, met
// faults of every kind on the way — crash, omission, byzantine — and
// survived each the way the report says; stale rates were never older than
// the bound.
func TestQuickRunChargesEveryOrderExactlyOnce(t *testing.T) {
	o := defaultOptions()
	o.applyQuick()
	o.progress = false
	var out bytes.Buffer
	res, err := run(context.Background(), o, &out)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	r := res.resilient

	// Exactly once, and only genuine receipts.
	charges, doubled, _ := r.server.ledger.tally()
	assert.Equal(t, o.orders, charges, "one charge per order")
	assert.Zero(t, doubled, "no double charge")
	assert.Zero(t, r.t.failed.Load(), "no order failed")
	for i := 1; i <= o.orders; i++ {
		require.Equal(t, 1, r.server.ledger.times(orderID(i)), "order %s", orderID(i))
	}
	require.Len(t, r.t.accepted(), o.orders)
	assert.Zero(t, bogus(r), "every accepted receipt was issued by the server for that order")
	assert.True(t, res.exactlyOnce())

	// Every fault the servers injected is counted in exactly one class.
	for _, s := range []*side{res.naive, r} {
		st := s.server.faults.Stats()
		assert.Equal(t, st.Requests, st.Exempt+st.Passed+st.Injected(), "%s server's counts add up", s.name)
		assert.GreaterOrEqual(t, st.Requests, int(s.t.attempts.Load()), "%s: every attempt sent reached the server", s.name)
	}

	// Crash: the outage refused charges, the breaker opened, rejected calls
	// without sending them, and closed again.
	assert.Positive(t, r.server.outage.refused.Load())
	changes, path, now := r.t.breakerStates()
	assert.GreaterOrEqual(t, changes, 3, "open, half-open, closed at least: %v", path)
	assert.Equal(t, "open", path[1])
	assert.Equal(t, "closed", now, "the breaker closed again after the outage")
	assert.Positive(t, r.t.rejected.Load())
	// While the card network hung, the bulkhead shed the excess charges at
	// once: the naive client, which keeps calling, met it most.
	assert.Positive(t, res.naive.server.card.shed())

	// Omission: responses were lost after charging, and every one of those
	// orders was answered by a replay of its record, not a second charge.
	st := r.server.faults.Stats()
	assert.Positive(t, st.Lost)
	assert.Positive(t, st.Dropped)
	assert.Positive(t, st.Status)
	assert.Positive(t, r.server.replays.Load())

	// Byzantine: corrupted answers were injected, rejected by validation and
	// asked again; none was accepted (checked above).
	assert.Positive(t, st.Corrupted+st.Truncated+st.WrongDigest)
	assert.Positive(t, r.t.invalid.Load())

	// The read path served stale rates during the outage, never older than
	// the bound, and never failed.
	assert.Positive(t, r.t.stale.Load())
	assert.Less(t, r.t.maxAge, o.maxStale)
	assert.Zero(t, r.t.noRate.Load())

	// The naive client shows what goes wrong.
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
