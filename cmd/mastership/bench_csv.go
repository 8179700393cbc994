package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

// newBenchFillCommand is `mastership bench fill`, hidden: it stores --rows
// classified log lines (one event each) in a new database, as the
// 1M-row export benchmark of the report command does, in a child process
// so the bench's own memory stays as it was.
func newBenchFillCommand(a *app) *cobra.Command {
	var (
		db   string
		rows int
	)
	cmd := &cobra.Command{
		Use:    "fill --db PATH --rows N",
		Short:  "Fill a database with events for bench (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" || rows <= 0 {
				return usageError(errors.New("--db and --rows are required"))
			}
			return benchFillEvents(cmd.Context(), db, rows)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "database to fill")
	cmd.Flags().IntVar(&rows, "rows", 0, "events to store")
	return cmd
}

// benchFillEvents stores n classified log lines (one event each) spread
// over 100 devices and 30 days, in batches as the poller saves them.
func benchFillEvents(ctx context.Context, db string, n int) error {
	st, err := openStore(ctx, db)
	if err != nil {
		return err
	}
	return errors.Join(saveBenchEvents(ctx, st, n), st.Close())
}

func saveBenchEvents(ctx context.Context, st store.Store, n int) error {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	const devs, batch = 100, 5000
	step := benchHistoryDays * 24 * time.Hour / time.Duration(n)
	lines := make([]devices.LogLine, 0, batch)
	events := make([]devices.Event, 0, batch)
	for i := 0; i < n; i += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		dev := fmt.Sprintf("bench-mx%03d", (i/batch)%devs)
		lines, events = lines[:0], events[:0]
		for j := i; j < min(i+batch, n); j++ {
			at := start.Add(time.Duration(j) * step).Truncate(time.Second)
			raw := fmt.Sprintf("%s  %s mcontrol[1817]: mcontrol_ore_alive_set: re1 removed from alive set (line %d)",
				at.Format(time.Stamp), dev, j)
			l := devices.LogLine{File: "messages", Raw: raw, Time: at, Host: dev, Process: "mcontrol", PID: 1817,
				Message: "mcontrol_ore_alive_set: re1 removed from alive set", Parsed: true}
			lines = append(lines, l)
			events = append(events, devices.Event{Kind: devices.EventAliveSet, Time: at, RE: "re1", Change: "removed",
				Rule: "mcontrol-alive-set-removed", Line: l})
		}
		if _, err := st.SaveLogs(ctx, dev, lines, events, nil); err != nil {
			return fmt.Errorf("save logs: %w", err)
		}
	}
	return nil
}

// benchPeakPrefix starts the line in which `bench export` reports its peak
// RSS.
const benchPeakPrefix = "peak-rss "

// newBenchExportCommand is `mastership bench export -- ARGS`, hidden: it
// runs the mastership command line ARGS in this process (the export: the
// real report command) and prints its own peak RSS (VmHWM) on stdout.
// getrusage's ru_maxrss of a child cannot be used: os/exec starts children
// with vfork, and the kernel keeps the parent's peak as the child's.
func newBenchExportCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:    "export -- ARGS",
		Short:  "Run a command and report its peak RSS, for bench (internal)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The command's own output goes to stderr: stdout is the
			// report to the parent.
			if code := run(cmd.Context(), args, a.stderr, a.stderr); code != 0 {
				return &exitError{code: code}
			}
			// 0 where there is no /proc (not Linux): unknown.
			fmt.Fprintf(a.stdout, "%s%d\n", benchPeakPrefix, benchProcStatus("VmHWM"))
			return nil
		},
	}
}

// runCSV fills a database with N events in a child, then exports them as
// CSV with the real `mastership report --kind events --format csv` in
// another child (bench export), whose wall time, CPU and peak RSS are the
// figures.
func (b *bencher) runCSV(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "rows", OpName: "row"}
	dir := filepath.Join(b.dir, sc.name())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	db, out := filepath.Join(dir, "events.db"), filepath.Join(dir, "events.csv")

	b.logf("%s: storing %d events (child process)", sc.name(), sc.size)
	fill, err := benchCommand(ctx, "bench", "fill", "--db", db, "--rows", strconv.Itoa(sc.size), "--log-level", b.level)
	if err != nil {
		return r, err
	}
	fill.Stdout, fill.Stderr = b.out, b.out
	began := time.Now()
	err = fill.Run()
	b.countChild(fill)
	if err != nil {
		return r, fmt.Errorf("fill the database: %w", err)
	}
	filled := time.Since(began)

	b.logf("%s: exporting (child process)", sc.name())
	export, err := benchCommand(ctx, "bench", "export", "--log-level", b.level, "--",
		"report", "--db", db, "--kind", "events", "--format", "csv", "-o", out)
	if err != nil {
		return r, err
	}
	var stdout bytes.Buffer
	export.Stdout, export.Stderr = &stdout, b.out
	began = time.Now()
	err = export.Run()
	b.countChild(export)
	if err != nil {
		return r, fmt.Errorf("export: %w", err)
	}
	wall := time.Since(began)
	ps := export.ProcessState
	cpu := ps.UserTime() + ps.SystemTime()
	peak, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(stdout.String(), benchPeakPrefix)), 10, 64)
	if err != nil {
		return r, fmt.Errorf("export: no peak RSS in %q", stdout.String())
	}

	lines, size, err := benchCountLines(out)
	if err != nil {
		return r, err
	}
	r.OK = lines - 1 // the header
	r.Failed = max(0, sc.size-r.OK)
	if r.OK != sc.size {
		return r, fmt.Errorf("the export has %d rows, want %d", r.OK, sc.size)
	}
	r.WallSeconds = wall.Seconds()
	r.CPUSeconds = cpu.Seconds()
	r.Rate, r.RateUnit = float64(sc.size)/wall.Seconds(), "rows"
	r.CPUPerOpMS = cpu.Seconds() * 1000 / float64(sc.size)
	r.PeakRSSBytes = peak
	r.Note = fmt.Sprintf("%s of CSV; database filled in %s (not measured)", benchBytes(size), filled.Round(time.Millisecond))
	r.Targets = append(r.Targets, atMost("wall", r.WallSeconds, benchCSVMaxSeconds, "s"))
	if r.PeakRSSBytes > 0 {
		r.Targets = append(r.Targets, atMost("rss", float64(r.PeakRSSBytes)/(1<<20), benchCSVMaxRSSMiB, "MiB"))
	}
	return r, nil
}

// benchCountLines counts the lines of a file and its size.
func benchCountLines(path string) (lines int, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		size += int64(n)
		if errors.Is(err, io.EOF) {
			return lines, size, nil
		}
		if err != nil {
			return lines, size, err
		}
	}
}
