package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// pollPathDevices is the fleet BenchmarkPollPath polls round-robin.
const pollPathDevices = 200

// BenchmarkPollPath is one device poll's store calls as an audit makes
// them (schedule.Auditor.save, Historian.Record, then Historian.Judge),
// one op per device poll, across a fleet polled round-robin. Once per
// round (an audit) it also begins and finishes a run and reads the fleet's
// configurations, as the auditor and the judge do.
func BenchmarkPollPath(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	names := make([]string, pollPathDevices)
	for i := range names {
		names[i] = fmt.Sprintf("mx%03d", i)
	}
	var runID int64
	poll := func(i int) error {
		round, name := i/len(names), names[i%len(names)]
		started := base.Add(time.Duration(round)*time.Hour + time.Duration(i%len(names))*time.Second)
		slot := base.Add(time.Duration(round) * time.Hour)
		if i%len(names) == 0 {
			if runID != 0 {
				if err := st.FinishRun(ctx, devices.Run{ID: runID, Finished: started, Devices: len(names),
					OK: len(names)}); err != nil {
					return err
				}
			}
			if runID, err = st.BeginRun(ctx, slot); err != nil {
				return err
			}
			if _, err := st.Configs(ctx); err != nil {
				return err
			}
		}
		return pollPathOne(ctx, st, runID, slot, name, round, started)
	}
	// One round first, so every op polls a device with history.
	for i := range len(names) {
		if err := poll(i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := len(names); b.Loop(); i++ {
		if err := poll(i); err != nil {
			b.Fatal(err)
		}
	}
}

// pollPathOne is the store side of one poll of device name in its
// round-th audit.
func pollPathOne(ctx context.Context, st Store, runID int64, slot time.Time, name string, round int, started time.Time) error {
	if mine, err := st.ClaimPoll(ctx, slot, name); err != nil || !mine {
		return fmt.Errorf("ClaimPoll = %v, %v", mine, err)
	}
	var cursors []devices.LogCursor
	for _, file := range []string{"messages", "mastership"} {
		c, _, err := st.LogCursor(ctx, name, file)
		if err != nil {
			return err
		}
		cursors = append(cursors, c)
	}
	if _, err := st.MaxREsSeen(ctx, name); err != nil {
		return err
	}
	prev, err := st.LatestREPoll(ctx, name)
	if err != nil {
		return err
	}
	if round > 0 && (prev == nil || prev.Snapshot == nil || len(prev.Snapshot.RouteEngines) != 2) {
		return fmt.Errorf("LatestREPoll of %s = %+v", name, prev)
	}

	p := fullPoll(name, runID, started)
	if err := st.SavePoll(ctx, &p); err != nil {
		return err
	}

	// A few new lines since the last poll, one of which a rule gives
	// meaning to, and the cursors moved past them.
	var lines []devices.LogLine
	for j := range 4 {
		at := started.Add(time.Duration(j-10) * time.Second).Truncate(time.Second)
		l := devices.LogLine{File: "messages", Time: at, Host: "re0-" + name, Process: "chassisd", PID: 1500,
			Tag: "CHASSISD_SNMP_TRAP7", Parsed: true,
			Message: fmt.Sprintf("SNMP trap generated: Fru Offline (jnxFruContentsIndex 7, jnxFruL1Index %d)", j)}
		l.Raw = at.Format(time.Stamp) + " " + l.Host + " " + l.Tag + ": " + l.Message
		lines = append(lines, l)
	}
	events := []devices.Event{{Kind: devices.EventFRU, Time: lines[0].Time, Subject: "FPC 7", Rule: "chassisd-fru",
		Line: lines[0]}}
	for k := range cursors {
		cursors[k].Device, cursors[k].File = name, []string{"messages", "mastership"}[k]
		cursors[k].Tail, cursors[k].LastTime = []string{lines[3].Raw}, lines[3].Time
		cursors[k].Lines += 4
	}
	if _, err := st.SaveLogs(ctx, name, lines, events, cursors); err != nil {
		return err
	}

	// A switchover every fourth audit.
	var ts []devices.Transition
	if round%4 == 0 {
		ts = append(ts, devices.Transition{Device: name, RE: "re1", Time: started.Add(-7 * time.Minute),
			From: devices.REBackup, To: devices.REMaster, Sources: []string{"re-table"},
			Evidence: []string{"re1 backup → master"}})
	}
	if err := st.SaveTransitions(ctx, ts, 2*time.Minute); err != nil {
		return err
	}
	cfg := devices.RedundancyConfig{GracefulSwitchover: true, KeepaliveTime: 300 * time.Second, Known: true}
	if err := st.SaveConfig(ctx, name, cfg, p.Finished); err != nil {
		return err
	}

	if _, err := st.AlarmRecords(ctx, Filter{Devices: []string{name}}); err != nil {
		return err
	}
	var recs []devices.AlarmRecord
	for _, a := range p.Snapshot.Alarms {
		recs = append(recs, devices.AlarmRecord{Device: name, Alarm: a, FirstSeen: started, LastSeen: started})
	}
	if err := st.SaveAlarmRecords(ctx, name, recs); err != nil {
		return err
	}

	// The judge's reads and write for the device.
	since := started.Add(-24 * time.Hour)
	f := Filter{Devices: []string{name}, Since: since}
	ts, err = st.Transitions(ctx, f)
	if err != nil {
		return err
	}
	if _, err := st.Events(ctx, f); err != nil {
		return err
	}
	if _, err := st.AlarmRecords(ctx, Filter{Devices: []string{name}}); err != nil {
		return err
	}
	var found []devices.Finding
	if len(ts) > 0 {
		found = append(found, devices.Finding{Device: name, RE: ts[0].RE, Cause: devices.CauseHardware,
			Severity: devices.SeverityCritical, Transitions: len(ts), First: ts[0].Time, Last: ts[len(ts)-1].Time,
			Evidence: ts[0].Evidence, Alarms: p.Snapshot.Alarms[:1], Remedy: "replace the RE"})
	}
	return st.ReplaceFindings(ctx, name, since, found)
}
