package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// historySuite is the engine-independent contract of HistoryStore.
func historySuite() []suiteTest {
	return []suiteTest{
		{"LogsSavedOnce", suiteLogsSavedOnce},
		{"RepeatedIdenticalLinesKept", suiteRepeatedIdenticalLines},
		{"UntimedLinesSavedOnce", suiteUntimedLines},
		{"LogCursorRoundTrip", suiteLogCursor},
		{"EventsWithTheirLines", suiteEventsWithLines},
		{"SaveLogsRejectsWholeBatch", suiteSaveLogsRejected},
		{"TransitionsMerge", suiteTransitionsMerge},
		{"TransitionsFilter", suiteTransitionsFilter},
		{"TransitionsRejected", suiteTransitionsRejected},
		{"AlarmRecordsUpsertAndClear", suiteAlarmRecords},
		{"ReplaceFindings", suiteReplaceFindings},
		{"ReplaceFindingsKeepsOlder", suiteReplaceFindingsKeepsOlder},
		{"AppendedRepeatKept", suiteAppendedRepeatKept},
		{"FindingsFilter", suiteFindingsFilter},
		{"ConfigsLatestPerDevice", suiteConfigs},
		{"HistoryCanceledContext", suiteHistoryCanceled},
	}
}

// Log times are whole seconds, as syslog writes them.
var logBase = base.Truncate(time.Second)

const (
	pemSet  = "Mar 14 09:26:53  re0-mx1 alarmd[2231]: Alarm set: PEM color=RED, class=CHASSIS, reason=PEM 0 Not Powered"
	noORE   = "Mar 14 09:26:54 E_NO_ORE: no other RE, re1 keepalive lost"
	aliveRm = "Mar 14 09:26:55  re0-mx1 mcontrol[1817]: mcontrol_ore_alive_set: re1 removed from alive set"
	junk    = "\x00\x00 truncated by log rotation"
)

// histBatch is one poll's new lines: a PEM alarm in messages, the
// mastership log repeating E_NO_ORE three times in one second, an
// unparsable line without a time, and the alive-set line; with the
// events rules found in them, given out of time order.
func histBatch(device string) ([]devices.LogLine, []devices.Event) {
	pem := devices.LogLine{File: "messages", Raw: pemSet, Time: logBase, Host: "re0-mx1", Process: "alarmd",
		PID: 2231, Message: "Alarm set: PEM color=RED, class=CHASSIS, reason=PEM 0 Not Powered", Parsed: true}
	ore := devices.LogLine{File: "mastership", Raw: noORE, Time: logBase.Add(time.Second), Tag: "E_NO_ORE",
		Message: "no other RE, re1 keepalive lost", Parsed: true}
	alive := devices.LogLine{File: "messages", Raw: aliveRm, Time: logBase.Add(2 * time.Second), Host: "re0-mx1",
		Process: "mcontrol", PID: 1817, Tag: "mcontrol_ore_alive_set", Message: "re1 removed from alive set", Parsed: true}
	bad := devices.LogLine{File: "messages", Raw: junk}
	lines := []devices.LogLine{pem, bad, alive, ore, ore, ore}

	oreEvent := devices.Event{Kind: devices.EventAliveSet, Time: ore.Time, RE: "re1", Change: "left",
		Rule: "mastership-no-ore", Line: ore}
	events := []devices.Event{
		{Device: device, Kind: devices.EventAliveSet, Time: alive.Time, RE: "re1", Change: "left",
			Rule: "seed-alive-set", Line: alive},
		oreEvent, oreEvent, oreEvent,
		// Two events from one line: the alarm and the FRU it names.
		{Device: device, Kind: devices.EventAlarmSet, Time: pem.Time, Change: "set", Subject: "PEM 0 Not Powered",
			Class: "Major", Rule: "alarmd-set", Line: pem},
		{Kind: devices.EventFRU, Time: pem.Time, Subject: "PEM 0", Rule: "alarmd-fru", Line: pem},
	}
	return lines, events
}

func mustSaveLogs(t *testing.T, st Store, device string, lines []devices.LogLine, events []devices.Event,
	cursors []devices.LogCursor, wantNew int) {
	t.Helper()
	n, err := st.SaveLogs(context.Background(), device, lines, events, cursors)
	if err != nil {
		t.Fatalf("SaveLogs(%s): %v", device, err)
	}
	if n != wantNew {
		t.Fatalf("SaveLogs(%s) = %d new lines, want %d", device, n, wantNew)
	}
}

func mustEvents(t *testing.T, st Store, f Filter) []devices.Event {
	t.Helper()
	evs, err := st.Events(context.Background(), f)
	if err != nil {
		t.Fatalf("Events(%+v): %v", f, err)
	}
	return evs
}

func mustUnparsed(t *testing.T, st Store, device string, want int) {
	t.Helper()
	n, err := st.UnparsedLines(context.Background(), device)
	if err != nil {
		t.Fatalf("UnparsedLines(%s): %v", device, err)
	}
	if n != want {
		t.Errorf("UnparsedLines(%s) = %d, want %d", device, n, want)
	}
}

func suiteLogsSavedOnce(t *testing.T, open opener) {
	st := open(t)
	lines, events := histBatch("mx1")
	cursors := []devices.LogCursor{{File: "messages", Tail: []string{"a"}, LastTime: logBase.Add(2 * time.Second), Lines: 3}}
	mustSaveLogs(t, st, "mx1", lines, events, cursors, 6)
	before := mustEvents(t, st, Filter{})
	if len(before) != 6 {
		t.Fatalf("%d events stored, want 6", len(before))
	}

	// A second audit of an unchanged router hands over the same lines.
	mustSaveLogs(t, st, "mx1", lines, events, cursors, 0)
	if after := mustEvents(t, st, Filter{}); !reflect.DeepEqual(before, after) {
		t.Errorf("events changed by a re-read:\nbefore %+v\n after %+v", before, after)
	}
	mustUnparsed(t, st, "mx1", 1)

	// The same lines from another device are that device's own.
	mustSaveLogs(t, st, "mx2", lines, nil, nil, 6)
	mustUnparsed(t, st, "mx2", 1)
	mustUnparsed(t, st, "never-polled", 0)
}

func suiteRepeatedIdenticalLines(t *testing.T, open opener) {
	st := open(t)
	line := devices.LogLine{File: "mastership", Raw: noORE, Time: logBase, Tag: "E_NO_ORE", Parsed: true}
	ev := devices.Event{Kind: devices.EventKeepaliveLoss, Time: logBase, RE: "re1", Rule: "no-ore", Line: line}
	rep := func(n int) ([]devices.LogLine, []devices.Event) {
		var ls []devices.LogLine
		var es []devices.Event
		for range n {
			ls, es = append(ls, line), append(es, ev)
		}
		return ls, es
	}
	countEvents := func(want int) {
		t.Helper()
		if got := len(mustEvents(t, st, Filter{})); got != want {
			t.Errorf("%d events, want %d", got, want)
		}
	}

	// Three real lines in one second: all kept, each with its event.
	ls, es := rep(3)
	mustSaveLogs(t, st, "mx1", ls, es, nil, 3)
	countEvents(3)
	// A re-read of them (the cursor lost its place): nothing new.
	mustSaveLogs(t, st, "mx1", ls, es, nil, 0)
	ls, es = rep(2)
	mustSaveLogs(t, st, "mx1", ls, es, nil, 0)
	countEvents(3)
	// A re-read that has grown by two more copies: those two are new.
	ls, es = rep(5)
	mustSaveLogs(t, st, "mx1", ls, es, nil, 2)
	countEvents(5)
	// The same text a second later is another group.
	later := line
	later.Time = logBase.Add(time.Second)
	mustSaveLogs(t, st, "mx1", []devices.LogLine{later}, nil, nil, 1)
	// So is the same text in another file.
	other := line
	other.File = "messages"
	mustSaveLogs(t, st, "mx1", []devices.LogLine{other, other}, nil, nil, 2)
}

func suiteUntimedLines(t *testing.T, open opener) {
	st := open(t)
	bad := devices.LogLine{File: "messages", Raw: junk}
	mustSaveLogs(t, st, "mx1", []devices.LogLine{bad, bad}, nil, nil, 2)
	mustSaveLogs(t, st, "mx1", []devices.LogLine{bad, bad}, nil, nil, 0)
	mustSaveLogs(t, st, "mx1", []devices.LogLine{bad, bad, bad}, nil, nil, 1)
	mustUnparsed(t, st, "mx1", 3)
	// An untimed line and the same text with a time are different lines.
	timed := bad
	timed.Time = logBase
	mustSaveLogs(t, st, "mx1", []devices.LogLine{timed}, nil, nil, 1)
	mustUnparsed(t, st, "mx1", 4)
}

func suiteLogCursor(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	if _, ok, err := st.LogCursor(ctx, "mx1", "messages"); err != nil || ok {
		t.Fatalf("LogCursor(never read) ok=%v, %v; want false, nil", ok, err)
	}
	first := []devices.LogCursor{
		{File: "messages", Tail: []string{"fp1", "fp2", "fp3"}, LastTime: logBase, Lines: 3},
		{Device: "mx1", File: "mastership"}, // read, nothing in it yet
	}
	mustSaveLogs(t, st, "mx1", nil, nil, first, 0)
	for _, want := range first {
		want.Device = "mx1"
		got, ok, err := st.LogCursor(ctx, "mx1", want.File)
		if err != nil || !ok {
			t.Fatalf("LogCursor(%s) ok=%v, %v", want.File, ok, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("LogCursor(%s)\n got %+v\nwant %+v", want.File, got, want)
		}
	}
	moved := devices.LogCursor{Device: "mx1", File: "messages", Tail: []string{"fp4"}, LastTime: logBase.Add(time.Hour), Lines: 4}
	mustSaveLogs(t, st, "mx1", nil, nil, []devices.LogCursor{moved}, 0)
	if got, _, err := st.LogCursor(ctx, "mx1", "messages"); err != nil || !reflect.DeepEqual(got, moved) {
		t.Errorf("LogCursor after a move = %+v, %v; want %+v", got, err, moved)
	}
	if _, ok, err := st.LogCursor(ctx, "mx2", "messages"); err != nil || ok {
		t.Errorf("LogCursor(other device) ok=%v, %v; want false", ok, err)
	}
	// Issue 17: the file's state when read (size, time, first line's
	// fingerprint) round-trips, and a later save replaces it.
	described := moved
	described.Head, described.Size, described.ModTime = "00000000deadbeef", 5<<20, logBase.Add(2*time.Hour)
	mustSaveLogs(t, st, "mx1", nil, nil, []devices.LogCursor{described}, 0)
	if got, _, err := st.LogCursor(ctx, "mx1", "messages"); err != nil || !reflect.DeepEqual(got, described) {
		t.Errorf("LogCursor with file state = %+v, %v; want %+v", got, err, described)
	}
	rotated := described
	rotated.Head, rotated.Size, rotated.ModTime = "0000000000000001", 10, logBase.Add(3*time.Hour)
	mustSaveLogs(t, st, "mx1", nil, nil, []devices.LogCursor{rotated}, 0)
	if got, _, err := st.LogCursor(ctx, "mx1", "messages"); err != nil || !reflect.DeepEqual(got, rotated) {
		t.Errorf("LogCursor after a rotation = %+v, %v; want %+v", got, err, rotated)
	}
}

func suiteEventsWithLines(t *testing.T, open opener) {
	st := open(t)
	lines, events := histBatch("mx1")
	mustSaveLogs(t, st, "mx1", lines, events, nil, 6)
	other, otherEvents := histBatch("ptx9")
	mustSaveLogs(t, st, "ptx9", other[:1], otherEvents[4:5], nil, 1)

	got := mustEvents(t, st, Filter{Devices: []string{"mx1"}})
	// Time order: the PEM line's two events (in the order given), the three
	// E_NO_ORE, then the alive-set line, whatever order they came in.
	want := []devices.Event{events[4], events[5], events[1], events[2], events[3], events[0]}
	for i := range want {
		want[i].Device = "mx1"
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Events(mx1)\n got %+v\nwant %+v", got, want)
	}

	all := mustEvents(t, st, Filter{})
	if len(all) != 7 {
		t.Errorf("Events(all) = %d events, want 7", len(all))
	}
	for _, c := range []struct {
		f    Filter
		want int
	}{
		{Filter{Devices: []string{"ptx9", "mx1"}}, 7},
		{Filter{Devices: []string{"ptx9"}}, 1},
		{Filter{Devices: []string{"nothing"}}, 0},
		{Filter{Since: logBase.Add(time.Second)}, 4},
		{Filter{Until: logBase.Add(time.Second)}, 3},                                      // exclusive
		{Filter{Since: logBase.Add(time.Second), Until: logBase.Add(2 * time.Second)}, 3}, // the E_NO_ORE ones
		{Filter{Limit: 2}, 2},
		{Filter{Devices: []string{"mx1"}, Since: logBase.Add(2 * time.Second), Limit: 5}, 1},
	} {
		if got := mustEvents(t, st, c.f); len(got) != c.want {
			t.Errorf("Events(%+v) = %d events, want %d", c.f, len(got), c.want)
		}
	}
	if got := mustEvents(t, st, Filter{Limit: 3}); !reflect.DeepEqual(got, all[:3]) {
		t.Errorf("Events(Limit 3) is not the first three of all")
	}
}

func suiteSaveLogsRejected(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	lines, events := histBatch("mx1")
	cursor := []devices.LogCursor{{File: "messages", Lines: 6}}
	stranger := devices.LogLine{File: "messages", Raw: "not in the batch", Time: logBase}
	for name, c := range map[string]struct {
		device  string
		lines   []devices.LogLine
		events  []devices.Event
		cursors []devices.LogCursor
		errText string
	}{
		"event of a line not in the batch": {"mx1", lines, append(events[:1:1], devices.Event{Kind: devices.EventCommit,
			Rule: "ui-commit", Line: stranger}), cursor, "not in the batch"},
		"more identical events than lines": {"mx1", lines, append(slices.Clone(events), events[1]), cursor, "not in the batch"},
		"event of another device":          {"mx1", lines, append(events[:1:1], devices.Event{Device: "mx2", Kind: devices.EventCommit, Line: lines[0]}), cursor, `device "mx2"`},
		"cursor of another device":         {"mx1", lines, events, []devices.LogCursor{{Device: "mx2", File: "messages"}}, `device "mx2"`},
		"cursor without a file":            {"mx1", lines, events, []devices.LogCursor{{}}, "no file"},
		"line without a file":              {"mx1", []devices.LogLine{{Raw: "x"}}, nil, cursor, "no file"},
		"no device":                        {"", lines, nil, cursor, "no device"},
	} {
		n, err := st.SaveLogs(ctx, c.device, c.lines, c.events, c.cursors)
		if err == nil || !strings.Contains(err.Error(), c.errText) || n != 0 {
			t.Errorf("%s: SaveLogs = %d, %v; want an error containing %q", name, n, err, c.errText)
		}
	}
	// Nothing of any rejected batch was kept: not a line, nor a cursor.
	if evs := mustEvents(t, st, Filter{}); len(evs) != 0 {
		t.Errorf("%d events after rejected batches", len(evs))
	}
	mustUnparsed(t, st, "mx1", 0)
	if _, ok, err := st.LogCursor(ctx, "mx1", "messages"); err != nil || ok {
		t.Errorf("cursor moved by a rejected batch (ok=%v, %v)", ok, err)
	}
	mustSaveLogs(t, st, "mx1", lines, events, cursor, 6)
}

func mustTransitions(t *testing.T, st Store, f Filter) []devices.Transition {
	t.Helper()
	ts, err := st.Transitions(context.Background(), f)
	if err != nil {
		t.Fatalf("Transitions(%+v): %v", f, err)
	}
	return ts
}

func mustSaveTransitions(t *testing.T, st Store, tol time.Duration, ts ...devices.Transition) {
	t.Helper()
	if err := st.SaveTransitions(context.Background(), ts, tol); err != nil {
		t.Fatalf("SaveTransitions: %v", err)
	}
}

func suiteTransitionsMerge(t *testing.T, open opener) {
	st := open(t)
	const tol = time.Minute
	// The RE table shows re1 gone; its time (now minus up-time) is a few
	// seconds off. The mastership log then gives the exact time.
	table := devices.Transition{Device: "mx1", RE: "re1", Time: logBase.Add(7 * time.Second), From: devices.REBackup,
		To: devices.REGone, Sources: []string{"re-table"}, Evidence: []string{"re1: backup → absent (up-time reset)"}}
	logged := devices.Transition{Device: "mx1", RE: "re1", Time: logBase.Add(time.Second), From: devices.REBackup,
		To: devices.REGone, Sources: []string{"log:mastership"}, Evidence: []string{noORE}}
	want := devices.Transition{Device: "mx1", RE: "re1", Time: logged.Time, From: devices.REBackup, To: devices.REGone,
		Sources: []string{"log:mastership", "re-table"}, Evidence: []string{table.Evidence[0], noORE}}

	mustSaveTransitions(t, st, tol, table)
	mustSaveTransitions(t, st, tol, logged)
	got := mustTransitions(t, st, Filter{})
	if !reflect.DeepEqual(got, []devices.Transition{want}) {
		t.Fatalf("after table then log:\n got %+v\nwant %+v", got, want)
	}
	// Idempotent: the same again, in any combination, changes nothing.
	mustSaveTransitions(t, st, tol, table, logged)
	mustSaveTransitions(t, st, tol, logged)
	mustSaveTransitions(t, st, tol, table)
	if got := mustTransitions(t, st, Filter{}); !reflect.DeepEqual(got, []devices.Transition{want}) {
		t.Fatalf("after saving again:\n got %+v\nwant %+v", got, want)
	}

	// Log first, then table: the same row (the time does not depend on the
	// order); both in one batch for another device: merged too.
	mx2Log, mx2Table := logged, table
	mx2Log.Device, mx2Table.Device = "mx2", "mx2"
	mustSaveTransitions(t, st, tol, mx2Log)
	mustSaveTransitions(t, st, tol, mx2Table)
	mx3Log, mx3Table := logged, table
	mx3Log.Device, mx3Table.Device = "mx3", "mx3"
	mustSaveTransitions(t, st, tol, mx3Table, mx3Log)
	for _, dev := range []string{"mx2", "mx3"} {
		w := want
		w.Device = dev
		got := mustTransitions(t, st, Filter{Devices: []string{dev}})
		if len(got) != 1 || !got[0].Time.Equal(w.Time) || !reflect.DeepEqual(got[0].Sources, w.Sources) ||
			len(got[0].Evidence) != 2 {
			t.Errorf("%s: got %+v, want one transition like %+v", dev, got, w)
		}
	}

	// Not the same transition: another RE, another direction, or outside
	// the tolerance.
	back := logged
	back.From, back.To, back.Time = devices.REGone, devices.REBackup, logBase.Add(30*time.Second)
	re0 := logged
	re0.RE = "re0"
	far := table
	far.Time = logBase.Add(2 * time.Hour)
	mustSaveTransitions(t, st, tol, back, re0, far)
	if got := mustTransitions(t, st, Filter{Devices: []string{"mx1"}}); len(got) != 4 {
		t.Errorf("mx1: %d transitions, want 4: %+v", len(got), got)
	}

	// Two log sources a few seconds apart: one transition at the earlier.
	early := logged
	early.Device, early.Time, early.Sources, early.Evidence = "mx4", logBase.Add(-3*time.Second),
		[]string{"log:messages"}, []string{aliveRm}
	late := logged
	late.Device = "mx4"
	mustSaveTransitions(t, st, tol, late, early)
	got = mustTransitions(t, st, Filter{Devices: []string{"mx4"}})
	if len(got) != 1 || !got[0].Time.Equal(early.Time) ||
		!reflect.DeepEqual(got[0].Sources, []string{"log:mastership", "log:messages"}) {
		t.Errorf("mx4: got %+v, want one transition at %s from both logs", got, early.Time)
	}
}

func suiteTransitionsFilter(t *testing.T, open opener) {
	st := open(t)
	var all []devices.Transition
	for i := range 6 {
		tr := devices.Transition{Device: fmt.Sprintf("mx%d", i%2), RE: "re1", Time: logBase.Add(time.Duration(i) * time.Hour),
			From: devices.REBackup, To: devices.REGone, Sources: []string{"re-table"}}
		if i%2 == 1 {
			tr.From, tr.To = devices.REGone, devices.REBackup
		}
		all = append(all, tr)
	}
	// Saved newest first: they load oldest first.
	for i := len(all) - 1; i >= 0; i-- {
		mustSaveTransitions(t, st, 0, all[i])
	}
	if got := mustTransitions(t, st, Filter{}); !reflect.DeepEqual(got, all) {
		t.Fatalf("Transitions(all)\n got %+v\nwant %+v", got, all)
	}
	for _, c := range []struct {
		f    Filter
		want []devices.Transition
	}{
		{Filter{Devices: []string{"mx1"}}, []devices.Transition{all[1], all[3], all[5]}},
		{Filter{Since: all[2].Time, Until: all[4].Time}, all[2:4]},
		{Filter{Devices: []string{"mx0"}, Since: all[1].Time}, []devices.Transition{all[2], all[4]}},
		{Filter{Limit: 2}, all[:2]},
		{Filter{Since: all[5].Time.Add(time.Second)}, nil},
	} {
		if got := mustTransitions(t, st, c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Transitions(%+v)\n got %+v\nwant %+v", c.f, got, c.want)
		}
	}
}

func suiteTransitionsRejected(t *testing.T, open opener) {
	st := open(t)
	ok := devices.Transition{Device: "mx1", RE: "re1", Time: logBase, From: devices.REMaster, To: devices.REGone}
	for name, mutate := range map[string]func(*devices.Transition){
		"no device": func(tr *devices.Transition) { tr.Device = "" },
		"no RE":     func(tr *devices.Transition) { tr.RE = "" },
		"no from":   func(tr *devices.Transition) { tr.From = "" },
		"no time":   func(tr *devices.Transition) { tr.Time = time.Time{} },
	} {
		bad := ok
		mutate(&bad)
		// The good one before it is not kept either: one transaction.
		if err := st.SaveTransitions(context.Background(), []devices.Transition{ok, bad}, time.Minute); err == nil {
			t.Errorf("%s: SaveTransitions accepted it", name)
		}
	}
	if err := st.SaveTransitions(context.Background(), []devices.Transition{ok}, -time.Second); err == nil {
		t.Error("SaveTransitions accepted a negative tolerance")
	}
	if got := mustTransitions(t, st, Filter{}); len(got) != 0 {
		t.Errorf("rejected batches stored %+v", got)
	}
}

func mustAlarmRecords(t *testing.T, st Store, f Filter) []devices.AlarmRecord {
	t.Helper()
	recs, err := st.AlarmRecords(context.Background(), f)
	if err != nil {
		t.Fatalf("AlarmRecords(%+v): %v", f, err)
	}
	return recs
}

func suiteAlarmRecords(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	poll := func(i int) time.Time { return base.Add(time.Duration(i) * 5 * time.Minute) }
	pem := devices.Alarm{Source: devices.AlarmChassis, Time: logBase.Add(-time.Hour), Class: "Major", Type: "Chassis",
		Description: "PEM 0 Not Powered", ShortDescription: "PEM 0 Not Powered"}
	rescue := devices.Alarm{Source: devices.AlarmSystem, Class: "Minor", Type: "Configuration",
		Description: "Rescue configuration is not set"} // no alarm-time
	save := func(recs ...devices.AlarmRecord) {
		t.Helper()
		if err := st.SaveAlarmRecords(ctx, "mx1", recs); err != nil {
			t.Fatalf("SaveAlarmRecords: %v", err)
		}
	}

	// Poll 0 sees both; poll 1 sees both again, the PEM one through the
	// system RPC this time: still one record each.
	save(devices.AlarmRecord{Device: "mx1", Alarm: pem, FirstSeen: poll(0), LastSeen: poll(0)},
		devices.AlarmRecord{Alarm: rescue, FirstSeen: poll(0), LastSeen: poll(0)})
	pemSys := pem
	pemSys.Source = devices.AlarmSystem
	// A caller that did not read the record passes FirstSeen = now: the
	// stored, earlier one stays.
	save(devices.AlarmRecord{Alarm: pemSys, FirstSeen: poll(1), LastSeen: poll(1)},
		devices.AlarmRecord{Alarm: rescue, FirstSeen: poll(0), LastSeen: poll(1)})
	want := []devices.AlarmRecord{
		{Device: "mx1", Alarm: pemSys, FirstSeen: poll(0), LastSeen: poll(1)},
		{Device: "mx1", Alarm: rescue, FirstSeen: poll(0), LastSeen: poll(1)},
	}
	if got := mustAlarmRecords(t, st, Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after two polls:\n got %+v\nwant %+v", got, want)
	}
	// An older view does not move LastSeen back.
	save(devices.AlarmRecord{Alarm: rescue, FirstSeen: poll(0), LastSeen: poll(0)})
	if got := mustAlarmRecords(t, st, Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a stale save:\n got %+v\nwant %+v", got, want)
	}

	// Poll 2: the PEM alarm is gone; it cleared at an alarmd line's time.
	cleared := poll(2).Add(-time.Minute)
	want[0].ClearedAt = cleared
	save(want[0])
	if got := mustAlarmRecords(t, st, Filter{Devices: []string{"mx1"}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the clear:\n got %+v\nwant %+v", got, want)
	}
	// The same description raised again later is another alarm (another
	// alarm-time); another device's is that device's.
	again := pem
	again.Time = poll(3)
	save(devices.AlarmRecord{Alarm: again, FirstSeen: poll(3), LastSeen: poll(3)})
	if err := st.SaveAlarmRecords(ctx, "mx2", []devices.AlarmRecord{{Alarm: pem, FirstSeen: poll(0), LastSeen: poll(0)}}); err != nil {
		t.Fatal(err)
	}
	if got := mustAlarmRecords(t, st, Filter{Devices: []string{"mx1"}}); len(got) != 3 {
		t.Fatalf("mx1: %d records, want 3: %+v", len(got), got)
	}

	// Time filter: a record's life runs from its alarm-time (first seen
	// without one) to its clear, open while active.
	for _, c := range []struct {
		f     Filter
		descs []string
	}{
		{Filter{Devices: []string{"mx1"}, Since: poll(2)}, []string{"Rescue configuration is not set", "PEM 0 Not Powered"}},
		{Filter{Devices: []string{"mx1"}, Until: poll(0)}, []string{"PEM 0 Not Powered"}},
		{Filter{Devices: []string{"mx1"}, Since: cleared.Add(-time.Second), Until: poll(3)}, []string{"PEM 0 Not Powered", "Rescue configuration is not set"}},
		{Filter{Devices: []string{"mx2"}}, []string{"PEM 0 Not Powered"}},
		{Filter{Limit: 1}, []string{"PEM 0 Not Powered"}},
	} {
		var descs []string
		for _, r := range mustAlarmRecords(t, st, c.f) {
			descs = append(descs, r.Alarm.Description)
		}
		if !reflect.DeepEqual(descs, c.descs) {
			t.Errorf("AlarmRecords(%+v) = %q, want %q", c.f, descs, c.descs)
		}
	}

	for name, r := range map[string]devices.AlarmRecord{
		"another device":  {Device: "mx2", Alarm: pem, FirstSeen: poll(0), LastSeen: poll(0)},
		"no description":  {Alarm: devices.Alarm{Class: "Major"}, FirstSeen: poll(0), LastSeen: poll(0)},
		"never seen":      {Alarm: pem},
		"no device given": {},
	} {
		dev := "mx1"
		if name == "no device given" {
			dev, r = "", devices.AlarmRecord{Alarm: pem, FirstSeen: poll(0), LastSeen: poll(0)}
		}
		if err := st.SaveAlarmRecords(ctx, dev, []devices.AlarmRecord{r}); err == nil {
			t.Errorf("%s: SaveAlarmRecords accepted it", name)
		}
	}
}

// findingsOf is a device's findings as the correlation computes them: a
// hardware flap of re1 with its evidence and alarms, and a network flap
// of re0 that also had configuration evidence.
func findingsOf(device string) []devices.Finding {
	return []devices.Finding{
		{Device: device, RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical, Transitions: 4,
			First: logBase, Last: logBase.Add(20 * time.Minute), Evidence: []string{pemSet, noORE},
			Alarms: []devices.Alarm{
				{Source: devices.AlarmChassis, Time: logBase.Add(-time.Minute), Class: "Major", Type: "Chassis",
					Description: "PEM 0 Not Powered", ShortDescription: "PEM 0 Not Powered"},
				{Source: devices.AlarmChassis, Class: "Major", Type: "Chassis",
					Description: "Loss of communication with Backup RE"}, // no alarm-time
			},
			Remedy: "inspect and replace the FRU (hardware maintenance)"},
		{Device: device, RE: "re0", Cause: devices.CauseNetwork, Severity: devices.SeverityWarning, Transitions: 2,
			First: logBase.Add(3 * time.Hour), Last: logBase.Add(3*time.Hour + 10*time.Minute),
			Evidence:    []string{"/kernel: em0: Link is Down"},
			OtherCauses: []devices.Cause{devices.CauseConfiguration},
			Remedy:      "check internal links and redundancy paths (network optimisation)"},
	}
}

func mustFindings(t *testing.T, st Store, f Filter) []devices.Finding {
	t.Helper()
	fs, err := st.Findings(context.Background(), f)
	if err != nil {
		t.Fatalf("Findings(%+v): %v", f, err)
	}
	return fs
}

func mustReplaceFindings(t *testing.T, st Store, device string, fs []devices.Finding) {
	t.Helper()
	if err := st.ReplaceFindings(context.Background(), device, time.Time{}, fs); err != nil {
		t.Fatalf("ReplaceFindings(%s): %v", device, err)
	}
}

func suiteReplaceFindings(t *testing.T, open opener) {
	st := open(t)
	want := findingsOf("mx1")
	mustReplaceFindings(t, st, "mx1", want)
	if got := mustFindings(t, st, Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Findings\n got %+v\nwant %+v", got, want)
	}
	// Recomputing the same history gives the same findings: same rows.
	mustReplaceFindings(t, st, "mx1", findingsOf("mx1"))
	if got := mustFindings(t, st, Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("Findings after the same again\n got %+v\nwant %+v", got, want)
	}
	mustReplaceFindings(t, st, "mx2", findingsOf("")) // Device empty: the one given

	// The re1 flap grew; the re0 one fell out of the window.
	grown := findingsOf("mx1")[:1]
	grown[0].Transitions, grown[0].Last = 6, logBase.Add(40*time.Minute)
	mustReplaceFindings(t, st, "mx1", grown)
	if got := mustFindings(t, st, Filter{Devices: []string{"mx1"}}); !reflect.DeepEqual(got, grown) {
		t.Fatalf("Findings after the flap grew\n got %+v\nwant %+v", got, grown)
	}
	// mx2 untouched; an empty set clears a device.
	if got := mustFindings(t, st, Filter{Devices: []string{"mx2"}}); len(got) != 2 {
		t.Errorf("mx2: %d findings, want 2", len(got))
	}
	mustReplaceFindings(t, st, "mx2", nil)
	if got := mustFindings(t, st, Filter{Devices: []string{"mx2"}}); len(got) != 0 {
		t.Errorf("mx2 after an empty set: %+v", got)
	}

	// Refused, and nothing changed: one transaction.
	dup := append(findingsOf("mx1"), findingsOf("mx1")[0])
	for name, fs := range map[string][]devices.Finding{
		"two with one identity": dup,
		"another device":        findingsOf("mx9"),
		"no cause":              {{RE: "re1", First: logBase, Last: logBase}},
		"no first":              {{RE: "re1", Cause: devices.CauseUnknown, Last: logBase}},
	} {
		if err := st.ReplaceFindings(context.Background(), "mx1", time.Time{}, fs); err == nil {
			t.Errorf("%s: ReplaceFindings accepted it", name)
		}
	}
	if got := mustFindings(t, st, Filter{Devices: []string{"mx1"}}); !reflect.DeepEqual(got, grown) {
		t.Errorf("Findings after refused replaces\n got %+v\nwant %+v", got, grown)
	}
}

func suiteFindingsFilter(t *testing.T, open opener) {
	st := open(t)
	mx1, ptx := findingsOf("mx1"), findingsOf("ptx1")
	ptx[0].Cause = devices.CauseSoftware
	mustReplaceFindings(t, st, "mx1", mx1)
	mustReplaceFindings(t, st, "ptx1", ptx)
	for _, c := range []struct {
		f    Filter
		want []devices.Finding
	}{
		// Ordered by first transition, then device.
		{Filter{}, []devices.Finding{mx1[0], ptx[0], mx1[1], ptx[1]}},
		{Filter{Cause: devices.CauseHardware}, mx1[:1]},
		{Filter{Cause: devices.CauseNetwork, Devices: []string{"ptx1"}}, ptx[1:]},
		{Filter{Devices: []string{"ptx1"}}, ptx},
		// A finding still going on at Since is included.
		{Filter{Since: logBase.Add(10 * time.Minute)}, []devices.Finding{mx1[0], ptx[0], mx1[1], ptx[1]}},
		{Filter{Since: logBase.Add(time.Hour)}, []devices.Finding{mx1[1], ptx[1]}},
		{Filter{Until: logBase.Add(time.Hour), Devices: []string{"mx1"}}, mx1[:1]},
		{Filter{Cause: devices.CauseConfiguration}, nil}, // other causes do not count
		{Filter{Limit: 1, Devices: []string{"ptx1", "mx1"}}, mx1[:1]},
	} {
		if got := mustFindings(t, st, c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Findings(%+v)\n got %+v\nwant %+v", c.f, got, c.want)
		}
	}
}

func suiteConfigs(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	if got, err := st.Configs(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Configs(empty) = %v, %v", got, err)
	}
	std := devices.RedundancyConfig{GracefulSwitchover: true, KeepaliveTime: 300 * time.Second,
		FailoverOnLossOfKeepalives: true, FailoverOnDiskFailure: true, CommitSynchronize: true, NonstopRouting: true, Known: true}
	odd := std
	odd.GracefulSwitchover, odd.KeepaliveTime = false, 0
	save := func(device string, cfg devices.RedundancyConfig, at time.Time) {
		t.Helper()
		if err := st.SaveConfig(ctx, device, cfg, at); err != nil {
			t.Fatalf("SaveConfig(%s): %v", device, err)
		}
	}
	save("mx1", std, base)
	save("mx1", odd, base.Add(time.Hour)) // someone changed it
	save("mx1", odd, base.Add(2*time.Hour))
	save("mx1", devices.RedundancyConfig{}, base.Add(3*time.Hour)) // the RPC failed: not a change
	save("mx2", std, base)
	save("mx2", odd, base.Add(-time.Hour)) // an older reading arriving late does not win
	save("mx3", devices.RedundancyConfig{}, base)

	got, err := st.Configs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]devices.RedundancyConfig{"mx1": odd, "mx2": std}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Configs\n got %+v\nwant %+v", got, want)
	}
	if err := st.SaveConfig(ctx, "", std, base); err == nil {
		t.Error("SaveConfig accepted no device")
	}
	if err := st.SaveConfig(ctx, "mx1", std, time.Time{}); err == nil {
		t.Error("SaveConfig accepted no time")
	}
}

func suiteHistoryCanceled(t *testing.T, open opener) {
	st := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lines, events := histBatch("mx1")
	if _, err := st.SaveLogs(ctx, "mx1", lines, events, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveLogs(canceled) = %v, want context.Canceled", err)
	}
	if _, err := st.Events(ctx, Filter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Events(canceled) = %v, want context.Canceled", err)
	}
	tr := devices.Transition{Device: "mx1", RE: "re1", Time: logBase, From: devices.REMaster, To: devices.REGone}
	if err := st.SaveTransitions(ctx, []devices.Transition{tr}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveTransitions(canceled) = %v, want context.Canceled", err)
	}
	if err := st.ReplaceFindings(ctx, "mx1", time.Time{}, findingsOf("mx1")); !errors.Is(err, context.Canceled) {
		t.Errorf("ReplaceFindings(canceled) = %v, want context.Canceled", err)
	}
	mustUnparsed(t, st, "mx1", 0)
	if got := mustTransitions(t, st, Filter{}); len(got) != 0 {
		t.Errorf("canceled SaveTransitions stored %+v", got)
	}
}

// suiteReplaceFindingsKeepsOlder: findings before the judged window stay
// when a poll recomputes only the recent window.
func suiteReplaceFindingsKeepsOlder(t *testing.T, open opener) {
	st := open(t)
	all := findingsOf("mx1")
	if len(all) < 2 {
		t.Fatalf("need two findings, have %d", len(all))
	}
	mustReplaceFindings(t, st, "mx1", all)
	// Judge only the window after the first finding ended: an empty
	// verdict there must not delete what came before.
	since := all[0].Last.Add(time.Nanosecond)
	recent := []devices.Finding{}
	for _, f := range all {
		if !f.Last.Before(since) {
			recent = append(recent, f)
		}
	}
	if err := st.ReplaceFindings(context.Background(), "mx1", since, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.Findings(context.Background(), Filter{Devices: []string{"mx1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all)-len(recent) {
		t.Errorf("%d findings left, want the %d before the window", len(got), len(all)-len(recent))
	}
	for _, f := range got {
		if !f.Last.Before(since) {
			t.Errorf("finding ending %s is in the window and should be gone", f.Last)
		}
	}
}

// suiteAppendedRepeatKept: the mastership log writes the same line twice
// in one second; when the second copy arrives in a later poll after the
// cursor found its place, it is a new line, not a re-read.
func suiteAppendedRepeatKept(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 12, 21, 50, 23, 0, time.UTC)
	line := devices.LogLine{File: "mastership", Raw: "Jan 12 21:50:23 failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec",
		Time: at, Message: "failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec", Parsed: true}
	cur := devices.LogCursor{Device: "mx1", File: "mastership", Tail: []string{"x"}, LastTime: at, Lines: 1}
	if n, err := st.SaveLogs(ctx, "mx1", []devices.LogLine{line}, nil, []devices.LogCursor{cur}); err != nil || n != 1 {
		t.Fatalf("first copy: %d new, %v", n, err)
	}
	// A re-read (cursor lost, not appended) of the same copy adds nothing.
	if n, err := st.SaveLogs(ctx, "mx1", []devices.LogLine{line}, nil, []devices.LogCursor{cur}); err != nil || n != 0 {
		t.Fatalf("re-read: %d new, %v; want 0", n, err)
	}
	cur.Appended, cur.Lines = true, 2
	if n, err := st.SaveLogs(ctx, "mx1", []devices.LogLine{line}, nil, []devices.LogCursor{cur}); err != nil || n != 1 {
		t.Fatalf("second copy after the cursor: %d new, %v; want 1", n, err)
	}
}
