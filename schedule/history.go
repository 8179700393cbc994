package schedule

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/mastership/mastership/devices/junos/rules"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/correlate"
	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/store"
)

// Historian turns polls into history — log lines and their events,
// transitions, the alarm lifecycle, configuration — and history into
// findings. The judgement itself is devices/correlate's pure functions;
// this is the I/O around them.
type Historian struct {
	Store    store.Store
	Rules    *rules.Rules
	Settings correlate.Settings
	// Horizon is how far back findings are kept and judged; default 24h.
	Horizon time.Duration
	Logger  *slog.Logger
	// Maintenance returns a device's inventory maintenance windows; nil
	// means none. Ad-hoc windows are read from Store (issue 15).
	Maintenance func(device string) []maintenance.Window

	chunk int // devices per history read in Judge; 0 means judgeChunk
}

// NewHistorian returns a Historian with the built-in rules and default
// settings.
func NewHistorian(st store.Store, log *slog.Logger) (*Historian, error) {
	rules, err := rules.BuiltinRules()
	if err != nil {
		return nil, fmt.Errorf("built-in event rules: %w", err)
	}
	return &Historian{Store: st, Rules: rules, Settings: correlate.DefaultSettings(), Logger: log}, nil
}

func (h *Historian) horizon() time.Duration {
	if h.Horizon > 0 {
		return h.Horizon
	}
	return 24 * time.Hour
}

// Window is how far back history is judged: the horizon plus one flap
// window, so a flap that began just before the horizon is seen whole.
func (h *Historian) Window() time.Duration { return h.horizon() + h.Settings.FlapWindow }

// Record adds what poll p saw to the device's history. prev is the
// device's previous poll (nil for the first), whose snapshot the RE-table
// deltas are taken against.
func (h *Historian) Record(ctx context.Context, prev *devices.Poll, p devices.Poll) error {
	_, err := h.record(ctx, prev, p, nil)
	return err
}

// record is Record for an auditor that remembers what it stored about the
// device (mem, nil when it does not know): the configuration is not
// stored again when it is the one in effect, and the alarm records of a
// device that has none are not read. It returns what it knows the store
// holds afterwards (cursors aside), nil on error.
func (h *Historian) record(ctx context.Context, prev *devices.Poll, p devices.Poll, mem *remembered) (*remembered, error) {
	next := &remembered{}
	if mem != nil {
		next.config, next.configAt, next.noAlarms = mem.config, mem.configAt, mem.noAlarms
	}
	snap := p.Snapshot
	if snap == nil {
		return next, nil // nothing was seen; the poll row itself says why
	}
	// Lines of the mastership log carry no host: the RE that served the
	// log (the master the session landed on) wrote them.
	loggedBy := ""
	if m := snap.Masters(); len(m) == 1 {
		loggedBy = m[0]
	}
	var events []devices.Event
	for _, line := range snap.Logs {
		if ev, ok := h.Rules.ClassifyFrom(p.Device, loggedBy, line); ok {
			events = append(events, ev)
		}
	}
	if len(snap.Logs) > 0 || len(snap.LogCursors) > 0 {
		if _, err := h.Store.SaveLogs(ctx, p.Device, snap.Logs, events, snap.LogCursors); err != nil {
			return nil, fmt.Errorf("store log lines of %s: %w", p.Device, err)
		}
	}

	var prevSnap *devices.Snapshot
	if prev != nil {
		prevSnap = prev.Snapshot
	}
	var ts []devices.Transition
	if len(snap.RouteEngines) > 0 {
		ts = append(ts, correlate.TableTransitions(prevSnap, snap)...)
	}
	// The walk through the log lines starts from the previous poll's RE
	// table. On a device's first poll the current table stands in: the
	// log tail is mostly the master repeating its state, and guessing
	// each RE's earlier state from the lines alone blamed the master for
	// every flap of its backup.
	before := snap.RouteEngines
	if prevSnap != nil {
		before = prevSnap.RouteEngines
	}
	ts = append(ts, correlate.EventTransitionsFrom(before, events, snap.RouteEngines)...)
	ts = correlate.MergeTransitions(ts, h.Settings.MergeTolerance)
	// The RE table's boot times and reboot reasons go with the
	// transitions near them: findings are judged from stored history,
	// and a reboot the log saw as a departure and a return is explained
	// only by the table.
	ts = correlate.WithBoots(ts, snap, h.Settings)
	for i := range ts {
		ts[i].Device = p.Device
	}
	if err := h.Store.SaveTransitions(ctx, ts, h.Settings.MergeTolerance); err != nil {
		return nil, fmt.Errorf("store transitions of %s: %w", p.Device, err)
	}

	if cfg := snap.Config; cfg != nil {
		js := ""
		if cfg.Known {
			js = configJSON(*cfg)
		}
		// SaveConfig would find this very configuration in effect (the
		// latest stored, none stored after it) and add nothing.
		same := mem != nil && js != "" && js == mem.config && !p.Finished.Before(mem.configAt)
		if !same {
			if err := h.Store.SaveConfig(ctx, p.Device, *cfg, p.Finished); err != nil {
				return nil, fmt.Errorf("store configuration of %s: %w", p.Device, err)
			}
		}
		if js != "" { // an unknown one is not stored: the last known stays in effect
			next.config, next.configAt = js, p.Finished
		}
	}

	// The alarm lifecycle only moves when the alarm tables were read:
	// a poll whose alarm RPCs failed must not clear every alarm.
	if snap.AlarmsRead {
		var prevRecs []devices.AlarmRecord
		if mem == nil || !mem.noAlarms {
			var err error
			if prevRecs, err = h.Store.AlarmRecords(ctx, store.Filter{Devices: []string{p.Device}}); err != nil {
				return nil, fmt.Errorf("alarm history of %s: %w", p.Device, err)
			}
		}
		at := deviceTime(p)
		recs := correlate.UpdateAlarms(prevRecs, snap.Alarms, at, events)
		for i := range recs {
			recs[i].Device = p.Device
		}
		if err := h.Store.SaveAlarmRecords(ctx, p.Device, recs); err != nil {
			return nil, fmt.Errorf("store alarms of %s: %w", p.Device, err)
		}
		// UpdateAlarms keeps every earlier record: none now means none
		// stored.
		next.noAlarms = len(recs) == 0
	}
	return next, nil
}

// noteClockStep stores, as a note of p, a step of the device's clock
// since prev (issue 19): the RE table tells it from a reboot, and the
// operator should know that the device's times around it are on two
// clocks.
func noteClockStep(prev *devices.Poll, p *devices.Poll) {
	if prev == nil || prev.Snapshot == nil || p.Snapshot == nil {
		return
	}
	if step, ok := correlate.DetectClockStep(prev.Snapshot, p.Snapshot); ok {
		p.Snapshot.ClockNote = step.Note
	}
}

// deviceTime is the poll's time on the device's clock, falling back to
// the agent's when the device did not say.
func deviceTime(p devices.Poll) time.Time {
	if p.Snapshot != nil && !p.Snapshot.DeviceTime.IsZero() {
		return p.Snapshot.DeviceTime
	}
	return p.Finished
}

// judgeChunk is how many devices Judge reads history for in one query
// per kind. One query per device per kind made reading a large fleet's
// history the biggest per-audit cost; one query for the whole fleet would
// hold the whole fleet's history in memory at once. A few hundred names
// keep both small (and well under SQLite's 32,766 parameters).
const judgeChunk = 256

// Judge recomputes the findings of the named devices from stored history
// up to now and stores them. Fleet configuration drift is judged against
// every device's latest stored configuration.
//
// History is read for judgeChunk devices at a time with the same filters
// a one-device read uses, so each device's lists are exactly what a read
// of that device alone returns (the queries order by time, and grouping
// keeps each device's rows in that order). A device with no findings now
// and none stored in the window is not written to at all.
func (h *Historian) Judge(ctx context.Context, names []string, now time.Time) (map[string][]devices.Finding, error) {
	j, err := h.JudgeAll(ctx, names, now)
	return j.Findings, err
}

// Judgement is what JudgeAll found for each device judged.
type Judgement struct {
	Findings map[string][]devices.Finding
	// Switchovers is each device's switchover ledger in the judged window
	// (issue 15), as stored.
	Switchovers map[string][]devices.Switchover
}

// JudgeAll is Judge, also recomputing and storing each device's switchover
// ledger over the same window: the switchovers of its transitions,
// planned or not, each unplanned one with the cause of the finding that
// covers it. A device with no switchovers now and none stored in the
// window is not written to.
func (h *Historian) JudgeAll(ctx context.Context, names []string, now time.Time) (Judgement, error) {
	configs, err := h.Store.Configs(ctx)
	if err != nil {
		return Judgement{}, fmt.Errorf("fleet configurations: %w", err)
	}
	drift := correlate.Drift(configs)
	since := now.Add(-h.Window())
	out := make(map[string][]devices.Finding, len(names))
	ledger := make(map[string][]devices.Switchover, len(names))
	var errs []error
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(names))), cmp.Or(h.chunk, judgeChunk)) {
		hists, stored, err := h.histories(ctx, chunk, since)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		windows, err := h.maintenanceWindows(ctx, chunk, since)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		storedSw, err := h.storedSwitchovers(ctx, chunk, since)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, name := range chunk {
			var hist correlate.History
			if hists[name] != nil {
				hist = *hists[name]
			}
			hist.ConfigDrift = drift[name]
			if cfg, ok := configs[name]; ok {
				hist.Config = &cfg
			}
			found := correlate.Findings(name, hist, h.Settings)
			// Maintenance marks what correlate judged; it never changes it.
			found = markMaintenance(found, windows[name])
			if len(found) > 0 || stored[name] {
				if err := h.Store.ReplaceFindings(ctx, name, since, found); err != nil {
					errs = append(errs, fmt.Errorf("store findings of %s: %w", name, err))
					continue
				}
			}
			out[name] = found

			// The switchover ledger, over the same window as the findings.
			sws := correlate.SwitchoverCauses(correlate.Switchovers(name, hist.Transitions, hist.Events, h.Settings), found, h.Settings)
			if len(sws) > 0 || storedSw[name] {
				if err := h.Store.ReplaceSwitchovers(ctx, name, since, sws); err != nil {
					errs = append(errs, fmt.Errorf("store switchovers of %s: %w", name, err))
					continue
				}
			}
			ledger[name] = sws
		}
	}
	return Judgement{Findings: out, Switchovers: ledger}, errors.Join(errs...)
}

// storedSwitchovers says which of names have switchovers stored that
// ReplaceSwitchovers would look at (at or after since).
func (h *Historian) storedSwitchovers(ctx context.Context, names []string, since time.Time) (map[string]bool, error) {
	sws, err := h.Store.Switchovers(ctx, store.Filter{Devices: names, Since: since})
	if err != nil {
		return nil, fmt.Errorf("stored switchovers of %d devices (%s to %s): %w", len(names), names[0], names[len(names)-1], err)
	}
	stored := make(map[string]bool)
	for _, sw := range sws {
		stored[sw.Device] = true
	}
	return stored, nil
}

// histories reads the history of names since the given time, grouped by
// device, and which of them have findings stored that ReplaceFindings
// would look at (last transition at or after since).
func (h *Historian) histories(ctx context.Context, names []string, since time.Time) (map[string]*correlate.History, map[string]bool, error) {
	fail := func(err error) error {
		if len(names) == 1 {
			return fmt.Errorf("history of %s: %w", names[0], err)
		}
		return fmt.Errorf("history of %d devices (%s to %s): %w", len(names), names[0], names[len(names)-1], err)
	}
	f := store.Filter{Devices: names, Since: since}
	hists := make(map[string]*correlate.History, len(names))
	of := func(device string) *correlate.History {
		if hists[device] == nil {
			hists[device] = &correlate.History{}
		}
		return hists[device]
	}
	ts, err := h.Store.Transitions(ctx, f)
	if err != nil {
		return nil, nil, fail(err)
	}
	for _, t := range ts {
		hist := of(t.Device)
		hist.Transitions = append(hist.Transitions, t)
	}
	evs, err := h.Store.Events(ctx, f)
	if err != nil {
		return nil, nil, fail(err)
	}
	for _, e := range evs {
		hist := of(e.Device)
		hist.Events = append(hist.Events, e)
	}
	// Every alarm record, as Record reads them: the lifecycle is judged whole.
	recs, err := h.Store.AlarmRecords(ctx, store.Filter{Devices: names})
	if err != nil {
		return nil, nil, fail(err)
	}
	for _, r := range recs {
		hist := of(r.Device)
		hist.Alarms = append(hist.Alarms, r)
	}
	fs, err := h.Store.Findings(ctx, f)
	if err != nil {
		return nil, nil, fail(err)
	}
	stored := make(map[string]bool)
	for _, fd := range fs {
		stored[fd.Device] = true
	}
	return hists, stored, nil
}
