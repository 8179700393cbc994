package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

// benchMeter measures one stretch of work in this process: wall time,
// CPU time (user+sys, getrusage), heap allocations.
type benchMeter struct {
	wall    time.Time
	cpu     time.Duration
	mallocs uint64
}

// benchSpan is what a benchMeter measured.
type benchSpan struct {
	Wall    time.Duration
	CPU     time.Duration
	Mallocs uint64
}

func (s benchSpan) add(o benchSpan) benchSpan {
	return benchSpan{Wall: s.Wall + o.Wall, CPU: s.CPU + o.CPU, Mallocs: s.Mallocs + o.Mallocs}
}

func startMeter() benchMeter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return benchMeter{wall: time.Now(), cpu: benchProcessCPU(), mallocs: ms.Mallocs}
}

func (m benchMeter) stop() benchSpan {
	wall := time.Since(m.wall)
	cpu := benchProcessCPU() - m.cpu
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return benchSpan{Wall: wall, CPU: cpu, Mallocs: ms.Mallocs - m.mallocs}
}

// benchSettle collects garbage and returns freed memory to the OS, so the
// RSS read next is what is live.
func benchSettle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// benchProcStatus returns a field of /proc/self/status in bytes ("VmRSS",
// "VmHWM"), 0 where there is no such file (not Linux).
func benchProcStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		v, ok := bytes.CutPrefix(sc.Bytes(), []byte(field+":"))
		if !ok {
			continue
		}
		v = bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))
		kb, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// benchRSS is the resident set size now.
func benchRSS() int64 { return benchProcStatus("VmRSS") }

// benchPeak tracks the peak RSS of a stretch of work: Linux's VmHWM after
// resetting it through /proc/self/clear_refs, or, where that cannot be
// reset, the highest VmRSS sampled every 20 ms.
type benchPeak struct {
	reset bool
	stopc chan struct{}
	done  chan int64
}

func startPeak() *benchPeak {
	p := &benchPeak{}
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err == nil {
		p.reset = true
		return p
	}
	p.stopc, p.done = make(chan struct{}), make(chan int64, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		peak := benchRSS()
		for {
			select {
			case <-p.stopc:
				p.done <- max(peak, benchRSS())
				return
			case <-tick.C:
				peak = max(peak, benchRSS())
			}
		}
	}()
	return p
}

// stop returns the peak RSS since start (0 where unknown).
func (p *benchPeak) stop() int64 {
	if p.reset {
		return benchProcStatus("VmHWM")
	}
	close(p.stopc)
	return <-p.done
}

// benchProfile writes a CPU profile of one stretch of work when path is
// set; stop ends it.
func benchProfile(path, scenario string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(profilePath(path, scenario))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// benchHeapProfile writes the live heap to path (with the scenario name)
// when path is set.
func benchHeapProfile(path, scenario string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(profilePath(path, scenario))
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}

// benchGuard cancels the returned context when this process's RSS, or
// what project makes of it, passes limit (checked every 200 ms), so that
// an agent that holds too much per session ends its scenario instead of
// the machine. project (nil: none) returns the RSS the scenario is heading
// for, from the RSS now. stop ends the watch; whether the guard cancelled
// the context is context.Cause's errBenchMemory.
func benchGuard(ctx context.Context, limit int64, project func(rss int64) int64) (context.Context, func()) {
	if limit <= 0 || benchRSS() == 0 {
		return ctx, func() {}
	}
	if project == nil {
		project = func(rss int64) int64 { return rss }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				rss := benchRSS()
				switch heading := project(rss); {
				case rss > limit:
					cancel(fmt.Errorf("%w: RSS %s passed the guard of %s (--max-rss-mib)", errBenchMemory, benchBytes(rss), benchBytes(limit)))
					return
				case heading > limit:
					cancel(fmt.Errorf("%w: RSS %s now, heading for %s, over the guard of %s (--max-rss-mib)", errBenchMemory, benchBytes(rss), benchBytes(heading), benchBytes(limit)))
					return
				}
			}
		}
	})
	return ctx, func() {
		close(done)
		wg.Wait()
		cancel(nil)
	}
}

// errBenchMemory is the memory guard tripping.
var errBenchMemory = errors.New("aborted to protect the machine")
