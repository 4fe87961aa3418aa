package resiliencetest

import (
	"fmt"
	"net/http"
	"time"
)

// HTTPFault is one thing a [FaultyHandler] does to a request instead of, or
// on top of, serving it normally. The zero HTTPFault serves the request
// normally. HTTPFaults are small values, safe to share.
//
// Faults fall in the three classes of failure: crash and omission ([Status],
// [Stall], [Drop], [LoseResponse], [ResetBody]), which a client sees as an
// error status, a timeout or a transport error; and byzantine ([Truncate],
// [Corrupt], [WrongDigest]), which arrive as well-formed responses with
// wrong content that only the client's own checks can catch.
type HTTPFault struct {
	kind       httpKind
	status     int
	retryAfter time.Duration
	delay      time.Duration
	n          int
	corrupt    func([]byte) []byte
}

type httpKind uint8

const (
	httpPass httpKind = iota
	httpStatus
	httpStall
	httpDrop
	httpLose
	httpReset
	httpTruncate
	httpCorrupt
	httpWrongDigest
	numHTTPKinds
)

var httpKindNames = [numHTTPKinds]string{
	"pass", "status", "stall", "drop", "lose_response", "reset_body", "truncate", "corrupt", "wrong_digest",
}

// Status answers with the status code (and its status text as the body)
// without running the handler. A positive retryAfter sets the Retry-After
// header, in whole seconds rounded up. A code outside 100–999 panics.
func Status(code int, retryAfter time.Duration) HTTPFault {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("resiliencetest: status code %d outside 100-999", code))
	}
	return HTTPFault{kind: httpStatus, status: code, retryAfter: retryAfter}
}

// Stall waits d before running the handler. The wait selects on the
// request's context: if the client gives up first, the handler does not
// run and nothing is written.
func Stall(d time.Duration) HTTPFault { return HTTPFault{kind: httpStall, delay: d} }

// Drop closes the connection without running the handler and without a
// response: the client gets a transport error.
func Drop() HTTPFault { return HTTPFault{kind: httpDrop} }

// LoseResponse runs the handler to completion, then closes the connection
// before any of its response is sent: the server did the work, the client
// gets a transport error and cannot know it was done.
func LoseResponse() HTTPFault { return HTTPFault{kind: httpLose} }

// ResetBody runs the handler, sends its status and headers with a
// Content-Length announcing the whole body, then the first n bytes of the
// body (always at least one byte short), and closes the connection: the
// client's read of the body fails with io.ErrUnexpectedEOF. An empty body
// is announced as one byte that never comes.
func ResetBody(n int) HTTPFault { return HTTPFault{kind: httpReset, n: max(n, 0)} }

// Truncate runs the handler and sends a well-formed response whose body is
// cut to its first n bytes (always at least one byte short, unless the body
// is empty), with a Content-Length to match: no transport error, only
// content that fails to decode or to match its digest.
func Truncate(n int) HTTPFault { return HTTPFault{kind: httpTruncate, n: max(n, 0)} }

// Corrupt runs the handler and sends corrupt(body) instead of its body, as a
// well-formed response. corrupt gets a copy of the body it may change. Like
// a server that computes a wrong answer and vouches for it, the
// Content-Digest (when [HandlerConfig.Digest] is set) matches the corrupted body:
// only the client's validation of the content catches it. See
// [SetJSONField] and [Garble] for ready corruptions. A nil corrupt panics.
func Corrupt(corrupt func(body []byte) []byte) HTTPFault {
	if corrupt == nil {
		panic("resiliencetest: Corrupt with a nil func")
	}
	return HTTPFault{kind: httpCorrupt, corrupt: corrupt}
}

// WrongDigest runs the handler and sends its response unchanged but with a
// Content-Digest header that does not match the body, whether or not
// [HandlerConfig.Digest] is set: resiliencehttp.VerifyDigest reports it.
func WrongDigest() HTTPFault { return HTTPFault{kind: httpWrongDigest} }

// String names f: "pass", "status(503)", "stall(2s)", "drop",
// "lose_response", "reset_body(10)", "truncate(10)", "corrupt",
// "wrong_digest".
func (f HTTPFault) String() string {
	switch f.kind {
	case httpStatus:
		return fmt.Sprintf("status(%d)", f.status)
	case httpStall:
		return fmt.Sprintf("stall(%v)", f.delay)
	case httpReset, httpTruncate:
		return fmt.Sprintf("%s(%d)", httpKindNames[f.kind], f.n)
	default:
		return httpKindNames[f.kind]
	}
}

// needsBody reports whether f runs the handler into a buffer first.
func (f HTTPFault) needsBody() bool {
	switch f.kind {
	case httpLose, httpReset, httpTruncate, httpCorrupt, httpWrongDigest:
		return true
	}
	return false
}

// writeStatus answers r with f's status code.
func (f HTTPFault) writeStatus(w http.ResponseWriter) {
	if f.retryAfter > 0 {
		secs := (f.retryAfter + time.Second - 1) / time.Second
		w.Header().Set("Retry-After", fmt.Sprint(int64(secs)))
	}
	http.Error(w, http.StatusText(f.status), f.status)
}
