package idempotency_test

import (
	"fmt"
	"strings"

	"github.com/magicmagnets/resilience/idempotency"
)

// A server keeps each client's key under its own scope; a key that would be
// too long, or that a header could not carry, is replaced by its digest.
func ExampleDeriveKey() {
	fmt.Println(idempotency.DeriveKey("refunds", "order-42"))

	long := idempotency.DeriveKey("refunds", strings.Repeat("k", idempotency.MaxKeyLen))
	fmt.Println(len(long), long[:1])
	// Output:
	// refunds:order-42
	// 65 #
}
