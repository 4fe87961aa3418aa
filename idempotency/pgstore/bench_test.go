package pgstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

// roundTrips counts the queries and statement preparations a pool sends:
// each is one network round trip.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (*roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// benchStore returns a store on a pool of one connection per caller whose
// round trips are counted.
func benchStore(b *testing.B, callers int) storetest.BenchStore {
	cfg, err := pgxpool.ParseConfig(databaseURL(b))
	if err != nil {
		b.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	cfg.MaxConns, cfg.MinConns = int32(callers), int32(callers)
	return storetest.BenchStore{
		Store:      pgstore.New(openPool(b, cfg), pgstore.Config{}),
		Prefix:     "bench:" + idempotency.NewKey() + ":",
		RoundTrips: rt.n.Load,
	}
}

func BenchmarkNewKey(b *testing.B) { storetest.BenchmarkNewKey(b, benchStore) }
func BenchmarkReplay(b *testing.B) { storetest.BenchmarkReplay(b, benchStore) }

// BenchmarkThroughput runs new keys and replays from 1, 8 and 64 concurrent
// callers, each with a connection of its own, and reports operations per
// second.
func BenchmarkThroughput(b *testing.B) { storetest.BenchmarkThroughput(b, benchStore) }
