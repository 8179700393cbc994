package main

import (
	"context"
	"fmt"
	"time"

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
			if o.concurrency < 1 {
				return usageError(fmt.Errorf("--concurrency must be at least 1"))
			}
			if o.timeout < 0 {
				return usageError(fmt.Errorf("--timeout must be positive"))
			}
			inv, err := a.loadInventory(o.inventory)
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
			views, _, err := a.audit(cmd.Context(), st, devs, o.concurrency, o.timeout)
			if err != nil {
				return err
			}
			if o.format == "json" {
				return writeJSON(a.stdout, views)
			}
			return writeTable(a.stdout, views)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file (YAML; see devices.example.yaml)")
	f.StringVar(&o.db, "db", defaultDBPath(), "SQLite database file that keeps the history")
	f.IntVar(&o.concurrency, "concurrency", 32, "devices polled at once")
	f.DurationVar(&o.timeout, "timeout", 0, "hard deadline of one device's poll (default: the inventory's timeout, 30s)")
	f.StringArrayVar(&o.names, "device", nil, "poll only this device (repeatable)")
	f.StringArrayVar(&o.tags, "tag", nil, "poll only devices with this tag (repeatable)")
	f.StringVar(&o.format, "format", "table", "output: table or json")
	_ = cmd.MarkFlagRequired("inventory")
	return cmd
}

// audit runs one audit of devs into st and returns each device's view in
// inventory order.
func (a *app) audit(ctx context.Context, st store.Store, devs []devices.Device, concurrency int, timeout time.Duration) ([]deviceView, devices.Run, error) {
	auditor := &schedule.Auditor{
		Poller:      &schedule.Poller{Now: utcNow, Timeout: timeout, Logger: a.log},
		Store:       st,
		Concurrency: concurrency,
		Logger:      a.log,
	}
	run, polls, err := auditor.Audit(ctx, devs)
	if err != nil {
		return nil, run, fmt.Errorf("audit: %w", err)
	}
	views := make([]deviceView, 0, len(polls))
	for _, p := range polls {
		if p.Device == "" {
			continue // not polled: the audit was interrupted
		}
		views = append(views, newDeviceView(p, devices.Assess(p, p.ExpectedREs, nil)))
	}
	return views, run, nil
}
