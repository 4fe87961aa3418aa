// Package ratelimit limits the rate of calls: a token bucket per limiter,
// one per key, or one shared by a fleet through a Store.
//
//	l := ratelimit.New(ratelimit.Config{Rate: 100, Burst: 10}) // 100 calls a second, 10 at once
//	err := l.Do(ctx, func(ctx context.Context) error { return callPayments(ctx) })
//	if errors.Is(err, ratelimit.ErrLimited) {
//		// refused without calling: a token comes after resilience.RetryAfter(err)
//	}
//
// A [Limiter] holds a bucket of Burst tokens, refilled at Rate per Per. A
// call takes one token. When none is
// free, the call waits for the next one if it comes within MaxWait and
// before the context's deadline; otherwise it is refused at once, with a
// [*LimitedError] that matches [ErrLimited] and [resilience.ErrRejected]
// and whose RetryAfter is the time until a token. A refusal spends nothing,
// and a caller whose context ends while it waits gets the context's error
// (not a refusal) and gives its token back to the next caller. Waits use a
// timer stopped on return and no goroutine. [Limiter.Allow] takes a token
// without waiting and without running anything, for callers that decide
// themselves.
//
// Stacked limits — 10 a second and 100 a minute on one call — compose with
// resilience.Chain (or nested Do calls): when an inner limit refuses, the
// outer limit gives back the token the call took, so one limit's refusal
// spends nothing of the other's. The same holds for any inner policy whose
// refusal matches resilience.ErrRejected (a bulkhead, a breaker): the call
// never reached the dependency. A call that ran, and failed, spent its
// tokens.
//
// [NewKeyed] keeps one bucket per key — a tenant, a client address — for at
// most maxKeys keys, forgetting the least recently used; [Middleware]
// limits an HTTP server with one, answering 429 with Retry-After and the
// IETF RateLimit and RateLimit-Policy fields.
//
// # Limits shared by a fleet
//
// With Config.Store set, the limit lives in a [Store] that every replica
// asks (ratelimit/redisstore keeps it in Redis, [MemoryStore] in this
// process), by the generic cell rate algorithm, so every store decides
// alike. Each call asks the store once (twice when it waits for a token the
// store said was coming). A store that cannot decide makes the limiter
// refuse: a Store-backed limit fails closed, unless the store itself
// degrades (redisstore falls back to a local bucket, by default). A store
// cannot give a token back, so a Store-backed limit outside a limit that
// refuses spends its token: put Store-backed limits innermost, or accept
// that a refusal inside costs a token of the shared limit.
//
// # Events
//
// With Config.Observer set, events carry Policy "ratelimit" and Config.Name:
//   - KindRejected for every refusal, with Delay the time until a token
//     (zero when unknown) and, when a store could not decide, Err its error;
//   - KindCall once per finished call of Do, admitted or refused, with
//     Duration (how long the call took, waits included) and Err (what Do
//     returned). Allow emits no KindCall.
//
// Without an observer nothing is built and the clock is not read for an
// event; Do and Allow allocate nothing.
//
// # Implementation note
//
// The local bucket is not golang.org/x/time/rate, as the design first
// planned, but the rule every [Store] follows (GCRA), kept in this process:
// one theoretical arrival time in an atomic integer of monotonic
// nanoseconds, changed by compare-and-swap. It is the same token bucket —
// Burst tokens, refilled at Rate per Per, a waiter's token reserved ahead —
// for two reasons. Speed: a decision is one monotonic clock read and one
// CAS, with no lock, where x/time/rate takes a mutex and reads the wall
// and monotonic clocks: Allow costs about a third of x/time/rate's Allow,
// and less than failsafe-go's and go.uber.org/ratelimit's, in the same
// runs (bench/README.md), and Do and Keyed gain as much. Exactness: a refusal writes nothing, and
// a token given back (by a waiter whose context ended, or by an outer limit
// whose inner one refused) comes back whole however many reservations were
// made after it, where x/time/rate's Reservation.Cancel restores nothing
// once a later reservation exists. As for a Store, times are whole
// nanoseconds: the interval Per/Rate is rounded to the nearest one, so a
// limit above 2·10⁹ calls a second admits every call; and an interval, or
// Burst intervals, longer than 2⁶² ns (146 years) counts as 2⁶² ns.
//
// # Position in a chain
//
// In the recommended chain a rate limit goes inside the breaker, whose
// default ignores its refusals, and outside the per-attempt timeout:
// resilience.Chain(fallback, timeout.New(total), retry.New(...),
// breaker.New(...), ratelimit.New(...), timeout.New(perAttempt)). A retry
// outside it waits a refusal's RetryAfter only when it ends before the
// deadline.
package ratelimit
