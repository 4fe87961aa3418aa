package hedge_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
)

var errFlaky = errors.New("flaky")

// work stands for a call that takes d, or ends early with ctx's error.
func work(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// script gives each attempt, in the order attempts start, its own
// behaviour, and counts the attempts and the cancellations they saw.
type script struct {
	steps     []func(ctx context.Context) error
	n         atomic.Int32
	cancelled atomic.Int32
}

func (s *script) fn(ctx context.Context) error {
	i := int(s.n.Add(1)) - 1
	err := s.steps[min(i, len(s.steps)-1)](ctx)
	if ctx.Err() != nil {
		s.cancelled.Add(1)
	}
	return err
}

func (s *script) calls() int { return int(s.n.Load()) }

// takes returns a step that succeeds after d unless cancelled first.
func takes(d time.Duration) func(context.Context) error {
	return func(ctx context.Context) error { return work(ctx, d) }
}

// fails returns a step that fails with err after d.
func fails(d time.Duration, err error) func(context.Context) error {
	return func(ctx context.Context) error {
		if werr := work(ctx, d); werr != nil {
			return werr
		}
		return err
	}
}

// recorder keeps the events it observes.
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) of(k resilience.Kind) []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []resilience.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
