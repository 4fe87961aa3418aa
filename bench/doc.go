// Package bench runs the same work through this module's policies and
// through peer libraries, side by side, so that benchstat can compare them.
//
// It is a module of its own so that the peers never enter the core module's
// dependencies. Everything lives in _test files: the benchmarks, the checks
// that every peer is configured to do the same work, and the allocation
// checks of the fast paths. `make compare` runs the benchmarks and prints the
// ratios ours ÷ peer; README.md holds the latest figures.
package bench
