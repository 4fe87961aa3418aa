package resiliencetest

import "context"

type faultKey struct{}

// WithFault returns a copy of ctx under which every [Injector] imposes f on
// the calls made with it, whatever its own rule: use it to force one call to
// fail, stall or panic, or, with [Pass], to let through a call that must
// reach the real operation, such as a check at the end of a test.
func WithFault(ctx context.Context, f Fault) context.Context {
	return context.WithValue(ctx, faultKey{}, f)
}

func faultFrom(ctx context.Context) (Fault, bool) {
	f, ok := ctx.Value(faultKey{}).(Fault)
	return f, ok
}
