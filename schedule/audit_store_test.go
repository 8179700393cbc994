package schedule

import (
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
)

// TestUnstoredPollCounted: a poll the store refuses is still a poll. The
// run counts it by its outcome in ok or failed as before, and also in
// Unstored, so a run with a lost poll never reads as all stored. Every
// store operation is reported to StoreOp, and the audit's error carries
// the store's own message once, not "store poll of …: save poll of …".
//
// The refusal is real SQLite: a trigger in the store's own file aborts
// the insert of one device's poll, as a full disk would.
func TestUnstoredPollCounted(t *testing.T) {
	devs := fleetDevices(t, junossim.Scenario{Devices: []junossim.Device{
		{Name: "r1", Model: "mx960", Topology: junossim.TopologyDual},
		{Name: "r2", Model: "mx960", Topology: junossim.TopologyDual},
		{Name: "r3", Model: "mx960", Topology: junossim.TopologyDual, Faults: &junossim.Faults{Refuse: true}},
	}})
	path := filepath.Join(t.TempDir(), "m.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER refuse_r2 BEFORE INSERT ON polls WHEN NEW.device = 'r2'
BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	ops := map[string][2]int{} // op: successes, errors
	a := &Auditor{
		Poller: &Poller{Now: time.Now, Timeout: 5 * time.Second},
		Store:  st,
		StoreOp: func(op string, err error) {
			mu.Lock()
			defer mu.Unlock()
			c := ops[op]
			if err != nil {
				c[1]++
			} else {
				c[0]++
			}
			ops[op] = c
		},
	}
	res, err := a.Audit(t.Context(), devs)
	if err == nil || !strings.Contains(err.Error(), "database or disk is full") {
		t.Fatalf("audit error %v, want the store's refusal", err)
	}
	if strings.Count(err.Error(), "r2") != 1 || strings.Contains(err.Error(), "store poll of") {
		t.Errorf("audit error %q: the device and operation should be named once", err)
	}
	want := devices.Run{ID: res.Run.ID, Started: res.Run.Started, Finished: res.Run.Finished, Devices: 3, OK: 2, Failed: 1, Unstored: 1}
	if res.Run != want {
		t.Errorf("run %+v, want %+v", res.Run, want)
	}
	runs, err := st.Runs(t.Context(), 1)
	if err != nil || len(runs) != 1 || runs[0].Unstored != 1 || runs[0].OK != 2 || runs[0].Failed != 1 {
		t.Errorf("stored run %+v, %v; want ok 2, failed 1, unstored 1", runs, err)
	}
	polls, err := st.LatestPolls(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, p := range polls {
		stored = append(stored, p.Device)
	}
	if strings.Join(stored, ",") != "r1,r3" && strings.Join(stored, ",") != "r3,r1" {
		t.Errorf("stored polls of %v, want r1 and r3", stored)
	}
	mu.Lock()
	defer mu.Unlock()
	for op, want := range map[string][2]int{OpBeginRun: {1, 0}, OpSavePoll: {2, 1}, OpFinishRun: {1, 0}} {
		if ops[op] != want {
			t.Errorf("StoreOp(%s): %d ok, %d errors; want %v", op, ops[op][0], ops[op][1], want)
		}
	}
}
