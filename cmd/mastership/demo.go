package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mastership/mastership/devices/junos/junossim"
)

type demoOptions struct {
	dir     string
	timeout time.Duration
}

func newDemoCommand(a *app) *cobra.Command {
	o := demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Audit a simulated fleet of Junos routers end to end",
		Long: `demo starts a simulated fleet of Junos routers in this process — each a real
NETCONF-over-SSH server on 127.0.0.1 with its own host key — writes an
inventory, known_hosts and password file for it, audits it through the same
code path as 'audit' into a SQLite file, prints the fleet table and writes
the devices CSV report and the HTML fleet report. The fleet has healthy single- and dual-RE routers, an
MX Virtual Chassis, an SRX cluster, a router on chunked (base:1.1) framing,
and routers with a Major PEM alarm, a lost backup RE, a Minor alarm, no
listener, a changed host key, a hang after hello and a rejected password.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			dir := o.dir
			if dir == "" {
				var err error
				if dir, err = os.MkdirTemp("", "mastership-demo-"); err != nil {
					return fmt.Errorf("demo directory: %w", err)
				}
			} else if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("demo directory: %w", err)
			}
			fleet, err := junossim.Start(ctx, junossim.DemoScenario(), junossim.Options{Logger: a.log, InventoryTimeout: o.timeout})
			if err != nil {
				return fmt.Errorf("start simulated fleet: %w", err)
			}
			defer fleet.Close()
			invPath := filepath.Join(dir, "devices.yaml")
			if err := fleet.WriteInventory(invPath); err != nil {
				return fmt.Errorf("write inventory: %w", err)
			}
			fmt.Fprintf(a.stdout, "Simulated fleet of %d Junos routers on 127.0.0.1; inventory %s\n\n", len(fleet.Devices()), invPath)

			inv, err := a.loadInventory(cmd.Context(), invPath)
			if err != nil {
				return err
			}
			dbPath := filepath.Join(dir, "mastership.db")
			st, err := openStore(ctx, dbPath)
			if err != nil {
				return err
			}
			defer st.Close()
			started := time.Now()
			var h historyOptions
			h.addFlags(pflag.NewFlagSet("demo", pflag.ContinueOnError)) // the defaults
			views, run, err := a.audit(ctx, st, inv.Devices, 32, 0, &h)
			if err != nil {
				return err
			}
			if err := writeTable(a.stdout, views); err != nil {
				return err
			}
			writeFindings(a.stdout, views)
			writeReadinessSummary(a.stdout, views)
			csvPath, htmlPath := filepath.Join(dir, "devices.csv"), filepath.Join(dir, "fleet.html")
			for _, path := range []string{csvPath, htmlPath} {
				if err := writeRunReport(ctx, st, path, inv.Devices, utcNow()); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stdout, "\nAudit run %d: %d devices, %d polled, %d failed, in %s.\n", run.ID, run.Devices, run.OK, run.Failed, time.Since(started).Round(time.Millisecond))
			fmt.Fprintf(a.stdout, "Database:    %s\nCSV report:  %s\nHTML report: %s\n", dbPath, csvPath, htmlPath)
			fmt.Fprintf(a.stdout, "Try:         go run ./cmd/mastership report --db %s --kind findings --format csv\n", dbPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.dir, "dir", "", "directory for the inventory, database and reports (default: a new temporary directory)")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Second, "per-device deadline (the demo has a router that hangs after hello)")
	return cmd
}
