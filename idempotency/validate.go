package idempotency

import (
	"fmt"
	"time"
)

// Validate reports what [NewPolicy] would panic on in c: an error matching
// [ErrInvalidDuration] if Lease or Retention is negative, nil otherwise.
// (NewPolicy also panics on a nil store, which is not part of c.)
func (c Config) Validate() error {
	switch {
	case c.Lease < 0:
		return negativeDuration("Config.Lease", c.Lease)
	case c.Retention < 0:
		return negativeDuration("Config.Retention", c.Retention)
	}
	return nil
}

// Validate reports what [Middleware] would panic on in c: an error if
// MaxBodySize or MaxResponseSize is negative, or one matching
// [ErrInvalidDuration] if Lease, Retention or InProgressRetryAfter is
// negative; nil otherwise. (Middleware also panics on a nil store, which is
// not part of c.)
func (c MiddlewareConfig) Validate() error {
	switch {
	case c.MaxBodySize < 0:
		return negativeSize("MiddlewareConfig.MaxBodySize", c.MaxBodySize)
	case c.MaxResponseSize < 0:
		return negativeSize("MiddlewareConfig.MaxResponseSize", c.MaxResponseSize)
	case c.Lease < 0:
		return negativeDuration("MiddlewareConfig.Lease", c.Lease)
	case c.Retention < 0:
		return negativeDuration("MiddlewareConfig.Retention", c.Retention)
	case c.InProgressRetryAfter < 0:
		return negativeDuration("MiddlewareConfig.InProgressRetryAfter", c.InProgressRetryAfter)
	}
	return nil
}

// Validate reports what [NewMemoryStore] would panic on in c: an error if
// MaxEntries, MaxBytes or MaxResultSize is negative, nil otherwise.
func (c MemoryConfig) Validate() error {
	switch {
	case c.MaxEntries < 0:
		return negativeSize("MemoryConfig.MaxEntries", c.MaxEntries)
	case c.MaxBytes < 0:
		return negativeSize("MemoryConfig.MaxBytes", c.MaxBytes)
	case c.MaxResultSize < 0:
		return negativeSize("MemoryConfig.MaxResultSize", c.MaxResultSize)
	}
	return nil
}

func negativeSize[T int | int64](field string, n T) error {
	return fmt.Errorf("idempotency: negative %s %d", field, n)
}

func negativeDuration(field string, d time.Duration) error {
	return fmt.Errorf("%w: negative %s %v", ErrInvalidDuration, field, d)
}
