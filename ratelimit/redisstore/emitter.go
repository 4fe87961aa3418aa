package redisstore

import "github.com/magicmagnets/resilience"

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
