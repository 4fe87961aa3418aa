package main

import (
	"os"
	"strings"
)

// Example prints the ratios for benchstat's CSV of one benchmark run through
// ours and one peer.
func Example() {
	csv := `,resilience,,peer,,,
,sec/op,CI,sec/op,CI,vs base,P
RetrySuccess-2,5e-08,∞,1e-06,∞,-95%,p=0.000 n=10
,resilience,,peer,,,
,allocs/op,CI,allocs/op,CI,vs base,P
RetrySuccess-2,1,∞,15,∞,-93%,p=0.000 n=10
`
	tables, _ := parse(strings.NewReader(csv))
	_ = write(os.Stdout, compare(tables, "resilience"), scale(tables))
	// Output:
	// | benchmark      | vs   | ours ns/op | theirs ns/op | ns/op ours ÷ theirs | ours allocs/op | theirs allocs/op | allocs ours ÷ theirs |
	// | ---            | ---  | --:        | --:          | --:                 | --:            | --:              | --:                  |
	// | RetrySuccess-2 | peer | 50.0       | 1000         | 0.050               | 1              | 15               | 0.067                |
}
