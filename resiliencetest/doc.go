// Package resiliencetest helps test failure handling: it injects faults into
// calls and HTTP responses, and records what the policies of this module did
// about them.
//
// # Faults in calls
//
// An [Injector] is a [resilience.Policy] that stands for an unreliable
// dependency. Put it innermost in a chain, and the policies around it see
// the failures it makes up:
//
//	in := resiliencetest.FailFirst(2, nil)                           // the first 2 calls fail with ErrInjected
//	in := resiliencetest.AtRate(0.3, 42, resiliencetest.Fail(nil))   // 30% of calls fail, the same ones for seed 42
//	in := resiliencetest.Always(resiliencetest.Delay(3*time.Second)) // every call waits 3s (or until ctx ends)
//	in := resiliencetest.Always(resiliencetest.Panic("boom"))        // every call panics
//	in := resiliencetest.Cycle(resiliencetest.Fail(nil), resiliencetest.Pass()) // every other call fails
//	in := resiliencetest.Script(resiliencetest.Fail(err), resiliencetest.Delay(time.Second),
//		resiliencetest.Lose(nil), resiliencetest.Panic("boom")) // then every call passes
//
// A [Fault] is what one call gets; [Injector.Calls] and [Injector.Injected]
// count the calls and those that got a fault other than [Pass]. [WithFault]
// overrides the injector for the calls made under a context.
//
// # Faults in HTTP responses
//
// [FaultyHandler] wraps an http.Handler, for an httptest.Server, and injects
// the [HTTPFault]s its [HandlerConfig] names, scripted or at seeded rates:
// error statuses with Retry-After, stalls, dropped connections, responses
// lost after the handler ran, bodies reset halfway, and byzantine responses
// (truncated, corrupted, or with a wrong Content-Digest, which a client
// checks with resiliencehttp.VerifyDigest). [Handler.Stats] counts every
// fault, so a test can account for each one.
//
// # Recording
//
// A [Recorder] is an Observer that keeps every event, and a Policy that
// keeps every attempt: give it to a policy's Config as Observer, and put it
// in the chain just outside the injector. Every policy of this module emits
// a resilience.KindCall event per finished call, so
// rec.Count(resilience.KindCall) counts the calls a policy saw.
//
// # Recipe: a retry schedule inside testing/synctest
//
// Inside a synctest bubble time advances only when every goroutine is
// blocked, so a retry policy's waits take no real time and the fake clock
// shows exactly how long each one lasted:
//
//	func TestRetryBacksOffExponentially(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			var rec resiliencetest.Recorder
//			p := resilience.Chain(
//				retry.New(retry.Config{
//					MaxAttempts: 4,
//					Backoff:     backoff.Exponential(100*time.Millisecond, 2, time.Second),
//					Observer:    &rec,
//				}),
//				&rec,                             // records each attempt and when it started
//				resiliencetest.FailFirst(3, nil), // the dependency fails three times
//			)
//			err := p.Do(context.Background(), func(context.Context) error { return nil })
//
//			require.NoError(t, err)
//			want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
//			assert.Equal(t, want, rec.Delays()) // what the policy announced
//			assert.Equal(t, want, rec.Gaps())   // what it actually waited
//		})
//	}
//
// # Recipe: a breaker's open and half-open cycle inside testing/synctest
//
// A breaker changes state lazily, on the next call after its open time, so
// the test sleeps in the bubble (which takes no real time) and calls again:
//
//	func TestBreakerProbesAfterOpenFor(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			var rec resiliencetest.Recorder
//			b := breaker.New(breaker.Config{ConsecutiveFailures: 2, OpenFor: 5 * time.Second, Observer: &rec})
//			dep := resiliencetest.FailFirst(2, nil)
//			call := func() error {
//				return resilience.Chain(b, dep).Do(context.Background(), func(context.Context) error { return nil })
//			}
//
//			require.ErrorIs(t, call(), resiliencetest.ErrInjected)
//			require.ErrorIs(t, call(), resiliencetest.ErrInjected) // the second failure trips it
//			assert.ErrorIs(t, call(), breaker.ErrOpen)             // rejected without a call
//			time.Sleep(5 * time.Second)                            // OpenFor elapses
//			assert.NoError(t, call())                              // the probe succeeds
//			assert.Equal(t, breaker.Closed, b.State())
//			assert.Equal(t, "[closed->open open->half-open half-open->closed]", fmt.Sprint(rec.StateChanges()))
//			assert.Equal(t, 2, dep.Injected())
//		})
//	}
//
// Both recipes run as tests in this package (TestRecipe...).
package resiliencetest
