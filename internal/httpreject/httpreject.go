// Package httpreject answers an HTTP request that a server-side policy
// refused: 429 Too Many Requests for a rate limit, 503 Service Unavailable
// for a lack of capacity (a full bulkhead, an adaptive limit, an open
// breaker), with Retry-After when the refusal says when to come back, and
// an application/problem+json body (RFC 9457). Every middleware of the
// module that sheds load answers through it, so they answer alike.
package httpreject

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/magicmagnets/resilience"
)

// rateLimited is implemented by the errors of rate limits
// (ratelimit.ErrLimited's type): their refusal is 429, not 503.
type rateLimited interface{ RateLimited() bool }

// Status is the HTTP status that answers err: 429 when err is a rate
// limit's refusal (an error in its tree has a method RateLimited() bool that
// returns true), 503 otherwise.
func Status(err error) int {
	var rl rateLimited
	if errors.As(err, &rl) && rl.RateLimited() {
		return http.StatusTooManyRequests
	}
	return http.StatusServiceUnavailable
}

// RetryAfter formats a wait as a Retry-After value: whole seconds, rounded
// up, so a client that obeys it never comes back early; a positive wait
// under a second is "1". It returns "" for a wait that is not positive.
func RetryAfter(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return strconv.FormatInt(s, 10)
}

// Write answers a refused request with Status(err), a Retry-After from
// err's hint (resilience.RetryAfter) when it has a positive one, and a
// problem body that names the refusal without echoing err's text.
func Write(w http.ResponseWriter, err error) {
	status := Status(err)
	if d, ok := resilience.RetryAfter(err); ok {
		if v := RetryAfter(d); v != "" {
			w.Header().Set("Retry-After", v)
		}
	}
	title, detail := "Service overloaded", "The server is at capacity; retry later."
	if status == http.StatusTooManyRequests {
		title, detail = "Too many requests", "The request rate limit was reached; retry later."
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"type":"about:blank","title":"` + title + `","status":` + strconv.Itoa(status) + `,"detail":"` + detail + `"}` + "\n"))
}
