package main

import (
	"context"
	"net/http"
	"time"

	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/resiliencehttp"
)

// The card network, while it is down, does not refuse at once: like most
// networks that fail, it hangs for cardHang before the server gives up on
// it. Without a limit, every charge that arrives meanwhile would wait too,
// each holding a goroutine and a connection, and the server would serve
// nothing else. A bulkhead lets cardSlots charges wait on the card network
// at once and sheds the rest straight away with 503 (resiliencehttp.Handler
// answers its ErrFull), which the resilient client retries after a backoff
// with the same idempotency key: a shed charge was not processed, so its
// key is released, not recorded.
const (
	cardHang  = 100 * time.Millisecond
	cardSlots = 4
)

// cardGate is the server's bulkhead in front of its card network calls.
type cardGate struct {
	b *bulkhead.Bulkhead
}

func newCardGate() *cardGate {
	return &cardGate{b: bulkhead.New(bulkhead.Config{Name: "card network", MaxConcurrent: cardSlots})}
}

// guard runs the charge handler h inside the bulkhead.
func (g *cardGate) guard(h http.HandlerFunc) http.Handler {
	return resiliencehttp.Handler(g.b, h)
}

// shed counts the charges the bulkhead refused.
func (g *cardGate) shed() uint64 { return g.b.Metrics().Rejected }

// hang waits as a card network that is down does before it fails, or until
// the request ends.
func hang(ctx context.Context) { _ = sleep(ctx, cardHang) }
