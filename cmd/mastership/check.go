package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/spf13/cobra"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/schedule"
)

type checkOptions struct {
	inventory string
	db        string
	json      bool
	report    string
	history   historyOptions
	timeout   pluginTimeout
	version   bool
	via       string
	maxAge    time.Duration
	// check --via against a daemon with a token or TLS (issue 18).
	viaTokenFile string
	viaCAFile    string
}

func newCheckCommand(a *app) *cobra.Command {
	o := checkOptions{}
	cmd := &cobra.Command{
		Use:   "check DEVICE --inventory FILE",
		Short: "Poll one device now and judge it, Nagios style",
		Long: `check polls one device now and prints a Nagios/Icinga plugin result:

  MASTERSHIP <STATE> - <summary> | <perfdata>

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
CRITICAL: a Routing Engine is missing from the alive set, no RE is master,
or a Major alarm is active. WARNING: a Minor alarm, or part of the poll
failed. UNKNOWN: the device could not be polled (unreachable, auth, host
key, timeout, protocol error) or the command line/inventory is wrong.
With --db the poll is stored, and the device's history tells how many REs
it should have when the inventory has no expected_res. Findings (Routing
Engine flaps with their cause) come from the device's log tail and, with
--db, from its stored history: a critical finding is CRITICAL, any other
WARNING; each is printed under the status line with its evidence.`,
		Example: `  mastership check ams1-mx960-1 --inventory devices.yaml
  mastership check ams1-mx960-1 --inventory devices.yaml --json`,
		// One DEVICE, checked in RunE: -V prints the version without one,
		// as Nagios plugins do.
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.version {
				printVersion(a.stdout, buildInfo())
				return nil
			}
			// Nagios reads exit 2 as CRITICAL: a broken command line or
			// inventory is UNKNOWN (3) here.
			unknown := func(err error) error {
				fmt.Fprintf(a.stdout, "MASTERSHIP UNKNOWN - %s\n", oneLine(err.Error(), 400))
				return &exitError{Code: int(devices.StateUnknown)}
			}
			if len(args) != 1 {
				return unknown(fmt.Errorf("give one DEVICE to check (mastership check DEVICE --inventory FILE)"))
			}
			if o.via == "" && (o.viaTokenFile != "" || o.viaCAFile != "") {
				return unknown(fmt.Errorf("--via-token-file and --via-ca-file go with --via"))
			}
			if o.via != "" {
				// The daemon's last poll: no inventory, no router.
				if o.maxAge < 0 {
					return unknown(fmt.Errorf("--max-age must be positive"))
				}
				state, err := a.checkVia(cmd.Context(), &o, args[0])
				if err != nil {
					return unknown(err)
				}
				return &exitError{Code: int(state)}
			}
			inv, err := a.loadInventory(cmd.Context(), o.inventory)
			if err != nil {
				return unknown(err)
			}
			d, ok := inv.Device(args[0])
			if !ok {
				return unknown(fmt.Errorf("device %q is not in %s", args[0], o.inventory))
			}
			if o.report != "" {
				if _, err := reportFormatOf(o.report); err != nil {
					return unknown(err)
				}
			}
			// Without --db the history lives in a scratch database for this
			// one check: the log tail still shows flaps, nothing is kept.
			db := o.db
			if db == "" {
				dir, err := os.MkdirTemp("", "mastership-check-")
				if err != nil {
					return unknown(err)
				}
				defer os.RemoveAll(dir)
				db = filepath.Join(dir, "check.db")
			}
			st, err := openStore(cmd.Context(), db)
			if err != nil {
				return unknown(err)
			}
			defer st.Close()
			hist, err := o.history.historian(a, st)
			if err != nil {
				return unknown(err)
			}
			hist.Maintenance = inventoryWindows([]inventory.Device{d})
			auditor := &schedule.Auditor{
				Poller:    o.history.poller(a, st, time.Duration(o.timeout)),
				Store:     st,
				Historian: hist,
				Logger:    a.log,
			}
			p, findings, err := auditor.Check(cmd.Context(), d)
			if err != nil {
				return unknown(err)
			}
			v, err := a.view(cmd.Context(), st, hist, p, findings)
			if err != nil {
				return unknown(err)
			}
			r, err := auditor.CheckReadiness(cmd.Context(), d, p)
			if err != nil {
				return unknown(err)
			}
			v = v.withReadiness(r, true, d)
			if o.report != "" {
				// Before the scratch database goes: the report is of this
				// poll and whatever history --db holds.
				if err := writeRunReport(cmd.Context(), st, o.report, []inventory.Device{d}, utcNow()); err != nil {
					return unknown(err)
				}
			}
			if o.json {
				if err := writeJSON(a.stdout, v); err != nil {
					return err
				}
			} else {
				writeCheck(a.stdout, v, p)
			}
			return &exitError{Code: int(v.State)}
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file (YAML; see devices.example.yaml)")
	dbFlag(f, &o.db, "", dbFlagUsage+"; the poll is stored there and history read from it (default: none, a scratch store for this check)")
	f.BoolVar(&o.json, "json", false, "print one JSON object instead of the plugin line")
	f.StringVar(&o.report, "report", "", "also write a report of this check to FILE: .html (timeline), .csv, .json or .jsonl")
	// A bad flag is UNKNOWN with a plugin line too: Nagios reads exit 2
	// as CRITICAL.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		fmt.Fprintf(a.stdout, "MASTERSHIP UNKNOWN - %s\n", oneLine(err.Error(), 400))
		return &exitError{Code: int(devices.StateUnknown)}
	})
	f.VarP(&o.timeout, "timeout", "t", "hard deadline of the poll, as seconds (Nagios' -t 30) or a duration (45s, 2m); default: the device's inventory timeout")
	f.BoolVarP(&o.version, "version", "V", false, "print the version and exit, as Nagios plugins do")
	f.StringVar(&o.via, "via", "", "ask the daemon at URL (http://127.0.0.1:9728) for its last poll instead of polling the router")
	f.DurationVar(&o.maxAge, "max-age", 0, "with --via: UNKNOWN when the daemon's poll is older than this (default: twice the daemon's interval)")
	f.StringVar(&o.viaTokenFile, "via-token-file", "", "with --via: send the bearer token in this file (the daemon's --http-token-file)")
	f.StringVar(&o.viaCAFile, "via-ca-file", "", "with --via https://…: trust the daemon's certificate when this PEM CA file signed it (default: the system's CAs)")
	o.history.addFlags(f)
	return cmd
}

// pluginTimeout is check's -t/--timeout: whole seconds, as Nagios and
// Icinga pass it (-t 30), or a Go duration (45s, 2m). 0 means the
// device's inventory timeout.
type pluginTimeout time.Duration

func (t *pluginTimeout) String() string {
	if *t == 0 {
		return ""
	}
	return time.Duration(*t).String()
}

func (t *pluginTimeout) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, serr := strconv.Atoi(s)
		if serr != nil {
			return fmt.Errorf("%q is neither seconds (30) nor a duration (45s, 2m)", s)
		}
		d = time.Duration(secs) * time.Second
	}
	if d <= 0 {
		return fmt.Errorf("%q: the timeout must be positive", s)
	}
	*t = pluginTimeout(d)
	return nil
}

func (t *pluginTimeout) Type() string { return "seconds|duration" }

// writeCheck prints the plugin output: the status line with perfdata, then
// one line per Routing Engine and alarm for the long output.
func writeCheck(w io.Writer, v deviceView, p devices.Poll) {
	fmt.Fprintf(w, "MASTERSHIP %s - %s: %s | %s\n", v.State, v.Device, oneLine(v.Summary, 300), perfdata(v, p.Finished.Sub(p.Started)))
	if v.Error != nil {
		// The status line may be cut; the whole error (host key
		// fingerprints, what to do) is in the long output.
		fmt.Fprintf(w, "ERROR %s: %s\n", v.Error.Kind, oneLine(v.Error.Message, 2000))
	}
	for _, f := range v.Findings {
		fmt.Fprintf(w, "FINDING %s %s %s: %d transitions %s to %s", f.RE, f.Cause, f.Severity, f.Transitions,
			f.First.Format(time.RFC3339), f.Last.Format(time.RFC3339))
		if len(f.OtherCauses) > 0 {
			fmt.Fprintf(w, " (also: %v)", f.OtherCauses)
		}
		fmt.Fprintf(w, "\n  remedy: %s\n", f.Remedy)
		for _, e := range f.Evidence {
			fmt.Fprintf(w, "  evidence: %s\n", oneLine(e, 300))
		}
	}
	for _, re := range v.RouteEngines {
		up := "up-time unknown"
		if re.UpTimeSeconds != nil {
			up = "up " + humanDuration(time.Duration(*re.UpTimeSeconds)*time.Second)
		}
		fmt.Fprintf(w, "RE %s: %s, status %s, %s, last reboot: %s\n", re.Name, dash(re.MastershipState), dash(re.Status), up, dash(re.LastRebootReason))
	}
	for _, n := range v.Notes {
		fmt.Fprintf(w, "NOTE %s\n", n)
	}
	if v.UnparsedLogLines > 0 {
		fmt.Fprintf(w, "LOG %d stored log lines matched no syslog shape (kept in the database, not dropped)\n", v.UnparsedLogLines)
	}
	for _, al := range v.Alarms {
		when := "time unknown"
		if al.Time != nil {
			when = al.Time.Format("2006-01-02T15:04:05Z07:00")
		}
		fmt.Fprintf(w, "ALARM %s %s (%s, %s): %s\n", al.Class, al.Type, al.Source, when, al.Description)
	}
}

// humanDuration prints an up-time the way Junos operators read it:
// "142d 12h 36m", seconds only for the first minute.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	mins := int(d % time.Hour / time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	default:
		return fmt.Sprintf("%dm", mins)
	}
}
