package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrNotRecorded: the operation ran, but its outcome could not be recorded
// (the store failed, the result could not be encoded or was too large). The
// key has been released where possible, so a retry runs the operation again.
// The error wraps the cause.
var ErrNotRecorded = errors.New("idempotency: result not recorded")

// errNilStore is returned by Do when the store is nil.
var errNilStore = errors.New("idempotency: nil store")

// Options configures a [Do] call. The zero value is ready to use.
type Options struct {
	// Fingerprint identifies the request the key stands for (a hash of its
	// arguments, say). A call with the same key and a different fingerprint
	// gets ErrMismatch. Empty matches only empty.
	Fingerprint string
	// Lease is how long a run holds the key before another call may take it
	// over; a heartbeat extends it every Lease/3 while the operation runs.
	// Zero means 30s.
	Lease time.Duration
	// Retention is how long a recorded result is replayed. Zero means 24h.
	Retention time.Duration
	// Wait makes a call that finds the key in progress wait for the result,
	// polling the store (from 10ms, doubling up to 1s, never past the
	// remaining lease) until the caller's context ends. By default it
	// returns the store's error matching ErrInProgress at once.
	Wait bool
	// Codec encodes the result. Nil means JSON.
	Codec Codec
	// Name is copied into every Event.
	Name string
	// Observer receives a KindReplay event for every replay and a
	// KindRejected event for every in-progress or mismatch refusal. Nil
	// means no events.
	Observer resilience.Observer
}

const (
	defaultLease     = 30 * time.Second
	defaultRetention = 24 * time.Hour
	firstPoll        = 10 * time.Millisecond
	maxPoll          = time.Second
)

// Record tags: the first byte of every result Do stores.
const (
	tagValue = 'v' // followed by the codec's encoding of the value
	tagError = 'e' // followed by the permanent error's message
)

// Do runs fn at most once for key and returns its outcome to every call
// with that key while the outcome is retained.
//
// The first call claims the key and runs fn under a context that is
// cancelled, with cause ErrLockLost, if the lease is lost (another call took
// the key over after the heartbeat failed to extend it); its outcome is then
// not recorded and Do returns an error matching ErrLockLost. Otherwise:
//
//   - success: the value is encoded, recorded and returned;
//   - an error marked [Permanent]: it is recorded (as its message) and
//     returned; replays return a [*RecordedError];
//   - any other error: the key is released, so a retry runs fn again;
//   - a panic: the key is released and the panic continues.
//
// A later call with the same key and fingerprint returns the recorded
// outcome without running fn, with replayed true. A call that finds the key
// in progress returns an error matching ErrInProgress, or waits (see
// Options.Wait); a different fingerprint gets ErrMismatch. A store failure
// at claim returns the store's error without running fn; a failure to
// record returns fn's value with an error matching ErrNotRecorded.
func Do[T any](ctx context.Context, store Store, key string, fn func(context.Context) (T, error), opts Options) (v T, replayed bool, err error) {
	switch {
	case fn == nil:
		return v, false, resilience.ErrNilFunc
	case store == nil:
		return v, false, errNilStore
	}
	o := opts.withDefaults()
	c, err := claim(ctx, store, key, &o)
	if err != nil {
		return v, false, err
	}
	if c.Replayed {
		o.emit(resilience.KindReplay, nil)
		v, err = decode[T](c.Result, o.Codec)
		return v, true, err
	}
	v, err = run(ctx, store, key, c.Lock, fn, &o)
	return v, false, err
}

func (o Options) withDefaults() Options {
	if o.Lease <= 0 {
		o.Lease = defaultLease
	}
	if o.Retention <= 0 {
		o.Retention = defaultRetention
	}
	if o.Codec == nil {
		o.Codec = JSON{}
	}
	return o
}

func (o *Options) emit(kind resilience.Kind, err error) {
	if o.Observer != nil {
		o.Observer.Observe(resilience.Event{Policy: "idempotency", Name: o.Name, Kind: kind, Err: err})
	}
}

// claim claims key, waiting for an in-progress run when o.Wait is set.
func claim(ctx context.Context, store Store, key string, o *Options) (Claim, error) {
	delay := firstPoll
	for {
		c, err := store.Claim(ctx, key, o.Fingerprint, o.Lease)
		if err == nil {
			return c, nil
		}
		var ip *InProgressError
		if !errors.As(err, &ip) || !o.Wait {
			if errors.Is(err, ErrInProgress) || errors.Is(err, ErrMismatch) {
				o.emit(resilience.KindRejected, err)
			}
			return Claim{}, err
		}
		t := time.NewTimer(min(delay, ip.Remaining))
		select {
		case <-ctx.Done():
			t.Stop()
			return Claim{}, fmt.Errorf("%w while waiting: %w", context.Cause(ctx), err)
		case <-t.C:
		}
		delay = min(2*delay, maxPoll)
	}
}

// run runs fn as the key's owner and records its outcome.
func run[T any](ctx context.Context, store Store, key string, lock Lock, fn func(context.Context) (T, error), o *Options) (v T, err error) {
	hb := startHeartbeat(ctx, store, key, lock, o.Lease)
	finished := false
	defer func() {
		if finished {
			return
		}
		// fn panicked or called runtime.Goexit: free the key and let the
		// panic go on with its stack intact.
		if !hb.stop() {
			release(ctx, store, key, lock, o.Lease)
		}
	}()
	v, err = fn(hb.ctx)
	finished = true
	if hb.stop() {
		if err != nil {
			return v, fmt.Errorf("%w: operation: %w", ErrLockLost, err)
		}
		return v, ErrLockLost
	}

	if err != nil && !isPermanent(err) {
		release(ctx, store, key, lock, o.Lease)
		return v, err
	}
	result, encErr := encode(v, err, o.Codec)
	if encErr != nil {
		release(ctx, store, key, lock, o.Lease)
		return v, errors.Join(err, fmt.Errorf("%w: encode: %w", ErrNotRecorded, encErr))
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Lease)
	defer cancel()
	if cerr := store.Complete(cctx, key, lock, result, o.Retention); cerr != nil {
		return v, errors.Join(err, fmt.Errorf("%w: %w", ErrNotRecorded, cerr))
	}
	return v, err
}

// release frees key for a retry. It runs even when ctx has ended (the caller
// gave up, but the key must not stay locked until its lease passes), bounded
// by one lease. A failure leaves the key to expire with its lease.
func release(ctx context.Context, store Store, key string, lock Lock, lease time.Duration) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease)
	defer cancel()
	_ = store.Release(cctx, key, lock)
}

// encode builds the stored record of an outcome: a permanent error's
// message, or the encoded value.
func encode[T any](v T, err error, codec Codec) ([]byte, error) {
	if err != nil {
		return append([]byte{tagError}, err.Error()...), nil
	}
	b, err := codec.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+len(b))
	out[0] = tagValue
	copy(out[1:], b)
	return out, nil
}

// decode turns a stored record back into the outcome.
func decode[T any](record []byte, codec Codec) (v T, err error) {
	if len(record) == 0 {
		return v, errors.New("idempotency: empty recorded result")
	}
	switch record[0] {
	case tagError:
		return v, &RecordedError{Message: string(record[1:])}
	case tagValue:
		if err := codec.Unmarshal(record[1:], &v); err != nil {
			return v, fmt.Errorf("idempotency: decode recorded result: %w", err)
		}
		return v, nil
	}
	return v, fmt.Errorf("idempotency: recorded result has unknown tag %q", record[0])
}
