package resiliencetest

import "context"

type faultKey struct{}

// WithFault returns a copy of ctx under which every [Injector] imposes f on
// the calls made with it, whatever its own rule: use it to force one call to
// fail, stall or panic.
func WithFault(ctx context.Context, f Fault) context.Context {
	return context.WithValue(ctx, faultKey{}, f)
}

// WithoutFaults returns a copy of ctx under which every [Injector] lets the
// calls made with it through: use it for a call that must reach the real
// operation, such as a check at the end of a test. It is WithFault(ctx,
// Pass()).
func WithoutFaults(ctx context.Context) context.Context {
	return WithFault(ctx, Pass())
}

func faultFrom(ctx context.Context) (Fault, bool) {
	f, ok := ctx.Value(faultKey{}).(Fault)
	return f, ok
}
