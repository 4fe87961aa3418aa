package hedge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/win"
	"github.com/magicmagnets/resilience/retry"
)

// errPanicked is the outcome of a call whose attempt panicked before the
// call was decided; Do then panics with the attempt's value.
var errPanicked = errors.New("hedge: an attempt panicked")

// run is one hedged call. Attempt 1 runs in a goroutine of its own and each
// hedge in the goroutine of the timer that started it, while the caller
// waits for the outcome (or for its context to end), so that an attempt
// that ignores its cancelled context cannot hold the caller: it ends when
// its fn does, after Do has returned.
type run struct {
	p      *Policy
	parent context.Context // the caller's context
	next   resilience.Policy
	fn     resilience.Func
	delay  time.Duration // the wait before each hedge

	mu       sync.Mutex
	first    attempt
	more     []*attempt    // the hedges started
	started  int           // attempts started, the first included
	running  int           // attempts started and not yet returned
	winner   int           // the attempt that claimed the win, 0 before
	won      bool          // the winner also won every enclosing race
	closed   bool          // the budget refused a hedge: no more start
	done     bool          // the outcome is decided and in err
	err      error         // the outcome once done, else the last failure
	panicked any           // what an attempt panicked with, if one did
	end      chan struct{} // closed once done
	timer    *time.Timer   // starts the next hedge
	wait     time.Duration // the wait the timer was last set to
}

// attempt is one attempt's context: it carries the attempt's cancel and
// answers win.Key with itself, so the code that keeps a result
// (resilience.DoValue, resiliencehttp) can claim the win.
type attempt struct {
	context.Context
	cancel context.CancelFunc
	r      *run
	n      int
}

func (a *attempt) Value(key any) any {
	if key == (win.Key{}) {
		return a
	}
	return a.Context.Value(key)
}

// Claim implements win.Claimer: the first attempt to claim wins, unless
// the outcome is already decided; a race nested in another (a hedge inside
// a hedge) wins only if its call wins the enclosing race too. The lock
// order is inner race before outer, never the reverse.
func (a *attempt) Claim() bool {
	r := a.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.winner == 0 && !r.done {
		r.winner = a.n
		r.won = win.Claim(r.parent)
	}
	return r.winner == a.n && r.won
}

// race runs a hedged call and returns the number of attempts started and
// the outcome.
func (p *Policy) race(ctx context.Context, next resilience.Policy, fn resilience.Func) (int, error) {
	r := &run{p: p, parent: ctx, next: next, fn: fn, delay: p.Delay(), end: make(chan struct{})}
	actx, cancel := context.WithCancel(ctx)
	r.first = attempt{Context: actx, cancel: cancel, r: r, n: 1}

	r.mu.Lock()
	r.started, r.running, r.wait = 1, 1, r.delay
	r.timer = time.AfterFunc(r.delay, r.fire)
	r.mu.Unlock()

	go r.exec(&r.first, -1)

	select {
	case <-r.end: // decided; every other attempt is cancelled
	case <-ctx.Done():
		// The caller gave up: its context's end decides the call, whether
		// or not the attempts honour it.
		r.mu.Lock()
		if !r.done {
			r.finishLocked(ctx.Err())
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.started, r.err
}

// fire starts the next hedge, in the timer's goroutine, unless the call
// is decided, has a winner, or may start no more.
func (r *run) fire() {
	r.mu.Lock()
	if r.done || r.closed || r.winner != 0 || r.started > r.p.maxHedges {
		r.mu.Unlock()
		return
	}
	if cerr := r.parent.Err(); cerr != nil {
		// A failure shortcut the delay, and the caller's context ended
		// since: the attempts still running end with it.
		if r.running == 0 {
			r.finishLocked(cerr)
		}
		r.mu.Unlock()
		return
	}
	n := r.started + 1
	if b := r.p.budget; b != nil && !b.AllowRetry() {
		r.closed = true
		if r.running == 0 { // every attempt failed
			r.finishLocked(r.err)
		}
		r.mu.Unlock()
		defer r.recoverObserver()
		r.p.emit.Emit(resilience.Event{Kind: resilience.KindRejected, Attempt: n, Err: retry.ErrBudgetExhausted})
		return
	}
	actx, cancel := context.WithCancel(r.parent)
	a := &attempt{Context: actx, cancel: cancel, r: r, n: n}
	r.more = append(r.more, a)
	r.started, r.running = n, r.running+1
	wait := r.wait
	if n <= r.p.maxHedges {
		r.arm(r.delay)
	}
	r.mu.Unlock()
	r.exec(a, wait)
}

// recoverObserver, deferred in a hedge's goroutine, hands an observer's
// panic to the caller's goroutine (see keepPanic).
func (r *run) recoverObserver() {
	if v := recover(); v != nil {
		r.keepPanic(v)
	}
}

// keepPanic hands v, a panic in an attempt's goroutine, to race, which
// panics with it in the caller's goroutine, if the call is not decided yet.
// Once it is, the caller may have returned: the panic goes on in the
// goroutine where it happened, as a panic in any goroutine does.
func (r *run) keepPanic(v any) {
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		panic(v)
	}
	r.panicked = v
	r.finishLocked(errPanicked)
	r.mu.Unlock()
}

// arm sets the timer to start the next hedge after d. r.mu is held.
func (r *run) arm(d time.Duration) {
	r.wait = d
	r.timer.Reset(d)
}

// exec runs attempt a and reports its outcome; for a hedge (wait is not
// negative) it first emits KindHedge with Delay wait. A panic of the
// attempt, of RetryIf or of the observer before the call is decided decides
// it; race panics with it in the caller's goroutine (see keepPanic).
func (r *run) exec(a *attempt, wait time.Duration) {
	reported := false
	defer func() {
		if reported {
			return
		}
		v := recover()
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
		if v == nil { // runtime.Goexit: nothing to panic with
			v = errPanicked
		}
		r.keepPanic(v)
	}()
	if wait >= 0 {
		r.p.emit.Emit(resilience.Event{Kind: resilience.KindHedge, Attempt: a.n, Delay: wait})
	}
	err := call(a, r.next, r.fn)
	r.report(a, err)
	reported = true
}

// report takes attempt a's outcome.
func (r *run) report(a *attempt, err error) {
	open := false
	if err == nil {
		a.Claim() // the operation may have claimed it already (DoValue)
	} else if !r.decided() {
		open = r.p.leavesOpen(r.parent, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running--
	switch {
	case r.done:
		// A loser: its result is dropped.
	case err == nil:
		if r.winner == a.n {
			r.finishLocked(nil)
		}
		// Otherwise another attempt won and will decide the call.
	case !open || r.winner == a.n:
		// An answer (a permanent error, one RetryIf rejects), the end of
		// the caller's context, or a winner that failed after claiming.
		r.finishLocked(err)
	default:
		r.err = err
		switch {
		case r.winner != 0:
			// The winner is returning.
		case !r.closed && r.started <= r.p.maxHedges:
			r.arm(0) // the next hedge at once
		case r.running == 0:
			r.finishLocked(err) // every attempt failed: the last failure
		}
	}
}

// decided reports whether the call's outcome is decided.
func (r *run) decided() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// finishLocked decides the call with err: it stops the timer, cancels
// every attempt and wakes the caller. r.mu is held.
func (r *run) finishLocked(err error) {
	r.done, r.err = true, err
	r.timer.Stop()
	r.first.cancel()
	for _, a := range r.more {
		a.cancel()
	}
	close(r.end)
}

// leavesOpen reports whether a failed attempt's err leaves the call open
// to other attempts: it is neither permanent, nor the end of the caller's
// context ctx, nor rejected by RetryIf.
func (p *Policy) leavesOpen(ctx context.Context, err error) bool {
	if resilience.IsPermanent(err) || callerr.Ended(ctx, err) {
		return false
	}
	return p.retryIf == nil || p.retryIf(err)
}
