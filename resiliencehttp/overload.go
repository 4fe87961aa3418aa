package resiliencehttp

import (
	"errors"
	"net/http"

	"github.com/magicmagnets/resilience"
)

// IsOverload reports whether err says a request was refused for want of
// capacity: the server answered 429 Too Many Requests or 503 Service
// Unavailable (an attempt's [*StatusError]), or a policy on the way refused
// it locally (err matches [resilience.ErrRejected]: an open breaker, a full
// bulkhead, a rate limit, an adaptive limit or throttle). Other statuses
// (500, 502, 504) and transport errors are not overload: the server may be
// broken, not busy.
//
// It is the classification for adaptive policies in a Transport's Policy:
//
//	th := adaptive.NewThrottler(adaptive.ThrottlerConfig{IsOverload: resiliencehttp.IsOverload})
//	client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{Policy: resilience.Chain(retry.New(retry.Config{}), th)})}
//
// and likewise for adaptive.LimiterConfig.IsDrop. The adaptive defaults
// already include it (they recognise a StatusError through its Overload
// method) and count an attempt's timeout (context.DeadlineExceeded) as
// overload too; set this function to leave timeouts out. A policy outside
// the Transport does not see a status at all unless
// Config.ErrorOnExhausted is set: put the throttler or limiter in the
// Transport's Policy, where every attempt's StatusError reaches it.
func IsOverload(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, resilience.ErrRejected) {
		return true
	}
	var se *StatusError
	return errors.As(err, &se) && se.Overload()
}

// Overload reports whether the status is 429 Too Many Requests or 503
// Service Unavailable: the server refused the request for want of capacity.
// The adaptive package's default classifiers read this method.
func (e *StatusError) Overload() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable
}
