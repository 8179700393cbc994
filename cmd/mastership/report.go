package main

import (
	"context"
	"encoding/csv"
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

// findingsCSVHeader is the user contract of `report --kind findings`.
var findingsCSVHeader = []string{"device", "site", "re", "cause", "severity", "transitions", "first_transition", "last_transition", "alarms", "evidence", "remedy"}

// devicesCSVHeader is the user contract of `report --kind devices`.
var devicesCSVHeader = []string{"device", "host", "site", "polled_at", "outcome", "error", "master", "alive_set", "res_expected", "major_alarms", "minor_alarms"}

type reportOptions struct {
	db     string
	kind   string
	format string
	out    string
}

func newReportCommand(a *app) *cobra.Command {
	o := reportOptions{}
	cmd := &cobra.Command{
		Use:   "report --kind devices --format csv",
		Short: "Export what the database knows (devices: the latest state per device)",
		Long: `report exports stored history. Kinds available now: devices (the latest poll
of every device) and findings (every stored finding: a Routing Engine flap
with its cause, severity, evidence and remedy). Formats: csv (RFC 4180, times in UTC RFC 3339, empty cells
for unknown values, cells that a spreadsheet would run as a formula are
prefixed with ').`,
		Example: `  mastership report --kind devices --format csv -o devices.csv`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write, ok := map[string]func(context.Context, store.Store, io.Writer) error{
				"devices":  writeDevicesCSV,
				"findings": writeFindingsCSV,
			}[o.kind]
			if !ok {
				return usageError(fmt.Errorf("--kind %q is not available: use devices or findings", o.kind))
			}
			if o.format != "csv" {
				return usageError(fmt.Errorf("--format %q is not available: use csv", o.format))
			}
			if _, err := os.Stat(o.db); err != nil {
				return usageError(fmt.Errorf("database %s: %w", o.db, err))
			}
			st, err := openStore(cmd.Context(), o.db)
			if err != nil {
				return usageError(err)
			}
			defer st.Close()
			return writeReportFile(o.out, a.stdout, func(w io.Writer) error {
				return write(cmd.Context(), st, w)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", defaultDBPath(), "SQLite database file")
	f.StringVar(&o.kind, "kind", "devices", "what to export: devices or findings")
	f.StringVar(&o.format, "format", "csv", "output format: csv")
	f.StringVarP(&o.out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// writeReportFile writes to path atomically (temp file, then rename) so a
// failed export never leaves half a report in place; "" means stdout.
func writeReportFile(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}

// writeDevicesCSV writes the latest poll of every device.
func writeDevicesCSV(ctx context.Context, st store.Store, w io.Writer) error {
	polls, err := st.LatestPolls(ctx)
	if err != nil {
		return fmt.Errorf("latest polls: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(devicesCSVHeader); err != nil {
		return err
	}
	for _, p := range polls {
		if err := cw.Write(safeCells(devicesCSVRow(p))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func devicesCSVRow(p devices.Poll) []string {
	row := []string{p.Device, p.Host, p.Site, p.Started.UTC().Format(time.RFC3339), string(p.Outcome), p.Error, "", "", "", "", ""}
	if p.ExpectedREs > 0 {
		row[8] = strconv.Itoa(p.ExpectedREs)
	}
	if s := p.Snapshot; s != nil {
		row[6] = strings.Join(s.Masters(), " ")
		row[7] = strings.Join(s.AliveSet(), " ")
		major, minor := s.AlarmCounts()
		row[9], row[10] = strconv.Itoa(major), strconv.Itoa(minor)
	}
	return row
}

// safeCells defuses cells a spreadsheet would evaluate as a formula. Error
// messages and (later) log lines come from devices and can be hostile.
func safeCells(row []string) []string {
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			row[i] = "'" + c
		}
	}
	return row
}

// writeFindingsCSV writes every stored finding, oldest first. Evidence
// lines are joined by newlines inside one cell (RFC 4180 quotes them) and
// alarms by "; ".
func writeFindingsCSV(ctx context.Context, st store.Store, w io.Writer) error {
	polls, err := st.LatestPolls(ctx)
	if err != nil {
		return fmt.Errorf("latest polls: %w", err)
	}
	site := make(map[string]string, len(polls))
	for _, p := range polls {
		site[p.Device] = p.Site
	}
	findings, err := st.Findings(ctx, store.Filter{})
	if err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(findingsCSVHeader); err != nil {
		return err
	}
	for _, f := range findings {
		var alarms []string
		for _, al := range devices.DedupeAlarms(f.Alarms) {
			alarms = append(alarms, strings.TrimSpace(al.Class+" "+al.Description))
		}
		row := []string{f.Device, site[f.Device], f.RE, string(f.Cause), string(f.Severity), strconv.Itoa(f.Transitions),
			f.First.UTC().Format(time.RFC3339), f.Last.UTC().Format(time.RFC3339),
			strings.Join(alarms, "; "), strings.Join(f.Evidence, "\n"), f.Remedy}
		if err := cw.Write(safeCells(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
