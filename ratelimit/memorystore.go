package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// MemoryStore is a [Store] in this process's memory: the reference
// implementation of the Store contract, for tests and for limits shared by
// the goroutines of one process. It keeps one theoretical arrival time per
// key, at most maxKeys of them; when full it forgets the least recently
// used key, which then starts again as a fresh key with a full bucket. It
// starts no goroutine. It is safe for concurrent use.
type MemoryStore struct {
	mu    sync.Mutex
	epoch time.Time // times are kept as nanoseconds since epoch
	tats  *lru[float64]
}

// defaultMaxKeys is the bound a zero maxKeys stands for, for MemoryStore
// and Keyed.
const defaultMaxKeys = 10000

// NewMemoryStore returns an empty MemoryStore that keeps at most maxKeys
// keys. Zero means 10000; a negative maxKeys panics.
func NewMemoryStore(maxKeys int) *MemoryStore {
	if maxKeys < 0 {
		panic(fmt.Sprintf("ratelimit: NewMemoryStore: negative maxKeys %d", maxKeys))
	}
	if maxKeys == 0 {
		maxKeys = defaultMaxKeys
	}
	return &MemoryStore{epoch: time.Now(), tats: newLRU[float64](maxKeys)}
}

// Take implements [Store]: it decides by GCRA, as the Store contract
// spells out, on this process's clock. It never waits; a ctx that has
// ended gives ctx.Err() and changes nothing, as for every Store.
func (s *MemoryStore) Take(ctx context.Context, key string, l Limit, n int) (Decision, error) {
	if err := checkTake(key, l, n); err != nil {
		return Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return Decision{}, err
	}
	l = l.norm()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := float64(time.Since(s.epoch))
	tat, ok := s.tats.get(key)
	if !ok {
		tat = now
	}
	d, newTAT := gcra(now, tat, l, n)
	if d.Allowed {
		s.tats.set(key, newTAT)
	}
	return d, nil
}

// Len reports how many keys the store keeps.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tats.len()
}

// checkTake reports the error the Store contract gives for a Take of n
// tokens of l under key that no Store can decide.
func checkTake(key string, l Limit, n int) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := l.validate(); err != nil {
		return err
	}
	if burst := l.norm().Burst; n < 1 || n > burst {
		return fmt.Errorf("ratelimit: cannot take %d tokens of a burst of %d", n, burst)
	}
	return nil
}

// checkKey returns an error matching ErrInvalidKey for a key that is empty
// or longer than MaxKeyLen bytes.
func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// gcra decides a Take of n tokens of the normalised limit l at now, for a
// key whose theoretical arrival time is tat (now for a fresh key), and
// returns the decision and the key's new TAT, all in nanoseconds.
func gcra(now, tat float64, l Limit, n int) (Decision, float64) {
	t := l.interval()
	tau := t * float64(l.Burst)
	// slack absorbs the rounding of the TAT to whole nanoseconds, so that a
	// fresh key admits exactly Burst tokens although Burst rounded additions
	// of T may not sum to T·Burst: a nanosecond, or less for the rare T
	// under 2ns.
	slack := min(1, t/2)
	tat = max(tat, now)
	newTAT := math.Round(tat + float64(n)*t) // whole nanoseconds
	d := Decision{Allowed: newTAT-now <= tau+slack}
	if d.Allowed {
		tat = newTAT
	} else {
		d.RetryAfter = nanos(newTAT - tau - now)
	}
	d.ResetAfter = nanos(tat - now)
	d.Remaining = wholeTokens((tau-(tat-now)+slack)/t, l.Burst)
	return d, tat
}

// wholeTokens is f rounded down into [0, burst]. float64(burst) may round
// up past math.MaxInt, so the comparison is made before converting.
func wholeTokens(f float64, burst int) int {
	switch {
	case !(f > 0): // NaN too
		return 0
	case f >= float64(burst):
		return burst
	}
	return int(f)
}

// nanos converts float nanoseconds to a Duration, rounding up so that a
// caller who waits it is never early.
func nanos(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Ceil(f))
}
