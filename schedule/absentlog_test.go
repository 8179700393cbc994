package schedule

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestClassAbsentLogFileIsANote is issue 15's fifth class: a log file the
// platform does not have must not turn every poll into a WARNING. An SRX
// chassis cluster keeps no /var/log/mastership (get-log answers "could
// not resolve file"); its polls stay ok, the file is noted as absent, and
// the verdict stays OK with the note beside it. A file that existed at
// earlier polls and then disappears is still a partial poll: its lines
// may be lost.
func TestClassAbsentLogFileIsANote(t *testing.T) {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	sc := junossim.Scenario{Devices: []junossim.Device{
		{Name: "fra1-srx4600-1", Model: "srx4600", Topology: junossim.TopologySRXCluster},
		{Name: "ams1-mx960-1", Model: "mx960", Topology: junossim.TopologyDual, Events: []junossim.Event{
			{At: 7 * time.Minute, Kind: junossim.EventRemoveLog, File: junossim.LogMastership},
		}},
	}}
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
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
	a := &Auditor{Poller: &Poller{Now: clock.Now, Cursors: st}, Store: st, Historian: hist}

	byName := func(res Result) map[string]devices.Poll {
		m := map[string]devices.Poll{}
		for _, p := range res.Polls {
			m[p.Device] = p
		}
		return m
	}
	for i, at := range []time.Duration{0, 5 * time.Minute, 10 * time.Minute} {
		clock.Set(start.Add(at))
		res, err := a.Audit(t.Context(), inv.Devices)
		if err != nil {
			t.Fatalf("audit at %v: %v", at, err)
		}
		polls := byName(res)
		srx := polls["fra1-srx4600-1"]
		if srx.Outcome != devices.OutcomeOK || srx.Snapshot == nil || !slices.Equal(srx.Snapshot.AbsentLogs, []string{junossim.LogMastership}) {
			t.Fatalf("audit %d: SRX cluster poll %s (%s), absent logs %v; want ok with mastership absent", i, srx.Outcome, srx.Error, srx.Snapshot)
		}
		as := devices.Assess(srx, 2, res.Findings[srx.Device])
		if as.State != devices.StateOK {
			t.Errorf("audit %d: SRX cluster state %s (%s), want OK", i, as.State, as.Summary)
		}
		if notes := devices.Notes(srx); len(notes) != 1 || !strings.Contains(notes[0], "/var/log/mastership does not exist") {
			t.Errorf("audit %d: SRX cluster notes %q", i, notes)
		}

		mx := polls["ams1-mx960-1"]
		switch {
		case at < 7*time.Minute && mx.Outcome != devices.OutcomeOK:
			t.Errorf("audit %d: MX poll %s (%s) while its mastership log exists, want ok", i, mx.Outcome, mx.Error)
		case at > 7*time.Minute && (mx.Outcome != devices.OutcomePartial || !strings.Contains(mx.Error, "was read at earlier polls and is gone")):
			t.Errorf("audit %d: MX poll %s (%q) after its mastership log was deleted, want partial naming the lost file", i, mx.Outcome, mx.Error)
		}
	}
}
