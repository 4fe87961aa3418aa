// Package adaptive sheds load by measurement rather than by a fixed number:
// a [Limiter], a concurrency limit that moves with the latency and drops it
// sees, and a [Throttler], the Google SRE book's client-side throttle.
//
//	lim := adaptive.NewLimiter(adaptive.LimiterConfig{}) // Gradient2, limit 20..200
//	err := lim.Do(ctx, func(ctx context.Context) error { return handle(ctx) })
//	if errors.Is(err, adaptive.ErrLimited) {
//		// shed: answer 503
//	}
//
//	th := adaptive.NewThrottler(adaptive.ThrottlerConfig{}) // K 2 over 2 minutes
//	err = th.Do(ctx, func(ctx context.Context) error { return callBackend(ctx) })
//
// # Limiter
//
// A Limiter admits a call while fewer than Limit calls are in flight and
// refuses it otherwise; finished calls are samples that move the limit.
// The algorithms are Netflix's concurrency-limits (Gradient2Limit, AIMDLimit,
// VegasLimit) with its published defaults: a limit that starts at 20 and
// stays within [20, 200]; Gradient2 with smoothing 0.2, a long latency
// window of 600 samples, a tolerance of 1.5 and a queue size of 4; AIMD
// with a backoff ratio of 0.9 and a 5s timeout; Vegas with alpha 3·log10
// and beta 6·log10 of the limit. See [Algorithm] for each and where this
// package departs from Netflix.
//
// Vegas and Gradient2 are fed as Netflix runs them, through its
// WindowedLimit: the calls that end within a window of about a second make
// one sample (their mean latency, the most calls in flight, a drop if any
// dropped), so the limit moves once a second. Every single call as a sample
// reads the spread of a service's own latencies as queueing, and holds the
// limit at its floor; see [LimiterConfig.Window]. AIMD, which follows only
// drops, moves on every call.
//
// Which to use: AIMD for clients, Vegas or Gradient2 (the default) for
// servers. A client's latency includes the network and other clients'
// traffic, so a clear signal — a drop: a timeout or an overload answer —
// is the one to follow; a server measures its own queueing and can shed
// before anything times out.
//
// The two-step form is [Limiter.Allow], which returns a [Permit]. End it
// with [Permit.Done] (err is the outcome: a drop, by default a timeout or an
// overload answer, lowers the limit — Netflix's onDropped; anything else,
// error or not, samples the latency as a success — Netflix's onSuccess) or
// with [Permit.Ignore] (nothing is recorded — Netflix's onIgnore). The
// caller's own cancellation gets Ignore: [Limiter.Do] calls it when fn's
// error is the end of ctx. Neither step allocates, and no goroutine is
// started; latency is measured with time.Now and time.Since, so the limiter
// runs inside a testing/synctest bubble on the bubble's clock.
//
// # Throttler
//
// A Throttler counts, over a sliding window (2 minutes in 60 buckets), the
// requests its client made and those the backend accepted, and rejects a
// new request locally, without sending it, with probability
//
//	min(MaxRejectRate, max(0, (requests − K·accepts) / (requests + 1)))
//
// once the window holds MinRequests (20) requests. With K 2 a backend that
// accepts little sees about twice what it accepts, rather than everything
// every client sends it. A local rejection still counts as a request, so the
// probability stays high while the backend refuses and falls as soon as
// what gets through is accepted again. An attempt that ran is an accept
// unless ThrottlerConfig.IsOverload says the backend refused it; the
// caller's own cancellation is counted as neither. The two-step form is
// [Throttler.Allow] and [ThrottlePermit].
//
// # Rejections
//
// A refusal matches [ErrLimited] or [ErrThrottled], and
// [resilience.ErrRejected], like every local rejection in this module, and
// carries no RetryAfter hint. A breaker around either does not count it as
// a failure; a server answers it with 503 (neither is a rate limit).
//
// # In a chain
//
// The limiter and the throttler take the bulkhead's place in the
// recommended chain, inside the breaker:
//
//	resilience.Chain(fallback, timeout.New(total), retry.New(...), breaker.New(...), throttler, timeout.New(perAttempt))
//
// so that every attempt of a retry is decided and counted, and a per-attempt
// timeout inside is a drop, not the caller's deadline. In a resiliencehttp
// client, resiliencehttp.IsOverload classifies 429 and 503 responses and
// local refusals as overload; it agrees with the defaults of
// LimiterConfig.IsDrop and ThrottlerConfig.IsOverload.
//
// # Events
//
// With an Observer, both emit (resilience.Event with Policy "adaptive" and
// Name the config's Name):
//   - KindRejected with Err, for every call refused;
//   - KindLimitChange with From and To (decimal integers), when a
//     limiter's limit moves;
//   - KindCall once per call, last of its events: Duration is how long it
//     ran and Err its outcome (a refusal has Duration 0). A call ended
//     with Ignore in the two-step form has none; [Limiter.Do] and
//     [Throttler.Do] emit it for every call.
//
// Events are sent outside any lock, after the call's slot is released.
package adaptive
