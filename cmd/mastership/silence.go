package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/store"
)

type silenceOptions struct {
	db, inventory, reason, from string
	tags                        []string
	dur                         time.Duration
	list                        bool
}

// newSilenceCommand is "mastership silence": an ad-hoc maintenance
// window, stored so that every agent on the store applies it.
func newSilenceCommand(a *app) *cobra.Command {
	var o silenceOptions
	cmd := &cobra.Command{
		Use:   "silence [DEVICE...] (--tag TAG --inventory FILE) --for DURATION --reason TEXT",
		Short: "Put devices in maintenance for a while: their findings raise no alert",
		Long: `silence stores a maintenance window for the devices, from now for --for.
Findings whose flap overlaps it are still stored and reported, marked
maintenance, but raise neither check's Nagios state nor the alerting
metrics. A daemon using the same --db applies it from its next audit.
--from opens the window at another time than now (an earlier one covers a
flap already under way). --tag silences every device of the inventory with
that tag. --list shows
the windows open now. Recurring windows belong in the inventory's
maintenance field (docs/inventory.md).`,
		Example: `  mastership silence ams1-core-1 --for 2h --reason "RE0 replacement"
  mastership silence --tag rack-12 --inventory devices.yaml --for 30m --reason "PDU work"
  mastership silence --list`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.list {
				if len(args) > 0 || len(o.tags) > 0 || cmd.Flags().Changed("for") || o.reason != "" || o.from != "" {
					return usageError(errors.New("--list takes no devices, --tag, --from, --for or --reason"))
				}
				st, err := openStore(cmd.Context(), o.db)
				if err != nil {
					return err
				}
				defer st.Close()
				now := utcNow()
				ws, err := st.MaintenanceWindows(cmd.Context(), store.Filter{Since: now, Until: now.Add(time.Nanosecond)})
				if err != nil {
					return err
				}
				return writeSilences(a.stdout, ws)
			}
			if o.dur <= 0 {
				return usageError(errors.New("--for: give how long, e.g. --for 2h"))
			}
			if strings.TrimSpace(o.reason) == "" {
				return usageError(errors.New("--reason: say why, e.g. --reason \"RE0 replacement\": it is shown with every finding it silences"))
			}
			names, err := a.silenceTargets(cmd.Context(), args, o)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), o.db)
			if err != nil {
				return err
			}
			defer st.Close()
			from := utcNow()
			if o.from != "" {
				if from, err = time.Parse(time.RFC3339, o.from); err != nil {
					return usageError(fmt.Errorf("--from: want an RFC 3339 time such as 2026-03-01T02:00:00Z, got %q", o.from))
				}
				from = from.UTC()
			}
			who := os.Getenv("USER")
			if who == "" {
				who = "unknown"
			}
			ws := make([]store.MaintenanceWindow, len(names))
			for i, n := range names {
				ws[i] = store.MaintenanceWindow{Device: n, From: from, Until: from.Add(o.dur), Reason: o.reason, Who: who}
			}
			if err := st.AddMaintenanceWindows(cmd.Context(), ws); err != nil {
				return err
			}
			for _, w := range ws {
				fmt.Fprintf(a.stdout, "%s in maintenance until %s: %s\n", w.Device, w.Until.Format(time.RFC3339), w.Reason)
			}
			return nil
		},
	}
	f := cmd.Flags()
	dbFlag(f, &o.db, defaultDBPath(), "")
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file: needed by --tag, and checks device names when given")
	f.StringSliceVar(&o.tags, "tag", nil, "silence every device with this tag (repeatable; needs --inventory)")
	f.DurationVar(&o.dur, "for", 0, "how long, from --from (e.g. 2h, 30m)")
	f.StringVar(&o.from, "from", "", "when the window opens, RFC 3339 (default now); an earlier time also covers a flap that has begun")
	f.StringVar(&o.reason, "reason", "", "why, in the operator's words: shown with each finding it silences")
	f.BoolVar(&o.list, "list", false, "list the maintenance windows open now")
	return cmd
}

// silenceTargets are the devices named and those with the tags. With an
// inventory, a name not in it or a tag no device has is an error, as for
// audit: a typo must not silence nothing while looking as if it worked.
func (a *app) silenceTargets(ctx context.Context, args []string, o silenceOptions) ([]string, error) {
	if len(args) == 0 && len(o.tags) == 0 {
		return nil, usageError(errors.New("name the devices, or give --tag with --inventory"))
	}
	if o.inventory == "" {
		if len(o.tags) > 0 {
			return nil, usageError(errors.New("--tag needs --inventory: tags live in the inventory"))
		}
		return slices.Compact(slices.Sorted(slices.Values(args))), nil
	}
	inv, err := a.loadInventory(ctx, o.inventory)
	if err != nil {
		return nil, usageError(err)
	}
	devs, err := inv.Select(args, o.tags)
	if err != nil {
		return nil, usageError(err)
	}
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.Name
	}
	return names, nil
}

func writeSilences(w io.Writer, ws []store.MaintenanceWindow) error {
	if len(ws) == 0 {
		_, err := fmt.Fprintln(w, "no maintenance window is open")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tFROM\tUNTIL\tWHO\tREASON")
	for _, m := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Device, m.From.Format(time.RFC3339), m.Until.Format(time.RFC3339), m.Who, m.Reason)
	}
	return tw.Flush()
}

// inventoryWindows is Historian.Maintenance for a fixed set of devices.
func inventoryWindows(devs []inventory.Device) func(string) []maintenance.Window {
	by := make(map[string][]maintenance.Window, len(devs))
	for _, d := range devs {
		by[d.Name] = d.Maintenance
	}
	return func(name string) []maintenance.Window { return by[name] }
}
