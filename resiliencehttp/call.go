package resiliencehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/win"
)

// call is one RoundTrip: the attempts the policy makes and the response
// kept for the caller.
type call struct {
	t          *Transport
	req        *http.Request   // the request to send, with its key header
	ctx        context.Context // the request's own context
	repeatable bool            // idempotent and rewindable: failures may be retried

	mu       sync.Mutex
	started  int            // attempts started
	bodySent bool           // req.Body was handed to the base transport
	kept     int            // the attempt whose response is resp
	resp     *http.Response // the latest attempt's response, if any
	won      bool           // resp is a success: no failure displaces it
	failure  *StatusError   // resp's failure, when its status is retryable
	last     error          // the latest failure reported to the policy
	sealed   bool           // RoundTrip is returning: no more attempts

	bodyUsed atomic.Bool // body wraps an attempt's response
	body     liveBody    // the body of the first response bound, saving an allocation
	detUsed  atomic.Bool // det carries an attempt's values
	det      detached    // the values of the first attempt detached, likewise
}

func newCall(t *Transport, req *http.Request) *call {
	return &call{
		t:          t,
		req:        req,
		ctx:        req.Context(),
		repeatable: idempotent(req) && rewindable(req),
	}
}

// attempt sends the request once. It is the operation the policy runs.
//
// The request goes out under its own context, which carries actx's values
// but is ended by actx only until the response headers arrive (or, for a
// response with a retryable status, until its body is drained). From then
// on only the request's own context, or the end of the body, ends it: actx
// ends when the policy returns (a per-attempt timeout cancels it at once),
// and the caller has not read the body yet.
//
// When actx ends exactly when the request's own context does (the policy
// added values to it, such as retry's attempt number, but no deadline or
// cancellation of its own), nothing needs detaching: attemptUnder sends it.
func (c *call) attempt(actx context.Context) error {
	n, body, err := c.start()
	if err != nil {
		return err
	}
	if actx.Done() == c.ctx.Done() {
		return c.attemptUnder(actx, n, body)
	}
	rctx, cancel := context.WithCancel(c.detach(actx))
	stop := context.AfterFunc(actx, cancel)
	r := c.req.WithContext(rctx)
	r.Body = body
	resp, err := c.t.base.RoundTrip(r)
	if err != nil {
		stop()
		cancel()
		return c.failed(actx, n, err)
	}
	if resp.Request == nil {
		resp.Request = r
	}
	retryable, drained, err := c.settle(resp)
	if err != nil {
		stop()
		cancel()
		return c.failed(actx, n, err)
	}
	if !retryable && !win.Claim(actx) {
		// A hedge's loser: another attempt's response won the race and
		// is kept. This one is read to the end, within bounds, so its
		// connection goes back to the pool.
		c.discard(resp, drained, stop, cancel)
		return nil
	}
	if !stop() {
		// actx ended meanwhile and cancel is running: the response is lost.
		resp.Body.Close()
		cancel()
		return c.failed(actx, n, context.Cause(actx))
	}
	return c.accept(actx, n, resp, retryable, drained, cancel, false)
}

// accept keeps attempt n's response, won and not lost: its body, unless
// read to its end already, ends the request's context cancel when it is
// closed (bind, with linked as bind takes it); a retryable one is also the
// attempt's failure.
func (c *call) accept(actx context.Context, n int, resp *http.Response, retryable, drained bool, cancel context.CancelFunc, linked bool) error {
	if drained {
		cancel()
	} else {
		resp.Body = c.bind(resp.Body, cancel, linked)
	}
	var serr *StatusError
	if retryable {
		serr = newStatusError(resp)
	}
	c.keep(n, resp, serr)
	if serr == nil {
		return nil
	}
	return c.failed(actx, n, serr)
}

// settle reads what an attempt's response needs read before it is judged:
// a retryable one is drained (within bounds), so its connection can be
// reused; with BufferBody, a kept one is read whole, so that a cut body is
// a failed attempt (err). drained reports that the body is read to its end.
func (c *call) settle(resp *http.Response) (retryable, drained bool, err error) {
	retryable = c.t.retryResp(resp)
	switch {
	case retryable:
		drained = drain(resp, c.t.drainLimit)
	case c.t.bufferBody > 0:
		if drained, err = buffer(resp, c.t.bufferBody); err != nil {
			err = fmt.Errorf("resiliencehttp: %s: reading the body: %w", resp.Status, err)
		}
	}
	return retryable, drained, err
}

// attemptUnder is attempt n when actx ends only with the request's own
// context. The request goes out under a context derived from actx, which
// ends with it, with the end of the body, or at once if the response is
// not kept: no hook ties it to actx, and none to the request's context
// once the response is kept.
func (c *call) attemptUnder(actx context.Context, n int, body io.ReadCloser) error {
	rctx, cancel := context.WithCancel(actx)
	r := c.req.WithContext(rctx)
	r.Body = body
	resp, err := c.t.base.RoundTrip(r)
	if err != nil {
		cancel()
		return c.failed(actx, n, err)
	}
	if resp.Request == nil {
		resp.Request = r
	}
	retryable, drained, err := c.settle(resp)
	if err != nil {
		cancel()
		return c.failed(actx, n, err)
	}
	if !retryable && !win.Claim(actx) {
		c.discard(resp, drained, unlinked, cancel) // a race's loser, as in attempt
		return nil
	}
	if actx.Err() != nil {
		// The request's context ended meanwhile: the response is lost.
		resp.Body.Close()
		cancel()
		return c.failed(actx, n, context.Cause(actx))
	}
	return c.accept(actx, n, resp, retryable, drained, cancel, true)
}

// start numbers a new attempt, drops the previous attempt's response and
// returns the body to send: the request's own the first time, a fresh copy
// from GetBody after. It refuses, permanently and sending nothing, any
// attempt after the first of a request that cannot be repeated, whatever
// policy asked for it, and any attempt once RoundTrip is returning.
func (c *call) start() (int, io.ReadCloser, error) {
	c.mu.Lock()
	if c.sealed {
		c.mu.Unlock()
		return 0, nil, resilience.Permanent(errLate)
	}
	if !c.repeatable && c.started > 0 {
		err := &notRepeated{before: c.last}
		n := c.started
		c.mu.Unlock()
		c.t.emit(resilience.KindRejected, n+1, err)
		return 0, nil, err
	}
	c.started++
	n := c.started
	first := !c.bodySent
	c.bodySent = true
	var prev *http.Response
	if !c.won {
		// A failed attempt's response is dropped once another starts;
		// a success is kept until one displaces it.
		prev = c.resp
		c.resp, c.failure = nil, nil
	}
	c.mu.Unlock()

	if prev != nil {
		prev.Body.Close()
	}
	if first || !hasBody(c.req) {
		return n, c.req.Body, nil
	}
	// Only a repeatable request gets here, and its body has a GetBody.
	body, err := c.req.GetBody()
	if err != nil {
		return n, nil, resilience.Permanent(fmt.Errorf("resiliencehttp: GetBody: %w", err))
	}
	return n, body, nil
}

// discard ends the response of an attempt that lost a hedge's race: its
// body is drained (at most DrainLimit bytes, for at most loserDrainTime,
// unless it was read already) and closed, so its connection can be
// reused, and its context is ended. The drain is detached from the
// attempt's context, which the hedge is about to cancel, and bounded by
// the request's own.
func (c *call) discard(resp *http.Response, drained bool, stop func() bool, cancel context.CancelFunc) {
	defer cancel()
	if stopped := stop(); drained || !stopped {
		resp.Body.Close()
		return
	}
	bound := time.AfterFunc(loserDrainTime, cancel)
	defer bound.Stop()
	if c.ctx.Done() != nil {
		defer context.AfterFunc(c.ctx, cancel)()
	}
	drain(resp, c.t.drainLimit)
	resp.Body.Close()
}

// detach returns a context with actx's values and no deadline or
// cancellation, as context.WithoutCancel does, in the call itself for its
// first attempt.
func (c *call) detach(actx context.Context) context.Context {
	d := &c.det
	if !c.detUsed.CompareAndSwap(false, true) {
		d = new(detached)
	}
	d.values = actx
	return d
}

// detached is context.WithoutCancel's result, which a call can hold.
// Only a context.WithCancel derived from it is ever used, which answers
// context.Cause itself.
type detached struct{ values context.Context }

func (*detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (*detached) Done() <-chan struct{}       { return nil }
func (*detached) Err() error                  { return nil }
func (d *detached) Value(key any) any         { return d.values.Value(key) }

// unlinked is the stop of a context that nothing else ends early.
func unlinked() bool { return true }

// loserDrainTime bounds how long the body of a hedge's losing response is
// read for before its connection is closed instead. The call waits for it.
const loserDrainTime = 50 * time.Millisecond

// bind ties the end of a returned response's context to the end of its body
// or of the request's own context, whichever comes first. The response's
// context already ends with the request's when linked is true.
func (c *call) bind(body io.ReadCloser, cancel context.CancelFunc, linked bool) io.ReadCloser {
	var stop func() bool
	if !linked && c.ctx.Done() != nil {
		stop = context.AfterFunc(c.ctx, cancel)
	}
	lb := &c.body
	if !c.bodyUsed.CompareAndSwap(false, true) {
		lb = new(liveBody) // another attempt's response took the call's
	}
	return bindTo(lb, body, cancel, stop)
}

// keep records attempt n's response as the one to return, unless
// RoundTrip is returning, or resp is a failure and a later attempt has
// already recorded one or any attempt a success. A success (serr nil) has
// won its race, if attempts race (hedging): it displaces whatever is kept.
func (c *call) keep(n int, resp *http.Response, serr *StatusError) {
	c.mu.Lock()
	drop := resp
	switch {
	case c.sealed:
	case serr == nil:
		drop = c.resp
		c.resp, c.failure, c.kept, c.won = resp, nil, n, true
	case !c.won && n >= c.kept:
		drop = c.resp
		c.resp, c.failure, c.kept = resp, serr, n
	}
	c.mu.Unlock()
	if drop != nil {
		drop.Body.Close()
	}
}

// failed returns the error attempt n reports to the policy for err, and
// keeps it for a refusal to repeat. The error matches actx's error when
// actx has ended, so a per-attempt timeout and the caller's own
// cancellation are told apart. A failure of a request that cannot be
// repeated is marked resilience.Permanent ("do not send again"): retry
// policies return it at once, however nested, and a breaker still counts
// it. Nothing here marks a failure as an operation's final outcome
// (idempotency.Final): a transport failure says nothing about whether the
// server ran the request, so it is never recorded as its result.
func (c *call) failed(actx context.Context, n int, err error) error {
	if cerr := actx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", err, cerr)
	}
	if !c.repeatable && !callerr.Ended(c.ctx, err) && !resilience.IsPermanent(err) {
		if idempotent(c.req) {
			err = fmt.Errorf("%w: %w", ErrBodyNotRewindable, err)
		}
		c.t.emit(resilience.KindGiveUp, n, err)
		err = resilience.Permanent(err)
	}
	c.mu.Lock()
	c.last = err
	c.mu.Unlock()
	return err
}

// finish ends the call once the policy returned err, and gives RoundTrip's
// results.
func (c *call) finish(err error) (*http.Response, error) {
	c.mu.Lock()
	c.sealed = true
	resp, serr, bodySent := c.resp, c.failure, c.bodySent
	c.resp, c.failure = nil, nil
	c.mu.Unlock()

	if !bodySent && c.req.Body != nil {
		c.req.Body.Close() // a RoundTripper closes the body, sent or not
	}
	if err == nil {
		if resp == nil {
			return nil, errNoResponse
		}
		return resp, nil
	}
	if resp != nil && serr != nil && !c.t.errOnEnd && c.ctx.Err() == nil && gaveUpOn(err, serr) {
		return resp, nil
	}
	if resp != nil {
		resp.Body.Close()
	}
	return nil, err
}

// gaveUpOn reports whether the policy's error err is, or wraps, serr: the
// policy gave up on that response.
func gaveUpOn(err error, serr *StatusError) bool {
	var se *StatusError
	return errors.As(err, &se) && se == serr
}

func newStatusError(resp *http.Response) *StatusError {
	e := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
	if e.Status == "" {
		e.Status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if h := resp.Header.Get("Retry-After"); h != "" {
		e.Wait, _ = ParseRetryAfter(h, time.Now())
	}
	return e
}
