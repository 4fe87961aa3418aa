package retry

import (
	"errors"
	"time"
)

// The failure path looks for three things in an error's tree: its own
// permanent marker, another package's Permanent() bool marker, and a
// RetryAfter() hint. errors.As would find them, but it takes a pointer to a
// local, which escapes: three allocations for every failed attempt. find
// walks the tree in errors.As's order with plain type assertions instead,
// and falls back to errors.As only when some error in the tree has an As
// method, which only errors.As honours.

// find returns the first error in err's tree for which match is true, and
// whether an error with an As method was passed on the way.
func find(err error, match func(error) bool) (found error, sawAs bool) {
	for err != nil {
		if match(err) {
			return err, sawAs
		}
		if _, ok := err.(interface{ As(any) bool }); ok {
			sawAs = true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if f, as := find(e, match); f != nil || as {
					return f, sawAs || as
				}
			}
			return nil, sawAs
		default:
			return nil, sawAs
		}
	}
	return nil, sawAs
}

func isOwnPermanent(err error) bool {
	_, ok := err.(*permanentError)
	return ok
}

func isMarkedPermanent(err error) bool {
	m, ok := err.(interface{ Permanent() bool })
	return ok && m.Permanent()
}

func hasHint(err error) bool {
	_, ok := err.(interface{ RetryAfter() time.Duration })
	return ok
}

// ownPermanent returns the *permanentError in err's tree, if any.
func ownPermanent(err error) *permanentError {
	f, sawAs := find(err, isOwnPermanent)
	if f != nil {
		return f.(*permanentError)
	}
	if sawAs {
		var p *permanentError
		if errors.As(err, &p) {
			return p
		}
	}
	return nil
}

// markedPermanent reports whether some error in err's tree has a
// Permanent() bool method that returns true.
func markedPermanent(err error) bool {
	f, sawAs := find(err, isMarkedPermanent)
	if f != nil {
		return true
	}
	if sawAs {
		var m interface{ Permanent() bool }
		return errors.As(err, &m) && m.Permanent()
	}
	return false
}

// hint returns the RetryAfter() of the first error in err's tree that has
// one.
func hint(err error) (time.Duration, bool) {
	f, sawAs := find(err, hasHint)
	if f != nil {
		return f.(interface{ RetryAfter() time.Duration }).RetryAfter(), true
	}
	if sawAs {
		var h interface{ RetryAfter() time.Duration }
		if errors.As(err, &h) {
			return h.RetryAfter(), true
		}
	}
	return 0, false
}
