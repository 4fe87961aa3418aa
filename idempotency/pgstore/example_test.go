package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// These examples need a PostgreSQL server, so they are compiled but not run.

// Create the table at start-up, then run operations once per key across
// every replica that shares the database.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	if err := pgstore.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	store := pgstore.New(pool, pgstore.Config{})

	id, replayed, err := idempotency.Do(ctx, store, "order-42/charge",
		func(ctx context.Context) (string, error) {
			return "ch_1", nil // charge the card once
		}, idempotency.Options{})
	fmt.Println(id, replayed, err)
}

// CompleteTx records the result in the same transaction as the business
// write: both are kept, or neither.
func ExampleStore_CompleteTx() {
	ctx := context.Background()
	pool, _ := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	defer pool.Close()
	store := pgstore.New(pool, pgstore.Config{})

	c, err := store.Claim(ctx, "order-42/ship", "", idempotency.NewToken(), 30*time.Second)
	if err != nil || c.Replayed {
		return // in progress elsewhere, or already shipped: c.Result says how
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		_ = store.Release(ctx, "order-42/ship", c.Lock, time.Minute)
		return
	}
	defer tx.Rollback(ctx) // no-op after Commit
	_, err = tx.Exec(ctx, "UPDATE orders SET shipped = true WHERE id = 42")
	if err == nil {
		err = store.CompleteTx(ctx, tx, "order-42/ship", c.Lock, []byte("shipped"), 24*time.Hour)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil { // nothing was written: let a retry run it again
		_ = store.Release(ctx, "order-42/ship", c.Lock, time.Minute)
	}
}

// RunSweeper blocks, so it runs in a goroutine of its own until its context
// ends.
func ExampleStore_RunSweeper() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	pool, _ := pgxpool.New(ctx, "postgres://app@127.0.0.1:5432/app")
	defer pool.Close()
	store := pgstore.New(pool, pgstore.Config{})

	done := make(chan error, 1)
	go func() { done <- store.RunSweeper(ctx, time.Minute, 1000) }()
	// ... serve ...
	stop()
	<-done
}
