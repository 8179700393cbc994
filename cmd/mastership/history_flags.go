package main

import (
	"fmt"
	"time"

	"github.com/mastership/mastership/devices/junos/rules"
	"github.com/mastership/mastership/devices/junos/syslog"

	"github.com/spf13/pflag"

	"github.com/mastership/mastership/devices/correlate"
	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/store"
)

// historyOptions are the settings of log reading and correlation that
// audit and check share: the thresholds are the operator's to tune.
type historyOptions struct {
	rules       string
	settings    correlate.Settings
	horizon     time.Duration
	logTail     int
	logMaxBytes int
	// Issue 17 (router cost).
	refresh      time.Duration
	logWarnBytes int64
}

func (h *historyOptions) addFlags(f *pflag.FlagSet) {
	h.settings = correlate.DefaultSettings()
	f.StringVar(&h.rules, "rules", "", "event rules file that extends or replaces the built-in rules (see docs/rules.md)")
	f.IntVar(&h.settings.FlapMin, "flap-min", h.settings.FlapMin, "transitions of one RE that make a flap")
	f.DurationVar(&h.settings.FlapWindow, "flap-window", h.settings.FlapWindow, "longest gap between transitions inside one flap")
	f.DurationVar(&h.settings.EvidenceWindow, "evidence-window", h.settings.EvidenceWindow, "evidence is looked for this long before and after a flap")
	f.DurationVar(&h.settings.CommitLookback, "commit-lookback", h.settings.CommitLookback, "a commit this long before a flap is configuration evidence")
	f.DurationVar(&h.horizon, "findings-horizon", 24*time.Hour, "how far back findings are judged and shown")
	f.IntVar(&h.logTail, "log-tail", syslog.DefaultFirstTail, "lines taken from each log on a device's first poll")
	f.IntVar(&h.logMaxBytes, "log-max-bytes", syslog.DefaultMaxBytes, "most log text taken per file per poll")
	// Issue 17 (router cost).
	f.DurationVar(&h.refresh, "refresh", schedule.DefaultRefresh, "run: software and redundancy configuration are read again at least this often (and after a reboot or commit)")
	f.Int64Var(&h.logWarnBytes, "log-warn-bytes", schedule.DefaultLogWarnBytes, "a log file read bigger than this gets a note pointing to mastership junos-config (negative: never)")
}

// historian builds the history recorder from the options.
func (h *historyOptions) historian(a *app, st store.Store) (*schedule.Historian, error) {
	if err := h.settings.Validate(); err != nil {
		return nil, err
	}
	if h.refresh <= 0 {
		return nil, fmt.Errorf("--refresh must be positive")
	}
	if h.horizon <= 0 || h.logTail < 0 || h.logMaxBytes <= 0 {
		return nil, fmt.Errorf("--findings-horizon and --log-max-bytes must be positive, --log-tail not negative")
	}
	hist, err := schedule.NewHistorian(st, a.log)
	if err != nil {
		return nil, err
	}
	if h.rules != "" {
		rules, err := rules.LoadRules(h.rules)
		if err != nil {
			return nil, err
		}
		hist.Rules = rules
	}
	hist.Settings = h.settings
	hist.Horizon = h.horizon
	return hist, nil
}

// poller is the poller with the options' log limits.
func (h *historyOptions) poller(a *app, st store.Store, timeout time.Duration) *schedule.Poller {
	return &schedule.Poller{Now: utcNow, Timeout: timeout, Cursors: st, LogTail: h.logTail, LogMaxBytes: h.logMaxBytes, Logger: a.log,
		KnownHosts: &netconf.KnownHostsCache{}, LogWarnBytes: h.logWarnBytes}
}
