package timeout_test

import (
	"fmt"
	"time"

	"github.com/magicmagnets/resilience/timeout"
)

// A timeout read from a configuration file is checked before the policy is
// built, instead of letting New panic.
func ExampleValidate() {
	for _, d := range []time.Duration{2 * time.Second, 0} {
		if err := timeout.Validate(d); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(timeout.New(d).Timeout())
	}
	// Output:
	// 2s
	// timeout: non-positive timeout 0s
}
