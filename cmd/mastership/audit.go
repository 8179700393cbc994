package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/store"
)

type auditOptions struct {
	inventory   string
	db          string
	concurrency int
	timeout     time.Duration
	names       []string
	tags        []string
	format      string
	progress    string
	report      string
	history     historyOptions
}

func newAuditCommand(a *app) *cobra.Command {
	o := auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit --inventory FILE",
		Short: "Audit the fleet once now: poll every device, store and print the results",
		Long: `audit polls every device of the inventory (or those named with --device or
tagged with --tag) once, at most --concurrency at a time, each within its
hard deadline, stores every poll in the database and prints one row per
device. A device that cannot be polled is a result, not a failure: the exit
code is 0 whenever the audit ran, and 2 on a usage or configuration error.`,
		Example: `  mastership audit --inventory devices.yaml
  mastership audit --inventory devices.yaml --tag core --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "table" && o.format != "json" {
				return usageError(fmt.Errorf("--format must be table or json, not %q", o.format))
			}
			if err := checkProgressMode(o.progress); err != nil {
				return usageError(err)
			}
			if o.report != "" {
				if _, err := reportFormatOf(o.report); err != nil {
					return usageError(err)
				}
			}
			if o.concurrency < 1 {
				return usageError(fmt.Errorf("--concurrency must be at least 1"))
			}
			if o.timeout < 0 {
				return usageError(fmt.Errorf("--timeout must be positive"))
			}
			inv, err := a.loadInventory(cmd.Context(), o.inventory)
			if err != nil {
				return usageError(err)
			}
			devs, err := inv.Select(o.names, o.tags)
			if err != nil {
				return usageError(err)
			}
			st, err := openStore(cmd.Context(), o.db)
			if err != nil {
				return usageError(err)
			}
			defer st.Close()
			a.recoverRuns(cmd.Context(), st)
			bar := newAuditProgress(a.stderr, o.progress, len(devs))
			views, _, err := a.auditWatched(cmd.Context(), st, devs, o.concurrency, o.timeout, &o.history, bar.onPoll)
			bar.clear() // before the table, or the error
			if err != nil {
				return err
			}
			if o.report != "" {
				if err := writeRunReport(cmd.Context(), st, o.report, devs, utcNow()); err != nil {
					return err
				}
			}
			if o.format == "json" {
				return writeJSON(a.stdout, views)
			}
			if err := writeTable(a.stdout, views); err != nil {
				return err
			}
			writeFindings(a.stdout, views)
			writeReadinessSummary(a.stdout, views)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file (YAML; see devices.example.yaml)")
	dbFlag(f, &o.db, defaultDBPath(), "")
	f.IntVar(&o.concurrency, "concurrency", schedule.DefaultConcurrency, "devices polled at once")
	f.DurationVar(&o.timeout, "timeout", 0, "hard deadline of one device's poll (default: the inventory's timeout, 30s)")
	f.StringArrayVar(&o.names, "device", nil, "poll only this device (repeatable)")
	f.StringArrayVar(&o.tags, "tag", nil, "poll only devices with this tag (repeatable)")
	f.StringVar(&o.format, "format", "table", "output: table or json")
	f.StringVar(&o.report, "report", "", "also write a report of this audit to FILE: .html (fleet with timelines), .csv, .json or .jsonl (devices)")
	f.StringVar(&o.progress, "progress", progressAuto, "progress bar on stderr: auto (when it is a terminal), always or never")
	o.history.addFlags(f)
	_ = cmd.MarkFlagRequired("inventory")
	return cmd
}

// audit runs one audit of devs into st and returns each device's view in
// inventory order, findings and recent transitions included.
func (a *app) audit(ctx context.Context, st store.Store, devs []inventory.Device, concurrency int, timeout time.Duration, h *historyOptions) ([]deviceView, devices.Run, error) {
	return a.auditWatched(ctx, st, devs, concurrency, timeout, h, nil)
}

// auditWatched is audit calling onPoll (if not nil) as each device's poll
// is stored.
func (a *app) auditWatched(ctx context.Context, st store.Store, devs []inventory.Device, concurrency int, timeout time.Duration, h *historyOptions, onPoll func(devices.Poll)) ([]deviceView, devices.Run, error) {
	hist, err := h.historian(a, st)
	if err != nil {
		return nil, devices.Run{}, usageError(err)
	}
	hist.Maintenance = inventoryWindows(devs)
	auditor := &schedule.Auditor{
		Poller:      h.poller(a, st, timeout),
		Store:       st,
		Historian:   hist,
		Concurrency: concurrency,
		OnPoll:      onPoll,
		Logger:      a.log,
	}
	res, err := auditor.Audit(ctx, devs)
	if err != nil {
		return nil, res.Run, fmt.Errorf("audit: %w", err)
	}
	views := make([]deviceView, 0, len(res.Polls))
	byName := make(map[string]inventory.Device, len(devs))
	for _, d := range devs {
		byName[d.Name] = d
	}
	for _, p := range res.Polls {
		if p.Device == "" {
			continue // not polled: the audit was interrupted
		}
		v, err := a.view(ctx, st, hist, p, res.Findings[p.Device])
		if err != nil {
			return nil, res.Run, err
		}
		r, known := res.Readiness[p.Device]
		views = append(views, v.withReadiness(r, known, byName[p.Device]))
	}
	return views, res.Run, nil
}

// view is a device's verdict with its recent transitions and findings.
func (a *app) view(ctx context.Context, st store.Store, hist *schedule.Historian, p devices.Poll, findings []devices.Finding) (deviceView, error) {
	ts, err := st.Transitions(ctx, store.Filter{Devices: []string{p.Device}, Since: p.Started.Add(-hist.Window())})
	if err != nil {
		return deviceView{}, fmt.Errorf("transitions of %s: %w", p.Device, err)
	}
	unparsed, err := st.UnparsedLines(ctx, p.Device)
	if err != nil {
		return deviceView{}, fmt.Errorf("log lines of %s: %w", p.Device, err)
	}
	// A poll taken inside a maintenance window raises no state either.
	open, err := hist.MaintenanceAt(ctx, []string{p.Device}, p.Started)
	if err != nil {
		return deviceView{}, fmt.Errorf("maintenance windows of %s: %w", p.Device, err)
	}
	sws, err := st.Switchovers(ctx, store.Filter{Devices: []string{p.Device}, Since: p.Started.Add(-hist.Window())})
	if err != nil {
		return deviceView{}, fmt.Errorf("switchovers of %s: %w", p.Device, err)
	}
	v := newDeviceView(p, devices.Assess(p, p.ExpectedREs, findings).InMaintenance(open[p.Device])).withHistory(ts, findings).withSwitchovers(sws)
	v.UnparsedLogLines = unparsed
	v.Maintenance = open[p.Device]
	return v, nil
}
