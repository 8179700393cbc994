package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/correlate"
)

// benchHistoryDays is how much history each device of the correlation
// scenario has.
const benchHistoryDays = 30

// runCorrelate judges N devices × 30 days of synthetic history with the
// pure devices/correlate calls the historian makes: Drift over the fleet's
// configurations, then Findings per device (which merges the transitions
// and finds and judges the flaps). Only those calls are measured: the
// history is generated outside the meter, a slice of devices at a time so
// that memory stays small.
func (b *bencher) runCorrelate(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "devices", OpName: "device"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	settings := correlate.DefaultSettings()

	configs := make(map[string]devices.RedundancyConfig, sc.size)
	for i := range sc.size {
		configs[benchDeviceName(i)] = benchConfig(i)
	}
	benchSettle()
	peak := startPeak()
	m := startMeter()
	drift := correlate.Drift(configs)
	span := m.stop()

	const chunk = 250
	var events, transitions, alarms, findings int
	hist := make([]correlate.History, 0, chunk)
	for lo := 0; lo < sc.size; lo += chunk {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		hist = hist[:0]
		for i := lo; i < min(lo+chunk, sc.size); i++ {
			h := benchHistory(b.o.seed, i, start)
			h.ConfigDrift = drift[benchDeviceName(i)]
			events += len(h.Events)
			transitions += len(h.Transitions)
			alarms += len(h.Alarms)
			hist = append(hist, h)
		}
		m := startMeter()
		for j, h := range hist {
			findings += len(correlate.Findings(benchDeviceName(lo+j), h, settings))
		}
		span = span.add(m.stop())
	}
	r.PeakRSSBytes = peak.stop()
	r.WallSeconds = span.Wall.Seconds()
	r.CPUSeconds = span.CPU.Seconds()
	r.Rate, r.RateUnit = float64(sc.size)/span.Wall.Seconds(), "devices"
	r.CPUPerOpMS = span.CPU.Seconds() * 1000 / float64(sc.size)
	r.AllocsPerOp = float64(span.Mallocs) / float64(sc.size)
	r.OK = sc.size
	r.Note = fmt.Sprintf("%d days: %d events, %d transitions, %d alarm records, %d findings, %d devices drifting; peak RSS includes the generated history",
		benchHistoryDays, events, transitions, alarms, findings, len(drift))
	r.Targets = append(r.Targets, atMost("wall", r.WallSeconds, benchCorrelateMaxSeconds, "s"))
	return r, nil
}

func benchDeviceName(i int) string { return fmt.Sprintf("bench-mx960-%05d", i) }

// benchConfig is device i's redundancy configuration: the same on every
// device but one in a hundred, whose keepalive time differs.
func benchConfig(i int) devices.RedundancyConfig {
	c := devices.RedundancyConfig{
		GracefulSwitchover: true, KeepaliveTime: 300 * time.Second, FailoverOnLossOfKeepalives: true,
		CommitSynchronize: true, NonstopRouting: true, Known: true,
	}
	if i%100 == 7 {
		c.KeepaliveTime = 10 * time.Second
	}
	return c
}

// benchHistory is device i's synthetic history over benchHistoryDays from
// start: every day a commit and two revenue-port link flaps (down, up);
// a standing Minor alarm; and on one device in five one to three flaps of
// re1 (two departures, two returns, each seen in the log and in the RE
// table 30 s apart) with the evidence of a cause (a PEM alarm, a core
// dump, an internal link flap, a commit, or none) and the symptom alarm
// "Loss of communication with Backup RE".
func benchHistory(seed int64, i int, start time.Time) correlate.History {
	rnd := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
	dev := benchDeviceName(i)
	var h correlate.History
	event := func(at time.Time, kind devices.EventKind, re, change, subject, class, process, tag, msg string) {
		raw := at.Format(time.Stamp) + "  " + dev + " " + process + "[1817]: " + tag + ": " + msg
		h.Events = append(h.Events, devices.Event{
			Device: dev, Kind: kind, Time: at, RE: re, Change: change, Subject: subject, Class: class,
			Rule: "bench-" + string(kind),
			Line: devices.LogLine{File: "messages", Raw: raw, Time: at, Host: dev, Process: process, PID: 1817, Tag: tag, Message: msg, Parsed: true},
		})
	}
	alarm := func(first, cleared time.Time, class, desc string) {
		last := cleared
		if last.IsZero() {
			last = start.Add(benchHistoryDays * 24 * time.Hour)
		}
		h.Alarms = append(h.Alarms, devices.AlarmRecord{
			Device:    dev,
			Alarm:     devices.Alarm{Source: devices.AlarmChassis, Time: first, Class: class, Type: "Chassis", Description: desc},
			FirstSeen: first, LastSeen: last, ClearedAt: cleared,
		})
	}
	alarm(start.Add(-48*time.Hour), time.Time{}, "Minor", "Rescue configuration is not set")
	for day := range benchHistoryDays {
		d := start.Add(time.Duration(day) * 24 * time.Hour)
		at := d.Add(time.Duration(rnd.IntN(86400)) * time.Second)
		event(at, devices.EventCommit, "", "", "", "", "mgd", "UI_COMMIT", "User 'luke' requested 'commit' operation (comment: none)")
		for range 2 {
			port := fmt.Sprintf("xe-0/0/%d", rnd.IntN(48))
			at := d.Add(time.Duration(rnd.IntN(86000)) * time.Second)
			event(at, devices.EventLinkFlap, "", "down", port, "", "mib2d", "SNMP_TRAP_LINK_DOWN", "ifIndex 512, ifAdminStatus up(1), ifOperStatus down(2), ifName "+port)
			event(at.Add(5*time.Second), devices.EventLinkFlap, "", "up", port, "", "mib2d", "SNMP_TRAP_LINK_UP", "ifIndex 512, ifAdminStatus up(1), ifOperStatus up(1), ifName "+port)
		}
	}
	if i%5 != 0 {
		return h
	}
	for k := range 1 + rnd.IntN(3) {
		t0 := start.Add(time.Duration(rnd.IntN(benchHistoryDays*86400-3600)) * time.Second)
		for step := range 4 {
			at := t0.Add(time.Duration(step) * 2 * time.Minute)
			from, to, change := devices.REBackup, devices.REGone, "left"
			if step%2 == 1 {
				from, to, change = devices.REGone, devices.REBackup, "joined"
			}
			msg := "mcontrol_ore_alive_set: re1 removed from alive set (keepalive timeout)"
			if change == "joined" {
				msg = "mcontrol_ore_alive_set: re1 added to alive set"
			}
			event(at, devices.EventAliveSet, "re1", change, "", "", "chassisd", "mcontrol_ore_alive_set", msg)
			h.Transitions = append(h.Transitions,
				devices.Transition{Device: dev, RE: "re1", Time: at, From: from, To: to, Sources: []string{"log:messages"}, Evidence: []string{msg}},
				devices.Transition{Device: dev, RE: "re1", Time: at.Add(30 * time.Second), From: from, To: to, Sources: []string{"re-table"}, Evidence: []string{"re1 " + from + " → " + to + " in the RE table"}})
		}
		alarm(t0.Add(20*time.Second), t0.Add(7*time.Minute), "Minor", "Loss of communication with Backup RE")
		switch (i/5 + k) % 5 {
		case 0:
			event(t0.Add(-time.Minute), devices.EventAlarmSet, "", "set", "PEM 0", "Major", "alarmd", "", "Alarm set: PEM color=RED, class=CHASSIS, reason=PEM 0 Not Powered")
			alarm(t0.Add(-time.Minute), t0.Add(time.Hour), "Major", "PEM 0 Not Powered")
		case 1:
			event(t0.Add(-30*time.Second), devices.EventCoreDump, "re1", "", "rpd", "", "dumpd", "", "Core and context for rpd saved in /var/tmp/rpd.core-tarball.0.tgz")
		case 2:
			event(t0.Add(-10*time.Second), devices.EventInternalLink, "", "down", "em0", "", "/kernel", "", "em0: Link is Down")
		case 3:
			event(t0.Add(-5*time.Minute), devices.EventCommit, "", "", "", "", "mgd", "UI_COMMIT", "User 'jsmith' requested 'commit' operation (comment: maintenance)")
		}
	}
	return h
}
