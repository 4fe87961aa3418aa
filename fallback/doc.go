// Package fallback answers for a call that failed: with a fallback function
// ([Policy], [DoValue]) or with the last value that call returned
// successfully, for as long as that value is young enough ([Cache]).
//
// A fallback goes outermost in a chain, around the retries and the breaker,
// so it runs only once they have given up:
//
//	p := resilience.Chain(
//		fallback.New(fallback.Config{Fallback: fallback.Error(ErrDegraded)}),
//		retry.New(retry.Config{}),
//		breaker.New(breaker.Config{}),
//	)
//
// This is the remedy for a tripped breaker: the caller stops calling the
// dependency and returns an error, or a cached value, at once. A [Cache]
// returns a value, so it takes no place in a chain: the chain runs inside
// the function given to [Cache.Do], which answers once the chain gives up.
//
// Which failures a fallback answers is set by Config.FallbackIf (or
// CacheConfig.FallbackIf); by default it is every error but the caller's own
// cancellation (context.Canceled while the caller's context is cancelled),
// which always comes back as is: nobody is waiting for an answer. An expired
// deadline of the caller's context is a failure like any other, so a value
// can still be served when the whole call ran out of time.
//
// A wrong answer is a failure too. Validate what the dependency returned
// with [resilience.Validate], so that retry asks again, the breaker counts it
// and, once they give up, the fallback answers instead.
//
// Events (resilience.Event with Policy "fallback" and Name Config.Name or
// CacheConfig.Name), from a [Policy] and a [Cache]:
//   - KindCall once per call that returned, last of the call's events:
//     Duration is how long it took, the fallback included, and Err what Do
//     returned (nil when the fallback absorbed the failure, or the cache
//     served a stale value). A call that panics has none;
//   - KindFallback each time the fallback answers (its function runs, or the
//     cache serves a stale value), with Err the failure it answers.
//
// Without an Observer nothing is emitted and the clock is not read for an
// event. [DoValue] emits no events.
//
// Nothing in this package starts a goroutine; cached values age by the
// time package's clock, so tests can run inside a testing/synctest bubble.
package fallback
