package resiliencegrpc

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/retry"
)

// Config configures the client interceptors ([UnaryClientInterceptor] and
// [StreamClientInterceptor]). The zero value of every field means the
// documented default, so Config{} is usable: every method shares one
// default retry policy (retry.New(retry.Config{})), and only methods that
// carry an idempotency key are retried, since none is declared idempotent.
type Config struct {
	// Policy guards every call, whatever its method. Nil means a default
	// retry policy, unless PerMethod is set. Setting both panics.
	Policy resilience.Policy

	// PerMethod, when set, makes the policy of each method (its full name,
	// "/package.Service/Method"): it is called once, on the first call of
	// that method, and its result guards every call of it, so each method
	// gets its own breaker. It is not called under a lock. A nil result
	// fails the calls of that method with an error matching
	// resilience.ErrNilPolicy.
	PerMethod func(fullMethod string) resilience.Policy

	// MaxMethods bounds how many per-method policies are kept. When a call
	// of a new method would exceed it, the policy of the least recently
	// used method is dropped; that method gets a fresh policy from
	// PerMethod on its next call. Zero means 1000; negative panics.
	MaxMethods int

	// Idempotent reports whether a method may run more than once with the
	// same effect (a read, a put of a whole value). Its failures are
	// retried, and its calls may be hedged (hedge.New). Any other method is retried only when its call carries an
	// idempotency key (idempotency.WithKey on the call's context): a status
	// alone never says that a server did not run a call, UNAVAILABLE
	// included; and it is never hedged, not even with a key (it runs
	// under hedge.WithoutHedges). Nil means no method is idempotent.
	Idempotent func(fullMethod string) bool

	// RetryCodes adds status codes to those retried (UNAVAILABLE, and
	// DEADLINE_EXCEEDED when an attempt's own deadline ended it): only
	// codes.ResourceExhausted and codes.Aborted may be given (gRFC A6
	// leaves them to configuration); any other panics. ABORTED is retried
	// without being listed for calls that carry an idempotency key: it is
	// what an idempotency server (see [IdempotencyUnaryServerInterceptor])
	// answers while the first call with the key runs. Nil means none.
	RetryCodes []codes.Code

	// StreamRetry returns the retry policy that re-opens a stream of the
	// method whose attempt failed before its first response message (see
	// [StreamClientInterceptor]). Nil means the method's policy when it is
	// itself a *retry.Policy, and no re-opening otherwise. A nil result
	// means no re-opening for that method.
	StreamRetry func(fullMethod string) *retry.Policy

	// MaxReplayBytes bounds the messages a stream keeps to send again on a
	// new attempt (their proto.Size). A stream that sends more, or sends a
	// message that is not a proto message, is no longer re-opened. Zero
	// means 64 KiB; negative panics.
	MaxReplayBytes int

	// Name is copied into every event's Name.
	Name string

	// Observer receives a KindCall event for every unary call and every
	// stream setup (Duration, Err), KindRetry (Attempt, Delay, Err) before
	// a stream is re-opened after its setup (the retry policy's Next
	// records nothing), and KindGiveUp when a failure that would have been
	// retried was not, because the method is not idempotent and the call
	// carries no key. Nil means none.
	Observer resilience.Observer
}

const (
	defaultMaxMethods     = 1000
	defaultMaxReplayBytes = 64 << 10
)

// Validate reports what the client interceptors would panic on in c: both
// Policy and PerMethod set, a Policy that is a typed nil (a nil
// *retry.Policy), a negative MaxMethods or MaxReplayBytes, or a
// code in RetryCodes other than ResourceExhausted and Aborted. It returns
// nil for a usable configuration.
func (c Config) Validate() error {
	switch {
	case c.Policy != nil && c.PerMethod != nil:
		return errors.New("resiliencegrpc: both Policy and PerMethod are set")
	case c.Policy != nil && isNil(c.Policy):
		return fmt.Errorf("resiliencegrpc: Policy is a nil %T", c.Policy)
	case c.MaxMethods < 0:
		return fmt.Errorf("resiliencegrpc: negative MaxMethods %d", c.MaxMethods)
	case c.MaxReplayBytes < 0:
		return fmt.Errorf("resiliencegrpc: negative MaxReplayBytes %d", c.MaxReplayBytes)
	}
	for _, code := range c.RetryCodes {
		if code != codes.ResourceExhausted && code != codes.Aborted {
			return fmt.Errorf("resiliencegrpc: RetryCodes: %v is never retried (only ResourceExhausted and Aborted may be added)", code)
		}
	}
	return nil
}
