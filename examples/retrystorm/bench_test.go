package main

import (
	"math/rand/v2"
	"testing"
)

// One run of part 1 at N = 100, per strategy.
func BenchmarkOccRun100(b *testing.B) {
	for _, s := range strategies() {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				occRun(100, s.backoff, rand.New(rand.NewPCG(1, uint64(i))))
			}
		})
	}
}

// One 80-second run of part 2 (8000 requests), per variant.
func BenchmarkOverloadRun(b *testing.B) {
	sc := shortScenario()
	for _, v := range variants() {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				overload(sc, v, runSource(1, i))
			}
		})
	}
}
