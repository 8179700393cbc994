package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// retentionSuite is the contract of Prune. The SQLite opener checks the
// file with integrity_check and foreign_key_check when each test ends.
func retentionSuite() []suiteTest {
	return []suiteTest{
		{"PruneOldHistory", suitePruneOldHistory},
		{"PruneKeepsLatestPolls", suitePruneKeepsLatestPolls},
		{"PruneConcurrentSavePoll", suitePruneConcurrentSavePoll},
		{"PruneCanceled", suitePruneCanceled},
		{"PruneSwitchoversAndMaintenance", suitePruneSwitchoversAndMaintenance},
	}
}

// Retention cuts at base: "old" is well before it, "recent" after it.
var (
	pruneCut = base
	oldT     = base.Add(-40 * 24 * time.Hour)
	recentT  = base.Add(time.Hour)
)

func mustPrune(t *testing.T, st Store, before time.Time) PruneStats {
	t.Helper()
	got, err := st.Prune(context.Background(), before)
	if err != nil {
		t.Fatalf("Prune(%s): %v", before, err)
	}
	return got
}

func suitePruneOldHistory(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	mustRun := func(started, finished time.Time) int64 {
		t.Helper()
		id, err := st.BeginRun(ctx, started)
		if err != nil {
			t.Fatal(err)
		}
		if !finished.IsZero() {
			if err := st.FinishRun(ctx, devices.Run{ID: id, Started: started, Finished: finished}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	oldRun := mustRun(oldT, oldT.Add(time.Minute))                 // all its polls go: it goes
	keptRun := mustRun(oldT.Add(time.Hour), oldT.Add(2*time.Hour)) // a kept poll is in it
	newRun := mustRun(recentT, recentT.Add(time.Minute))
	stale := mustRun(oldT, time.Time{}) // never finished: kept

	// mx1: two old polls and a recent one; mx2: old only, the latest kept.
	for _, p := range []devices.Poll{
		fullPoll("mx1", oldRun, oldT),
		failedPoll("mx1", oldRun, oldT.Add(time.Minute)),
		fullPoll("mx1", newRun, recentT),
		fullPoll("mx2", keptRun, oldT.Add(time.Hour)),
		fullPoll("mx2", keptRun, oldT.Add(90*time.Minute)),
	} {
		mustSave(t, st, &p)
	}
	wantLatest := map[string]*devices.Poll{"mx1": mustLatest(t, st, "mx1"), "mx2": mustLatest(t, st, "mx2")}

	// Log lines: an old line repeated (with an event each), an old line
	// and a recent one in another file, and an untimed line.
	oldLine := devices.LogLine{File: "messages", Raw: "old " + aliveRm, Time: oldT.Truncate(time.Second),
		Message: "re1 removed from alive set", Parsed: true}
	oldOther := devices.LogLine{File: "mastership", Raw: "old " + noORE, Time: oldT.Truncate(time.Second), Parsed: true}
	newLine := devices.LogLine{File: "mastership", Raw: noORE, Time: recentT.Truncate(time.Second), Parsed: true}
	untimed := devices.LogLine{File: "messages", Raw: junk}
	ev := func(l devices.LogLine) devices.Event {
		return devices.Event{Kind: devices.EventAliveSet, Time: l.Time, RE: "re1", Change: "left", Rule: "r", Line: l}
	}
	mustSaveLogs(t, st, "mx1", []devices.LogLine{oldLine, oldLine, oldOther, newLine, untimed},
		[]devices.Event{ev(oldLine), ev(oldLine), ev(newLine)},
		[]devices.LogCursor{{File: "messages", LastTime: oldT, Lines: 3}}, 5)

	mustSaveTransitions(t, st, time.Minute,
		devices.Transition{Device: "mx1", RE: "re1", Time: oldT, From: devices.REBackup, To: devices.REGone, Sources: []string{"re-table"}},
		devices.Transition{Device: "mx1", RE: "re1", Time: recentT, From: devices.REGone, To: devices.REBackup, Sources: []string{"re-table"}})

	pem := devices.Alarm{Source: devices.AlarmChassis, Time: oldT.Add(-time.Hour), Class: "Major", Type: "Chassis",
		Description: "PEM 0 Not Powered"}
	fan := pem
	fan.Description = "Fan Tray Failure"
	temp := pem
	temp.Description = "Temperature Hot"
	if err := st.SaveAlarmRecords(ctx, "mx1", []devices.AlarmRecord{
		{Alarm: pem, FirstSeen: oldT, LastSeen: oldT, ClearedAt: oldT.Add(time.Minute)},        // cleared long ago: goes
		{Alarm: fan, FirstSeen: oldT, LastSeen: recentT},                                       // still active: kept
		{Alarm: temp, FirstSeen: oldT, LastSeen: recentT, ClearedAt: recentT.Add(time.Minute)}, // cleared recently: kept
	}); err != nil {
		t.Fatal(err)
	}

	fOld := devices.Finding{Device: "mx1", RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical,
		Transitions: 2, First: oldT, Last: oldT.Add(time.Minute), Evidence: []string{}, Alarms: []devices.Alarm{}}
	fAcross := fOld
	fAcross.RE, fAcross.Last = "re0", recentT
	if err := st.ReplaceFindings(ctx, "mx1", time.Time{}, []devices.Finding{fOld, fAcross}); err != nil {
		t.Fatal(err)
	}

	std := devices.RedundancyConfig{GracefulSwitchover: true, KeepaliveTime: 300 * time.Second, Known: true}
	odd := std
	odd.GracefulSwitchover = false
	for _, c := range []struct {
		device string
		cfg    devices.RedundancyConfig
		at     time.Time
	}{
		{"mx1", std, oldT.Add(-48 * time.Hour)}, // replaced before the cut: goes
		{"mx1", odd, oldT},                      // in effect at the cut: kept
		{"mx1", std, recentT},
		{"mx2", odd, oldT}, // the latest: kept however old
	} {
		if err := st.SaveConfig(ctx, c.device, c.cfg, c.at); err != nil {
			t.Fatal(err)
		}
	}

	got := mustPrune(t, st, pruneCut)
	want := PruneStats{
		Runs:  1,
		Polls: 3, RouteEngines: 4, Alarms: 6, Software: 4, // mx1's two old ones, mx2's first
		LogLines: 3, Events: 2,
		Transitions: 1, AlarmRecords: 1, Findings: 1, Configs: 1,
	}
	if got != want {
		t.Errorf("Prune stats\n got %+v\nwant %+v", got, want)
	}
	if got.Total() != 27 {
		t.Errorf("Total = %d, want 27", got.Total())
	}

	// What is kept reads as before.
	for dev, w := range wantLatest {
		if g := mustLatest(t, st, dev); !reflect.DeepEqual(g, w) {
			t.Errorf("LatestPoll(%s) after Prune\n got %+v\nwant %+v", dev, g, w)
		}
	}
	runs, err := st.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	if wantIDs := []int64{newRun, keptRun, stale}; !sameIDs(ids, wantIDs) {
		t.Errorf("runs after Prune = %v, want %v (run %d deleted)", ids, wantIDs, oldRun)
	}
	evs := mustEvents(t, st, Filter{})
	if len(evs) != 1 || evs[0].Line.Raw != noORE {
		t.Errorf("events after Prune = %+v, want the recent one", evs)
	}
	mustUnparsed(t, st, "mx1", 1) // the untimed line is kept
	if c, ok, err := st.LogCursor(ctx, "mx1", "messages"); err != nil || !ok || c.Lines != 3 {
		t.Errorf("LogCursor after Prune = %+v, %v, %v: cursors are never pruned", c, ok, err)
	}
	if ts := mustTransitions(t, st, Filter{}); len(ts) != 1 || !ts[0].Time.Equal(recentT) {
		t.Errorf("transitions after Prune = %+v", ts)
	}
	var descs []string
	for _, r := range mustAlarmRecords(t, st, Filter{}) {
		descs = append(descs, r.Alarm.Description)
	}
	if !sameStrings(descs, []string{"Fan Tray Failure", "Temperature Hot"}) {
		t.Errorf("alarm records after Prune = %q", descs)
	}
	if fs := mustFindings(t, st, Filter{}); len(fs) != 1 || fs[0].RE != "re0" {
		t.Errorf("findings after Prune = %+v", fs)
	}
	cfgs, err := st.Configs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := map[string]devices.RedundancyConfig{"mx1": std, "mx2": odd}; !reflect.DeepEqual(cfgs, w) {
		t.Errorf("Configs after Prune = %+v, want %+v", cfgs, w)
	}
	// The configuration in effect at the cut is still known: a late
	// reading equal to it is no change, and stores nothing.
	if err := st.SaveConfig(ctx, "mx1", odd, oldT.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	// Prune is idempotent: nothing older is left.
	if again := mustPrune(t, st, pruneCut); again.Total() != 0 {
		t.Errorf("second Prune deleted %+v", again)
	}

	// The old lines are gone for good: a re-read of the whole file stores
	// them again as new (see Prune), and the next Prune takes them again.
	mustSaveLogs(t, st, "mx1", []devices.LogLine{oldLine, oldLine, newLine, untimed}, nil, nil, 2)
	if again := mustPrune(t, st, pruneCut); again.LogLines != 2 || again.Total() != 2 {
		t.Errorf("Prune after a re-read deleted %+v, want the 2 old lines", again)
	}
}

func sameIDs(a, b []int64) bool {
	m := map[int64]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func sameStrings(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// A device whose polls are all old keeps its latest poll, its latest poll
// with an RE table and its poll with the most REs, so the scheduler's
// questions get the same answers after a prune.
func suitePruneKeepsLatestPolls(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	// mx1: a full (2 REs) poll, then 1-RE polls (re1 died), then failures.
	var polls []devices.Poll
	for i := range 10 {
		p := fullPoll("mx1", 0, oldT.Add(time.Duration(i)*time.Minute))
		switch {
		case i >= 7:
			p = failedPoll("mx1", 0, oldT.Add(time.Duration(i)*time.Minute))
		case i >= 3:
			p.Snapshot.RouteEngines = p.Snapshot.RouteEngines[:1]
		}
		polls = append(polls, p)
	}
	for i := range polls {
		mustSave(t, st, &polls[i])
	}
	latest := mustLatest(t, st, "mx1")
	reLatest, err := st.LatestREPoll(ctx, "mx1")
	if err != nil || reLatest == nil {
		t.Fatalf("LatestREPoll = %v, %v", reLatest, err)
	}

	got := mustPrune(t, st, pruneCut)
	// Kept: poll 2 (the last with 2 REs), 6 (the last with an RE table)
	// and 9 (the latest).
	if got.Polls != 7 {
		t.Errorf("Prune deleted %d polls, want 7: %+v", got.Polls, got)
	}
	if g := mustLatest(t, st, "mx1"); !reflect.DeepEqual(g, latest) {
		t.Errorf("LatestPoll after Prune\n got %+v\nwant %+v", g, latest)
	}
	if g, err := st.LatestREPoll(ctx, "mx1"); err != nil || !reflect.DeepEqual(g, reLatest) {
		t.Errorf("LatestREPoll after Prune = %+v, %v\nwant %+v", g, err, reLatest)
	}
	if n, err := st.MaxREsSeen(ctx, "mx1"); err != nil || n != 2 {
		t.Errorf("MaxREsSeen after Prune = %d, %v, want 2", n, err)
	}
	if again := mustPrune(t, st, pruneCut); again.Total() != 0 {
		t.Errorf("second Prune deleted %+v", again)
	}
	if _, err := st.Prune(ctx, time.Time{}); err == nil {
		t.Error("Prune accepted a zero cut-off")
	}
}

// A prune of many batches lets polls through: every SavePoll made while
// it runs succeeds and is kept, and the prune deletes all it should.
func suitePruneConcurrentSavePoll(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	const (
		oldDevices = 20
		oldPolls   = 60 // per device: 1200 polls, 3 batches and more
		oldLines   = 3000
	)
	for d := range oldDevices {
		for i := range oldPolls {
			p := fullPoll(fmt.Sprintf("old%02d", d), 0, oldT.Add(time.Duration(i)*time.Minute))
			mustSave(t, st, &p)
		}
	}
	lines := make([]devices.LogLine, oldLines)
	for i := range lines {
		lines[i] = devices.LogLine{File: "messages", Raw: fmt.Sprintf("line %d", i),
			Time: oldT.Add(time.Duration(i/3) * time.Second), Parsed: true} // three per second
	}
	mustSaveLogs(t, st, "old00", lines, nil, nil, oldLines)

	var (
		wg       sync.WaitGroup
		pruned   PruneStats
		pruneErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		pruned, pruneErr = st.Prune(ctx, pruneCut)
	}()
	const writers, each = 8, 10
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Half of them are devices being pruned: their new poll is
				// the latest one now.
				dev := fmt.Sprintf("old%02d", (w*each+i)%oldDevices)
				if w%2 == 1 {
					dev = fmt.Sprintf("new%d", w)
				}
				p := fullPoll(dev, 0, recentT.Add(time.Duration(w*each+i)*time.Second))
				if err := st.SavePoll(ctx, &p); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("SavePoll during Prune: %v", err)
	}
	if pruneErr != nil {
		t.Fatalf("Prune: %v", pruneErr)
	}
	// Every old poll but each device's latest went (fewer when a new poll
	// landed after the prune passed its device: the race decides).
	if pruned.Polls < oldDevices*(oldPolls-1) || pruned.Polls > oldDevices*oldPolls {
		t.Errorf("Prune deleted %d polls, want %d to %d", pruned.Polls, oldDevices*(oldPolls-1), oldDevices*oldPolls)
	}
	if pruned.LogLines != oldLines {
		t.Errorf("Prune deleted %d log lines, want %d", pruned.LogLines, oldLines)
	}
	latest, err := st.LatestPolls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != oldDevices+writers/2 {
		t.Errorf("%d devices after Prune, want %d", len(latest), oldDevices+writers/2)
	}
	for _, p := range latest {
		if p.Snapshot == nil || len(p.Snapshot.RouteEngines) != 2 {
			t.Errorf("%s: latest poll lost its children: %+v", p.Device, p.Snapshot)
		}
	}
	// A second pass takes what the race left.
	mustPrune(t, st, pruneCut)
	if again := mustPrune(t, st, pruneCut); again.Total() != 0 {
		t.Errorf("third Prune deleted %+v", again)
	}
}

func suitePruneCanceled(t *testing.T, open opener) {
	st := open(t)
	for i := range 3 {
		p := fullPoll("mx1", 0, oldT.Add(time.Duration(i)*time.Minute))
		mustSave(t, st, &p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := st.Prune(ctx, pruneCut); !errors.Is(err, context.Canceled) || got.Total() != 0 {
		t.Errorf("Prune(canceled) = %+v, %v, want nothing deleted and context.Canceled", got, err)
	}
	if got := mustPrune(t, st, pruneCut); got.Polls != 2 {
		t.Errorf("Prune after a canceled one deleted %d polls, want 2", got.Polls)
	}
}

// suitePruneSwitchoversAndMaintenance: the switchover ledger and the
// maintenance windows age out with the rest of the history: a switchover
// before the cut goes, one after it stays; a window that ended before the
// cut goes, one still open at the cut stays, however early it began.
func suitePruneSwitchoversAndMaintenance(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	old := devices.Switchover{Device: "mx1", Time: oldT, OldMaster: "re0", NewMaster: "re1", Planned: true,
		Command: "request chassis routing-engine master switch", Evidence: []string{}}
	kept := devices.Switchover{Device: "mx1", Time: recentT, OldMaster: "re1", NewMaster: "re0",
		Cause: devices.CauseSoftware, Evidence: []string{"re-table: re1 up-time fell"}}
	mustReplaceSwitchovers(t, st, "mx1", time.Time{}, []devices.Switchover{old, kept})
	ws := []MaintenanceWindow{
		{Device: "mx1", From: oldT, Until: oldT.Add(2 * time.Hour), Reason: "RE swap", Who: "alice", Created: oldT},
		{Device: "mx1", From: oldT, Until: recentT, Reason: "long window", Who: "bob", Created: oldT},
	}
	if err := st.AddMaintenanceWindows(ctx, ws); err != nil {
		t.Fatal(err)
	}
	got := mustPrune(t, st, pruneCut)
	if got.Switchovers != 1 || got.MaintenanceWindows != 1 {
		t.Errorf("Prune deleted %d switchovers and %d maintenance windows, want 1 and 1 (%+v)",
			got.Switchovers, got.MaintenanceWindows, got)
	}
	if sws := mustSwitchovers(t, st, Filter{}); len(sws) != 1 || !sws[0].Time.Equal(recentT) {
		t.Errorf("switchovers after Prune: %+v, want only the one at %s", sws, recentT)
	}
	left, err := st.MaintenanceWindows(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Reason != "long window" {
		t.Errorf("maintenance windows after Prune: %+v, want only the long window", left)
	}
	if again := mustPrune(t, st, pruneCut); again.Switchovers != 0 || again.MaintenanceWindows != 0 {
		t.Errorf("a second Prune deleted more: %+v", again)
	}
}
