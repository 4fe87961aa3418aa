// Command ratios reads the CSV that `benchstat -format csv -col /lib` writes
// and prints, for every benchmark, the ratios ours ÷ peer of time per op and
// allocations per op, then how the benchmarks run with -cpu 1,N scale.
//
//	benchstat -format csv -col /lib results.txt | go run ./cmd/ratios
//
// A ratio below 1 means ours is faster (or allocates less). The flag -base
// names our column ("resilience" unless told).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	base := flag.String("base", "resilience", "the column to divide by the others")
	flag.Parse()
	tables, err := parse(os.Stdin)
	if err == nil {
		err = write(os.Stdout, compare(tables, *base), scale(tables))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
