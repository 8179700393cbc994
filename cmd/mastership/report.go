package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/report"
)

type reportOptions struct {
	db           string
	spoolDir     string
	kind         string
	format       string
	out          string
	since, until string
	names        []string
	sites        []string
	tags         []string
	cause        string
	inventory    string
}

func newReportCommand(a *app) *cobra.Command {
	o := reportOptions{}
	cmd := &cobra.Command{
		Use:   "report --kind KIND --format csv|json|jsonl|html [-o FILE]",
		Short: "Export what the database knows as CSV, JSON or an HTML report with timelines",
		Long: `report exports stored history. Kinds:

  devices      the latest poll of every device
  findings     Routing Engine flaps with cause, severity, evidence and remedy
  transitions  every change of an RE's state (master, backup, gone)
  alarms       alarm records with first_seen, last_seen and cleared
  events       classified log lines
  polls        every poll, with its outcome and what it saw
  runs         every fleet audit
  switchovers  every change of master, planned (an operator's command) or not
  readiness    each dual-RE router's last switchover readiness verdict

Formats: csv (RFC 4180, one fixed header per kind, times in UTC RFC 3339,
empty cells for unknown values, cells a spreadsheet would run as a formula
prefixed with '), json (one array of objects with the header's keys),
jsonl (one object per line) and html (one self-contained file: the fleet
summary, then a timeline per device with findings; --kind is ignored).
Rows are streamed: memory stays flat however many there are.

--since takes a duration back from now (24h, 7d) or a time (RFC 3339, or a
date); --until a time. The HTML report covers the last 24 hours by default.
--site and --tag select devices by their inventory site and tags (--tag
needs --inventory; --site uses the inventory when given, else the site
stored with each device's polls).`,
		Example: `  mastership report --kind devices --format csv -o devices.csv
  mastership report --kind events --since 7d --device ams1-mx960-1 --format jsonl
  mastership report --format html --inventory devices.yaml -o fleet.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.report(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	dbFlag(f, &o.db, defaultDBPath(), "")
	f.StringVar(&o.kind, "kind", "devices", "what to export: "+strings.Join(kindWords(), ", "))
	f.StringVar(&o.format, "format", "csv", "output format: csv, json, jsonl or html")
	f.StringVarP(&o.out, "output", "o", "", "write to this file instead of stdout (written whole or not at all)")
	f.StringVar(&o.since, "since", "", "only history from this time on: a duration back from now (24h, 7d) or a time")
	f.StringVar(&o.until, "until", "", "only history before this time (RFC 3339 or a date)")
	f.StringArrayVar(&o.names, "device", nil, "only this device (repeatable)")
	f.StringArrayVar(&o.sites, "site", nil, "only devices of this site (repeatable)")
	f.StringArrayVar(&o.tags, "tag", nil, "only devices with this tag (repeatable; needs --inventory)")
	f.StringVar(&o.cause, "cause", "", "only findings of this cause: hardware, network, software, configuration or unknown")
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file: resolves --site and --tag, and lists never-polled devices in HTML")
	f.StringVar(&o.spoolDir, "spool-dir", "", "the daemon's --spool-dir, if it was given: report notes polls still waiting there (default: the daemon's default)")
	return cmd
}

func kindWords() []string {
	var out []string
	for _, k := range report.Kinds() {
		out = append(out, string(k))
	}
	return out
}

func (a *app) report(ctx context.Context, o reportOptions) error {
	now := utcNow()
	q, err := o.query(now)
	if err != nil {
		return usageError(err)
	}
	kind, format := report.Kind(o.kind), report.Format(o.format)
	if err := report.Check(kind, format, q); err != nil {
		return usageError(err)
	}
	dsn := o.db
	if path, sqlite, err := store.SQLiteFile(dsn); err != nil {
		return usageError(fmt.Errorf("store %s: %w", devices.MaskDSN(dsn), err))
	} else if _, serr := os.Stat(path); sqlite && serr != nil {
		// Reading must not create an empty database where none was.
		return usageError(fmt.Errorf("database %s: %w", path, serr))
	}
	var inv *inventory.Inventory
	if o.inventory != "" {
		if inv, err = a.loadInventory(ctx, o.inventory); err != nil {
			return usageError(err)
		}
	} else if len(o.tags) > 0 {
		return usageError(errors.New("--tag needs --inventory: tags live in the inventory, not the database"))
	}
	st, err := openStore(ctx, dsn)
	if err != nil {
		return usageError(err)
	}
	defer st.Close()
	a.noteSpool(o.spoolDir, dsn)
	if q.Devices, err = selectDevices(ctx, st, inv, o.names, o.sites, o.tags); err != nil {
		return usageError(err)
	}
	var invDevs []inventory.Device
	if inv != nil {
		invDevs = inv.Devices
	}
	return writeReportFile(o.out, a.stdout, func(w io.Writer) error {
		return writeReport(ctx, st, w, kind, format, q, now, invDevs)
	})
}

// query turns the flags into a report query (devices are selected later).
func (o reportOptions) query(now time.Time) (report.Query, error) {
	var q report.Query
	var err error
	if o.since != "" {
		if q.Since, err = parseSince(o.since, now); err != nil {
			return q, fmt.Errorf("--since: %w", err)
		}
	}
	if o.until != "" {
		if q.Until, err = parseTime(o.until); err != nil {
			return q, fmt.Errorf("--until: %w", err)
		}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, fmt.Errorf("--since %s is not before --until %s", q.Since.Format(time.RFC3339), q.Until.Format(time.RFC3339))
	}
	if o.cause != "" {
		c := devices.Cause(o.cause)
		if !slices.Contains([]devices.Cause{devices.CauseHardware, devices.CauseNetwork, devices.CauseSoftware,
			devices.CauseConfiguration, devices.CauseUnknown}, c) {
			return q, fmt.Errorf("--cause %q: use hardware, network, software, configuration or unknown", o.cause)
		}
		q.Cause = c
	}
	return q, nil
}

// parseSince reads a duration back from now ("90m", "24h", "7d") or a
// time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: a duration back from now must be positive", s)
		}
		return now.Add(-d), nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor a time (RFC 3339 or 2006-01-02)", s)
	}
	return t, nil
}

// parseTime reads RFC 3339, or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2006-01-02T15:04:05Z) or a date (2006-01-02)", s)
}

// selectDevices resolves --device, --site and --tag to device names; nil
// means every device. Devices named on the command line need not be in
// the inventory (the database may know devices since removed from it),
// but a selection that matches nothing is an error, not an empty report
// that looks like a quiet fleet.
func selectDevices(ctx context.Context, st store.Store, inv *inventory.Inventory, names, sites, tags []string) ([]string, error) {
	if len(names) == 0 && len(sites) == 0 && len(tags) == 0 {
		return nil, nil
	}
	type known struct {
		site string
		tags []string
	}
	all := map[string]known{}
	if inv != nil {
		for _, d := range inv.Devices {
			all[d.Name] = known{d.Site, d.Tags}
		}
	} else {
		// Without an inventory, the devices and sites are those the
		// database has polled.
		polls, err := st.LatestPolls(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range polls {
			all[p.Device] = known{site: p.Site}
		}
	}
	var out []string
	for name, k := range all {
		if len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		if len(sites) > 0 && !slices.Contains(sites, k.site) {
			continue
		}
		if len(tags) > 0 && !slices.ContainsFunc(tags, func(t string) bool { return slices.Contains(k.tags, t) }) {
			continue
		}
		out = append(out, name)
	}
	// A named device the database never polled still selects itself: it
	// may have history (findings) without a poll left after retention.
	if len(sites) == 0 && len(tags) == 0 {
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no device matches the selection (--device %v --site %v --tag %v)", names, sites, tags)
	}
	slices.Sort(out)
	return out, nil
}

// writeReportFile writes to path atomically (report.WriteFile) so a
// failed export never leaves half a report in place; "" means stdout.
func writeReportFile(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	return report.WriteFile(path, write)
}

// reportFormatOf tells the format of --report FILE from its extension.
func reportFormatOf(path string) (report.Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return report.FormatHTML, nil
	case ".csv":
		return report.FormatCSV, nil
	case ".json":
		return report.FormatJSON, nil
	case ".jsonl", ".ndjson":
		return report.FormatJSONL, nil
	}
	return "", fmt.Errorf("--report %s: name the file .html, .csv, .json or .jsonl so the format is known", path)
}

// writeRunReport writes --report FILE for audit and check: the devices
// just polled, as an HTML report (with their last day of history) or as
// the devices table.
func writeRunReport(ctx context.Context, st store.Store, path string, devs []inventory.Device, now time.Time) error {
	format, err := reportFormatOf(path)
	if err != nil {
		return err
	}
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.Name
	}
	q := report.Query{Devices: names}
	return writeReportFile(path, nil, func(w io.Writer) error {
		return writeReport(ctx, st, w, report.KindDevices, format, q, now, devs)
	})
}

// writeReport writes one report: the HTML page (kind is then ignored:
// the page holds them all), or the table of kind in format. inv lists the
// devices the HTML shows even when never polled.
func writeReport(ctx context.Context, st store.Store, w io.Writer, kind report.Kind, format report.Format,
	q report.Query, now time.Time, inv []inventory.Device) error {
	if format == report.FormatHTML {
		return report.WriteHTML(ctx, st, w, report.GatherOptions{Query: q, Now: now, Inventory: inv})
	}
	return report.WriteTable(ctx, st, w, kind, format, q)
}
