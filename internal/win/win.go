// Package win lets an attempt that succeeded claim the win of a race
// between attempts running at once (hedging), so that what the caller keeps
// (resilience.DoValue's value, resiliencehttp's response) comes from the
// attempt the racing policy returns, never from a loser.
//
// A racing policy gives each attempt a context whose Value for [Key] is a
// [Claimer]. Code that keeps an attempt's result calls [Claim] with that
// attempt's context (or one derived from it) first, and keeps the result
// only if it returns true.
package win

import "context"

// Key is the context key under which an attempt's [Claimer] is found.
type Key struct{}

// Claimer is one attempt of a race.
type Claimer interface {
	// Claim reports whether this attempt is the winner, making it the
	// winner when none has been chosen yet. It returns the same answer
	// every time it is called for one attempt, is safe for concurrent use
	// and never blocks on anything but a short lock.
	Claim() bool
}

// Claim claims the win for the attempt running under ctx, and reports
// whether it is the winner. Outside any race (no Claimer in ctx) every
// attempt wins.
func Claim(ctx context.Context) bool {
	c, ok := ctx.Value(Key{}).(Claimer)
	return !ok || c.Claim()
}
