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
	"github.com/mastership/mastership/store/report"
)

// newBenchFillCommand is `mastership-bench fill`, hidden: it stores --rows
// classified log lines (one event each) in a new database, as
// BenchmarkReportEvents1M does, in a child process so the bench's own
// memory stays as it was.
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

// benchPeakPrefix starts the line in which the export child reports its
// peak RSS.
const benchPeakPrefix = "peak-rss "

// newBenchExportCommand is `mastership-bench export`, hidden: it exports
// one kind of stored record in this process, as `mastership report --db DB
// --kind KIND --format FORMAT -o FILE` does (see exportReport), and prints
// its own peak RSS (VmHWM) on stdout. getrusage's ru_maxrss of a child
// cannot be used: os/exec starts children with vfork, and the kernel keeps
// the parent's peak as the child's.
func newBenchExportCommand(a *app) *cobra.Command {
	var db, kind, format, out string
	cmd := &cobra.Command{
		Use:    "export --db PATH --kind KIND --format FORMAT -o FILE",
		Short:  "Export stored records as mastership report does and report the peak RSS, for bench (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if db == "" || out == "" {
				return usageError(errors.New("--db and -o are required"))
			}
			if err := exportReport(cmd.Context(), db, report.Kind(kind), report.Format(format), out); err != nil {
				return err
			}
			// 0 where there is no /proc (not Linux): unknown.
			fmt.Fprintf(a.stdout, "%s%d\n", benchPeakPrefix, benchProcStatus("VmHWM"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "SQLite database file to read")
	f.StringVar(&kind, "kind", string(report.KindEvents), "what to export (as mastership report --kind)")
	f.StringVar(&format, "format", string(report.FormatCSV), "csv, json or jsonl")
	f.StringVarP(&out, "output", "o", "", "file to write (written whole or not at all)")
	return cmd
}

// exportReport is `mastership report --db db --kind kind --format format
// -o out` with no selection: it exercises the same code as that command
// (cmd/mastership/report.go) — report.Check, the store opened read from an
// existing database, report.WriteTable streaming the rows into
// report.WriteFile's temporary file and rename — so that the csv scenario
// and BenchmarkReportEvents1M measure the real export.
func exportReport(ctx context.Context, db string, kind report.Kind, format report.Format, out string) error {
	var q report.Query // no --since, --until or device selection
	if err := report.Check(kind, format, q); err != nil {
		return usageError(err)
	}
	if format == report.FormatHTML {
		return usageError(errors.New("export writes tables: csv, json or jsonl"))
	}
	// Reading must not create an empty database where none was.
	if _, err := os.Stat(db); err != nil {
		return usageError(fmt.Errorf("database %s: %w", db, err))
	}
	st, err := openStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return report.WriteFile(out, func(w io.Writer) error {
		return report.WriteTable(ctx, st, w, kind, format, q)
	})
}

// runCSV fills a database with N events in a child, then exports them as
// CSV in another child (the export subcommand) with the code of `mastership
// report --kind events --format csv`, whose wall time, CPU and peak RSS are
// the figures.
func (b *bencher) runCSV(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "rows", OpName: "row"}
	dir := filepath.Join(b.dir, sc.name())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	db, out := filepath.Join(dir, "events.db"), filepath.Join(dir, "events.csv")

	b.logf("%s: storing %d events (child process)", sc.name(), sc.size)
	fill, err := benchCommand(ctx, "fill", "--db", db, "--rows", strconv.Itoa(sc.size), "--log-level", b.level)
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
	export, err := benchCommand(ctx, "export", "--log-level", b.level,
		"--db", db, "--kind", string(report.KindEvents), "--format", string(report.FormatCSV), "-o", out)
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
