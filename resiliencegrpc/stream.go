package resiliencegrpc

import (
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/retry"
)

// StreamClientInterceptor returns a client interceptor for streams. It
// panics with a "resiliencegrpc:" message on what [Config.Validate]
// rejects; as for [UnaryClientInterceptor], turn grpc-go's own retry off
// with grpc.WithDisableRetry().
//
// A policy's Do cannot span a stream's life, so the method's policy guards
// the stream's setup only: a breaker counts, and a retry repeats, the
// failures to open it. After that, until the first response message
// arrives, a failure classified as retryable (as for unary calls: the
// status, the method's idempotency or the call's key, the pushback) opens
// the stream again, after the wait the method's retry policy decides
// (Config.StreamRetry, through its Next), and sends again the messages sent
// so far, and CloseSend if it was called. Once a response message has
// arrived, every error goes to the caller and the kept messages are
// dropped.
//
// Up to Config.MaxReplayBytes of messages are kept for a replay; a stream
// that sends more, or a message that is not a proto message, is not
// re-opened again. A wait that would end after the call's deadline is not
// started. Of the retry policy, Next applies MaxAttempts (the setup's
// attempts count too), RetryIf, Backoff and MaxDelay, but neither
// MaxElapsed nor Budget, which it does not consult.
//
// While an attempt has failed but not yet been replaced, SendMsg keeps the
// message for the next attempt and returns nil; the failure, or the new
// attempt's outcome, comes from RecvMsg. Each attempt's stream runs under a
// context of its own, cancelled when it is replaced, when RecvMsg returns
// an error, or when the call's context ends, so no goroutine outlives the
// stream. As with any grpc-go stream, the caller must read it to an error
// (io.EOF included) or cancel the call's context.
func StreamClientInterceptor(c Config) grpc.StreamClientInterceptor {
	return newClient(c).stream
}

func (cl *client) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	p, err := cl.policy(method)
	if err != nil {
		return nil, err
	}
	ctx, keyed, err := withKey(ctx)
	if err != nil {
		return nil, err
	}
	keyed = keyed || keyMetadata(ctx)
	idempotent := cl.idempotentMethod(method)
	s := &clientStream{cl: cl, ctx: ctx, desc: desc, cc: cc, method: method, streamer: streamer, opts: opts,
		repeatable: keyed || idempotent, keyed: keyed, retry: cl.retryPolicy(method, p)}
	start := cl.em.Start()
	err = p.Do(hedgeable(ctx, idempotent), s.setup)
	s.endSetup(err)
	err = returned(ctx, err)
	cl.em.Call(start, err)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// retryPolicy returns the policy that re-opens method's streams, or nil.
func (cl *client) retryPolicy(method string, p resilience.Policy) *retry.Policy {
	if cl.streamRetry != nil {
		return cl.streamRetry(method)
	}
	rp, _ := p.(*retry.Policy)
	return rp
}

// clientStream is a stream that may be opened again before its first
// response message.
//
// sendMu orders the sending side: SendMsg, CloseSend and the replay on a new
// attempt, so that no message goes to an attempt that is being replaced
// without also being kept for the next. mu guards the rest and is never
// held while a call on an attempt blocks, so a SendMsg stalled by flow
// control does not keep RecvMsg from reading.
type clientStream struct {
	cl         *client
	ctx        context.Context
	desc       *grpc.StreamDesc
	cc         *grpc.ClientConn
	method     string
	streamer   grpc.Streamer
	opts       []grpc.CallOption
	repeatable bool
	keyed      bool
	retry      *retry.Policy

	sendMu    sync.Mutex
	broken    bool  // cur failed on a send; RecvMsg replaces it. Guarded by sendMu
	closeSent bool  // CloseSend was called. Guarded by sendMu
	kept      []any // the messages sent, while re-opening is possible. Guarded by sendMu
	keptBytes int   // guarded by sendMu
	noReplay  bool  // too much was sent to replay. Guarded by sendMu
	setupOver bool  // the policy opening the stream has returned. Guarded by sendMu

	mu       sync.Mutex
	cur      grpc.ClientStream  // the current attempt's stream
	cancel   context.CancelFunc // ends cur's context
	trailer  *metadata.MD       // cur's trailer, once it has ended
	attempts int                // attempts opened
	received bool               // a response message arrived: no more re-opening
}

// setup opens the stream's first attempt under the policy.
func (s *clientStream) setup(actx context.Context) error {
	s.sendMu.Lock() // overlapping attempts (a hedge) open one stream at a time
	defer s.sendMu.Unlock()
	if s.setupOver {
		return resilience.Permanent(errCallOver)
	}
	if s.current() != nil {
		return nil // an overlapping attempt opened it
	}
	// The stream outlives the policy's attempt context (a per-attempt
	// timeout ends it when Do returns), so it runs under a context of its
	// own that actx ends only until the stream is open.
	sctx, cancel := context.WithCancel(s.ctx)
	stop := context.AfterFunc(actx, cancel)
	cs, tr, n, err := s.open(sctx)
	if !stop() || err != nil {
		cancel()
		if err == nil {
			err = context.Cause(actx)
		}
		return s.cl.classify(s.ctx, actx, s.method, n, err, *tr, s.repeatable, s.keyed)
	}
	s.install(cs, cancel, tr)
	return nil
}

// endSetup marks the stream's setup over once the policy has returned: a
// setup attempt that starts after it opens nothing. A policy may return
// before its losers do (a hedge returns with the winner and cancels the
// rest); taking sendMu waits for one that is opening a stream. When the
// call failed, a stream that such a loser opened is ended, since nobody
// gets it.
func (s *clientStream) endSetup(err error) {
	s.sendMu.Lock()
	s.setupOver = true
	s.sendMu.Unlock()
	if err == nil {
		return
	}
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// open opens an attempt's stream under sctx.
func (s *clientStream) open(sctx context.Context) (grpc.ClientStream, *metadata.MD, int, error) {
	s.mu.Lock()
	s.attempts++
	n := s.attempts
	s.mu.Unlock()
	if n > 1 {
		sctx = metadata.AppendToOutgoingContext(sctx, PreviousAttemptsKey, strconv.Itoa(n-1))
	}
	tr := new(metadata.MD)
	opts := append(s.opts[:len(s.opts):len(s.opts)], grpc.Trailer(tr))
	cs, err := s.streamer(sctx, s.desc, s.cc, s.method, opts...)
	return cs, tr, n, err
}

// install makes cs the current attempt, ending the one it replaces.
func (s *clientStream) install(cs grpc.ClientStream, cancel context.CancelFunc, tr *metadata.MD) {
	s.mu.Lock()
	old := s.cancel
	s.cur, s.cancel, s.trailer = cs, cancel, tr
	s.mu.Unlock()
	if old != nil {
		old()
	}
}

// SendMsg sends m on the current attempt and keeps it for the next one
// while the stream may be re-opened.
func (s *clientStream) SendMsg(m any) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	cur, received := s.cur, s.received
	s.mu.Unlock()
	if received {
		s.kept = nil
		return cur.SendMsg(m)
	}
	s.keep(m)
	if s.broken {
		if s.noReplay {
			return io.EOF // RecvMsg reports the failure
		}
		return nil
	}
	err := cur.SendMsg(m)
	if err == io.EOF && s.replayable() {
		// The attempt ended; RecvMsg learns how, and replaces it if it may.
		s.broken = true
		return nil
	}
	return err
}

// replayable reports whether a new attempt could be sent what this one
// was. It is called with sendMu held.
func (s *clientStream) replayable() bool {
	return !s.noReplay && s.repeatable && s.retry != nil
}

// keep records m for a replay, or gives replays up when it is too large or
// cannot be measured. It is called with sendMu held.
func (s *clientStream) keep(m any) {
	if !s.replayable() {
		return
	}
	pm, ok := m.(proto.Message)
	if !ok {
		s.dropKept()
		return
	}
	s.keptBytes += proto.Size(pm)
	if s.keptBytes > s.cl.maxReplay {
		s.dropKept()
		return
	}
	s.kept = append(s.kept, m)
}

func (s *clientStream) dropKept() {
	s.noReplay, s.kept, s.keptBytes = true, nil, 0
}

// CloseSend closes the sending side of the current attempt, and of every
// later one.
func (s *clientStream) CloseSend() error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.closeSent = true
	if s.broken {
		return nil
	}
	return s.current().CloseSend()
}

// RecvMsg receives a message. A failure before the first message may open
// the stream again (see StreamClientInterceptor).
func (s *clientStream) RecvMsg(m any) error {
	for {
		s.mu.Lock()
		cur, tr, n, received := s.cur, s.trailer, s.attempts, s.received
		s.mu.Unlock()
		err := cur.RecvMsg(m)
		if err == nil {
			if !received {
				s.mu.Lock()
				s.received = true
				s.mu.Unlock()
			}
			return nil
		}
		if err == io.EOF || received || !s.reopen(n, err, *tr) {
			s.end()
			return err
		}
	}
}

// reopen decides on attempt n's failure err before any response message,
// waits, and opens and replays a new attempt. It reports false when the
// stream is not to be re-opened, or could not be.
func (s *clientStream) reopen(n int, err error, tr metadata.MD) bool {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	for {
		if !s.replayable() {
			return false
		}
		// Nothing but the call's context ends an attempt before it is
		// replaced, so the call's context is the attempt's too.
		perr := s.cl.classify(s.ctx, s.ctx, s.method, n, err, tr, s.repeatable, s.keyed)
		d, ok := s.retry.Next(n, perr)
		if !ok {
			return false
		}
		s.cl.em.Emit(resilience.Event{Kind: resilience.KindRetry, Attempt: n, Delay: d, Err: perr})
		if !s.wait(d) {
			return false
		}
		sctx, cancel := context.WithCancel(s.ctx)
		cs, trp, m, oerr := s.open(sctx)
		if oerr != nil {
			cancel()
			n, err, tr = m, oerr, *trp
			continue
		}
		// A send that fails here means the new attempt ended too: RecvMsg
		// reads how from it.
		s.broken = s.replay(cs) != nil
		s.install(cs, cancel, trp)
		return true
	}
}

// replay sends the kept messages, and CloseSend if it was called, on cs. It
// is called with mu held.
func (s *clientStream) replay(cs grpc.ClientStream) error {
	for _, m := range s.kept {
		if err := cs.SendMsg(m); err != nil {
			return err
		}
	}
	if s.closeSent {
		return cs.CloseSend()
	}
	return nil
}

// wait waits d, unless the call's context ends first or would end before
// d has passed.
func (s *clientStream) wait(d time.Duration) bool {
	if dl, ok := s.ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// end cancels the current attempt's context once the stream has ended.
func (s *clientStream) end() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
}

// Header returns the current attempt's header metadata.
func (s *clientStream) Header() (metadata.MD, error) { return s.current().Header() }

// Trailer returns the current attempt's trailer metadata.
func (s *clientStream) Trailer() metadata.MD { return s.current().Trailer() }

// Context returns the current attempt's context.
func (s *clientStream) Context() context.Context { return s.current().Context() }

func (s *clientStream) current() grpc.ClientStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}
