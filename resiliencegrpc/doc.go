// Package resiliencegrpc runs resilience policies in gRPC interceptors, on
// the client and on the server, for unary calls and streams.
//
// # Client
//
// [UnaryClientInterceptor] and [StreamClientInterceptor] run each call under
// a policy, one shared or one per method ([Config.PerMethod], so that each
// method has its own breaker):
//
//	c := resiliencegrpc.Config{
//		PerMethod: func(method string) resilience.Policy {
//			return resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{}), timeout.New(time.Second))
//		},
//		Idempotent: func(method string) bool { return strings.HasPrefix(method, "/shop.Catalog/") },
//	}
//	cc, err := grpc.NewClient(addr,
//		grpc.WithTransportCredentials(creds),
//		grpc.WithDisableRetry(), // this package retries; grpc-go's retry would multiply the attempts
//		grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(c)),
//		grpc.WithStreamInterceptor(resiliencegrpc.StreamClientInterceptor(c)))
//
// Failures are classified after gRFC A6: UNAVAILABLE is retried,
// RESOURCE_EXHAUSTED and ABORTED when [Config.RetryCodes] says so,
// DEADLINE_EXCEEDED only when an attempt's own deadline (a timeout inside
// the retry) ended it, and no other code ever; the end of the caller's own
// context is never retried. A status does not say whether the server ran a
// call (UNAVAILABLE comes both before and after), so only methods declared
// idempotent ([Config.Idempotent]) and calls that carry an idempotency key
// (idempotency.WithKey, sent as idempotency-key metadata on every attempt)
// are retried. A server's grpc-retry-pushback-ms trailer is the wait before
// the next attempt (a negative one stops the retries), and retries carry
// grpc-previous-rpc-attempts. Only idempotent methods are hedged
// (hedge.New in the policy); every other call runs under
// hedge.WithoutHedges.
//
// A stream's setup runs under the policy; until its first response
// message, a retryable failure re-opens it with the retry policy's
// decision step (retry.Policy.Next) and sends again the messages sent so
// far, kept up to [Config.MaxReplayBytes]. After the first response, errors
// are the caller's.
//
// Turn grpc-go's own retry off with grpc.WithDisableRetry(): with a service
// config that enables it, grpc-go retries inside each attempt of the
// policy, and a policy of 3 attempts over grpc-go's 3 sends 9. grpc-go still
// retries, transparently, a call that never reached a server, which is
// always safe.
//
// # Server
//
// [UnaryServerInterceptor] and [StreamServerInterceptor] run handlers under
// a server-side policy (a bulkhead, a rate limit, an adaptive limiter): a
// call it refuses is answered RESOURCE_EXHAUSTED (a rate limit) or
// UNAVAILABLE, with the refusal's hint as grpc-retry-pushback-ms, both of
// which this package's clients retry after that wait.
//
// [IdempotencyUnaryServerInterceptor] runs each call with an idempotency
// key at most once per key over an idempotency.Store: the first response
// and status are recorded and replayed, a call whose key is in progress is
// answered ABORTED with a pushback (which a keyed client retries until the
// replay), and a key reused for another request is INVALID_ARGUMENT.
package resiliencegrpc
