// Package ratelimit limits the rate of calls: a token bucket per limiter,
// one per key, or one shared by a fleet through a Store.
package ratelimit
