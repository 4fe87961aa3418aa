package backoff_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/magicmagnets/resilience/backoff"
)

// Exponential backoff without jitter doubles the delay until the cap.
func ExampleExponential() {
	b := backoff.Exponential(100*time.Millisecond, 2, time.Second)
	for n := 1; n <= 6; n++ {
		fmt.Println(n, b.Delay(n, 0))
	}
	// Output:
	// 1 100ms
	// 2 200ms
	// 3 400ms
	// 4 800ms
	// 5 1s
	// 6 1s
}

// Full jitter draws each delay from U(0, min(cap, base·2^(n−1))). A seeded
// source makes the schedule reproducible, as in a test.
func ExampleBackoff_WithJitter() {
	b := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).
		WithJitter(backoff.Full).
		WithRand(rand.New(rand.NewPCG(1, 2)))
	for n := 1; n <= 4; n++ {
		d := b.Delay(n, 0)
		ceiling := 100 * time.Millisecond << (n - 1)
		fmt.Printf("attempt %d: %v ≤ %v: %t\n", n, d.Round(time.Millisecond), ceiling, d <= ceiling)
	}
	// Output:
	// attempt 1: 68ms ≤ 100ms: true
	// attempt 2: 92ms ≤ 200ms: true
	// attempt 3: 203ms ≤ 400ms: true
	// attempt 4: 344ms ≤ 800ms: true
}

// Decorrelated jitter grows each delay from the previous one; feed the
// previous delay back in.
func ExampleDecorrelated() {
	b := backoff.Exponential(10*time.Millisecond, 2, time.Second).
		WithJitter(backoff.Decorrelated).
		WithRand(rand.New(rand.NewPCG(3, 4)))
	prev := time.Duration(0)
	for n := 1; n <= 5; n++ {
		prev = b.Delay(n, prev)
		fmt.Println(prev.Round(time.Millisecond))
	}
	// Output:
	// 18ms
	// 46ms
	// 137ms
	// 262ms
	// 51ms
}

func ExampleLinear() {
	b := backoff.Linear(time.Second, 2*time.Second, 6*time.Second)
	fmt.Println(b.Delay(1, 0), b.Delay(2, 0), b.Delay(3, 0), b.Delay(4, 0))
	// Output: 1s 3s 5s 6s
}

func ExampleConstant() {
	b := backoff.Constant(250 * time.Millisecond).WithJitter(backoff.Proportional(0.2)).WithRand(rand.New(rand.NewPCG(5, 6)))
	d := b.Delay(1, 0)
	fmt.Println(d >= 200*time.Millisecond && d <= 300*time.Millisecond)
	// Output: true
}

// WithSeed makes a jittered schedule reproducible with one call, and the
// strategy stays safe to share between goroutines.
func ExampleBackoff_WithSeed() {
	a := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full).WithSeed(42)
	b := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full).WithSeed(42)
	same := true
	for n := 1; n <= 10; n++ {
		same = same && a.Delay(n, 0) == b.Delay(n, 0)
	}
	fmt.Println("same schedule:", same)
	// Output: same schedule: true
}

// A zero base waits nothing at any attempt; a cap below the base panics
// rather than turn every delay into zero.
func ExampleExponential_zeroBase() {
	b := backoff.Exponential(0, 2, time.Second)
	fmt.Println(b.Delay(1, 0), b.Delay(1025, 0))
	defer func() { fmt.Println(recover()) }()
	backoff.Exponential(time.Second, 2, 0)
	// Output:
	// 0s 0s
	// backoff: Exponential: cap 0s below base 1s
}
