package main

import "fmt"

// Twice the server's capacity: without protection its queue outgrows the
// clients' timeout and the retries keep it there, so nearly nothing
// succeeds; a bulkhead in front of it refuses the excess at once and serves
// the rest near capacity.
func Example() {
	sc := tinyScenario()
	for _, name := range []string{"no protection", "static bulkhead"} {
		for _, v := range variants(sc) {
			if v.name == name {
				m := measure(sc, simulate(sc, v, runSource(1, 0)).Seconds)
				fmt.Printf("%-15s %3.0f%% of capacity at %g×\n", name, 100*m.Hold/sc.capacity(), sc.Hold)
			}
		}
	}
	// Output:
	// no protection     0% of capacity at 2×
	// static bulkhead  99% of capacity at 2×
}
