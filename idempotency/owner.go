package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

// The owner sequence — claim, keep the lease alive while the operation runs,
// then record the outcome or release the key — is written once, here, and
// used by Do and Middleware alike.
//
// What it guarantees, and how:
//
//   - Every store call the owner makes after the claim has its own timeout
//     (callTimeout), so a link that goes silent cannot hold the owner; the
//     claim itself is bounded by the caller's context and the store's own
//     timeout.
//   - A claim that fails with a store error is sent again with the same
//     token: the store treats it as a re-send, so a claim whose reply was
//     lost is owned at once rather than orphaned for a lease.
//   - The heartbeat runs under a context that the caller's end does not
//     cancel: a client that hangs up does not stop it while the operation
//     runs. A lost lease is detected by a timer set at the earliest moment
//     the store's lease can end (the send time of the last successful
//     claim or extend, plus the lease), not after a slow Extend returns, and
//     nobody waits on an Extend in flight: it is cancelled and left to end.
//   - Once the operation has returned an outcome to record, the key is never
//     released: the owner retries the record, with the lease still kept
//     alive, until the store takes it, says the lock is lost, or the lease
//     can no longer be proven held. Then the key stays in progress until the
//     lease ends.

// ErrNotRecorded: the operation ran, but its outcome could not be recorded
// (the store failed for longer than the lease could be kept, or the outcome
// could not be encoded or was too large). A store failure leaves the key in
// progress until its lease ends: it is never released, since the operation
// may have had effects. An outcome that cannot be encoded or stored is
// recorded as a placeholder, and replays return an error matching
// ErrNotRecorded. The error wraps the cause.
var ErrNotRecorded = errors.New("idempotency: result not recorded")

const (
	claimTries     = 3
	firstRetry     = 10 * time.Millisecond
	maxRecordRetry = time.Second
	maxCallTimeout = 5 * time.Second
)

// callTimeout bounds one store call of an owner holding a lease of lease: a
// third of it (the heartbeat's period), at most 5s.
func callTimeout(lease time.Duration) time.Duration {
	return min(max(lease/3, time.Millisecond), maxCallTimeout)
}

// owner is the holder of one claimed key.
type owner struct {
	store     Store
	key       string
	lock      Lock
	lease     time.Duration
	retention time.Duration
	emit      emit.Emitter

	opCtx    context.Context // the operation's context
	cancelOp context.CancelCauseFunc
	bg       context.Context // outlives the caller: record and release
	hbCtx    context.Context // bg until stop: the heartbeat's extends
	stopHb   context.CancelFunc

	quit chan struct{} // closed by stop
	done chan struct{} // closed when the heartbeat goroutine ends
	once sync.Once

	mu        sync.Mutex
	lost      bool          // the lease can no longer be proven held
	lostCh    chan struct{} // closed when lost is set
	releaseOK bool          // the operation asked for the key to be released (ReleaseKey)
}

// claimKey claims key, sending the claim again with the same token when the
// store fails, and returns the claim and when the successful claim was sent.
//
// A claim that failed without an answer may still have been applied: the
// store then holds the key in progress under a token nobody knows, and it
// would answer "in progress" for a whole lease. So the token of such a claim
// is kept (pendingClaims), and the next claim of the same key and
// fingerprint in this process takes it over and sends it again: the store
// treats it as a re-send and the orphan is owned at once.
//
// A memory store answers a replay from a read first, without a token or the
// send time (memoryStore).
func claimKey(ctx context.Context, store Store, key, fingerprint string, lease time.Duration) (Claim, time.Time, error) {
	if ms := memoryStore(store); ms != nil {
		if result, ok := replay(ctx, ms, key, fingerprint); ok {
			return Claim{Replayed: true, Result: result}, time.Time{}, nil
		}
	}
	return sendClaim(ctx, store, key, fingerprint, lease)
}

// memoryStore returns store if it is a memory store, whose replays can be
// answered from a read, and nil otherwise. Only the store's own type is
// asked, not an interface it would share with every type that embeds it: a
// wrapper that embeds the memory store to watch or fail its claims sees
// every claim.
func memoryStore(store Store) *MemoryStore {
	ms, _ := store.(*MemoryStore)
	return ms
}

// sendClaim is claimKey without the memory store's read.
func sendClaim(ctx context.Context, store Store, key, fingerprint string, lease time.Duration) (Claim, time.Time, error) {
	pk := pendingKey{key, fingerprint}
	token, ok := pendingClaims.take(pk)
	if !ok {
		token = newToken()
	}
	delay := firstRetry
	for try := 1; ; try++ {
		// The claim is bounded by ctx and by the store's own timeout (the
		// Store contract asks every store for one); it is on every
		// request's path, replays included, so it adds none of its own.
		sent := time.Now()
		c, err := store.Claim(ctx, key, fingerprint, token, lease)
		if err == nil || answered(err) {
			return c, sent, err
		}
		if try == claimTries || !storeFailure(ctx, err) || sleep(ctx, delay) != nil {
			pendingClaims.keep(pk, token, lease)
			return Claim{}, sent, err
		}
		delay *= 2
	}
}

// answered reports whether err is the store's own answer about the key or
// the call's arguments, rather than a failure to answer (an unreachable
// server, a timeout), which leaves open whether the store applied the call.
func answered(err error) bool {
	switch {
	case errors.Is(err, ErrInProgress), errors.Is(err, ErrMismatch), errors.Is(err, ErrLockLost),
		errors.Is(err, ErrInvalidKey), errors.Is(err, ErrInvalidToken), errors.Is(err, ErrInvalidDuration),
		errors.Is(err, ErrResultTooLarge), errors.Is(err, ErrStoreFull):
		return true
	}
	return false
}

// pendingKey names a claim: the key and the request's fingerprint.
type pendingKey struct{ key, fingerprint string }

// pendingClaims holds the tokens of claims that failed without an answer,
// for this process's next claim of the same key and fingerprint. Each token
// is taken by one claimer only, so two requests never share one. It is
// bounded (maxPending tokens, each kept one lease at most) and starts no
// goroutine.
var pendingClaims = pending{tokens: make(map[pendingKey]pendingToken)}

const maxPending = 4096

type pending struct {
	n      atomic.Int64 // len(tokens), read without mu by take
	mu     sync.Mutex
	tokens map[pendingKey]pendingToken
}

type pendingToken struct {
	token   string
	expires time.Time
}

// take removes and returns the live token kept for k, if any.
func (p *pending) take(k pendingKey) (string, bool) {
	// Nearly always nothing is kept: every claim passes here, so it does
	// not take the lock then. A keep that this misses is one that came
	// after the take, as if the lock had ordered them so.
	if p.n.Load() == 0 {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.tokens[k]
	if !ok {
		return "", false
	}
	delete(p.tokens, k)
	p.n.Store(int64(len(p.tokens)))
	return t.token, time.Now().Before(t.expires)
}

// keep remembers token for k for one lease; when full, expired tokens are
// dropped first and a token that still finds no room is not kept.
func (p *pending) keep(k pendingKey, token string, lease time.Duration) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tokens) >= maxPending {
		for pk, t := range p.tokens {
			if !now.Before(t.expires) {
				delete(p.tokens, pk)
			}
		}
		p.n.Store(int64(len(p.tokens)))
		if len(p.tokens) >= maxPending {
			return
		}
	}
	p.tokens[k] = pendingToken{strings.Clone(token), now.Add(lease)} // not its batch
	p.n.Store(int64(len(p.tokens)))
}

// storeFailure reports whether err is a failure of the store, worth
// sending again, rather than its answer or the end of the caller's context.
func storeFailure(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !answered(err)
}

// own starts holding the lease of a claim sent at sent. The operation's
// context derives from ctx (it ends with the caller), carries the key and
// fence ([FenceFrom]) and is cancelled with cause ErrLockLost when the lease
// is lost.
func own(ctx context.Context, store Store, key string, lock Lock, sent time.Time, lease, retention time.Duration, em emit.Emitter) *owner {
	o := &owner{
		store: store, key: key, lock: lock, lease: lease, retention: retention, emit: em,
		quit: make(chan struct{}), done: make(chan struct{}), lostCh: make(chan struct{}),
	}
	o.opCtx, o.cancelOp = context.WithCancelCause(context.WithValue(ctx, ownerCtx{}, o))
	o.bg = context.WithoutCancel(ctx)
	o.hbCtx, o.stopHb = context.WithCancel(o.bg)
	go o.heartbeat(sent.Add(lease))
	return o
}

// heartbeat extends the lease every lease/3 until stop, and marks the lease
// lost when the store says so or when the earliest possible end of the
// store's lease passes without a successful extension.
func (o *owner) heartbeat(deadline time.Time) {
	defer close(o.done)
	tick := time.NewTicker(max(o.lease/3, time.Millisecond))
	defer tick.Stop()
	expiry := time.NewTimer(time.Until(deadline))
	defer expiry.Stop()
	results := make(chan extendResult, 1) // buffered: an abandoned Extend never blocks
	inFlight := false
	for {
		select {
		case <-o.quit:
			return
		case <-expiry.C:
			o.loseLease()
			return
		case <-tick.C:
			if !inFlight {
				inFlight = true
				go o.extend(results)
			}
		case r := <-results:
			inFlight = false
			switch {
			case r.err == nil:
				expiry.Reset(time.Until(r.sent.Add(o.lease)))
			case errors.Is(r.err, ErrLockLost):
				o.loseLease()
				return
			}
		}
	}
}

type extendResult struct {
	sent time.Time
	err  error
}

// extend sends one Extend under its own timeout. It ends as soon as the
// store returns, which is at once when stop cancels o.hbCtx.
func (o *owner) extend(results chan<- extendResult) {
	sent := time.Now()
	ctx, cancel := context.WithTimeout(o.hbCtx, callTimeout(o.lease))
	err := o.store.Extend(ctx, o.key, o.lock, o.lease)
	cancel()
	results <- extendResult{sent, err}
}

func (o *owner) loseLease() {
	o.mu.Lock()
	if !o.lost {
		o.lost = true
		close(o.lostCh)
	}
	o.mu.Unlock()
	o.cancelOp(ErrLockLost)
}

func (o *owner) leaseLost() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lost
}

// stop ends the heartbeat and the operation's context. It is safe to call
// more than once.
func (o *owner) stop() {
	o.once.Do(func() {
		close(o.quit)
		o.stopHb() // cancels an Extend in flight; it is not waited for
		<-o.done
		o.cancelOp(nil)
	})
}

// record stores result as the key's outcome, retrying store failures while
// the lease is held. It returns nil once recorded, an error matching
// ErrLockLost when another owner has the key, an error matching
// ErrResultTooLarge when the store refuses the size, and otherwise an error
// matching ErrNotRecorded. The key is never released.
func (o *owner) record(result []byte) error {
	defer o.stop()
	delay := firstRetry
	giveUp := time.Now().Add(o.lease)
	for {
		ctx, cancel := context.WithTimeout(o.bg, callTimeout(o.lease))
		err := o.store.Complete(ctx, o.key, o.lock, result, o.retention)
		cancel()
		switch {
		case err == nil:
			if delay > firstRetry {
				o.emit.Emit(resilience.Event{Kind: resilience.KindRecorded})
			}
			return nil
		case errors.Is(err, ErrLockLost), errors.Is(err, ErrResultTooLarge):
			return err
		case o.leaseLost(), time.Now().Add(delay).After(giveUp):
			err = fmt.Errorf("%w: %w", ErrNotRecorded, err)
			o.emit.Emit(resilience.Event{Kind: resilience.KindGiveUp, Err: err})
			return err
		}
		o.emit.Emit(resilience.Event{Kind: resilience.KindRetry, Delay: delay, Err: err})
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-o.lostCh: // one last try below: the lock may still be ours
		}
		t.Stop()
		delay = min(2*delay, maxRecordRetry)
	}
}

// release frees the key for a retry, after the operation said it did
// nothing lasting. A failure leaves the key to expire with its lease.
func (o *owner) release() {
	o.stop()
	ctx, cancel := context.WithTimeout(o.bg, callTimeout(o.lease))
	defer cancel()
	if err := o.store.Release(ctx, o.key, o.lock, o.retention); err != nil && storeFailure(ctx, err) {
		_ = o.store.Release(ctx, o.key, o.lock, o.retention) // a re-send is harmless
	}
}

// sleep waits for d or until ctx ends, and returns ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fence is what a running operation can read of its own hold on its key:
// the store key and the fencing counter. Pass Fence downstream with every
// write the operation makes, so that a system that has seen a higher fence
// for the key refuses a write from an owner that lost its lease.
type Fence struct {
	Key   string // the key as stored (scoped by tenant in the middleware)
	Fence int64  // strictly increasing per key across takeovers and releases
}

type ownerCtx struct{}

// FenceFrom returns the key and fence of the claim under which the
// operation runs: [Do]'s fn and a [Middleware] handler can read it from
// their context. ok is false outside such a run.
func FenceFrom(ctx context.Context) (f Fence, ok bool) {
	o, ok := ctx.Value(ownerCtx{}).(*owner)
	if !ok {
		return Fence{}, false
	}
	return Fence{Key: o.key, Fence: o.lock.Fence}, true
}

// ReleaseKey asks, from inside a run ([Do]'s fn or a [Middleware] handler,
// through their context), that the key be released when the run returns
// instead of its outcome being recorded, so that a retry runs the operation
// again. Call it only when the operation did nothing lasting (it validated
// and refused the request, say): a released key runs again. It reports
// whether ctx belongs to such a run.
func ReleaseKey(ctx context.Context) bool {
	o, ok := ctx.Value(ownerCtx{}).(*owner)
	if ok {
		o.mu.Lock()
		o.releaseOK = true
		o.mu.Unlock()
	}
	return ok
}

func (o *owner) releaseAsked() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.releaseOK
}
