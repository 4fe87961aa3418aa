package adaptive

import (
	"context"
	"errors"

	"github.com/magicmagnets/resilience"
)

// overloaded is the default of LimiterConfig.IsDrop and
// ThrottlerConfig.IsOverload: err matches context.DeadlineExceeded or
// resilience.ErrRejected, or an error in its tree has a method
// Overload() bool that returns true.
func overloaded(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, resilience.ErrRejected) || markedOverload(err)
}

// markedOverload reports whether the first error in err's tree (in
// errors.As order) with a method Overload() bool returns true from it. It
// walks the tree with type assertions, so that it allocates nothing, up to
// an error with an As method, where it hands over to errors.As.
func markedOverload(err error) bool {
	v, _ := findOverload(err)
	return v
}

// findOverload returns the first marker's answer, and found false when err's
// tree has none.
func findOverload(err error) (v, found bool) {
	for err != nil {
		if o, ok := err.(interface{ Overload() bool }); ok {
			return o.Overload(), true
		}
		if _, ok := err.(interface{ As(any) bool }); ok {
			var o interface{ Overload() bool }
			if errors.As(err, &o) {
				return o.Overload(), true
			}
			return false, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if v, found := findOverload(e); found {
					return v, true
				}
			}
			return false, false
		default:
			return false, false
		}
	}
	return false, false
}
