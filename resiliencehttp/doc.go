// Package resiliencehttp makes an http.Client survive an unreliable network:
// its [Transport] is an http.RoundTripper that runs every request under a
// resilience.Policy, typically a chain of retry, breaker and per-attempt
// timeout, shared by all hosts or one per host.
//
//	client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{
//		PerHost: func(host string) resilience.Policy {
//			return resilience.Chain(
//				retry.New(retry.Config{MaxAttempts: 4}),
//				breaker.New(breaker.Config{Name: host}),
//				timeout.New(2*time.Second),
//			)
//		},
//	})}
//
// What the Transport does for each request:
//
//   - It retries only what is safe to send twice: GET, HEAD, OPTIONS, PUT,
//     DELETE and TRACE, and any request that carries an Idempotency-Key
//     header. When the request's context carries a key
//     (idempotency.WithKey) and the request has no such header, the
//     Transport sends the key in it, the same on every attempt. Other
//     requests (a POST without a key) still go through the policy, once:
//     their failures are marked retry.Permanent, so a retry policy returns
//     them at once while a breaker still counts them.
//   - Every attempt after the first sends a fresh copy of the body from the
//     request's GetBody. A request with a body and no GetBody is sent once,
//     and a failure that would have been retried comes back wrapped with
//     [ErrBodyNotRewindable].
//   - Transport errors and responses with status 429, 502, 503 or 504
//     (Config.RetryResponse) are failures the policy sees. Such a response
//     becomes a [*StatusError] whose RetryAfter is the response's
//     Retry-After header (in seconds or as an HTTP date, see
//     [ParseRetryAfter]), so a retry policy waits as long as the server asked,
//     clamped to its own MaxDelay.
//   - The body of a response with a retryable status is read, up to
//     Config.DrainLimit and within the attempt's own deadline, and closed, so
//     the connection goes back to the pool before the next attempt.
//   - When the policy gives up on a response with a retryable status, the
//     caller gets that last response, not an error, and sees the real 503
//     (unless Config.ErrorOnExhausted is set).
//   - A per-attempt timeout bounds the time to the response headers only.
//     The response returned to the caller is not tied to the attempt's
//     context, which ends when the policy returns: its body stays readable
//     until it is read to the end or closed, or until the request's own
//     context ends.
//
// Events (resilience.Event with Policy "resiliencehttp"): KindGiveUp, with
// Attempt and Err, when a failure that a retry could have cured is not
// retried because the request is not safe to repeat or its body cannot be
// rewound. The policies inside report their own events.
package resiliencehttp
