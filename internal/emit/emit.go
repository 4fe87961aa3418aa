// Package emit is the one way the module's policies send events: an
// Emitter fills in the policy's package and instance name and does nothing
// without an observer, so a policy without one pays a nil check per event
// and never reads the clock for one.
package emit

import (
	"time"

	"github.com/magicmagnets/resilience"
)

// Emitter sends the events of one policy instance. The zero value emits
// nothing. It is safe for concurrent use if its Observer is.
type Emitter struct {
	Policy   string // the emitting package: "retry", "breaker", ...
	Name     string // the instance's configured name
	Observer resilience.Observer
}

// On reports whether events are observed; when it is false no event is
// built.
func (e *Emitter) On() bool { return e.Observer != nil }

// Emit sends ev with the emitter's Policy and Name filled in.
func (e *Emitter) Emit(ev resilience.Event) {
	if e.Observer == nil {
		return
	}
	ev.Policy, ev.Name = e.Policy, e.Name
	e.Observer.Observe(ev)
}

// Start returns the time a call starts, to pass to Call, or the zero time
// when nobody observes: the clock is then not read.
func (e *Emitter) Start() time.Time {
	if e.Observer == nil {
		return time.Time{}
	}
	return time.Now()
}

// Call emits the KindCall event of a call that started at start (from
// Start) and ended with err.
func (e *Emitter) Call(start time.Time, err error) {
	if e.Observer == nil {
		return
	}
	e.Emit(resilience.Event{Kind: resilience.KindCall, Duration: time.Since(start), Err: err})
}
