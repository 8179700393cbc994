//go:build unix

package main

import (
	"syscall"
	"time"
)

// benchProcessCPU is this process's user+system CPU time so far.
func benchProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
