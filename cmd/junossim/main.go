// Command junossim runs a simulated fleet of Junos routers that speak
// NETCONF over SSH on loopback, and writes an inventory for it, so that
// mastership (or any NETCONF tool) can be tried without a lab:
//
//	junossim --devices 500 --write-inventory /tmp/sim/devices.yaml
//	junossim --scenario fleet.yaml --write-inventory /tmp/sim/devices.yaml
//	junossim --demo --write-inventory /tmp/sim/devices.yaml
//
// Beside the inventory it writes junossim.known_hosts and
// junossim.password (mode 0600). It runs until SIGINT or SIGTERM. The
// routers run on the real clock: a scenario's events at negative offsets
// have happened by the first poll (their lines are in /var/log/messages
// and /var/log/mastership, which get-log and file-show return), the others
// happen while it runs. The scenario format is documented in package
// github.com/mastership/mastership/devices/junos/junossim; ready-made
// scenarios are in its testdata/scenarios.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/mastership/mastership/devices/junos/junossim"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// listLimit is the largest fleet printed one line per device.
const listLimit = 50

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// run is the whole command; ready, if not nil, is called once the fleet
// is up and the inventory written (tests use it to stop the fleet).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func()) int {
	fs := flag.NewFlagSet("junossim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		devices   = fs.Int("devices", 0, "simulate `N` healthy routers (mostly dual-RE MX)")
		scenario  = fs.String("scenario", "", "simulate the routers of scenario `FILE` (YAML)")
		demo      = fs.Bool("demo", false, "simulate the fleet of `mastership demo`")
		inventory = fs.String("write-inventory", "", "write the inventory to `FILE`, with junossim.known_hosts and junossim.password beside it")
		seed      = fs.Int64("seed", 1, "seed for --devices (names, models, framing, up-times)")
		host      = fs.String("host", "127.0.0.1", "loopback `address` to listen on")
		logLevel  = fs.String("log-level", "warn", "log `level`: debug, info, warn or error")
	)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: junossim [--devices N | --scenario FILE | --demo] --write-inventory FILE [--seed S]

Runs simulated Junos routers speaking NETCONF over SSH on loopback and
writes an inventory for them. Runs until interrupted (SIGINT or SIGTERM).

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "junossim: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run junossim --help for usage.")
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	sources := 0
	for _, set := range []bool{*devices != 0, *scenario != "", *demo} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return usage("give exactly one of --devices, --scenario and --demo")
	}
	if *devices < 0 {
		return usage("--devices must be positive, not %d", *devices)
	}
	if *inventory == "" {
		return usage("--write-inventory is required")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usage("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	var sc junossim.Scenario
	switch {
	case *scenario != "":
		var err error
		if sc, err = junossim.LoadScenario(*scenario); err != nil {
			// A broken scenario is a configuration error, like a usage error.
			fmt.Fprintf(stderr, "junossim: %v\n", err)
			return exitUsage
		}
	case *demo:
		sc = junossim.DemoScenario()
	default:
		sc = junossim.Generate(*devices, *seed)
	}

	fleet, err := junossim.Start(ctx, sc, junossim.Options{Host: *host, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "junossim: %v\n", err)
		return exitError
	}
	defer func() {
		if err := fleet.Close(); err != nil {
			fmt.Fprintf(stderr, "junossim: %v\n", err)
		}
	}()
	if err := fleet.WriteInventory(*inventory); err != nil {
		fmt.Fprintf(stderr, "junossim: %v\n", err)
		return exitError
	}

	printFleet(stdout, fleet.Devices())
	dir := filepath.Dir(*inventory)
	fmt.Fprintf(stdout, "inventory written to %s (known_hosts %s, password %s)\n", *inventory,
		filepath.Join(dir, junossim.KnownHostsFile), filepath.Join(dir, junossim.PasswordFile))
	fmt.Fprintln(stdout, "running; interrupt (Ctrl-C) or SIGTERM to stop")
	if ready != nil {
		ready()
	}
	<-ctx.Done()
	logger.Info("junossim: stopping", "cause", context.Cause(ctx))
	return exitOK
}

// printFleet prints one line per device, or a summary for a large fleet.
func printFleet(w io.Writer, devs []junossim.DeviceInfo) {
	if len(devs) > listLimit {
		count := map[string]int{}
		lo, hi := 65536, 0
		for _, d := range devs {
			count[string(d.Topology)]++
			if d.Framing == "1.1" {
				count["framing 1.1"]++
			}
			lo, hi = min(lo, d.Port), max(hi, d.Port)
		}
		fmt.Fprintf(w, "%d routers on %s ports %d-%d: %d dual-RE, %d single-RE, %d MX-VC, %d SRX cluster; %d on chunked framing (1.1)\n",
			len(devs), devs[0].Host, lo, hi, count["dual"], count["single"], count["mx-vc"], count["srx-cluster"], count["framing 1.1"])
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tMODEL\tTOPOLOGY\tJUNOS\tFRAMING\tFAULTS")
	for _, d := range devs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Addr, d.Model, d.Topology, d.Version, d.Framing, faultList(d.Faults))
	}
	tw.Flush()
}

func faultList(f junossim.Faults) string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{
		{f.Refuse, "refuse"}, {f.RejectAuth, "reject_auth"}, {f.WrongHostKey, "wrong_host_key"},
		{f.HangAfterHello, "hang_after_hello"}, {f.StallMidReply, "stall_mid_reply"},
		{f.SilentAfterAccept, "silent_after_accept"},
	} {
		if x.on {
			out = append(out, x.name)
		}
	}
	if f.Latency > 0 {
		out = append(out, "latency "+f.Latency.String())
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}
