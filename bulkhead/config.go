package bulkhead

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/magicmagnets/resilience"
)

// Config configures a [Bulkhead]. The zero value of every field means its
// documented default, so Config{} is a usable bulkhead: 25 calls at once,
// and a 26th refused at once with [ErrFull].
type Config struct {
	// Name is copied into every Event the bulkhead emits. Zero means no
	// name.
	Name string

	// MaxConcurrent is how many calls may run at once. Zero means 25. At
	// most math.MaxInt32.
	MaxConcurrent int

	// MaxQueue is how many callers may wait for a slot while MaxConcurrent
	// calls run; a caller that finds the queue full is refused at once with
	// [ErrFull]. Zero means no queue: a full bulkhead refuses at once. At
	// most math.MaxInt32.
	MaxQueue int

	// MaxWait is how long a queued caller waits for a slot before it is
	// refused with [ErrFull]. Zero means until its context ends (then the
	// caller gets the context's error, not a refusal).
	MaxWait time.Duration

	// LIFO serves the newest waiter first rather than the oldest: under a
	// sustained overload the callers who have waited longest have often
	// given up already, and serving the newest keeps the latency of those
	// served low. Zero (false) means first in, first out.
	LIFO bool

	// Observer receives the bulkhead's events: KindRejected for every
	// refusal and KindCall for every call (see the package doc). Zero means
	// no events, at no cost: no event is built and no clock read for one.
	Observer resilience.Observer
}

// The default a zero Config.MaxConcurrent stands for.
const defaultMaxConcurrent = 25

// Validate reports what [New] would panic on: a negative MaxConcurrent,
// MaxQueue or MaxWait, or a MaxConcurrent or MaxQueue above
// math.MaxInt32. It returns nil for a configuration New accepts, so that a
// configuration read from a file can be checked before use. Each error's
// message starts with "bulkhead: ".
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxConcurrent", int64(c.MaxConcurrent)},
		{"MaxQueue", int64(c.MaxQueue)},
		{"MaxWait", int64(c.MaxWait)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("bulkhead: %s must not be negative, got %d", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxConcurrent", int64(c.MaxConcurrent)},
		{"MaxQueue", int64(c.MaxQueue)},
	} {
		if f.v > math.MaxInt32 {
			errs = append(errs, fmt.Errorf("bulkhead: %s must be at most %d, got %d", f.name, math.MaxInt32, f.v))
		}
	}
	return errors.Join(errs...)
}

// maxConcurrent is MaxConcurrent with its default filled in.
func (c Config) maxConcurrent() int { return cmp.Or(c.MaxConcurrent, defaultMaxConcurrent) }
