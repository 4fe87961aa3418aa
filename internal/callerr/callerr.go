// Package callerr tells the caller's own cancellation apart from a failure of
// the dependency.
package callerr

import (
	"context"
	"errors"
)

// Canceled reports whether err is the caller's own cancellation: err matches
// context.Canceled and the caller's context ctx has itself been cancelled.
// A cancellation that came from somewhere else (a server closing the
// connection, an inner timeout) is not the caller's.
func Canceled(ctx context.Context, err error) bool {
	return err != nil && errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// Ended reports whether err is explained by the end of the caller's own
// context: the context is done and err matches its error.
func Ended(ctx context.Context, err error) bool {
	cerr := ctx.Err()
	return err != nil && cerr != nil && errors.Is(err, cerr)
}
