package report

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

// BenchmarkWriteEvents exports 100,000 events in each table format, in
// process, to profile the export path (the million-row figure with peak
// RSS is BenchmarkReportEvents1M in cmd/mastership-bench).
func BenchmarkWriteEvents(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	var lines []devices.LogLine
	var events []devices.Event
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		l := devices.LogLine{File: "messages", Time: at, Host: "mx1", Process: "mcontrol", PID: 1817, Parsed: true,
			Raw:     fmt.Sprintf("%s  mx1 mcontrol[1817]: mcontrol_ore_alive_set: re1 removed from alive set (%d)", at.Format(time.Stamp), i),
			Message: "mcontrol_ore_alive_set: re1 removed from alive set"}
		lines = append(lines, l)
		events = append(events, devices.Event{Kind: devices.EventAliveSet, Time: at, RE: "re1", Change: "removed",
			Rule: "mcontrol-alive-set-removed", Line: l})
	}
	if _, err := st.SaveLogs(ctx, "mx1", lines, events, nil); err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{FormatCSV, FormatJSONL} {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if err := WriteTable(ctx, st, io.Discard, KindEvents, f, Query{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
