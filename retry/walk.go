package retry

import (
	"time"

	"github.com/magicmagnets/resilience"
)

// The failure path looks for two things in an error's tree: a Permanent()
// bool marker and a RetryAfter() hint. resilience.IsPermanent and
// resilience.RetryAfter find them with errors.As, which takes a pointer to a
// local interface; the pointer escapes, so each lookup allocates. On Go 1.25,
// the module's minimum, nothing in the standard library looks for a method
// in a tree without that allocation, so this file keeps a walk of its own.
// Go 1.26's errors.AsType allocates nothing: once the module requires Go
// 1.26, this file can go. Measured on a call that fails three times with a
// wrapped error and no wait (BenchmarkExhausted): 4 allocations (120 B) with
// the walk, 9 (200 B) with errors.As, one more for every lookup (each failed
// attempt looks for the marker, and each retried one for a hint too); Next
// on such an error: 0 allocations against 2.
//
// find walks the tree in errors.As's order with plain type assertions. At
// each error errors.As first tries the error itself, then its As method,
// then what it wraps; find does the same up to the first As method it meets,
// and there stops and hands the whole lookup to errors.As (through
// resilience.IsPermanent and resilience.RetryAfter), since only errors.As
// can ask an As method. Every error it passed on the way matched neither the
// target nor, having no As method, could; so the answer is always
// errors.As's own (TestLookupsMatchErrorsAs).

// find returns the first error in err's tree for which match is true, or
// asks for errors.As (defer true) when an As method comes first.
func find(err error, match func(error) bool) (found error, deferToAs bool) {
	for err != nil {
		if match(err) {
			return err, false
		}
		if _, ok := err.(interface{ As(any) bool }); ok {
			return nil, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if f, as := find(e, match); f != nil || as {
					return f, as
				}
			}
			return nil, false
		default:
			return nil, false
		}
	}
	return nil, false
}

func hasPermanent(err error) bool {
	_, ok := err.(interface{ Permanent() bool })
	return ok
}

func hasHint(err error) bool {
	_, ok := err.(interface{ RetryAfter() time.Duration })
	return ok
}

// isPermanent is resilience.IsPermanent without its allocation: the first
// error in err's tree with a Permanent() bool method decides.
func isPermanent(err error) bool {
	f, as := find(err, hasPermanent)
	if as {
		return resilience.IsPermanent(err)
	}
	return f != nil && f.(interface{ Permanent() bool }).Permanent()
}

// hint is resilience.RetryAfter without its allocation: the RetryAfter() of
// the first error in err's tree that has one.
func hint(err error) (time.Duration, bool) {
	f, as := find(err, hasHint)
	if as {
		return resilience.RetryAfter(err)
	}
	if f == nil {
		return 0, false
	}
	return f.(interface{ RetryAfter() time.Duration }).RetryAfter(), true
}
