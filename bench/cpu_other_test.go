//go:build !unix

package bench

import (
	"testing"
	"time"
)

// processCPU reports that the process's CPU time cannot be read here.
func processCPU() time.Duration { return -1 }

// reportCPU reports nothing where processCPU cannot read the CPU time.
func reportCPU(*testing.B, time.Duration) {}
