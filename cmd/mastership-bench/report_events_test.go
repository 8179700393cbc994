package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkReportEvents1M exports 1,000,000 stored events as CSV and as
// JSON Lines with the code of `mastership report` in a child process (the
// export subcommand: this test binary re-executed, which TestMain turns
// into main) and reports its peak RSS (the ceiling is 200 MB) and
// rows per second. The database is built once per benchmark run (about a
// minute), outside the timer. Size it down with MASTERSHIP_BENCH_EVENTS
// for a quick look.
//
//	go test ./cmd/mastership-bench -run '^$' -bench ReportEvents1M -benchtime 1x
func BenchmarkReportEvents1M(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("MASTERSHIP_BENCH_EVENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("MASTERSHIP_BENCH_EVENTS=%q: want a positive count", s)
		}
		n = v
	}
	db := filepath.Join(b.TempDir(), "events.db")
	fillEvents(b, db, n)
	for _, format := range []string{"csv", "jsonl"} {
		b.Run(format, func(b *testing.B) {
			var rss int64 // bytes
			for b.Loop() {
				out := filepath.Join(b.TempDir(), "events."+format)
				// Through the export child, which reports its own VmHWM:
				// ru_maxrss of a vfork'ed child includes the parent's (this
				// test binary's) peak.
				cmd := exec.Command(os.Args[0], "export", "--db", db, "--kind", "events", "--format", format, "-o", out)
				cmd.Env = append(os.Environ(), "MASTERSHIP_TEST_MAIN=1")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("report: %v\n%s", err, stderr.String())
				}
				peak, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), benchPeakPrefix)
				v, err := strconv.ParseInt(peak, 10, 64)
				if !ok || err != nil || v <= 0 {
					b.Fatalf("export reported %q, want %q and a byte count", stdout.String(), benchPeakPrefix)
				}
				rss = max(rss, v)
				st, err := os.Stat(out)
				if err != nil || st.Size() < int64(n)*50 {
					b.Fatalf("report wrote %v bytes for %d rows (%v)", st.Size(), n, err)
				}
			}
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			if rss > 200<<20 {
				b.Errorf("peak RSS %d MiB is over the 200 MB ceiling", rss>>20)
			}
		})
	}
}

// fillEvents stores n classified log lines (one event each) spread over
// 100 devices and 30 days, in batches as the poller saves them.
func fillEvents(b *testing.B, db string, n int) {
	b.Helper()
	if err := benchFillEvents(context.Background(), db, n); err != nil {
		b.Fatal(err)
	}
}
