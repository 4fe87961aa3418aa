package pgstore

import "time"

// A statement's arguments and scan targets live in one value, so that a
// call allocates that value, its arguments' interfaces and one copied
// buffer for the key (and fingerprint), rather than also a heap variable
// per column and the argument lists pgx's variadic calls take.

// claimReply is the row the claim statement returns.
type claimReply struct {
	acquired, same, completed, released, mine bool
	fence, remaining                          int64
	result                                    []byte
}

// claimQuery holds the claim statement's arguments ($1 key, $2
// fingerprint, $3 token, $4 lease) and its reply.
type claimQuery struct {
	args  [4]any
	reply claimReply
	dest  [8]any // pointers into reply, in the statement's column order
}

func newClaimQuery(key, fingerprint, token string, lease time.Duration) *claimQuery {
	b := make([]byte, 0, len(key)+len(fingerprint))
	b = append(append(b, key...), fingerprint...)
	q := &claimQuery{args: [4]any{b[:len(key):len(key)], b[len(key):], token, micros(lease)}}
	r := &q.reply
	q.dest = [8]any{&r.acquired, &r.fence, &r.same, &r.completed, &r.released, &r.mine, &r.result, &r.remaining}
	return q
}

// casQuery holds the arguments of a compare-and-set statement ($1 key, $2
// token, $3 fence, then $4 result and $5 retention for a complete, $4 the
// duration otherwise) and how many rows it matched.
type casQuery struct {
	args     [5]any
	n        int // arguments in use
	affected int64
}

// newCasQuery returns the arguments of a release or an extend.
func newCasQuery(key, token string, fence int64, d time.Duration) *casQuery {
	return &casQuery{args: [5]any{[]byte(key), token, fence, micros(d)}, n: 4}
}

// newCompleteQuery returns the arguments of a complete.
func newCompleteQuery(key, token string, fence int64, result []byte, retention time.Duration) *casQuery {
	return &casQuery{args: [5]any{[]byte(key), token, fence, nonNil(result), micros(retention)}, n: 5}
}
