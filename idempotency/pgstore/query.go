package pgstore

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// A statement's arguments and scan targets live in one value, so that a
// call allocates that value and one copied buffer for the key (and
// fingerprint), rather than also a heap variable per column, the argument
// lists pgx's variadic calls take, and a boxed copy of each argument: each
// argument is a pointer to a field of the value, of a type that hands pgx
// its value through one of pgtype's valuer interfaces.

// bytea is a bytea argument.
type bytea []byte

// BytesValue implements [pgtype.BytesValuer].
func (b *bytea) BytesValue() ([]byte, error) { return *b, nil }

// text is a text argument.
type text string

// TextValue implements [pgtype.TextValuer].
func (t *text) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: string(*t), Valid: true}, nil
}

// interval is an interval argument, in whole microseconds (see micros).
type interval time.Duration

// IntervalValue implements [pgtype.IntervalValuer].
func (d *interval) IntervalValue() (pgtype.Interval, error) {
	return pgtype.Interval{Microseconds: int64(*d) / int64(time.Microsecond), Valid: true}, nil
}

// claimReply is the row the claim statement returns.
type claimReply struct {
	acquired, same, completed, released, mine bool
	fence, remaining                          int64
	result                                    []byte
}

// claimQuery holds the claim statement's arguments ($1 key, $2
// fingerprint, $3 token, $4 lease) and its reply.
type claimQuery struct {
	key, fingerprint bytea
	token            text
	lease            interval
	args             [4]any
	reply            claimReply
	dest             [8]any // pointers into reply, in the statement's column order
}

func newClaimQuery(key, fingerprint, token string, lease time.Duration) *claimQuery {
	b := make([]byte, 0, len(key)+len(fingerprint))
	b = append(append(b, key...), fingerprint...)
	q := &claimQuery{key: b[:len(key):len(key)], fingerprint: b[len(key):], token: text(token), lease: interval(micros(lease))}
	q.args = [4]any{&q.key, &q.fingerprint, &q.token, &q.lease}
	r := &q.reply
	q.dest = [8]any{&r.acquired, &r.fence, &r.same, &r.completed, &r.released, &r.mine, &r.result, &r.remaining}
	return q
}

// casQuery holds the arguments of a compare-and-set statement ($1 key, $2
// token, $3 fence, then $4 result and $5 retention for a complete, $4 the
// duration otherwise) and how many rows it matched.
type casQuery struct {
	key, result bytea
	token       text
	fence       int64
	d           interval
	args        [5]any
	n           int // arguments in use
	affected    int64
}

// newCasQuery returns the arguments of a release or an extend.
func newCasQuery(key, token string, fence int64, d time.Duration) *casQuery {
	q := &casQuery{key: bytea(key), token: text(token), fence: fence, d: interval(micros(d)), n: 4}
	q.args = [5]any{&q.key, &q.token, &q.fence, &q.d}
	return q
}

// newCompleteQuery returns the arguments of a complete.
func newCompleteQuery(key, token string, fence int64, result []byte, retention time.Duration) *casQuery {
	q := &casQuery{key: bytea(key), result: nonNil(result), token: text(token), fence: fence, d: interval(micros(retention)), n: 5}
	q.args = [5]any{&q.key, &q.token, &q.fence, &q.result, &q.d}
	return q
}
