package schedule

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
)

func TestDue(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	up := func(d time.Duration) *time.Duration { return &d }
	committed := now.Add(-48 * time.Hour)
	cache := Refreshed{ReadAt: now.Add(-time.Hour), UpTimes: map[string]time.Duration{"re0": 10 * time.Hour, "re1": 9 * time.Hour},
		LastConfigured: committed}
	steady := []devices.RouteEngine{{Name: "re0", UpTime: up(11 * time.Hour)}, {Name: "re1", UpTime: up(10 * time.Hour)}}
	for _, tc := range []struct {
		name    string
		ok      bool
		sig     Signals
		now     time.Time
		refresh time.Duration
		want    string
	}{
		{"first poll", false, Signals{RouteEngines: steady, LastConfigured: committed}, now, 0, DueFirst},
		{"steady", true, Signals{RouteEngines: steady, LastConfigured: committed}, now, 0, ""},
		{"RE rebooted", true, Signals{RouteEngines: []devices.RouteEngine{{Name: "re0", UpTime: up(time.Minute)}, steady[1]}, LastConfigured: committed}, now, 0, DueReboot},
		{"RE back from absent", true, Signals{RouteEngines: append(steady, devices.RouteEngine{Name: "re2", UpTime: up(time.Hour)}), LastConfigured: committed}, now, 0, DueReboot},
		{"up-time not reported", true, Signals{RouteEngines: []devices.RouteEngine{{Name: "re0"}}, LastConfigured: committed}, now, 0, ""},
		{"commit", true, Signals{RouteEngines: steady, LastConfigured: now.Add(-time.Minute)}, now, 0, DueCommit},
		{"commit event", true, Signals{RouteEngines: steady, LastConfigured: committed, Committed: true}, now, 0, DueCommit},
		{"expired default", true, Signals{RouteEngines: steady, LastConfigured: committed}, now.Add(23 * time.Hour), 0, DueExpired},
		{"not yet expired", true, Signals{RouteEngines: steady, LastConfigured: committed}, now.Add(22 * time.Hour), 0, ""},
		{"short refresh", true, Signals{RouteEngines: steady, LastConfigured: committed}, now, 30 * time.Minute, DueExpired},
	} {
		if got := Due(cache, tc.ok, tc.sig, tc.now, tc.refresh); got != tc.want {
			t.Errorf("%s: Due = %q, want %q", tc.name, got, tc.want)
		}
	}
	var nilRefresher *Refresher
	if got := nilRefresher.Due("r", Signals{}, now); got != DueFirst {
		t.Errorf("nil Refresher: Due = %q, want every poll to read", got)
	}
}

// refreshFleet starts one simulated dual-RE router over real SSH and an
// auditor with the refresh cache, as the daemon runs it.
func refreshFleet(t *testing.T, dev junossim.Device, clock *junossim.Clock) (*junossim.Fleet, []inventory.Device, *Auditor) {
	t.Helper()
	fleet, err := junossim.Start(t.Context(), junossim.Scenario{Devices: []junossim.Device{dev}},
		junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	path := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(path); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fleet, inv.Devices, &Auditor{Poller: &Poller{Now: clock.Now, Cursors: st,
		// As the daemon builds it (cmd/mastership run): software and
		// configuration cached, the replication state read rarely.
		Refresh: &Refresher{}, Readiness: NewReadinessMemory()}, Store: st, Historian: hist}
}

// TestSteadyStatePollAsksOnlyWhatMayHaveChanged is issue 17's counting
// test: over real SSH, the second poll of an unchanged router with a 5 MB
// messages file sends no software, configuration or log-content RPC, at
// most 5 RPCs (close-session not counted) and at most 32 KiB of replies.
// A commit then makes the next poll read the configuration again, and a
// logged line makes it read messages.
func TestSteadyStatePollAsksOnlyWhatMayHaveChanged(t *testing.T) {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	const name = "ams1-mx960-1"
	fleet, devs, a := refreshFleet(t, junossim.Device{Name: name, Model: "mx960", Topology: junossim.TopologyDual, LogFillBytes: 5 << 20}, clock)
	router := fleet.Router(name)

	poll := func(at time.Duration) (devices.Poll, int, int64, map[string]int) {
		t.Helper()
		before := len(fleet.Sessions(name))
		clock.Set(start.Add(at))
		res, err := a.Audit(t.Context(), devs)
		if err != nil {
			t.Fatal(err)
		}
		sessions := fleet.Sessions(name)[before:]
		rpcs, bytes, ops := 0, int64(0), map[string]int{}
		for _, s := range sessions {
			rpcs += s.RPCs
			bytes += s.ReplyBytes
			for op, n := range s.Operations {
				ops[op] += n
			}
		}
		if len(res.Polls) != 1 || res.Polls[0].Outcome != devices.OutcomeOK {
			t.Fatalf("poll at %v: %+v", at, res.Polls)
		}
		return res.Polls[0], rpcs, bytes, ops
	}

	first, _, firstBytes, ops := poll(0)
	if ops["get-software-information"] != 1 || ops["get-configuration"] != 1 || ops["get-log"] != 2 {
		t.Fatalf("first poll asked %v, want software, configuration and both logs", ops)
	}
	if firstBytes < 5<<20 {
		t.Errorf("first poll got %d reply bytes, want the 5 MB messages file", firstBytes)
	}
	if n := len(devices.Notes(first)); n != 1 || !strings.Contains(devices.Notes(first)[0], "mastership junos-config") {
		t.Errorf("first poll notes %q, want the large-log note", devices.Notes(first))
	}

	second, rpcs, bytes, ops := poll(time.Minute)
	for _, op := range []string{"get-software-information", "get-configuration", "get-log", "file-show"} {
		if ops[op] != 0 {
			t.Errorf("second poll of an unchanged router sent %s: %v", op, ops)
		}
	}
	if rpcs > 5 {
		t.Errorf("second poll sent %d RPCs (%v), want at most 5", rpcs, ops)
	}
	if bytes > 32<<10 {
		t.Errorf("second poll got %d reply bytes, want at most 32 KiB", bytes)
	}
	if second.Snapshot == nil || len(second.Snapshot.Software) == 0 || second.Snapshot.Config == nil {
		t.Errorf("second poll's snapshot lacks the cached software or configuration: %+v", second.Snapshot)
	}
	t.Logf("steady-state poll: %d RPCs, %d reply bytes (first poll %d bytes)", rpcs, bytes, firstBytes)

	// A commit: the configuration and software are read again, messages
	// (where mgd logs UI_COMMIT) is read, and the new lines arrive.
	if err := router.Apply(junossim.Event{Kind: junossim.EventCommit}); err != nil {
		t.Fatal(err)
	}
	third, _, _, ops := poll(2 * time.Minute)
	if ops["get-configuration"] != 1 || ops["get-software-information"] != 1 || ops["get-log"] != 1 {
		t.Errorf("poll after a commit asked %v, want configuration, software and messages", ops)
	}
	if third.Snapshot == nil || len(third.Snapshot.Logs) == 0 {
		t.Errorf("poll after a commit took no log lines")
	}
}

// TestRotationBetweenPollsLosesNoLine: lines logged after one poll, then a
// rotation, then more lines in the new file: the next poll takes every
// line of the new file, none twice, over real SSH with the file listing.
func TestRotationBetweenPollsLosesNoLine(t *testing.T) {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	const name = "ams1-mx960-1"
	fleet, devs, a := refreshFleet(t, junossim.Device{Name: name, Model: "mx960", Topology: junossim.TopologyDual, LogFillBytes: 20_000}, clock)
	router := fleet.Router(name)
	audit := func(at time.Duration) devices.Poll {
		t.Helper()
		clock.Set(start.Add(at))
		res, err := a.Audit(t.Context(), devs)
		if err != nil || len(res.Polls) != 1 || res.Polls[0].Outcome != devices.OutcomeOK {
			t.Fatalf("audit at %v: %v %+v", at, err, res.Polls)
		}
		return res.Polls[0]
	}
	audit(0)
	clock.Set(start.Add(time.Minute))
	if err := router.Apply(junossim.Event{Kind: junossim.EventRotateLogs, File: junossim.LogMessages}); err != nil {
		t.Fatal(err)
	}
	// The new file grows past the old one's size before the next poll.
	var want []string
	for i := range 400 {
		clock.Set(start.Add(time.Minute + time.Duration(i+1)*100*time.Millisecond))
		text := "mgd[4242]: UI_CMDLINE_READ_LINE: User 'ops', command 'show chassis routing-engine " + strings.Repeat("x", i%7) + "'"
		if err := router.Apply(junossim.Event{Kind: junossim.EventLog, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	lines, _ := router.Log(junossim.LogMessages)
	want = append(want, lines...)
	p := audit(2 * time.Minute)
	var got []string
	for _, l := range p.Snapshot.Logs {
		if l.File == junossim.LogMessages {
			got = append(got, l.Raw)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("after the rotation the poll took %d messages lines, want all %d of the new file", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
	// And the poll after finds nothing new and reads nothing.
	if p := audit(3 * time.Minute); len(p.Snapshot.Logs) != 0 {
		t.Errorf("a poll with nothing new took %d lines", len(p.Snapshot.Logs))
	}
}
