// Package bulkhead bounds how many calls run at once, so that one slow
// dependency or a burst of requests cannot take every goroutine, connection
// or thread a service has.
//
//	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 10, MaxQueue: 20, MaxWait: 100 * time.Millisecond})
//	err := b.Do(ctx, func(ctx context.Context) error { return callPayments(ctx) })
//	if errors.Is(err, bulkhead.ErrFull) {
//		// shed: the call did not run
//	}
//
// A [Bulkhead] admits up to MaxConcurrent calls at once. A call that finds
// every slot taken waits in a queue of at most MaxQueue callers — for at
// most MaxWait, and never after its context ends — or, when the queue is
// full or there is none (MaxQueue zero, the default), is refused at once.
// A slot freed while callers wait is handed straight to one of them, the
// oldest by default or the newest with LIFO, never to a caller that just
// arrived, so a steady stream of newcomers cannot starve the queue. A
// waiter whose context ends leaves the queue at once and frees its place,
// and it gets ctx.Err(). Waiting costs no goroutine: each waiter is parked
// on a channel of its own.
//
// [Bulkhead.Do] runs a function in a slot. For code that cannot pass a
// closure, [Bulkhead.Allow] (never waits) and [Bulkhead.Acquire] (waits as
// Do does) return a [Permit], released by [Permit.Done].
// [Bulkhead.Metrics], [Bulkhead.InFlight] and [Bulkhead.Limit] report on
// it.
//
// # Rejections
//
// A refusal matches [ErrFull] and [resilience.ErrRejected], like every
// local rejection in this module (an open breaker, a rate limit), and
// carries no RetryAfter hint: a bulkhead cannot know when a slot will free.
// Because it matches ErrRejected:
//   - a breaker around the bulkhead, as in the recommended chain
//     resilience.Chain(fallback, timeout.New(total), retry.New(...),
//     breaker.New(...), bulkhead.New(...), timeout.New(perAttempt)), does
//     not count a refusal as a failure of the dependency: the call never
//     reached it (breaker.Config.Ignore's default);
//   - a retry policy around it retries a refusal after its backoff, as
//     with any error without a hint;
//   - resiliencehttp.Handler, which runs a server's handler inside a
//     policy, answers a refusal with 503 Service Unavailable.
//
// The caller's own cancel or deadline while it waits in the queue is not a
// refusal: it returns ctx.Err(), emits no KindRejected and is not counted
// in Metrics.Rejected.
//
// # Events
//
// With an Observer, a bulkhead emits (resilience.Event with Policy
// "bulkhead" and Name Config.Name):
//   - KindRejected with Err (the refusal) for every call refused;
//   - KindCall once per call, admitted or not, last of the call's events:
//     Duration is how long it took (queue wait included; from Allow or
//     Acquire to [Permit.Done] in the two-step form) and Err what it
//     returned (nil from Permit.Done, which does not see the outcome). A
//     call whose function panics has none.
//
// Events are sent outside any lock and after the slot is released, so an
// observer that panics cannot leave a slot held.
//
// # Cost
//
// Admitting and releasing a call while nobody waits is one atomic add
// each, with no lock; neither Do nor Allow and Done allocates then. A
// caller that waits in the queue takes the lock, allocates its waiter (a
// small struct and a channel) and, with MaxWait, a timer. Waiters are not
// pooled, so that a bulkhead shared by several testing/synctest bubbles
// never hands one bubble's channel to another.
package bulkhead
