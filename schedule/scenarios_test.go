package schedule

import (
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestLabelledScenarios is the end-to-end judgement suite: every scenario
// in devices/junos/junossim/testdata/scenarios runs as simulated routers
// over real SSH on loopback on a simulated clock; the agent audits it at
// the scenario's poll times with the real poller, store, rules and
// correlation, and must reach exactly the findings the scenario expects —
// right RE, cause and severity, and none at all on healthy routers.
func TestLabelledScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "devices", "junos", "junossim", "testdata", "scenarios", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("%d scenarios, want at least 20", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			runScenario(t, file)
		})
	}
}

// scenarioFleet is a labelled scenario's simulated routers, started on a
// simulated clock at the scenario's start.
type scenarioFleet struct {
	sc    junossim.Scenario
	clock *junossim.Clock
	start time.Time
	devs  []inventory.Device
	fleet *junossim.Fleet
}

func startScenario(t *testing.T, file string) scenarioFleet {
	t.Helper()
	sc, err := junossim.LoadScenario(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Polls) == 0 {
		t.Fatal("scenario has no polls")
	}
	start := sc.ClockStart()
	clock := junossim.NewClock(start)
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	inv := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	loaded, err := inventory.LoadInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	return scenarioFleet{sc: sc, clock: clock, start: start, devs: loaded.Devices, fleet: fleet}
}

func runScenario(t *testing.T, file string) {
	f := startScenario(t, file)
	sc, clock, start := f.sc, f.clock, f.start
	loaded := struct{ Devices []inventory.Device }{f.devs}
	var err error
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Poller: &Poller{Now: clock.Now, Cursors: st}, Store: st, Historian: hist, Concurrency: 8}

	var last Result
	for _, at := range sc.Polls {
		clock.Set(start.Add(at))
		if last, err = a.Audit(t.Context(), loaded.Devices); err != nil {
			t.Fatalf("audit at %v: %v", at, err)
		}
		for _, p := range last.Polls {
			if p.Outcome != devices.OutcomeOK {
				t.Errorf("audit at %v: %s: outcome %s: %s", at, p.Device, p.Outcome, p.Error)
			}
		}
	}
	// A second audit at the same instant finds nothing new: no duplicate
	// log lines, transitions or findings.
	before := countHistory(t, a, loaded.Devices)
	again, err := a.Audit(t.Context(), loaded.Devices)
	if err != nil {
		t.Fatal(err)
	}
	if after := countHistory(t, a, loaded.Devices); after != before {
		t.Errorf("a repeated audit changed the history: %s, then %s", before, after)
	}

	// Judging the devices in chunks of two, or one at a time, finds the
	// same as the audit's one read for all of them.
	now := clock.Now().UTC()
	for _, chunk := range []int{1, 2} {
		h := *hist
		h.chunk = chunk
		found, err := h.Judge(t.Context(), slices.Collect(maps.Keys(again.Findings)), now)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(found, again.Findings) {
			t.Errorf("judged %d at a time: %v, want %v", chunk, found, again.Findings)
		}
	}

	for _, d := range sc.Devices {
		var got []string
		for _, f := range again.Findings[d.Name] {
			got = append(got, fmt.Sprintf("%s %s %s", f.RE, f.Cause, f.Severity))
		}
		var want []string
		for _, e := range d.Expect {
			want = append(want, fmt.Sprintf("%s %s %s", e.RE, e.Cause, e.Severity))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: findings %q, want %q", d.Name, got, want)
			for _, f := range again.Findings[d.Name] {
				t.Logf("  %s %s %s %d transitions %s..%s other %v\n    evidence %q", f.RE, f.Cause, f.Severity, f.Transitions, f.First, f.Last, f.OtherCauses, f.Evidence)
			}
		}
	}
}

// countHistory summarises what the store holds for the devices.
func countHistory(t *testing.T, a *Auditor, devs []inventory.Device) string {
	t.Helper()
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	f := storeFilter(names)
	ts, err := a.Store.Transitions(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := a.Store.Events(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := a.Store.Findings(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d transitions, %d events, %d findings", len(ts), len(evs), len(fs))
}
