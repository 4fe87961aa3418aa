package sim_test

import (
	"fmt"
	"time"

	"github.com/magicmagnets/resilience/internal/sim"
)

func ExampleQueue() {
	var q sim.Queue[string]
	q.After(2*time.Second, "reply")
	q.After(time.Second, "request")
	q.After(2*time.Second, "log")
	for ev, ok := q.Next(); ok; ev, ok = q.Next() {
		fmt.Println(q.Now(), ev)
	}
	// Output:
	// 1s request
	// 2s reply
	// 2s log
}

func ExampleSummarize() {
	s := sim.Summarize([]float64{1, 2, 3, 4})
	fmt.Printf("%.2f ± %.2f\n", s.Mean, s.SE)
	// Output:
	// 2.50 ± 0.65
}
