package breakermodel_test

import (
	"fmt"
	"time"

	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/internal/breakermodel"
)

func ExampleModel() {
	m := breakermodel.New(breaker.Config{WindowSize: 4, MinCalls: 4, OpenFor: time.Second})
	now := time.Duration(0)
	for range 4 {
		p, _, _ := m.Allow(now)
		m.Done(p, breakermodel.Failed, now)
	}
	_, wait, ok := m.Allow(now + 300*time.Millisecond)
	fmt.Println(m.StateAt(now+300*time.Millisecond), ok, wait)
	fmt.Println(m.StateAt(now + time.Second))
	// Output:
	// open false 700ms
	// half-open
}
