// Package hedge sends a second copy of a slow call instead of waiting for
// it: the hedged requests of "The Tail at Scale" (Dean and Barroso, CACM
// 2013), which cut the 99.9th-percentile latency of a 1,000-way fan-out from
// 1,800 ms to 74 ms for 2% more requests.
//
//	p := hedge.New(hedge.Config{Quantile: 0.95, MinDelay: 5 * time.Millisecond})
//	err := p.Do(ctx, func(ctx context.Context) error { return get(ctx) })
//
// Do starts the first attempt; if no attempt has finished after the delay
// (a fixed Delay, or the Quantile of recent latencies), it starts another,
// up to MaxHedges more (1 by default, 10 at most), each under its own
// context. The first attempt to succeed wins: the others are cancelled, and
// [resilience.DoValue] returns the winner's value, never a loser's. A
// failure that RetryIf accepts starts the next hedge at once, as in gRFC A6;
// a failure it rejects, or a permanent one, is the call's answer and
// cancels the rest. When every attempt fails, Do returns the failure that
// came last.
//
// Each attempt runs in a goroutine of its own while the caller waits for
// the outcome, so Do returns as soon as the call is decided (or the
// caller's context ends) and cancels the attempts still running; no
// goroutine of the call outlives it beyond an attempt's fn honouring that
// cancel. An attempt that ignores its cancelled context does not hold the
// caller: Do returns with the winner, and the loser ends when its fn does
// (its result is dropped). Inside a testing/synctest bubble, wait for such
// a loser (synctest.Wait, or sleep past it) before the test returns.
//
// Only an operation that may run twice at once can be hedged: a read, or a
// write under an idempotency key the server deduplicates. [WithoutHedges]
// marks a context whose calls must run once; resiliencehttp marks every
// request but GET, HEAD and OPTIONS.
//
// # Budget
//
// Hedging when the dependency is slow for everyone doubles its load at the
// worst moment. Give the policy the [retry.Budget] its retry policies share:
// every Do counts one request, every hedge must be covered by the budget,
// and a hedge it refuses is not sent (the attempts running go on).
//
// # Position in a chain
//
// A hedge policy takes retry's slot:
//
//	resilience.Chain(
//		fallback,                      // answers once everything inside gave up
//		timeout.New(total),            // the whole call, hedges included
//		hedge.New(hedge.Config{...}),  // or retry.New, in the same place
//		breaker.New(breaker.Config{}), // counts every attempt, rejects fast when open
//		timeout.New(perAttempt),       // one hung attempt cannot use up the total
//	)
//
// so each attempt goes through the breaker and its own timeout. Retry and
// hedge can be stacked (a retry around a hedge retries a call whose
// attempts all failed), but each multiplies the other's sends: without a
// shared budget, three attempts with one hedge each send six copies of a
// request to a dependency that is failing. Stack them only under one
// [retry.Budget] given to both.
//
// # Events
//
// Events (resilience.Event with Policy "hedge"), only when an Observer is
// set:
//   - KindHedge when a hedge starts, with Attempt (its number: 2 for the
//     first hedge) and Delay (the wait before it: the delay, or 0 when a
//     failure started it at once);
//   - KindRejected when the budget refuses a hedge, with Attempt (the
//     hedge's number) and Err matching retry.ErrBudgetExhausted;
//   - KindCall once per finished call of Do, with Attempt (the number of
//     attempts started), Duration and Err (what Do returned).
package hedge
