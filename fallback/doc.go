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
// dependency and returns an error, or a cached value, at once.
//
// Which failures a fallback handles is set by a predicate; by default it is
// every error but the caller's own cancellation (context.Canceled while the
// caller's context is cancelled), which always comes back as is: nobody is
// waiting for an answer. An expired deadline of the caller's context is a
// failure like any other, so a value can still be served when the whole call
// ran out of time.
//
// A wrong answer is a failure too. Validate what the dependency returned
// with [resilience.Validate], so that retry asks again, the breaker counts it
// and, once they give up, the fallback answers instead.
//
// Each time a fallback is used (its function runs, or the cache serves a
// stale value), the configured Observer receives
// resilience.Event{Policy: "fallback", Name: <Config.Name>, Kind: resilience.KindFallback, Err: <the original error>}.
//
// Nothing in this package starts a goroutine; cached values age by the
// time package's clock, so tests can run inside a testing/synctest bubble.
package fallback
