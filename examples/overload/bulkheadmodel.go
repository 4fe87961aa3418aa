package main

// bulkheadModel mirrors bulkhead.Bulkhead with MaxConcurrent max and no
// queue: a call is admitted while fewer than max are in flight, and refused
// at once otherwise. In the simulation the server holds every admitted
// request until it has served it, so the bulkhead's calls in flight are the
// requests the server holds, queued or in service. models_test.go checks
// that it decides as the real Bulkhead does.
type bulkheadModel struct {
	max int
}

// allow reports whether a call finding inflight calls in flight is admitted.
func (b *bulkheadModel) allow(inflight int) bool { return inflight < b.max }
