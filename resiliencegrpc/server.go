package resiliencegrpc

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// UnaryServerInterceptor returns a server interceptor that runs every
// handler under p: a bulkhead, a rate limit, an adaptive limiter, a
// timeout. A call p refuses without running the handler (its error
// matches resilience.ErrRejected) is answered RESOURCE_EXHAUSTED when the
// refusal is a rate limit's (ratelimit.ErrLimited) and UNAVAILABLE
// otherwise, both retryable by the clients of this package, with the
// refusal's resilience.RetryAfter hint, when it has one, as a
// grpc-retry-pushback-ms trailer (whole milliseconds, rounded up). A
// handler's own outcome is returned as the handler returned it; a policy
// that returns nil without running the handler (a fallback that absorbed a
// refusal) is answered INTERNAL, since there is no response to send. It
// panics if p is nil, untyped or typed.
func UnaryServerInterceptor(p resilience.Policy) grpc.UnaryServerInterceptor {
	if isNil(p) {
		panic("resiliencegrpc: UnaryServerInterceptor: nil policy")
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var (
			resp    any
			herr    error
			handled bool
		)
		err := p.Do(ctx, func(ctx context.Context) error {
			resp, herr = handler(ctx, req)
			handled = true
			return herr
		})
		if handled {
			return resp, herr
		}
		return nil, refusal(err, func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) })
	}
}

// StreamServerInterceptor returns a server interceptor that runs every
// stream's handler under p, and answers a refusal as
// [UnaryServerInterceptor] does. The handler's stream has the policy's
// context. It panics if p is nil, untyped or typed.
func StreamServerInterceptor(p resilience.Policy) grpc.StreamServerInterceptor {
	if isNil(p) {
		panic("resiliencegrpc: StreamServerInterceptor: nil policy")
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		var (
			herr    error
			handled bool
		)
		err := p.Do(ss.Context(), func(ctx context.Context) error {
			herr = handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
			handled = true
			return herr
		})
		if handled {
			return herr
		}
		return refusal(err, ss.SetTrailer)
	}
}

// serverStream is a server stream with the policy's context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the policy's context.
func (s *serverStream) Context() context.Context { return s.ctx }

// refusal returns the status answering err, an error of a policy that did
// not run the handler, and sets its pushback trailer.
func refusal(err error, setTrailer func(metadata.MD)) error {
	switch {
	case err == nil:
		return status.Error(codes.Internal, "resiliencegrpc: the policy returned without running the handler")
	case errors.Is(err, ratelimit.ErrLimited):
		pushback(err, setTrailer)
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.Is(err, resilience.ErrRejected):
		pushback(err, setTrailer)
		return status.Error(codes.Unavailable, err.Error())
	}
	if _, ok := err.(grpcStatus); ok {
		return err
	}
	return status.FromContextError(err).Err()
}

func pushback(err error, setTrailer func(metadata.MD)) {
	if d, ok := resilience.RetryAfter(err); ok && d >= 0 {
		setTrailer(metadata.Pairs(PushbackKey, pushbackMS(d)))
	}
}
