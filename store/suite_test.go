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

// opener returns a fresh, empty store for one test and arranges for it to
// be closed when the test ends. Every engine runs testStoreSuite with its
// own opener, so they all meet the same contract.
type opener func(t *testing.T) Store

// testStoreSuite is the engine-independent contract of Store. Times in it
// are whole microseconds, the precision every engine keeps (PostgreSQL's
// timestamptz); engine tests check finer precision where they have it.
func testStoreSuite(t *testing.T, open opener) {
	tests := []suiteTest{
		{"FullPollRoundTrip", suiteFullPollRoundTrip},
		{"FailedPollRoundTrip", suiteFailedPollRoundTrip},
		{"EmptySnapshotIsNotNil", suiteEmptySnapshot},
		{"SnapshotDeviceMismatch", suiteSnapshotDeviceMismatch},
		{"InvalidPollRejected", suiteInvalidPoll},
		{"LatestPollsNewestPerDevice", suiteLatestPolls},
		{"LatestPollNeverPolled", suiteLatestPollNeverPolled},
		{"MaxREsSeen", suiteMaxREsSeen},
		{"LatestPollID", suiteLatestPollID},
		{"LatestREPollSkipsFailures", suiteLatestREPollSkipsFailures},
		{"RunsNewestFirst", suiteRuns},
		{"FinishUnknownRun", suiteFinishUnknownRun},
		{"SavePollUnknownRun", suiteSavePollUnknownRun},
		{"CanceledContext", suiteCanceledContext},
		{"ConcurrentSavePoll", suiteConcurrentSavePoll},
	}
	tests = append(tests, historySuite()...)
	tests = append(tests, retentionSuite()...)
	tests = append(tests, exportSuite()...)
	tests = append(tests, claimsSuite()...)
	tests = append(tests, maintenanceSuite()...)
	tests = append(tests, switchoverSuite()...) // the switchover ledger (issue 15)
	tests = append(tests, readinessSuite()...)  // switchover readiness (issue 16)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// suiteTest is one test of the contract, run against a fresh store.
type suiteTest struct {
	name string
	fn   func(t *testing.T, open opener)
}

// base is a fixed instant with microsecond precision.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func ptr[T any](v T) *T { return &v }

// fullPoll is a dual-RE MX poll after a switchover: re1 is master, re0
// rebooted and reports fewer fields; three alarms, one without a time;
// software for both REs.
func fullPoll(device string, runID int64, started time.Time) devices.Poll {
	polled := started.Add(1500 * time.Millisecond)
	return devices.Poll{
		RunID:    runID,
		Device:   device,
		Host:     device + ".example.net",
		Site:     "ams1",
		Started:  started,
		Finished: started.Add(2 * time.Second),
		Outcome:  devices.OutcomeOK,
		// ExpectedREs round-trips so reports show what the verdict used.
		ExpectedREs: 2,
		Snapshot: &devices.Snapshot{
			// A file the platform does not keep round-trips as a note.
			AbsentLogs: []string{"mastership"},
			// So does a rotation whose archive could not be read (issue 19).
			LogGaps: []devices.LogGap{{File: "/var/log/messages", Archive: "/var/log/messages.0.gz",
				Reason: "could not read /var/log/messages.0.gz: Permission denied"}},
			Device:   device,
			PolledAt: polled,
			RouteEngines: []devices.RouteEngine{
				{
					Name: "re0", Slot: ptr(0), MastershipState: "backup", MastershipPriority: "master (default)",
					Status: "OK", Model: "RE-S-1800x4", Serial: "9009123456",
					UpTime:           ptr(7 * time.Minute),
					StartTime:        ptr(polled.Add(-7 * time.Minute)),
					LastRebootReason: "Router rebooted after a normal shutdown.",
					TemperatureC:     ptr(38), CPUTemperatureC: ptr(41),
				},
				{
					// Optional fields left nil: they must load as nil, not zero.
					Name: "re1", Slot: ptr(1), MastershipState: "master", MastershipPriority: "backup",
					Status: "OK", Model: "RE-S-1800x4", Serial: "9009654321",
					UpTime:           ptr(412*24*time.Hour + 3*time.Second),
					LastRebootReason: "0x1:power cycle/failure",
				},
			},
			Alarms: []devices.Alarm{
				{Source: devices.AlarmChassis, Time: polled.Add(-7 * time.Minute).Truncate(time.Second),
					Class: "Major", Type: "Chassis", Description: "Loss of communication with Backup RE",
					ShortDescription: "Backup RE comms"},
				{Source: devices.AlarmChassis, Time: polled.Add(-9 * time.Minute).Truncate(time.Second),
					Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered", ShortDescription: "PEM 0 Not Powered"},
				{Source: devices.AlarmSystem, Member: "", Class: "Minor", Type: "Configuration",
					Description: "Rescue configuration is not set", ShortDescription: "no-rescue"},
			},
			Software: []devices.Software{
				{Member: "re0", Hostname: device, Model: "mx480", Version: "21.4R3-S5.4"},
				{Member: "re1", Hostname: device, Model: "mx480", Version: "21.4R3-S5.4"},
			},
		},
	}
}

func failedPoll(device string, runID int64, started time.Time) devices.Poll {
	return devices.Poll{
		RunID: runID, Device: device, Host: "192.0.2.7", Started: started, Finished: started.Add(30 * time.Second),
		Outcome: devices.OutcomeTimeout, ErrorKind: string(devices.OutcomeTimeout),
		Error: "dial 192.0.2.7:830: i/o timeout",
	}
}

func mustSave(t *testing.T, st Store, p *devices.Poll) {
	t.Helper()
	if err := st.SavePoll(context.Background(), p); err != nil {
		t.Fatalf("SavePoll(%s): %v", p.Device, err)
	}
	if p.ID == 0 {
		t.Fatalf("SavePoll(%s) left ID 0", p.Device)
	}
}

func mustLatest(t *testing.T, st Store, device string) *devices.Poll {
	t.Helper()
	got, err := st.LatestPoll(context.Background(), device)
	if err != nil {
		t.Fatalf("LatestPoll(%s): %v", device, err)
	}
	if got == nil {
		t.Fatalf("LatestPoll(%s) = nil", device)
	}
	return got
}

func mustBeginRun(t *testing.T, st Store, started time.Time) int64 {
	t.Helper()
	id, err := st.BeginRun(context.Background(), started)
	if err != nil {
		t.Fatalf("BeginRun: %v", err)
	}
	return id
}

func diffPoll(t *testing.T, want, got devices.Poll) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("poll does not round-trip\nwant %s\n got %s", dumpPoll(want), dumpPoll(got))
	}
}

// dumpPoll prints pointers' targets, which %+v would hide.
func dumpPoll(p devices.Poll) string {
	s := fmt.Sprintf("%+v", p)
	if p.Snapshot != nil {
		s += fmt.Sprintf("\n  snapshot device=%q polled=%v", p.Snapshot.Device, p.Snapshot.PolledAt)
		for _, re := range p.Snapshot.RouteEngines {
			s += fmt.Sprintf("\n  re %+v slot=%v up=%v start=%v temp=%v cpu=%v", re,
				deref(re.Slot), deref(re.UpTime), deref(re.StartTime), deref(re.TemperatureC), deref(re.CPUTemperatureC))
		}
		for _, a := range p.Snapshot.Alarms {
			s += fmt.Sprintf("\n  alarm %+v", a)
		}
		for _, sw := range p.Snapshot.Software {
			s += fmt.Sprintf("\n  software %+v", sw)
		}
	}
	return s
}

func deref[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func suiteFullPollRoundTrip(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	run := mustBeginRun(t, st, base)
	want := fullPoll("mx1.ams1", run, base)
	mustSave(t, st, &want)

	diffPoll(t, want, *mustLatest(t, st, "mx1.ams1"))

	all, err := st.LatestPolls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("LatestPolls: %d polls, want 1", len(all))
	}
	diffPoll(t, want, all[0])
}

func suiteFailedPollRoundTrip(t *testing.T, open opener) {
	st := open(t)
	want := failedPoll("mx2.fra1", 0, base) // RunID 0: a single check
	mustSave(t, st, &want)
	got := mustLatest(t, st, "mx2.fra1")
	if got.Snapshot != nil {
		t.Errorf("failed poll loaded with a snapshot: %+v", got.Snapshot)
	}
	diffPoll(t, want, *got)
}

func suiteEmptySnapshot(t *testing.T, open opener) {
	st := open(t)
	want := failedPoll("srx1", 0, base)
	want.Outcome, want.ErrorKind = devices.OutcomePartial, string(devices.OutcomePartial)
	want.Snapshot = &devices.Snapshot{Device: "srx1"} // decoded, but saw nothing; PolledAt zero
	mustSave(t, st, &want)
	got := mustLatest(t, st, "srx1")
	if got.Snapshot == nil {
		t.Fatal("empty snapshot loaded as nil")
	}
	diffPoll(t, want, *got)

	// Snapshot.Device left empty loads as the poll's device.
	p := fullPoll("srx2", 0, base)
	p.Snapshot.Device = ""
	mustSave(t, st, &p)
	if got := mustLatest(t, st, "srx2"); got.Snapshot.Device != "srx2" {
		t.Errorf("Snapshot.Device = %q, want srx2", got.Snapshot.Device)
	}
}

func suiteSnapshotDeviceMismatch(t *testing.T, open opener) {
	st := open(t)
	p := fullPoll("mx1", 0, base)
	p.Snapshot.Device = "mx2"
	if err := st.SavePoll(context.Background(), &p); err == nil {
		t.Fatal("SavePoll accepted a snapshot of another device")
	}
	if p.ID != 0 {
		t.Errorf("failed SavePoll set ID %d", p.ID)
	}
	if got, err := st.LatestPoll(context.Background(), "mx1"); err != nil || got != nil {
		t.Errorf("after a failed SavePoll: LatestPoll = %v, %v; want nil, nil", got, err)
	}
}

func suiteInvalidPoll(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	for name, mutate := range map[string]func(p *devices.Poll){
		"no device":  func(p *devices.Poll) { p.Device = "" },
		"no start":   func(p *devices.Poll) { p.Started = time.Time{} },
		"no outcome": func(p *devices.Poll) { p.Outcome = "" },
	} {
		p := fullPoll("bad", 0, base)
		mutate(&p)
		if err := st.SavePoll(ctx, &p); err == nil {
			t.Errorf("%s: SavePoll accepted it", name)
		}
	}
	if err := st.SavePoll(ctx, nil); err == nil {
		t.Error("SavePoll(nil) accepted")
	}
	if got, err := st.LatestPoll(ctx, "bad"); err != nil || got != nil {
		t.Errorf("after rejected polls: LatestPoll = %v, %v; want nil, nil", got, err)
	}
	if n, err := st.MaxREsSeen(ctx, "bad"); err != nil || n != 0 {
		t.Errorf("after rejected polls: MaxREsSeen = %d, %v; want 0", n, err)
	}
}

func suiteLatestPolls(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	run1 := mustBeginRun(t, st, base)
	run2 := mustBeginRun(t, st, base.Add(time.Hour))

	// Saved out of order: "latest" is by Started, not by insertion.
	a2 := fullPoll("a-mx", run2, base.Add(time.Hour))
	a1 := fullPoll("a-mx", run1, base)
	mustSave(t, st, &a2)
	mustSave(t, st, &a1)

	// The newest poll of b failed: it is still the latest, snapshot nil.
	b1 := fullPoll("b-ptx", run1, base)
	b2 := failedPoll("b-ptx", run2, base.Add(time.Hour))
	mustSave(t, st, &b1)
	mustSave(t, st, &b2)

	// c was only polled in the first run; its poll is still its latest.
	c1 := fullPoll("c-ex", run1, base.Add(time.Second))
	mustSave(t, st, &c1)

	// Same start time: the later-saved (higher ID) poll wins.
	d1 := failedPoll("D-srx", 0, base)
	d2 := fullPoll("D-srx", 0, base)
	mustSave(t, st, &d1)
	mustSave(t, st, &d2)

	got, err := st.LatestPolls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Byte order: upper case first.
	want := []devices.Poll{d2, a2, b2, c1}
	if len(got) != len(want) {
		t.Fatalf("LatestPolls: %d polls, want %d", len(got), len(want))
	}
	for i := range want {
		diffPoll(t, want[i], got[i])
	}
}

func suiteLatestPollNeverPolled(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	got, err := st.LatestPoll(ctx, "nowhere")
	if err != nil || got != nil {
		t.Fatalf("LatestPoll(never polled) = %v, %v; want nil, nil", got, err)
	}
	all, err := st.LatestPolls(ctx)
	if err != nil || len(all) != 0 {
		t.Fatalf("LatestPolls(empty store) = %v, %v; want none", all, err)
	}
	if n, err := st.MaxREsSeen(ctx, "nowhere"); err != nil || n != 0 {
		t.Fatalf("MaxREsSeen(never polled) = %d, %v; want 0, nil", n, err)
	}
}

func suiteMaxREsSeen(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()

	single := fullPoll("mx1", 0, base)
	single.Snapshot.RouteEngines = single.Snapshot.RouteEngines[:1]
	failed := failedPoll("mx1", 0, base.Add(2*time.Hour))
	dual := fullPoll("mx1", 0, base.Add(time.Hour))
	vc := fullPoll("vc1", 0, base)
	for i := range 4 {
		vc.Snapshot.RouteEngines = append(vc.Snapshot.RouteEngines,
			devices.RouteEngine{Name: fmt.Sprintf("member1-re%d", i), Member: "member1"})
	}
	for _, p := range []*devices.Poll{&single, &dual, &failed, &vc} {
		mustSave(t, st, p)
	}
	for dev, want := range map[string]int{"mx1": 2, "vc1": 6, "other": 0} {
		n, err := st.MaxREsSeen(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("MaxREsSeen(%s) = %d, want %d", dev, n, want)
		}
	}
}

// suiteLatestPollID: the ID of the poll LatestPoll returns, whatever
// order the polls were saved in, and 0 for a device never polled.
func suiteLatestPollID(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	ids, ok := st.(PollIDReader)
	if !ok {
		t.Fatalf("%T does not implement PollIDReader", st)
	}
	later := fullPoll("mx1", 0, base.Add(time.Hour))
	earlier := failedPoll("mx1", 0, base) // saved last, started first
	other := fullPoll("mx2", 0, base.Add(2*time.Hour))
	for _, p := range []*devices.Poll{&later, &earlier, &other} {
		mustSave(t, st, p)
	}
	for dev, want := range map[string]int64{"mx1": later.ID, "mx2": other.ID, "never": 0} {
		id, err := ids.LatestPollID(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		if id != want {
			t.Errorf("LatestPollID(%s) = %d, want %d", dev, id, want)
		}
		if latest, err := st.LatestPoll(ctx, dev); err != nil || (latest == nil) != (want == 0) || (latest != nil && latest.ID != id) {
			t.Errorf("LatestPoll(%s) = %+v, %v; LatestPollID said %d", dev, latest, err, id)
		}
	}
}

func suiteRuns(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	if runs, err := st.Runs(ctx, 10); err != nil || len(runs) != 0 {
		t.Fatalf("Runs(empty) = %v, %v", runs, err)
	}

	var want []devices.Run
	for i := range 3 {
		started := base.Add(time.Duration(i) * time.Hour)
		r := devices.Run{ID: mustBeginRun(t, st, started), Started: started}
		want = append(want, r)
	}
	want[0].Finished, want[0].Devices, want[0].OK, want[0].Failed = base.Add(time.Minute), 40, 38, 2
	want[0].Unstored = 3 // counted apart from ok and failed
	want[1].Finished, want[1].Devices, want[1].OK, want[1].Failed, want[1].Interrupted =
		base.Add(time.Hour+time.Second), 40, 12, 1, true
	// want[2] is still running: Finished zero.
	for _, r := range want[:2] {
		if err := st.FinishRun(ctx, r); err != nil {
			t.Fatalf("FinishRun(%d): %v", r.ID, err)
		}
	}

	got, err := st.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	newestFirst := []devices.Run{want[2], want[1], want[0]}
	if !reflect.DeepEqual(got, newestFirst) {
		t.Errorf("Runs(0)\n got %+v\nwant %+v", got, newestFirst)
	}
	got, err = st.Runs(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, newestFirst[:2]) {
		t.Errorf("Runs(2)\n got %+v\nwant %+v", got, newestFirst[:2])
	}
}

func suiteFinishUnknownRun(t *testing.T, open opener) {
	st := open(t)
	err := st.FinishRun(context.Background(), devices.Run{ID: 424242, Finished: base})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("FinishRun(unknown) = %v, want ErrNotFound", err)
	}
}

func suiteSavePollUnknownRun(t *testing.T, open opener) {
	st := open(t)
	p := fullPoll("mx1", 424242, base)
	if err := st.SavePoll(context.Background(), &p); err == nil {
		t.Fatal("SavePoll accepted a poll of a run that does not exist")
	}
	if got, err := st.LatestPoll(context.Background(), "mx1"); err != nil || got != nil {
		t.Errorf("after a failed SavePoll: LatestPoll = %v, %v; want nil, nil (all or nothing)", got, err)
	}
}

func suiteCanceledContext(t *testing.T, open opener) {
	st := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := fullPoll("mx1", 0, base)
	if err := st.SavePoll(ctx, &p); !errors.Is(err, context.Canceled) {
		t.Errorf("SavePoll(canceled) = %v, want context.Canceled", err)
	}
	if _, err := st.LatestPolls(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("LatestPolls(canceled) = %v, want context.Canceled", err)
	}
	if got, err := st.LatestPoll(context.Background(), "mx1"); err != nil || got != nil {
		t.Errorf("after a canceled SavePoll: LatestPoll = %v, %v; want nil, nil", got, err)
	}
}

func suiteConcurrentSavePoll(t *testing.T, open opener) {
	st := open(t)
	saveConcurrently(t, st, 64, 20)
}

// saveConcurrently has writers goroutines each save perWriter polls of
// their own device while readers query, as a fleet audit with a large
// worker pool does, then checks that every poll got its own ID and that
// the latest of each device is the last one saved.
func saveConcurrently(t *testing.T, st Store, writers, perWriter int) {
	t.Helper()
	ctx := context.Background()
	run := mustBeginRun(t, st, base)

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = make(map[int64]bool, writers*perWriter)
		done    = make(chan struct{})
		readers sync.WaitGroup
	)
	// Two readers, pausing between queries as a daemon's HTTP handlers and
	// the check command would: the point is reads overlapping writes, not
	// starving the writer of CPU (under the race detector on two cores,
	// busy readers made this test five times slower).
	for r := range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
				var err error
				if r%2 == 0 {
					_, err = st.LatestPolls(ctx)
				} else {
					_, err = st.MaxREsSeen(ctx, fmt.Sprintf("dev%02d", r))
				}
				if err != nil {
					t.Errorf("reader %d: %v", r, err)
					return
				}
			}
		})
	}
	for w := range writers {
		wg.Go(func() {
			device := fmt.Sprintf("dev%02d", w)
			for i := range perWriter {
				p := fullPoll(device, run, base.Add(time.Duration(i)*time.Minute))
				if err := st.SavePoll(ctx, &p); err != nil {
					t.Errorf("%s poll %d: %v", device, i, err)
					return
				}
				mu.Lock()
				if ids[p.ID] {
					t.Errorf("%s poll %d: ID %d given twice", device, i, p.ID)
				}
				ids[p.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()

	if len(ids) != writers*perWriter {
		t.Fatalf("%d polls saved, want %d", len(ids), writers*perWriter)
	}
	latest, err := st.LatestPolls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != writers {
		t.Fatalf("LatestPolls: %d devices, want %d", len(latest), writers)
	}
	for i, p := range latest {
		want := fullPoll(fmt.Sprintf("dev%02d", i), run, base.Add(time.Duration(perWriter-1)*time.Minute))
		want.ID = p.ID
		diffPoll(t, want, p)
	}
}

// suiteLatestREPollSkipsFailures: the RE-table delta of the next poll is
// taken against the latest poll that read the table, not a failed one.
func suiteLatestREPollSkipsFailures(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	if got, err := st.LatestREPoll(ctx, "mx1"); err != nil || got != nil {
		t.Fatalf("never polled: %v, %v", got, err)
	}
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	good := fullPoll("mx1", 0, base)
	mustSave(t, st, &good)
	bad := failedPoll("mx1", 0, base.Add(5*time.Minute))
	mustSave(t, st, &bad)
	got, err := st.LatestREPoll(ctx, "mx1")
	if err != nil || got == nil {
		t.Fatalf("LatestREPoll = %v, %v", got, err)
	}
	if got.ID != good.ID || got.Snapshot == nil || len(got.Snapshot.RouteEngines) != len(good.Snapshot.RouteEngines) {
		t.Errorf("LatestREPoll = poll %d with %v, want poll %d with its REs", got.ID, got.Snapshot, good.ID)
	}
	if latest, _ := st.LatestPoll(ctx, "mx1"); latest == nil || latest.ID != bad.ID {
		t.Errorf("LatestPoll should still be the failed poll")
	}
}
