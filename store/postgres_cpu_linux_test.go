package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// benchCPU is the CPU time this process and the processes of the
// PostgreSQL servers on this machine (backends, and through the
// postmaster's children times those that have exited) have used so far.
// server is unknown (false) when /proc shows no postgres process.
func benchCPU() (self, server time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		// After the command: state, ppid, …; utime, stime, cutime and
		// cstime are the 12th to 15th.
		fields := bytes.Fields(b[end+1:])
		if len(fields) < 15 {
			continue
		}
		for _, x := range fields[11:15] {
			n, _ := strconv.ParseInt(string(x), 10, 64)
			server += time.Duration(n) * tick
		}
		ok = true
	}
	return self, server, ok
}
