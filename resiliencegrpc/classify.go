package resiliencegrpc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// Metadata keys read and written by the interceptors.
const (
	// PushbackKey is the trailer in which a server asks a client to wait
	// before retrying, in milliseconds (gRFC A6). A negative or unreadable
	// value asks it not to retry at all.
	PushbackKey = "grpc-retry-pushback-ms"
	// PreviousAttemptsKey is the metadata a retry is sent with: how many
	// attempts of the call were made before it (gRFC A6).
	PreviousAttemptsKey = "grpc-previous-rpc-attempts"
	// KeyMetadata is the metadata that carries an idempotency key.
	KeyMetadata = "idempotency-key"
)

// errNoPushback is what a server's refusal to be retried (a negative or
// unreadable pushback) wraps.
var errNoPushback = errors.New("resiliencegrpc: the server asked not to retry")

// IsOverload reports whether err is a status that says the server is
// overloaded: UNAVAILABLE or RESOURCE_EXHAUSTED, found anywhere in err's
// tree. It suits adaptive.Throttler's IsOverload.
func IsOverload(err error) bool {
	switch statusCode(err) {
	case codes.Unavailable, codes.ResourceExhausted:
		return true
	}
	return false
}

// grpcStatus is what every error carrying a gRPC status implements.
type grpcStatus interface{ GRPCStatus() *status.Status }

// statusCode returns the code of the first status in err's tree, OK for nil
// and Unknown for an error that carries none.
func statusCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if se, ok := err.(grpcStatus); ok {
		return se.GRPCStatus().Code()
	}
	var se grpcStatus
	if errors.As(err, &se) {
		return se.GRPCStatus().Code()
	}
	return codes.Unknown
}

// parsePushback reads a pushback trailer. present is false when md has
// none; stop is true when it asks not to retry (negative, unreadable or
// repeated values).
func parsePushback(md metadata.MD) (wait time.Duration, present, stop bool) {
	vs := md[PushbackKey]
	if len(vs) == 0 {
		return 0, false, false
	}
	if len(vs) > 1 {
		return 0, true, true
	}
	ms, err := strconv.ParseInt(vs[0], 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange) && vs[0][0] != '-':
		return math.MaxInt64, true, false
	case err != nil || ms < 0:
		return 0, true, true
	case ms > math.MaxInt64/int64(time.Millisecond):
		return math.MaxInt64, true, false
	}
	return time.Duration(ms) * time.Millisecond, true, false
}

// pushbackMS formats a wait as a pushback value: whole milliseconds,
// rounded up.
func pushbackMS(d time.Duration) string {
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return strconv.FormatInt(int64(max(ms, 0)), 10)
}

// pushbackError is a failed attempt whose server asked for a wait before
// the next one: the hint resilience.RetryAfter reads.
type pushbackError struct {
	err  error
	wait time.Duration
}

func (e *pushbackError) Error() string             { return e.err.Error() }
func (e *pushbackError) Unwrap() error             { return e.err }
func (e *pushbackError) RetryAfter() time.Duration { return e.wait }

// callError is what a call returns when the policy's error is not itself a
// status: it reads as the policy's error (errors.Is sees through it) and
// has the status of the last attempt, or of a local rejection, so that
// status.Code and status.FromError give the server's own code and message.
type callError struct {
	err error
	st  *status.Status
}

func (e *callError) Error() string              { return e.err.Error() }
func (e *callError) Unwrap() error              { return e.err }
func (e *callError) GRPCStatus() *status.Status { return e.st }

// returned turns the policy's error into the one a call returns: a status
// error as it is, anything else wrapped with the status it stands for. A
// local rejection is UNAVAILABLE (RESOURCE_EXHAUSTED for a rate limit), the
// end of the caller's context ctx is CANCELLED or DEADLINE_EXCEEDED
// whatever the last attempt's status, and an error that carries no status
// (a codec's, say) is returned as it is.
func returned(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		// The caller's end, during an attempt or a wait between two: its
		// status, whatever the last attempt's was.
		code := status.FromContextError(cerr).Code()
		if statusCode(err) == code {
			if _, ok := err.(grpcStatus); ok {
				return err
			}
		}
		return &callError{err: err, st: status.New(code, err.Error())}
	}
	if _, ok := err.(grpcStatus); ok {
		return err
	}
	var se grpcStatus
	switch {
	case errors.As(err, &se):
		return &callError{err: err, st: se.GRPCStatus()}
	case errors.Is(err, ratelimit.ErrLimited):
		return &callError{err: err, st: status.New(codes.ResourceExhausted, err.Error())}
	case errors.Is(err, resilience.ErrRejected):
		return &callError{err: err, st: status.New(codes.Unavailable, err.Error())}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// An outer timeout of the policy's own, say.
		return &callError{err: err, st: status.New(status.FromContextError(err).Code(), err.Error())}
	}
	return err
}

// classify returns the error an attempt reports to the policy for err:
// resilience.Permanent unless its status is worth retrying and the call may
// be sent again, with the server's pushback as a hint. ctx is the call's
// context, actx the attempt's; the error matches actx's error when actx has
// ended, so a per-attempt timeout and the caller's own end are told apart.
func (cl *client) classify(ctx, actx context.Context, method string, n int, err error, trailer metadata.MD, repeatable, keyed bool) error {
	code := statusCode(err)
	attemptEnded := ctx.Err() == nil && (actx.Err() != nil || (code == codes.DeadlineExceeded && earlier(actx, ctx)))
	if cerr := actx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", err, cerr)
	}
	if ctx.Err() != nil {
		return err // the caller's own end: no policy retries it
	}
	if !cl.retryable(code, attemptEnded, keyed) {
		return resilience.Permanent(err)
	}
	wait, present, stop := parsePushback(trailer)
	if stop {
		return resilience.Permanent(fmt.Errorf("%w: %w (%s %q)", err, errNoPushback, PushbackKey, trailer[PushbackKey]))
	}
	if !repeatable {
		cl.em.Emit(resilience.Event{Kind: resilience.KindGiveUp, Attempt: n, Err: err})
		return resilience.Permanent(fmt.Errorf("%w: %w", err, ErrNotIdempotent))
	}
	if present {
		return &pushbackError{err: err, wait: wait}
	}
	return err
}

// earlier reports whether actx has a deadline before ctx's. A server that
// got the attempt's deadline (grpc-timeout) may end the call a moment
// before the client's own timer fires: its DEADLINE_EXCEEDED is the
// attempt's deadline even though actx has not ended yet.
func earlier(actx, ctx context.Context) bool {
	ad, ok := actx.Deadline()
	if !ok {
		return false
	}
	cd, ok := ctx.Deadline()
	return !ok || ad.Before(cd)
}

// ErrNotIdempotent is matched by the error of a call whose failure would
// have been retried had its method been idempotent or had it carried an
// idempotency key.
var ErrNotIdempotent = errors.New("resiliencegrpc: not retried: the method is not idempotent and the call has no idempotency key")

// retryable reports whether a failed attempt with code may be retried.
// attemptEnded is true when the attempt's own context or deadline ended it
// but not the call's (a per-attempt timeout, a hedge's loser).
func (cl *client) retryable(code codes.Code, attemptEnded, keyed bool) bool {
	switch code {
	case codes.Unavailable:
		return true
	case codes.DeadlineExceeded, codes.Canceled:
		return attemptEnded
	case codes.ResourceExhausted:
		return cl.retryExhausted
	case codes.Aborted:
		return cl.retryAborted || keyed
	}
	return false
}
