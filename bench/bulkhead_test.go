package bench

import (
	"context"
	"errors"
	"testing"

	"github.com/failsafe-go/failsafe-go"
	fsbulkhead "github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/semaphore"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/bulkhead"
)

// bulkheadSlots is the concurrency every bulkhead compared allows: our
// default MaxConcurrent.
const bulkheadSlots = 25

// gate is a peer's two-step bulkhead: acquire takes a slot without
// waiting and reports whether it got one; release gives it back.
type gate struct {
	lib     string
	acquire func() bool
	release func()
}

// peerGates returns the peers' bulkheads compared on admit and release,
// each built once with bulkheadSlots slots and no queue.
func peerGates() []gate {
	sem := make(chan struct{}, bulkheadSlots)
	xs := semaphore.NewWeighted(bulkheadSlots)
	fs := fsbulkhead.New[any](bulkheadSlots)
	return []gate{
		{"channel", func() bool {
			select {
			case sem <- struct{}{}:
				return true
			default:
				return false
			}
		}, func() { <-sem }},
		{"xsync", func() bool { return xs.TryAcquire(1) }, func() { xs.Release(1) }},
		{"failsafe", fs.TryAcquirePermit, fs.ReleasePermit},
	}
}

// admitter is one library's admit and release of a call while a slot is
// free: what the benchmark loop measures. admit reports false if refused.
type admitter struct {
	lib   string
	admit func() bool
}

// admitters returns ours (Allow then Permit.Done) and the peers'.
func admitters() []admitter {
	ours := bulkhead.New(bulkhead.Config{MaxConcurrent: bulkheadSlots})
	out := []admitter{{"resilience", func() bool {
		p, err := ours.Allow()
		if err != nil {
			return false
		}
		p.Done()
		return true
	}}}
	for _, g := range peerGates() {
		out = append(out, admitter{g.lib, func() bool {
			if !g.acquire() {
				return false
			}
			g.release()
			return true
		}})
	}
	return out
}

var errBulkheadFull = errors.New("full")

// bulkheadSubjects returns the bulkheads compared on running a call: ours
// through Do, the channel semaphore written as its users write it, and
// failsafe-go's bulkhead through its executor.
func bulkheadSubjects() []subject {
	ours := bulkhead.New(bulkhead.Config{MaxConcurrent: bulkheadSlots})
	sem := make(chan struct{}, bulkheadSlots)
	fs := failsafe.With[any](fsbulkhead.New[any](bulkheadSlots))
	return []subject{
		{"resilience", ours.Do},
		{"channel", func(ctx context.Context, op resilience.Func) error {
			select {
			case sem <- struct{}{}:
			default:
				return errBulkheadFull
			}
			defer func() { <-sem }()
			return op(ctx)
		}},
		{"failsafe", func(ctx context.Context, op resilience.Func) error {
			return fs.Run(func() error { return op(ctx) })
		}},
	}
}

// BenchmarkBulkheadAdmitRelease: take a free slot without waiting and give
// it back — ours is Allow and Permit.Done.
func BenchmarkBulkheadAdmitRelease(b *testing.B) {
	for _, a := range admitters() {
		b.Run("lib="+a.lib, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !a.admit() {
					b.Fatalf("%s: refused with every slot free", a.lib)
				}
			}
		})
	}
}

// BenchmarkBulkheadAdmitReleaseParallel: BenchmarkBulkheadAdmitRelease from
// GOMAXPROCS goroutines at once (fewer than the 25 slots, so none is
// refused); run it with -cpu 1,2 to see how throughput scales. One shared
// counter cannot scale: the figure to watch is ours against the channel
// semaphore's in the same run.
func BenchmarkBulkheadAdmitReleaseParallel(b *testing.B) {
	for _, a := range admitters() {
		b.Run("lib="+a.lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !a.admit() {
						b.Errorf("%s: refused with a slot free", a.lib)
						return
					}
				}
			})
		})
	}
}

// BenchmarkBulkheadDo: a call that succeeds, run in a free slot.
func BenchmarkBulkheadDo(b *testing.B) {
	run(b, bulkheadSubjects(), succeed, nil, false)
}

// BenchmarkBulkheadDoParallel: BenchmarkBulkheadDo from GOMAXPROCS
// goroutines at once.
func BenchmarkBulkheadDoParallel(b *testing.B) {
	ctx := context.Background()
	for _, s := range bulkheadSubjects() {
		b.Run("lib="+s.lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.do(ctx, succeed); err != nil {
						b.Errorf("%s: %v", s.lib, err)
						return
					}
				}
			})
		})
	}
}

func TestEveryBulkheadAdmitsItsSlotsAndRefusesOneMore(t *testing.T) {
	ours := bulkhead.New(bulkhead.Config{MaxConcurrent: bulkheadSlots})
	var held []bulkhead.Permit
	for range bulkheadSlots {
		p, err := ours.Allow()
		require.NoError(t, err)
		held = append(held, p)
	}
	_, err := ours.Allow()
	assert.ErrorIs(t, err, bulkhead.ErrFull)
	for i := range held {
		held[i].Done()
	}
	assert.Zero(t, ours.InFlight())

	for _, g := range peerGates() {
		for i := range bulkheadSlots {
			require.True(t, g.acquire(), "%s: slot %d", g.lib, i+1)
		}
		assert.False(t, g.acquire(), "%s refuses one more", g.lib)
		for range bulkheadSlots {
			g.release()
		}
		assert.True(t, g.acquire(), "%s: free again", g.lib)
		g.release()
	}
	for _, a := range admitters() {
		for range 100 {
			require.True(t, a.admit(), "%s releases what it admits", a.lib)
		}
	}
}

func TestEveryBulkheadSubjectRunsTheCallOnce(t *testing.T) {
	for _, s := range bulkheadSubjects() {
		op, calls := flaky(0)
		assert.NoError(t, s.do(context.Background(), op), s.lib)
		assert.Equal(t, 1, *calls, s.lib)
	}
}
