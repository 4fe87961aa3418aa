package resiliencehttp

import (
	"net/http"

	"github.com/magicmagnets/resilience"
)

// Config configures a [Transport]. The zero value of every field means the
// documented default, so Config{} is a usable Transport: http.DefaultTransport
// under a default retry policy (retry.New(retry.Config{})) shared by all
// hosts.
type Config struct {
	// Base sends each attempt. Nil means http.DefaultTransport.
	Base http.RoundTripper

	// Policy guards every request, whatever its host. Nil means a default
	// retry policy, unless PerHost is set. Setting both panics.
	Policy resilience.Policy

	// PerHost, when set, makes the policy of each host (the request URL's
	// host and port, lower-cased, as written: "api.example.com" and
	// "api.example.com:443" are two hosts): it is called once, on the first
	// request to that host, and its result guards every request to it, so
	// each host gets its own breaker. It is not called under a lock.
	PerHost func(host string) resilience.Policy

	// MaxHosts bounds how many per-host policies are kept. When a request
	// to a new host would exceed it, the policy of the least recently used
	// host is dropped; that host gets a fresh policy (and a closed breaker)
	// from PerHost on its next request. Zero means 1000; negative panics.
	MaxHosts int

	// RetryResponse reports whether a response is a failure worth retrying.
	// It must not read the body. Its Request is the request as sent, with
	// the Idempotency-Key header the Transport added. Nil means
	// [RetryableStatus]: 429, 502, 503 and 504, and 409 for a request that
	// sent an Idempotency-Key. A function set here replaces that rule
	// entirely; to add statuses to it, call RetryableStatus from it.
	RetryResponse func(*http.Response) bool

	// ErrorOnExhausted makes RoundTrip return an error (with a
	// [*StatusError] inside) rather than the last response when the policy
	// gives up on a response with a retryable status. False returns the
	// response, so the caller sees the server's real answer.
	ErrorOnExhausted bool

	// DrainLimit is how many bytes of a response with a retryable status
	// are read, so that its connection can be reused. A longer body is
	// closed unread past the limit, which closes its connection. Zero means
	// 64 KiB; negative panics.
	DrainLimit int64

	// BufferBody, when positive, makes each attempt read the body of the
	// response it is about to accept, up to BufferBody bytes, before the
	// policy sees the outcome. A body that fails to arrive whole (the
	// connection reset, fewer bytes than its Content-Length, a read
	// stalled past a per-attempt timeout) is then a failed attempt, retried
	// like a transport error (with the same Idempotency-Key), and the
	// caller gets a body already read in full, served from memory.
	//
	// A body longer than BufferBody (by its Content-Length, or once
	// BufferBody+1 bytes have been read) is passed through as without a
	// buffer: the caller reads the bytes already read and then the rest
	// from the connection, and a cut past that point fails in the caller's
	// read, outside the policy. Set BufferBody above the largest answer
	// that must arrive whole. A body cut short with a Content-Length to
	// match looks complete and cannot be caught here.
	//
	// Responses with a retryable status are drained under DrainLimit
	// instead. Zero means no buffering; negative panics.
	BufferBody int64

	// Name is copied into every event's Name.
	Name string

	// Observer receives a KindCall event for every RoundTrip (Duration, and
	// Err the error RoundTrip returns: a response the policy gave up on but
	// returned is not an error), KindRejected when a request that cannot be
	// repeated would have been sent again, and KindGiveUp when such a
	// request's only attempt failed. Nil means none.
	Observer resilience.Observer
}

const (
	defaultMaxHosts   = 1000
	defaultDrainLimit = 64 << 10
)

// RetryableStatus reports whether resp has one of the statuses worth
// retrying by default: 429 Too Many Requests, 502 Bad Gateway, 503 Service
// Unavailable and 504 Gateway Timeout, and 409 Conflict when resp.Request
// sent an Idempotency-Key header. An idempotency server (such as
// idempotency.Middleware) answers 409, with a short Retry-After, while
// another request with the same key is running: a retry after that delay
// gets the first request's recorded answer. A 409 to a request without a
// key is an answer, not retried.
func RetryableStatus(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		return keyed(resp.Request)
	}
	return false
}
