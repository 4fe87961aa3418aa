package main

import "testing"

// One run of the default scenario, per variant.
func BenchmarkSimulate(b *testing.B) {
	sc := defaultScenario()
	for _, v := range variants(sc) {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				simulate(sc, v, runSource(1, i))
			}
		})
	}
}
