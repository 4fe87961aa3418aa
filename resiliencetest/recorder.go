package resiliencetest

import (
	"context"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
)

// Recorder collects what policies do, for tests to assert on. It is a
// [resilience.Observer]: give it to a policy's Config and it keeps every
// [resilience.Event] in order. It is also a [resilience.Policy]: put it
// innermost in a chain and it records every attempt that reaches the
// operation, with its start time and result, so a test can check the time
// between attempts.
//
// The zero Recorder is ready to use; a Recorder must not be copied after
// first use. It is safe for concurrent use. [Recorder.WaitFor] blocks on a
// channel, never by sleeping, so it works inside a testing/synctest bubble.
type Recorder struct {
	mu       sync.Mutex
	events   []resilience.Event
	attempts []Attempt
	changed  chan struct{} // closed and replaced on every change; nil until needed
}

// Attempt is one call that reached the operation through a [Recorder].
type Attempt struct {
	Start    time.Time     // when the operation was called
	Duration time.Duration // how long it ran
	Err      error         // what it returned
}

// Transition is one state change of a breaker, as reported by a
// [resilience.KindStateChange] event.
type Transition struct {
	From, To string
}

// String returns "from->to", for example "closed->open".
func (t Transition) String() string { return t.From + "->" + t.To }

// Observe records e.
func (r *Recorder) Observe(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.notifyLocked()
	r.mu.Unlock()
}

// Do runs fn, records it as an [Attempt] and returns its error. A nil fn
// returns an error matching [resilience.ErrNilFunc].
func (r *Recorder) Do(ctx context.Context, fn resilience.Func) error {
	return r.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter]: it records next.Do(ctx, fn) as one
// [Attempt], as Do records fn.
func (r *Recorder) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	start := time.Now()
	err := run(ctx, next, fn)
	a := Attempt{Start: start, Duration: time.Since(start), Err: err}
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.notifyLocked()
	r.mu.Unlock()
	return err
}

// notifyLocked wakes every WaitFor. r.mu must be held.
func (r *Recorder) notifyLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.events...)
}

// Count returns how many recorded events have the given kind.
func (r *Recorder) Count(kind resilience.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// Delays returns the Delay of every [resilience.KindRetry] event, in order:
// the retry schedule as the retry policy announced it.
func (r *Recorder) Delays() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ds []time.Duration
	for _, e := range r.events {
		if e.Kind == resilience.KindRetry {
			ds = append(ds, e.Delay)
		}
	}
	return ds
}

// StateChanges returns the From and To of every
// [resilience.KindStateChange] event, in order.
func (r *Recorder) StateChanges() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []Transition
	for _, e := range r.events {
		if e.Kind == resilience.KindStateChange {
			ts = append(ts, Transition{From: e.From, To: e.To})
		}
	}
	return ts
}

// Attempts returns a copy of the attempts recorded by [Recorder.Do], in the
// order they ended.
func (r *Recorder) Attempts() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

// Gaps returns the time between the starts of consecutive attempts: with a
// retry policy around the Recorder and an operation that returns at once,
// these are the delays the policy actually waited.
func (r *Recorder) Gaps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var gs []time.Duration
	for i := 1; i < len(r.attempts); i++ {
		gs = append(gs, r.attempts[i].Start.Sub(r.attempts[i-1].Start))
	}
	return gs
}

// Reset forgets every event and attempt recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	clear(r.events) // drop references to errors, keep the memory
	clear(r.attempts)
	r.events, r.attempts = r.events[:0], r.attempts[:0]
	r.notifyLocked()
	r.mu.Unlock()
}

// WaitFor blocks until cond, given the events recorded so far, returns true,
// and returns nil; or until ctx ends, and returns ctx's error. cond is
// called at once and again after every change (a new event or attempt, a
// Reset), never while the Recorder's lock is held, so it may call the
// Recorder's other methods.
func (r *Recorder) WaitFor(ctx context.Context, cond func([]resilience.Event) bool) error {
	for {
		r.mu.Lock()
		events := append([]resilience.Event(nil), r.events...)
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()

		if cond(events) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
