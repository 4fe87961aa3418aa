package limitalg

import "time"

// AIMDConfig configures an [AIMD]. Zero fields mean Netflix's AIMDLimit
// defaults.
type AIMDConfig struct {
	Bounds // zero fields: initial 20, min 20, max 200
	// BackoffRatio multiplies the limit on a drop, in [0.5, 1). Zero means 0.9.
	BackoffRatio float64
	// Timeout makes a call that took longer count as a drop. Zero means 5s.
	Timeout time.Duration
}

// AIMD is additive increase, multiplicative decrease, as Netflix's
// AIMDLimit: a drop (or a call slower than Timeout) multiplies the limit by
// BackoffRatio; a success while at least half the limit was in flight adds
// one; a success with less in flight changes nothing, so a client that does
// not use its limit does not grow it.
type AIMD struct {
	b       Bounds
	ratio   float64
	timeout time.Duration
	limit   int
}

// NewAIMD returns an AIMD at c's initial limit.
func NewAIMD(c AIMDConfig) *AIMD {
	b := c.Bounds.withDefaults()
	a := &AIMD{b: b, ratio: c.BackoffRatio, timeout: c.Timeout, limit: b.Initial}
	if a.ratio == 0 {
		a.ratio = 0.9
	}
	if a.timeout == 0 {
		a.timeout = 5 * time.Second
	}
	return a
}

// Update implements [Algorithm].
func (a *AIMD) Update(rtt time.Duration, inflight int, dropped bool) int {
	l := a.limit
	switch {
	case dropped || rtt > a.timeout:
		l = int(float64(l) * a.ratio)
	case inflight*2 >= l:
		l++
	}
	a.limit = int(a.b.clamp(float64(l)))
	return a.limit
}

// Limit implements [Algorithm].
func (a *AIMD) Limit() int { return a.limit }
