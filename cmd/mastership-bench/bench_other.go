//go:build !unix

package main

import "time"

// benchProcessCPU is unknown here: getrusage is Unix.
func benchProcessCPU() time.Duration { return 0 }
