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
//		BufferBody: 1 << 20, // a body cut short is a failed attempt, retried
//	})}
//
// What the Transport does for each request:
//
//   - It retries only what is safe to send twice: GET, HEAD, OPTIONS, PUT,
//     DELETE and TRACE, and any request that carries an Idempotency-Key
//     header. When the request's context carries a key
//     (idempotency.WithKey) and the request has no such header, the
//     Transport sends the key in it, the same on every attempt, as an
//     RFC 8941 string ("order 42", with \ and " escaped), the form the IETF
//     draft specifies and idempotency.Middleware reads. A key such a
//     string cannot carry (over idempotency.MaxKeyLen bytes, or a byte
//     outside printable ASCII) is refused before anything is sent, with an
//     error matching idempotency.ErrInvalidKey. A header the caller set is
//     sent as written.
//   - A request that is not safe to send twice (a POST without a key) is
//     sent at most once, whatever the policies and however they nest. It
//     still goes through the policy, once: its failure is marked
//     resilience.Permanent ("do not send again"), so every retry policy,
//     inner or outer, returns it at once while a breaker still counts it;
//     and an attempt started after the one send anyway is refused without
//     sending, with an error matching [ErrNotRepeatable]. The Transport never
//     marks an error idempotency.Final: a transport failure says nothing
//     about whether the server ran the request, so idempotency.Do never
//     records one as the operation's outcome.
//   - Every attempt after the first sends a fresh copy of the body from the
//     request's GetBody. A request with a body and no GetBody is sent once,
//     and a failure that would have been retried comes back wrapped with
//     [ErrBodyNotRewindable].
//   - Transport errors and responses with status 429, 502, 503 or 504, and
//     409 to a request that sent an Idempotency-Key (Config.RetryResponse,
//     [RetryableStatus]), are failures the policy sees. An idempotency
//     server answers that 409 while another request with the same key is
//     running, with a short Retry-After; the retry gets the recorded answer.
//     Such a response becomes a [*StatusError] whose RetryAfter is the
//     response's Retry-After header (in seconds or as an HTTP date, see
//     [ParseRetryAfter]), so a retry policy waits as long as the server
//     asked, within its own MaxDelay and the caller's deadline.
//   - The body of a response with a retryable status is read, up to
//     Config.DrainLimit and within the attempt's own deadline, and closed, so
//     the connection goes back to the pool before the next attempt.
//   - When the policy gives up on a response with a retryable status, the
//     caller gets that last response, not an error, and sees the real 503
//     (unless Config.ErrorOnExhausted is set).
//   - A per-attempt timeout bounds the time to the response headers (and,
//     with Config.BufferBody, to the end of a buffered body). The response returned to the caller is not tied to the attempt's
//     context, which ends when the policy returns: its body stays readable
//     until it is read to the end or closed, or until the request's own
//     context ends.
//   - With Config.BufferBody set, each attempt reads the body of the
//     response it would return (up to that many bytes) before the policy
//     sees its outcome, under the per-attempt timeout: a body cut short or
//     stalled is a failed attempt, retried like a transport error, with the
//     same key, and the caller gets a body already read whole. A longer
//     body streams as without the buffer.
//   - A hedge policy (package hedge) in the chain hedges only GET, HEAD
//     and OPTIONS: every other request, a keyed POST, a PUT or a DELETE
//     included, runs under hedge.WithoutHedges, a single attempt at a
//     time (an idempotency server would answer a keyed POST's second copy
//     409, and concurrent PUTs or DELETEs may interleave with other
//     writers). Each hedge sends its own clone of the request, under its
//     own context. The first attempt with a response that is not a
//     retryable failure wins: its body stays readable after the losers are
//     cancelled, as any returned body. A loser whose response arrives is
//     read to its end (up to Config.DrainLimit bytes and 50ms) and closed,
//     so its connection goes back to the pool; a loser cancelled before its
//     response headers closes its connection, as net/http does for any
//     cancelled request.
//
// Events (resilience.Event with Policy "resiliencehttp"): KindGiveUp, with
// Attempt and Err, when a failure that a retry could have cured is not
// retried because the request is not safe to repeat or its body cannot be
// rewound; KindRejected, with Attempt and Err, when a policy starts an
// attempt of such a request after its one send and the Transport refuses
// it. The policies inside report their own events.
package resiliencehttp
