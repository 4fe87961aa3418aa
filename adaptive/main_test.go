package adaptive_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

// ofKind returns the events of kind k that rec has recorded, in order.
func ofKind(rec *resiliencetest.Recorder, k resilience.Kind) []resilience.Event {
	var out []resilience.Event
	for _, e := range rec.Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// wave admits as many calls as l allows, up to n, lets rtt pass (in a
// synctest bubble, at once), and ends each with err. It returns how many
// were admitted.
func wave(l *adaptive.Limiter, n int, rtt time.Duration, err error) int {
	ps := make([]adaptive.Permit, 0, n)
	for range n {
		p, aerr := l.Allow()
		if aerr != nil {
			break
		}
		ps = append(ps, p)
	}
	time.Sleep(rtt)
	for _, p := range ps {
		p.Done(err)
	}
	return len(ps)
}

// waves runs waves that fill l's limit, each taking rtt and ending with err,
// for d of the bubble's time: with the default one-second sample window of
// Vegas and Gradient2, d/time.Second windows.
func waves(l *adaptive.Limiter, d, rtt time.Duration, err error) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		wave(l, l.Limit(), rtt, err)
	}
}

// load runs workers goroutines that call l.Do until stop is closed, each
// call taking latency() (sleeping in the bubble); a refused worker waits a
// millisecond and tries again.
func load(l *adaptive.Limiter, workers int, latency func() time.Duration, stop <-chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := l.Do(context.Background(), func(context.Context) error {
					time.Sleep(latency())
					return nil
				})
				if err != nil {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	return &wg
}

func nan() float64 { return math.NaN() }

func inf() float64 { return math.Inf(1) }
