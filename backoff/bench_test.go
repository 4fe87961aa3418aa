package backoff_test

import (
	"testing"
	"time"

	"github.com/magicmagnets/resilience/backoff"
)

// BenchmarkDelay measures one delay of an exponential strategy under each
// jitter, drawn from a seeded source.
func BenchmarkDelay(b *testing.B) {
	for _, j := range jitters {
		s := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(j).WithRand(seeded(1))
		b.Run(j.String(), func(b *testing.B) {
			b.ReportAllocs()
			var prev time.Duration
			for n := 0; b.Loop(); n++ {
				prev = s.Delay(n%20+1, prev)
			}
		})
	}
}
