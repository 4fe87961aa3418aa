package resiliencegrpc

import (
	"time"

	"github.com/magicmagnets/resilience"
)

// emitter sends one instance's events, with its package and name filled
// in, and does nothing without an observer. It mirrors the core's own
// emitter, which this module cannot import: a nested module uses only the
// core's exported API, so that any later core release still builds it.
type emitter struct {
	Policy   string
	Name     string
	Observer resilience.Observer
}

// Emit sends ev with the emitter's Policy and Name filled in.
func (e *emitter) Emit(ev resilience.Event) {
	if e.Observer == nil {
		return
	}
	ev.Policy, ev.Name = e.Policy, e.Name
	e.Observer.Observe(ev)
}

// Start returns the time a call starts, to pass to Call, or the zero time
// when nobody observes: the clock is then not read.
func (e *emitter) Start() time.Time {
	if e.Observer == nil {
		return time.Time{}
	}
	return time.Now()
}

// Call emits the KindCall event of a call that started at start and ended
// with err.
func (e *emitter) Call(start time.Time, err error) {
	if e.Observer == nil {
		return
	}
	e.Emit(resilience.Event{Kind: resilience.KindCall, Duration: time.Since(start), Err: err})
}
