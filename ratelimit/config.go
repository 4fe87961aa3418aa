package ratelimit

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/magicmagnets/resilience"
)

// Config configures a [Limiter] (with [New]) or a [Keyed] set of limits
// (with [NewKeyed]). Every field's zero value means its documented
// default, except Rate, which must be set: Config{Rate: 10} admits ten
// calls a second, one at a time, and refuses the rest at once.
type Config struct {
	// Name is copied into every Event the limiter emits, and names the
	// policy in the RateLimit headers of [Middleware]. Zero means no name
	// (the headers then say "default").
	Name string

	// Rate is how many calls are admitted per Per, on average. It must be
	// positive and finite; there is no default.
	Rate float64

	// Per is the period Rate is counted over: Rate 100 and Per time.Minute
	// admit 100 calls a minute. Zero means 1s.
	Per time.Duration

	// Burst is how many calls may pass at once after a quiet spell: the
	// bucket's size. Zero means 1 (calls spaced Per/Rate apart).
	Burst int

	// MaxWait is how long a call may wait for its token when none is free;
	// a call whose token would come later, or after its context's deadline,
	// is refused at once. Zero means no wait: a call without a free token
	// is refused.
	MaxWait time.Duration

	// Store, when set, keeps the limit instead of a local bucket, so that
	// every process using the same store and Key shares it (see [Store]).
	// A Store that cannot decide makes the limiter refuse (fail closed).
	// Zero means a local bucket in this process.
	Store Store

	// Key is the key the limit is kept under in Store; it is required with
	// a Store, must not be set without one, and must be at most
	// [MaxKeyLen] bytes. For [Keyed], each key's limit is kept under
	// Key + ":" + key.
	Key string

	// Observer receives the limiter's events: KindRejected for every
	// refusal, with Delay the time until a token, and KindCall for every
	// finished call. Zero means no events, at no cost: no event is built
	// and no clock read for one.
	Observer resilience.Observer
}

// defaultPer is the period a zero Per stands for.
const defaultPer = time.Second

// Validate reports what [New] and [NewKeyed] would panic on: a Rate that
// is not positive and finite; a negative Per, Burst or MaxWait; a Store
// without a Key or a Key without a Store; a Key longer than [MaxKeyLen].
// It returns nil for a configuration New accepts, so that a configuration
// read from a file can be checked before use. The error's message starts
// with "ratelimit: ".
func (c Config) Validate() error {
	if err := c.limit().validate(); err != nil {
		return err
	}
	if c.MaxWait < 0 {
		return fmt.Errorf("ratelimit: negative MaxWait %v", c.MaxWait)
	}
	switch {
	case c.Store != nil && c.Key == "":
		return errors.New("ratelimit: a Store needs a Key")
	case c.Store == nil && c.Key != "":
		return fmt.Errorf("ratelimit: Key %q set without a Store", c.Key)
	case len(c.Key) > MaxKeyLen:
		return fmt.Errorf("ratelimit: Key of %d bytes, longer than MaxKeyLen (%d)", len(c.Key), MaxKeyLen)
	}
	return nil
}

// limit is the Limit c describes, as given (zero fields not filled in).
func (c Config) limit() Limit { return Limit{Rate: c.Rate, Per: c.Per, Burst: c.Burst} }

// validate reports an error for a Limit no Store can keep.
func (l Limit) validate() error {
	switch {
	case math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) || l.Rate <= 0:
		return fmt.Errorf("ratelimit: Rate %v is not positive and finite", l.Rate)
	case l.Per < 0:
		return fmt.Errorf("ratelimit: negative Per %v", l.Per)
	case l.Burst < 0:
		return fmt.Errorf("ratelimit: negative Burst %d", l.Burst)
	}
	return nil
}

// norm returns l with its defaults filled in.
func (l Limit) norm() Limit {
	l.Per = cmp.Or(l.Per, defaultPer)
	l.Burst = cmp.Or(l.Burst, 1)
	return l
}

// maxInterval bounds the emission interval, in nanoseconds: far beyond any
// Duration, and small enough that T·Burst stays finite for every Burst.
const maxInterval = 1e30

// interval is the emission interval T = Per/Rate of a normalised limit,
// in nanoseconds, at most maxInterval.
func (l Limit) interval() float64 { return min(float64(l.Per)/l.Rate, maxInterval) }

// maxNanos bounds a local bucket's interval and tolerance, in
// nanoseconds: over a hundred years, and far enough below math.MaxInt64
// that sums of a few of them do not overflow.
const maxNanos = 1 << 62

// gcraParams returns a normalised limit's emission interval t, tolerance
// tau and due bound in whole nanoseconds for a local bucket, as the Store
// contract counts them: t = Per/Rate rounded to the nearest nanosecond
// (the step of a TAT kept in whole nanoseconds), tau = T·Burst rounded
// down (so a wait next − tau is rounded up), and due the longest
// rel + t a take may reach and be due at once, tau with the nanosecond of
// slack gcra allows for rounding. Each is at most maxNanos.
func (l Limit) gcraParams() (t, tau, due int64) {
	ti := l.interval()
	tauF := ti * float64(l.Burst)
	t = int64(min(math.Round(ti), maxNanos))
	tau = int64(min(math.Floor(tauF), maxNanos))
	due = int64(min(math.Floor(tauF+min(1, ti/2)), maxNanos))
	return t, tau, due
}
