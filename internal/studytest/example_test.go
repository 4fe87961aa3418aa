package studytest_test

import (
	"fmt"

	"github.com/magicmagnets/resilience/internal/studytest"
)

func ExampleWellFormed() {
	fmt.Println(studytest.WellFormed([]byte(`<svg><polyline points="0,0 1,1"/></svg>`)))
	fmt.Println(studytest.WellFormed([]byte(`<svg><polyline></svg>`)) != nil)
	// Output:
	// <nil>
	// true
}
