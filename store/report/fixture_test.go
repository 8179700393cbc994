package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
	"github.com/mastership/mastership/store"
)

// t0 is the fixed scenario's start; every time in it is an offset from t0.
var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// hostileLine is a log line whose text a spreadsheet would run: a device
// can write anything into its log, and the raw line is what reports show.
const hostileLine = `=HYPERLINK("http://x","y")`

// fixtureStore is the fixed scenario every golden file is made from, saved
// through the real SQLite store:
//
//   - mx1 (ams1), dual RE: a PEM major alarm is set at 09:10:00, re1 leaves
//     the alive set 40 s later and comes back as backup at 09:25; a second
//     drop at 09:40 makes it a flap (hardware, critical). The alarm clears
//     at 09:30.
//   - mx2 (ams1): re0 hands mastership to re1 at 09:15 (one switchover,
//     no finding).
//   - mx3 (fra2): its last poll timed out with a hostile error message,
//     and its log holds a hostile line.
//   - ex1 (fra2): a healthy single-RE switch.
//
// Two runs: one complete, one interrupted.
func fixtureStore(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "fixture.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	m, s := time.Minute, time.Second

	run1, err := st.BeginRun(ctx, at(0))
	must("begin run", err)
	run2, err := st.BeginRun(ctx, at(45*m))
	must("begin run", err)

	dual := func(master0, alive1 bool) []devices.RouteEngine {
		re0 := devices.RouteEngine{Name: "re0", Slot: ptr(0), MastershipState: "backup", Status: "OK", Model: "RE-S-1800x4"}
		re1 := devices.RouteEngine{Name: "re1", Slot: ptr(1), MastershipState: "backup", Status: "OK", Model: "RE-S-1800x4"}
		if master0 {
			re0.MastershipState = "master"
		} else {
			re1.MastershipState = "master"
		}
		if !alive1 {
			re1.MastershipState, re1.Status = "", "Absent"
		}
		return []devices.RouteEngine{re0, re1}
	}
	pem := devices.Alarm{Source: devices.AlarmChassis, Time: at(10 * m), Class: "Major", Type: "Chassis",
		Description: "PEM 0 Not Powered"}
	polls := []devices.Poll{
		{RunID: run1, Device: "mx1", Host: "192.0.2.1", Site: "ams1", Started: at(0), Finished: at(0).Add(800 * time.Millisecond),
			Outcome: devices.OutcomeOK, ExpectedREs: 2, Snapshot: &devices.Snapshot{PolledAt: at(0), RouteEngines: dual(true, true)}},
		{RunID: run1, Device: "mx2", Host: "192.0.2.2", Site: "ams1", Started: at(0), Finished: at(0).Add(650 * time.Millisecond),
			Outcome: devices.OutcomeOK, ExpectedREs: 2, Snapshot: &devices.Snapshot{PolledAt: at(0), RouteEngines: dual(true, true)}},
		{RunID: run1, Device: "mx3", Host: "192.0.2.3", Site: "fra2", Started: at(0), Finished: at(0).Add(900 * time.Millisecond),
			Outcome: devices.OutcomeOK, ExpectedREs: 2, Snapshot: &devices.Snapshot{PolledAt: at(0), RouteEngines: dual(true, true)}},
		{RunID: run1, Device: "ex1", Host: "192.0.2.4", Site: "fra2", Started: at(0), Finished: at(0).Add(300 * time.Millisecond),
			Outcome: devices.OutcomeOK, ExpectedREs: 1, Snapshot: &devices.Snapshot{PolledAt: at(0),
				RouteEngines: []devices.RouteEngine{{Name: "re0", Status: "OK", Model: "EX4300-48T"}},
				AbsentLogs:   []string{"mastership"}}},
		{RunID: run2, Device: "mx1", Host: "192.0.2.1", Site: "ams1", Started: at(45 * m), Finished: at(45 * m).Add(900 * time.Millisecond),
			Outcome: devices.OutcomeOK, ExpectedREs: 2, Snapshot: &devices.Snapshot{PolledAt: at(45 * m), RouteEngines: dual(true, false),
				Alarms: []devices.Alarm{pem}}},
		{RunID: run2, Device: "mx2", Host: "192.0.2.2", Site: "ams1", Started: at(45 * m), Finished: at(45 * m).Add(700 * time.Millisecond),
			Outcome: devices.OutcomeOK, ExpectedREs: 2, Snapshot: &devices.Snapshot{PolledAt: at(45 * m), RouteEngines: dual(false, true)}},
		{RunID: run2, Device: "mx3", Host: "192.0.2.3", Site: "fra2", Started: at(45 * m), Finished: at(45 * m).Add(3 * time.Second),
			Outcome: devices.OutcomeTimeout, ErrorKind: "timeout", ExpectedREs: 2,
			Error: `=HYPERLINK("http://x","y") rpc get-route-engine-information: deadline exceeded`},
	}
	for i := range polls {
		must("save poll", st.SavePoll(ctx, &polls[i]))
	}
	must("finish run", st.FinishRun(ctx, devices.Run{ID: run1, Started: at(0), Finished: at(0).Add(time.Second), Devices: 4, OK: 4}))
	must("finish run", st.FinishRun(ctx, devices.Run{ID: run2, Started: at(45 * m), Finished: at(45 * m).Add(3 * time.Second),
		Devices: 4, OK: 2, Failed: 1, Interrupted: true, Unstored: 1}))

	pemLine := devices.LogLine{File: "messages", Time: at(10 * m), Host: "mx1", Process: "alarmd", PID: 2231, Parsed: true,
		Raw:     "Mar 14 09:10:00  mx1 alarmd[2231]: Alarm set: PEM color=RED, class=CHASSIS, reason=PEM 0 Not Powered",
		Message: "Alarm set: PEM color=RED, class=CHASSIS, reason=PEM 0 Not Powered"}
	drop1 := devices.LogLine{File: "messages", Time: at(10*m + 40*s), Host: "mx1", Process: "mcontrol", PID: 1817, Parsed: true,
		Raw:     "Mar 14 09:10:40  mx1 mcontrol[1817]: mcontrol_ore_alive_set: re1 removed from alive set",
		Message: "mcontrol_ore_alive_set: re1 removed from alive set"}
	drop2 := drop1
	drop2.Time, drop2.Raw = at(40*m), "Mar 14 09:40:00  mx1 mcontrol[1817]: mcontrol_ore_alive_set: re1 removed from alive set"
	lines := []devices.LogLine{pemLine, drop1, drop2}
	events := []devices.Event{
		{Kind: devices.EventAlarmSet, Time: pemLine.Time, Change: "set", Subject: "PEM 0 Not Powered", Class: "hardware", Rule: "alarm-set", Line: pemLine},
		{Kind: devices.EventAliveSet, Time: drop1.Time, RE: "re1", Change: "removed", Rule: "mcontrol-alive-set-removed", Line: drop1},
		{Kind: devices.EventAliveSet, Time: drop2.Time, RE: "re1", Change: "removed", Rule: "mcontrol-alive-set-removed", Line: drop2},
	}
	_, err = st.SaveLogs(ctx, "mx1", lines, events, []devices.LogCursor{{File: "messages", Lines: 3, LastTime: drop2.Time}})
	must("save logs", err)
	hostile := devices.LogLine{File: "messages", Time: at(20*m + 5*s), Host: "mx3", Process: "cli", Parsed: true,
		Raw: hostileLine, Message: `=HYPERLINK("http://x","y")`}
	_, err = st.SaveLogs(ctx, "mx3", []devices.LogLine{hostile}, []devices.Event{
		{Kind: devices.EventCommit, Time: hostile.Time, Rule: "cli-command", Line: hostile}}, nil)
	must("save logs", err)

	ts := []devices.Transition{
		{Device: "mx1", RE: "re1", Time: drop1.Time, From: devices.REBackup, To: devices.REGone, Sources: []string{"log"}, Evidence: []string{drop1.Raw}},
		{Device: "mx1", RE: "re1", Time: at(25 * m), From: devices.REGone, To: devices.REBackup, Sources: []string{"re-table"}},
		{Device: "mx1", RE: "re1", Time: drop2.Time, From: devices.REBackup, To: devices.REGone, Sources: []string{"log", "re-table"}, Evidence: []string{drop2.Raw}},
		{Device: "mx2", RE: "re0", Time: at(15 * m), From: devices.REMaster, To: devices.REBackup, Sources: []string{"re-table"}},
		{Device: "mx2", RE: "re1", Time: at(15 * m), From: devices.REBackup, To: devices.REMaster, Sources: []string{"re-table"}},
	}
	must("save transitions", st.SaveTransitions(ctx, ts, 2*time.Minute))
	must("save alarms", st.SaveAlarmRecords(ctx, "mx1", []devices.AlarmRecord{
		{Alarm: pem, FirstSeen: at(10*m + 30*s), LastSeen: at(29 * m), ClearedAt: at(30 * m)},
		{Alarm: devices.Alarm{Source: devices.AlarmSystem, Time: at(44 * m), Class: "Minor", Type: "Configuration",
			Description: "Rescue configuration is not set"}, FirstSeen: at(45 * m), LastSeen: at(45 * m)},
	}))
	must("save findings", st.ReplaceFindings(ctx, "mx1", time.Time{}, []devices.Finding{{
		Device: "mx1", RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical, Transitions: 3,
		First: drop1.Time, Last: drop2.Time, Evidence: []string{pemLine.Raw, drop1.Raw, drop2.Raw},
		Alarms: []devices.Alarm{pem}, Remedy: "Check PEM 0 and the power feed; re1 lost power with it.",
	}}))
	// The switchover ledger: mx2's change of master at 15m, asked for.
	cmdLine := "Mar 14 09:14:40  mx2 mgd[4711]: UI_CMDLINE_READ_LINE: User 'lab', command 'request chassis routing-engine master switch '"
	must("save switchovers", st.ReplaceSwitchovers(ctx, "mx2", time.Time{}, []devices.Switchover{{
		Device: "mx2", Time: at(15 * m), OldMaster: "re0", NewMaster: "re1", Planned: true,
		Command:  "request chassis routing-engine master switch by lab",
		Evidence: []string{cmdLine, "re-table: re1 backup -> master"},
	}}))
	// Switchover readiness: mx1 not ready, mx2 ready, a single-RE
	// router not applicable (left out of the report).
	must("save readiness", st.SaveReadiness(ctx, store.Readiness{Device: "mx1", Site: "ams1", Verdict: readiness.Verdict{
		Verdict: readiness.NotReady, CheckedAt: at(45 * m), Reasons: []readiness.Reason{
			{Code: readiness.CodeReleaseMismatch, Text: "backup runs 21.4R3-S5.4, master 22.2R3.15"},
			{Code: readiness.CodeNSROff, Text: "nonstop-routing is not configured (routing-options nonstop-routing)"},
		}}}))
	must("save readiness", st.SaveReadiness(ctx, store.Readiness{Device: "mx2", Site: "ams1", Verdict: readiness.Verdict{
		Verdict: readiness.Ready, CheckedAt: at(45 * m)}}))
	must("save readiness", st.SaveReadiness(ctx, store.Readiness{Device: "mx204", Verdict: readiness.Verdict{
		Verdict: readiness.NotApplicable, CheckedAt: at(45 * m)}}))
	return st
}

func ptr[T any](v T) *T { return &v }
