package resiliencehttp

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter parses a Retry-After header value (RFC 9110, section
// 10.2.3), either a number of seconds ("120") or an HTTP date
// ("Fri, 31 Dec 1999 23:59:59 GMT"), and returns the delay it asks for,
// measured from now for a date. A date in the past gives zero. A number of
// seconds too large for a time.Duration gives the largest Duration.
//
// The second result is false, and the header should be ignored, when h is
// empty or malformed: a negative or fractional number, a number with a
// sign or unit, a date in no HTTP format.
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if digits(h) {
		secs, err := strconv.ParseInt(h, 10, 64)
		if err != nil || secs > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64, true // only overflow fails on digits
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
