package main

import (
	"fmt"
	"math/rand/v2"
)

// Fifty clients race to write one row. Without backoff, or with backoff but
// no jitter, they collide over and over; jitter spreads them out, so about
// half as many writes are wasted.
func Example() {
	for _, s := range strategies() {
		var calls int
		for run := range uint64(20) {
			c, _ := occRun(50, s.backoff, rand.New(rand.NewPCG(1, run)))
			calls += c
		}
		fmt.Printf("%-26s %5.1f writes for 50 clients\n", s.name, float64(calls)/20)
	}
	// Output:
	// no backoff                 691.4 writes for 50 clients
	// exponential                629.5 writes for 50 clients
	// full jitter                332.0 writes for 50 clients
	// equal jitter               347.1 writes for 50 clients
	// decorrelated jitter        374.7 writes for 50 clients
	// decorrelated-within jitter 374.7 writes for 50 clients
}
