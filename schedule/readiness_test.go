package schedule

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
)

const replicationOp = "get-routing-task-replication-state"

// TestReplicationReadOnlyOnTriggers counts, on the simulator over SSH,
// the replication-state RPCs a daemon's poller sends: one at the first
// poll, none at steady-state polls inside readiness.interval, one again
// after a reboot of the backup and after a commit, and one when the
// interval is up.
func TestReplicationReadOnlyOnTriggers(t *testing.T) {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	sc := junossim.Scenario{StartTime: start, Devices: []junossim.Device{{
		Name: "mx1", Model: "mx960", Topology: junossim.TopologyDual, Site: "ams1",
		Events: []junossim.Event{
			{At: 20 * time.Minute, Kind: junossim.EventReboot, RE: "re1"},
			{At: 40 * time.Minute, Kind: junossim.EventCommit, Comment: "hello"},
		},
	}}}
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
	d := inv.Devices[0]
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As the daemon polls: log cursors kept, so a commit line is news once.
	a := &Auditor{Poller: &Poller{Now: clock.Now, Cursors: st, Readiness: NewReadinessMemory()}, Store: st, Historian: hist}
	router := fleet.Router("mx1")

	sent := 0
	for _, step := range []struct {
		at   time.Duration
		read bool
		why  string
	}{
		{0, true, "first poll"},
		{5 * time.Minute, false, "steady state"},
		{10 * time.Minute, false, "steady state"},
		{15 * time.Minute, false, "steady state"},
		{25 * time.Minute, true, "after the reboot of re1"},
		{30 * time.Minute, false, "steady state after the reboot"},
		{45 * time.Minute, true, "after the commit"},
		{50 * time.Minute, false, "steady state after the commit"},
		{45*time.Minute + time.Hour, true, "interval up"},
	} {
		clock.Set(start.Add(step.at))
		p, _, err := a.Check(t.Context(), d)
		if err != nil || p.Outcome != devices.OutcomeOK {
			t.Fatalf("poll at %v: %v %s %s", step.at, err, p.Outcome, p.Error)
		}
		if step.read {
			sent++
		}
		if got := router.RPCCount(replicationOp); got != sent {
			t.Errorf("at %v (%s): %d replication reads, want %d", step.at, step.why, got, sent)
			sent = got
		}
		// The replication state read earlier is carried into every poll.
		if p.Snapshot.Replication == nil {
			t.Errorf("at %v: no replication state in the poll", step.at)
		}
	}
	// Every poll read every RE's release, not only the local one.
	if got := router.RPCCount("get-software-information"); got != 9 {
		t.Errorf("get-software-information sent %d times, want 9 (every poll)", got)
	}
}

// TestReplicationNotReadWhereNotApplicable: single-RE routers and SRX
// clusters never get the replication RPC, and a poller without memory
// (check) reads it at every poll of a dual-RE router.
func TestReplicationNotReadWhereNotApplicable(t *testing.T) {
	sc := junossim.Scenario{Devices: []junossim.Device{
		{Name: "single", Model: "mx204", Topology: junossim.TopologySingle},
		{Name: "srx", Model: "srx4600", Topology: junossim.TopologySRXCluster},
		{Name: "dual", Model: "mx960", Topology: junossim.TopologyDual},
	}}
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{InventoryTimeout: 10 * time.Second})
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
	a := &Auditor{Poller: &Poller{Now: func() time.Time { return time.Now().UTC() }, Cursors: st}, Store: st}
	for range 2 {
		if _, err := a.Audit(t.Context(), inv.Devices); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]int{"single": 0, "srx": 0, "dual": 2} {
		if got := fleet.Router(name).RPCCount(replicationOp); got != want {
			t.Errorf("%s: %d replication reads, want %d", name, got, want)
		}
	}
}
