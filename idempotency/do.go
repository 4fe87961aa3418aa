package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

// errNilStore is returned by Do when the store is nil.
var errNilStore = errors.New("idempotency: nil store")

// Options configures a [Do] call. The zero value is ready to use.
type Options struct {
	// Fingerprint identifies the request the key stands for (a hash of its
	// arguments, say). A call with the same key and a different fingerprint
	// gets ErrMismatch. Empty matches only empty.
	Fingerprint string
	// Lease is how long a run holds the key before another call may take it
	// over; a heartbeat extends it every Lease/3 while the operation runs,
	// and each store call is bounded by Lease/3 (at most 5s). Zero means
	// 30s; negative is an error matching ErrInvalidDuration.
	Lease time.Duration
	// Retention is how long a recorded result is replayed, and how long a
	// released key's fence is kept. Zero means 24h; negative is an error
	// matching ErrInvalidDuration.
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
	// Observer receives a KindCall event for every call (Duration, Err),
	// a KindReplay event for every replay, a KindRejected event for every
	// in-progress or mismatch refusal, and, when the store fails to take an
	// outcome, a KindRetry event (Delay, Err) before each new try, then
	// KindRecorded once it is recorded or KindGiveUp (Err matching
	// ErrNotRecorded) when it cannot be. Nil means no events.
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
	tagValue      = 'v' // followed by the codec's encoding of the value
	tagError      = 'e' // followed by the final error's message
	tagUnrecorded = 'u' // followed by why the outcome could not be stored
)

// Do runs fn at most once for key and returns its outcome to every call
// with that key while the outcome is retained.
//
// The first call claims the key and runs fn under a context that carries
// the key and fence ([FenceFrom]), ends with ctx, and is cancelled with cause
// ErrLockLost if the lease is lost (the store says another owner has it, or
// the heartbeat could not extend it before it could have ended). The
// heartbeat does not depend on ctx: a caller that gives up does not stop it
// while fn runs. When fn returns:
//
//   - success: the value is encoded, recorded and returned;
//   - an error marked [Final]: it is recorded (as its message) and
//     returned; replays return a [*RecordedError];
//   - any other error (resilience.Permanent ones included: "do not send
//     again" is not "this was the outcome"): the key is released, so a retry
//     runs fn again;
//   - a panic: the key is released and the panic continues;
//   - fn called [ReleaseKey]: the key is released whatever fn returned.
//
// Once fn has returned success or a final error the key is never released.
// If the store fails to take the outcome, Do keeps the lease alive and
// retries (under a context that ctx's end does not cancel) until it is
// recorded or the lease can no longer be held; it then returns fn's value
// with an error matching ErrNotRecorded, and the key stays in progress until
// its lease ends. A value that cannot be encoded, or is larger than the
// store accepts, is recorded as a placeholder whose replays return an error
// matching ErrNotRecorded. If another owner took the key over, Do returns an
// error matching ErrLockLost (and fn's error, if any).
//
// A later call with the same key and fingerprint returns the recorded
// outcome without running fn, with replayed true. A call that finds the key
// in progress returns an error matching ErrInProgress, or waits (see
// Options.Wait); a different fingerprint gets ErrMismatch. A store failure
// at claim (after the claim was sent three times with the same owner token)
// returns the store's error without running fn. A done ctx runs nothing.
func Do[T any](ctx context.Context, store Store, key string, fn func(context.Context) (T, error), opts Options) (v T, replayed bool, err error) {
	switch {
	case fn == nil:
		return v, false, resilience.ErrNilFunc
	case store == nil:
		return v, false, errNilStore
	case opts.Lease < 0:
		return v, false, resilience.Permanent(fmt.Errorf("%w: lease %v", ErrInvalidDuration, opts.Lease))
	case opts.Retention < 0:
		return v, false, resilience.Permanent(fmt.Errorf("%w: retention %v", ErrInvalidDuration, opts.Retention))
	}
	if err := ValidateKey(key); err != nil {
		return v, false, resilience.Permanent(err) // no retry makes it valid
	}
	if err := ctx.Err(); err != nil {
		return v, false, err
	}
	o := opts.withDefaults()
	em := emit.Emitter{Policy: "idempotency", Name: o.Name, Observer: o.Observer}
	start := em.Start()
	defer func() { em.Call(start, err) }()
	c, sent, err := claim(ctx, store, key, &o, &em)
	if err != nil {
		return v, false, err
	}
	if c.Replayed {
		em.Emit(resilience.Event{Kind: resilience.KindReplay})
		v, err = decode[T](c.Result, o.Codec)
		return v, true, err
	}
	v, err = run(own(ctx, store, key, c.Lock, sent, o.Lease, o.Retention, em), fn, &o)
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

// claim claims key, waiting for an in-progress run when o.Wait is set.
func claim(ctx context.Context, store Store, key string, o *Options, em *emit.Emitter) (Claim, time.Time, error) {
	delay := firstPoll
	for {
		c, sent, err := claimKey(ctx, store, key, o.Fingerprint, o.Lease)
		if err == nil {
			return c, sent, nil
		}
		var ip *InProgressError
		if !errors.As(err, &ip) || !o.Wait {
			if errors.Is(err, ErrInProgress) || errors.Is(err, ErrMismatch) {
				em.Emit(resilience.Event{Kind: resilience.KindRejected, Err: err})
			}
			return Claim{}, sent, err
		}
		if sleep(ctx, min(delay, ip.Remaining)) != nil {
			return Claim{}, sent, fmt.Errorf("%w while waiting: %w", context.Cause(ctx), err)
		}
		delay = min(2*delay, maxPoll)
	}
}

// run runs fn as the key's owner and records its outcome.
func run[T any](own *owner, fn func(context.Context) (T, error), o *Options) (v T, err error) {
	defer own.stop() // whatever panics (a codec, an observer), the heartbeat ends
	finished := false
	defer func() {
		if !finished {
			// fn panicked or called runtime.Goexit: free the key and let
			// the panic go on with its stack intact.
			own.release()
		}
	}()
	v, err = fn(own.opCtx)
	finished = true

	if (err != nil && !IsFinal(err)) || own.releaseAsked() {
		own.release()
		if own.leaseLost() {
			return v, fmt.Errorf("%w: operation: %w", ErrLockLost, err)
		}
		return v, err
	}
	result, encErr := encode(v, err, o.Codec)
	if encErr != nil {
		return v, errors.Join(err, recordPlaceholder(own, "value could not be encoded", fmt.Errorf("%w: encode: %w", ErrNotRecorded, encErr)))
	}
	rerr := own.record(result)
	switch {
	case rerr == nil:
		return v, err
	case errors.Is(rerr, ErrResultTooLarge):
		return v, errors.Join(err, recordPlaceholder(own, "value too large to store", fmt.Errorf("%w: %w", ErrNotRecorded, rerr)))
	case errors.Is(rerr, ErrLockLost) && err != nil:
		return v, fmt.Errorf("%w: operation: %w", ErrLockLost, err)
	}
	return v, errors.Join(err, rerr)
}

// recordPlaceholder records, in place of an outcome that cannot be stored, a
// short record whose replays return an error saying what happened, and
// returns err (joined with the failure to record even that).
func recordPlaceholder(own *owner, what string, err error) error {
	if rerr := own.record(append([]byte{tagUnrecorded}, what...)); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// encode builds the stored record of an outcome: a final error's message,
// or the encoded value.
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
	case tagUnrecorded:
		return v, fmt.Errorf("%w: first run: %s", ErrNotRecorded, record[1:])
	case tagValue:
		if err := codec.Unmarshal(record[1:], &v); err != nil {
			return v, fmt.Errorf("idempotency: decode recorded result: %w", err)
		}
		return v, nil
	}
	return v, fmt.Errorf("idempotency: recorded result has unknown tag %q", record[0])
}
