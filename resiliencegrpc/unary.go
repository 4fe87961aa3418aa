package resiliencegrpc

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/magicmagnets/resilience"
)

// UnaryClientInterceptor returns a client interceptor that runs every
// unary call under its method's policy (Config.Policy, or Config.PerMethod's
// for the method), each attempt of the policy sending the call once. It
// panics with a "resiliencegrpc:" message on what [Config.Validate]
// rejects. Install it with grpc.WithUnaryInterceptor or
// grpc.WithChainUnaryInterceptor, and turn grpc-go's own retry off with
// grpc.WithDisableRetry(): otherwise a service config that enables retry
// makes grpc-go retry inside each of this policy's attempts, and the
// attempts multiply (grpc-go still retries, transparently, a call that
// never left the client, which is always safe).
//
// An attempt's failure is reported to the policy as retryable when its
// status is UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED because the
// attempt's own context ended (a per-attempt timeout) while the call's had
// not, one of Config.RetryCodes, or ABORTED for a call with an idempotency
// key; and then only when the method is idempotent (Config.Idempotent) or
// the call carries a key. Every other failure is marked
// resilience.Permanent, so no retry policy repeats it: INVALID_ARGUMENT,
// NOT_FOUND, PERMISSION_DENIED and the rest, the end of the caller's own
// context, and a retryable failure of a call that may not be repeated (it
// also matches [ErrNotIdempotent]). A server's pushback trailer
// (grpc-retry-pushback-ms) on a retryable failure becomes the error's
// resilience.RetryAfter hint, which a retry policy waits instead of its
// backoff (up to its MaxDelay); a negative, unreadable or repeated pushback
// makes the failure permanent, as gRFC A6 says.
//
// The key of idempotency.WithKey on the call's context is sent as
// idempotency-key metadata on every attempt; a key metadata cannot carry
// fails the call before anything is sent, with an error matching
// idempotency.ErrInvalidKey. Every attempt after the first carries
// grpc-previous-rpc-attempts.
//
// The call returns nil, or the policy's error: when that is not a status
// error itself, it is wrapped so that status.Code and status.FromError
// give the last attempt's status (a local rejection, such as an open
// breaker, gives UNAVAILABLE, or RESOURCE_EXHAUSTED for a rate limit), and
// errors.Is still finds the policy's errors (breaker.ErrOpen,
// resilience.ErrRejected).
//
// Only methods declared idempotent are hedged: every other call runs under
// hedge.WithoutHedges, a single attempt at a time, since a hedge of a keyed
// call would only be told ABORTED while the first attempt runs. Attempts
// that overlap (under a hedging policy) each decode into a message of their
// own, and the first to succeed is copied into reply; sequential attempts
// decode into reply. reply must then be a proto message. The call returns
// only once every attempt it started has returned, even under a policy
// that returns sooner (a hedge returns with the winner and cancels the
// others, which grpc-go ends promptly), so no attempt writes reply after
// it; an attempt a policy starts after that sends nothing.
func UnaryClientInterceptor(c Config) grpc.UnaryClientInterceptor {
	return newClient(c).unary
}

func (cl *client) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	p, err := cl.policy(method)
	if err != nil {
		return err
	}
	ctx, keyed, err := withKey(ctx)
	if err != nil {
		return err
	}
	idempotent := cl.idempotentMethod(method)
	u := unaryCall{cl: cl, ctx: ctx, method: method, req: req, reply: reply, cc: cc, invoker: invoker, opts: opts,
		idempotent: idempotent, keyed: keyed}
	start := cl.em.Start()
	err = p.Do(hedgeable(ctx, idempotent), u.attempt)
	u.end()
	if err == nil {
		err = u.copyWinner()
	}
	err = returned(ctx, err)
	cl.em.Call(start, err)
	return err
}

// unaryCall is one unary call: the attempts the policy makes.
type unaryCall struct {
	cl         *client
	ctx        context.Context
	method     string
	req, reply any
	cc         *grpc.ClientConn
	invoker    grpc.UnaryInvoker
	opts       []grpc.CallOption
	idempotent bool // the method is declared idempotent
	keyed      bool // withKey added the key of idempotency.WithKey, or found one

	attempts atomic.Int32
	inflight atomic.Int32
	// over is set once the policy has returned: an attempt that starts
	// after it sends nothing. idle, guarded by mu, is closed when the last
	// attempt still running then returns.
	over atomic.Bool
	idle chan struct{}

	// The call options and trailer of an attempt that runs alone, kept
	// here so that it allocates neither.
	trailer metadata.MD
	optBuf  [4]grpc.CallOption

	mu     sync.Mutex
	won    bool          // an attempt succeeded, guarded by mu
	winner proto.Message // its message when it was not reply, guarded by mu
}

// attempt sends the call once. It is the operation the policy runs.
func (u *unaryCall) attempt(actx context.Context) error {
	alone := u.inflight.Add(1) == 1
	defer u.returned()
	if u.over.Load() {
		return resilience.Permanent(errCallOver)
	}
	n := int(u.attempts.Add(1))
	out := u.reply
	if !alone {
		// Another attempt is decoding into reply: this one gets its own.
		if m, ok := u.reply.(proto.Message); ok {
			out = m.ProtoReflect().New().Interface()
		}
	}
	if n > 1 {
		actx = metadata.AppendToOutgoingContext(actx, PreviousAttemptsKey, strconv.Itoa(n-1))
	}
	trailer, opts := u.trailerOpts(alone)
	err := u.invoker(actx, u.method, u.req, out, u.cc, opts...)
	if err != nil {
		// Whether the caller put a key in the metadata matters only now:
		// a call that succeeds at once does not copy its metadata to see.
		keyed := u.keyed || keyMetadata(u.ctx)
		return u.cl.classify(u.ctx, actx, u.method, n, err, *trailer, keyed || u.idempotent, keyed)
	}
	u.mu.Lock()
	if !u.won {
		u.won = true
		if out != u.reply {
			u.winner = out.(proto.Message)
		}
	}
	u.mu.Unlock()
	return nil
}

// errCallOver is what an attempt that a policy starts after its Do has
// returned fails with, sending nothing.
var errCallOver = errors.New("resiliencegrpc: the call has already returned")

// returned ends an attempt: the last one to return after the policy did
// wakes end.
func (u *unaryCall) returned() {
	if u.inflight.Add(-1) == 0 && u.over.Load() {
		u.mu.Lock()
		if u.idle != nil {
			close(u.idle)
			u.idle = nil
		}
		u.mu.Unlock()
	}
}

// end marks the call over once the policy has returned, and waits for the
// attempts still running to return: a policy may return before its losers
// do (a hedge returns with the winner and cancels the rest), and a loser
// may be decoding into reply. A grpc-go attempt ends promptly once its
// context is cancelled. over is set before inflight is read, and an
// attempt's count is dropped before over is read, so one of the two sees
// the other.
func (u *unaryCall) end() {
	u.over.Store(true)
	if u.inflight.Load() == 0 {
		return
	}
	u.mu.Lock()
	if u.inflight.Load() == 0 {
		u.mu.Unlock()
		return
	}
	idle := make(chan struct{})
	u.idle = idle
	u.mu.Unlock()
	<-idle
}

// trailerOpts returns where an attempt's trailer goes and its call
// options: the call's own options and grpc.Trailer. An attempt that runs
// alone uses the call's buffers; one that overlaps another gets its own.
func (u *unaryCall) trailerOpts(alone bool) (*metadata.MD, []grpc.CallOption) {
	if alone && len(u.opts) < len(u.optBuf) {
		u.trailer = nil
		opts := append(u.optBuf[:0], u.opts...)
		return &u.trailer, append(opts, grpc.Trailer(&u.trailer))
	}
	tr := new(metadata.MD)
	return tr, append(u.opts[:len(u.opts):len(u.opts)], grpc.Trailer(tr))
}

// copyWinner copies into reply the message of the attempt that succeeded
// first, when it decoded into a message of its own. It runs after end, so
// no attempt is running.
func (u *unaryCall) copyWinner() error {
	if u.winner == nil {
		return nil
	}
	m := u.reply.(proto.Message)
	proto.Reset(m)
	proto.Merge(m, u.winner)
	return nil
}
