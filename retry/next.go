package retry

import (
	"math/rand/v2"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
)

// verdict is what the decision step concluded about a failed attempt.
type verdict uint8

const (
	proceed      verdict = iota // retry after the delay
	stopRetryIf                 // RetryIf said no
	stopAttempts                // MaxAttempts ran out
)

// Next is the decision Do makes after a failed attempt, for callers that
// cannot hand the policy a closure (a stream wrapper that retries only its
// setup, say). attempt is the 1-based number of the attempt that failed
// with err. Next returns the wait before the next attempt and true, or
// false when the policy would not retry: err is nil or permanent
// ([resilience.IsPermanent]), RetryIf says no, or attempt has reached
// MaxAttempts.
//
// The wait is err's hint when it carries a positive one (see
// resilience.RetryAfter), capped at MaxDelay, plus a jitter of up to a
// tenth of the capped hint; otherwise the Backoff strategy's delay for
// attempt, capped at MaxDelay. Next passes the strategy no previous delay,
// as before a first retry, so decorrelated jitter, which grows from the
// previous delay, does not grow across calls of Next (Do passes it).
//
// Next consults neither the clock, MaxElapsed, the context nor the Budget,
// and records nothing: a caller that has a deadline must not start a wait
// that ends after it, as Do does not.
func (p *Policy) Next(attempt int, err error) (time.Duration, bool) {
	if err == nil || resilience.IsPermanent(err) {
		return 0, false
	}
	d, v := p.step(attempt, 0, err)
	return d, v == proceed
}

// step decides on a failed attempt that is not permanent: RetryIf, then
// MaxAttempts, then the delay.
func (p *Policy) step(attempt int, prev time.Duration, err error) (time.Duration, verdict) {
	if p.retryIf != nil && !p.retryIf(err) {
		return 0, stopRetryIf
	}
	if p.maxAttempts > 0 && attempt >= p.maxAttempts {
		return 0, stopAttempts
	}
	return p.delay(attempt, prev, err), proceed
}

// delay returns the wait after the failed attempt: the error's own hint when
// it has a positive one, capped by MaxDelay and jittered upwards; the
// backoff strategy's otherwise, capped by MaxDelay.
func (p *Policy) delay(attempt int, prev time.Duration, err error) time.Duration {
	if h, ok := resilience.RetryAfter(err); ok && h > 0 {
		h = min(h, p.maxDelay)
		return addSaturating(h, p.hintJitter(h))
	}
	return max(0, min(p.backoff.Delay(attempt, prev), p.maxDelay))
}

// hintJitter draws the jitter added to a hint h > 0: U(0, h/10). Every
// caller turned away by one open breaker gets the same hint; without it
// they would all come back in the same instant, and all but the probe would
// be turned away again.
func (p *Policy) hintJitter(h time.Duration) time.Duration {
	var f float64
	if p.rand != nil {
		f = p.rand.Float64()
	} else {
		f = rand.Float64()
	}
	// h/10 < 2^63 and f < 1, so the product stays below h/10.
	return time.Duration(f * float64(h/10))
}

// addSaturating returns a+b for a, b ≥ 0, or the largest duration when the
// sum would overflow.
func addSaturating(a, b time.Duration) time.Duration {
	if b > backoff.MaxDuration-a {
		return backoff.MaxDuration
	}
	return a + b
}
