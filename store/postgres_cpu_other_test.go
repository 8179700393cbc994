//go:build !linux

package store

import "time"

// benchCPU is only known on Linux (see postgres_cpu_linux_test.go).
func benchCPU() (self, server time.Duration, ok bool) { return 0, 0, false }
