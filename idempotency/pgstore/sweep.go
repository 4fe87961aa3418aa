package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Sweep deletes up to batch rows whose time has passed: completed and
// released records past their retention, and in-progress records a lease
// after their lease ended. It runs under Config.Timeout. It returns how many it deleted; fewer than batch means none are
// left for now. Sweepers on many replicas may run at once: each skips rows
// another is deleting. Sweep panics if batch is not positive.
func (s *Store) Sweep(ctx context.Context, batch int) (deleted int, err error) {
	if batch <= 0 {
		panic(fmt.Sprintf("pgstore: Sweep: batch %d is not positive", batch))
	}
	var tag pgconn.CommandTag
	err = s.bounded(ctx, func(ctx context.Context) (err error) {
		tag, err = s.pool.Exec(ctx, s.sql.sweep, batch)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: sweep: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// RunSweeper sweeps expired rows every interval, in batches of batch rows
// (repeating at once while a batch comes back full), until ctx ends. It
// blocks, running in the caller's goroutine, and returns ctx's error; start
// it with `go` and cancel its context to stop it. A failed sweep (the
// database unreachable, say) is retried at the next interval. RunSweeper
// panics if interval or batch is not positive.
func (s *Store) RunSweeper(ctx context.Context, interval time.Duration, batch int) error {
	switch {
	case interval <= 0:
		panic(fmt.Sprintf("pgstore: RunSweeper: interval %v is not positive", interval))
	case batch <= 0:
		panic(fmt.Sprintf("pgstore: RunSweeper: batch %d is not positive", batch))
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for {
			n, err := s.Sweep(ctx, batch)
			if err != nil || n < batch || ctx.Err() != nil {
				break
			}
		}
		t.Reset(interval)
	}
}
