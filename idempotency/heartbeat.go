package idempotency

import (
	"context"
	"errors"
	"time"
)

// heartbeat keeps an owner's lease alive while its operation runs, and
// cancels the operation's context when the lease is lost.
type heartbeat struct {
	ctx    context.Context // the operation's context
	cancel context.CancelCauseFunc
	quit   chan struct{}
	done   chan struct{}
	lost   bool // written by the goroutine before done is closed
}

// startHeartbeat starts a goroutine that extends the lease every lease/3.
// The lease counts as lost when the store says so (ErrLockLost) or when no
// extension has succeeded for a whole lease: past that point another caller
// may have taken the key over.
func startHeartbeat(ctx context.Context, store Store, key string, lock Lock, lease time.Duration) *heartbeat {
	opCtx, cancel := context.WithCancelCause(ctx)
	hb := &heartbeat{ctx: opCtx, cancel: cancel, quit: make(chan struct{}), done: make(chan struct{})}
	go hb.loop(store, key, lock, lease)
	return hb
}

func (hb *heartbeat) loop(store Store, key string, lock Lock, lease time.Duration) {
	defer close(hb.done)
	tick := time.NewTicker(max(lease/3, time.Millisecond))
	defer tick.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-hb.quit:
			return
		case <-hb.ctx.Done():
			return
		case <-tick.C:
		}
		err := store.Extend(hb.ctx, key, lock, lease)
		switch {
		case err == nil:
			lastOK = time.Now()
			continue
		case errors.Is(err, ErrLockLost), time.Since(lastOK) >= lease:
			hb.lost = true
			hb.cancel(ErrLockLost)
			return
		}
	}
}

// stop ends the heartbeat, waits for its goroutine, cancels the operation's
// context and reports whether the lease was lost.
func (hb *heartbeat) stop() bool {
	close(hb.quit)
	<-hb.done
	hb.cancel(nil)
	return hb.lost
}
