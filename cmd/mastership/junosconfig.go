package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/rules"
)

// newJunosConfigCommand is `mastership junos-config` (issue 17): the
// Junos configuration of a small, filtered log file holding what the
// rules read, so that polls transfer a few kilobytes rather than the
// whole messages file.
func newJunosConfigCommand(a *app) *cobra.Command {
	var (
		device, inv, file string
	)
	cmd := &cobra.Command{
		Use:   "junos-config [--device D] [--inventory F]",
		Short: "Print the Junos syslog file configuration of a small, filtered log for the agent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var d *inventory.Device
			if device != "" {
				if inv == "" {
					return usageError(errors.New("--device needs --inventory"))
				}
				loaded, err := a.loadInventory(cmd.Context(), inv)
				if err != nil {
					return usageError(err)
				}
				i := slices.IndexFunc(loaded.Devices, func(x inventory.Device) bool { return x.Name == device })
				if i < 0 {
					return usageError(fmt.Errorf("inventory %s has no device %q", inv, device))
				}
				d = &loaded.Devices[i]
			}
			return printJunosConfig(a.stdout, d, file)
		},
	}
	f := cmd.Flags()
	f.StringVar(&device, "device", "", "the device the configuration is for (named in the header)")
	f.StringVar(&inv, "inventory", "", "inventory file holding --device")
	f.StringVar(&file, "file", rules.DefaultEventsFile, "name of the log file under /var/log")
	return cmd
}

func printJunosConfig(w io.Writer, d *inventory.Device, file string) error {
	cfg, err := rules.JunosConfig(file)
	if err != nil {
		return usageError(err)
	}
	if d != nil {
		fmt.Fprintf(w, "# %s (%s): paste in configuration mode, then commit\n", d.Name, d.Host)
	} else {
		fmt.Fprintln(w, "# paste in configuration mode on each router, then commit")
	}
	fmt.Fprintln(w, "# the filter is broader than the agent's rules: every line a rule reads passes it")
	fmt.Fprint(w, cfg)
	fmt.Fprintf(w, "# then read it instead of messages, in the inventory:\n#   logs: [%s, mastership]\n", file)
	return nil
}
