package schedule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/netconf/netconftest"
	"github.com/mastership/mastership/store"
)

// fleetDevices starts a simulated fleet and returns its inventory devices.
func fleetDevices(t *testing.T, sc junossim.Scenario) []inventory.Device {
	t.Helper()
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{InventoryTimeout: 2 * time.Second})
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
	return inv.Devices
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestAuditStoresOnePollPerDevice(t *testing.T) {
	sc := junossim.Generate(20, 3)
	sc.Devices = append(sc.Devices,
		junossim.Device{Name: "refuses", Topology: junossim.TopologyDual, Faults: &junossim.Faults{Refuse: true}},
		junossim.Device{Name: "hangs", Topology: junossim.TopologyDual, Faults: &junossim.Faults{HangAfterHello: true}},
	)
	devs := fleetDevices(t, sc)
	st := openStore(t)

	var seen []string
	a := &Auditor{
		Poller:      &Poller{Now: time.Now, Timeout: time.Second},
		Store:       st,
		Concurrency: 4,
		OnPoll:      func(p devices.Poll) { seen = append(seen, p.Device) },
	}
	res, err := a.Audit(t.Context(), devs)
	run, polls := res.Run, res.Polls
	if err != nil {
		t.Fatal(err)
	}
	if run.Devices != 22 || run.OK != 20 || run.Failed != 2 || run.Interrupted {
		t.Errorf("run = %+v, want 22 devices, 20 ok, 2 failed, not interrupted", run)
	}
	if len(seen) != 22 {
		t.Errorf("OnPoll saw %d polls, want 22", len(seen))
	}
	byName := map[string]devices.Poll{}
	for i, p := range polls {
		if p.Device != devs[i].Name {
			t.Errorf("polls[%d] is %q, want %q (inventory order)", i, p.Device, devs[i].Name)
		}
		if p.RunID != run.ID || p.ID == 0 {
			t.Errorf("%s: run %d id %d, want stored in run %d", p.Device, p.RunID, p.ID, run.ID)
		}
		byName[p.Device] = p
	}
	if got := byName["refuses"].Outcome; got != devices.OutcomeRefused {
		t.Errorf("refuses: outcome %s", got)
	}
	if got := byName["hangs"].Outcome; got != devices.OutcomeTimeout {
		t.Errorf("hangs: outcome %s", got)
	}
	for _, d := range devs[:20] {
		p := byName[d.Name]
		if p.Outcome != devices.OutcomeOK || p.Snapshot == nil || len(p.Snapshot.RouteEngines) == 0 {
			t.Errorf("%s: outcome %s, error %q", d.Name, p.Outcome, p.Error)
		}
		if p.ExpectedREs != len(p.Snapshot.RouteEngines) && p.ExpectedREs != d.ExpectedREs {
			t.Errorf("%s: expected REs %d", d.Name, p.ExpectedREs)
		}
	}

	stored, err := st.LatestPolls(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 22 {
		t.Errorf("%d polls stored, want 22", len(stored))
	}
	runs, err := st.Runs(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].OK != 20 || runs[0].Failed != 2 || runs[0].Finished.IsZero() {
		t.Errorf("stored runs = %+v", runs)
	}
}

// TestAuditConcurrencyBound runs a fleet whose every reply is delayed and
// checks, from the server side, that no more sessions than the bound were
// ever open at once.
func TestAuditConcurrencyBound(t *testing.T) {
	const bound = 3
	var open, most atomic.Int32
	router, err := junossim.NewRouter(junossim.Device{Name: "r", Topology: junossim.TopologyDual}, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var devs []inventory.Device
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret-for-the-bound-test"), 0o600); err != nil {
		t.Fatal(err)
	}
	var known []string
	for i := range 9 {
		srv, err := netconftest.NewServer(netconftest.Config{
			Users: map[string]string{"netconf": "s3cret-for-the-bound-test"},
			Handler: netconftest.HandlerFunc(func(ctx context.Context, req *netconftest.Request) []byte {
				// Count sessions by their first RPC and keep them busy
				// long enough to overlap.
				if req.Operation == "get-route-engine-information" {
					n := open.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					defer open.Add(-1)
					select {
					case <-time.After(50 * time.Millisecond):
					case <-ctx.Done():
					}
				}
				return router.ServeNETCONF(ctx, req)
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		known = append(known, srv.KnownHostsLine())
		devs = append(devs, inventory.Device{
			Name: "r" + string(rune('a'+i)), Host: srv.Host(), Port: srv.Port(), Username: "netconf",
			Auth: inventory.Auth{PasswordFile: pwFile}, KnownHosts: filepath.Join(dir, "known_hosts"),
			HostKeyPolicy: "strict", Timeout: 5 * time.Second,
		})
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(strings.Join(known, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Poller: &Poller{Now: time.Now}, Store: openStore(t), Concurrency: bound}
	res, err := a.Audit(t.Context(), devs)
	run := res.Run
	if err != nil {
		t.Fatal(err)
	}
	if run.OK != 9 {
		t.Fatalf("run = %+v, want 9 ok", run)
	}
	if m := most.Load(); m > bound || m < 2 {
		t.Errorf("at most %d polls were in flight, want 2..%d", m, bound)
	}
}

// TestPollPartialKeepsWhatCameBack: one RPC answers with an rpc-error; the
// others' data is kept and the poll is partial, naming the RPC.
func TestPollPartialKeepsWhatCameBack(t *testing.T) {
	router, err := junossim.NewRouter(junossim.Device{Name: "r", Topology: junossim.TopologyDual}, 1, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := netconftest.NewServer(netconftest.Config{
		Users: map[string]string{"netconf": "partial-test-password"},
		Handler: netconftest.HandlerFunc(func(ctx context.Context, req *netconftest.Request) []byte {
			if req.Operation == "get-system-alarm-information" {
				return netconftest.ErrorReply(req, "operation-failed", "syntax error, expecting <command>")
			}
			return router.ServeNETCONF(ctx, req)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("PARTIAL_PW", "partial-test-password")
	d := inventory.Device{Name: "r", Host: srv.Host(), Port: srv.Port(), Username: "netconf",
		Auth: inventory.Auth{PasswordEnv: "PARTIAL_PW"}, HostKeyPolicy: "off", Timeout: 5 * time.Second}

	p := (&Poller{Now: time.Now}).Poll(t.Context(), d)
	if p.Outcome != devices.OutcomePartial || p.ErrorKind != string(devices.OutcomeRPCError) {
		t.Fatalf("outcome %s kind %s error %q, want partial rpc-error", p.Outcome, p.ErrorKind, p.Error)
	}
	if !strings.Contains(p.Error, "get-system-alarm-information") || !strings.Contains(p.Error, "syntax error") {
		t.Errorf("error %q does not name the failed RPC and its message", p.Error)
	}
	if p.Snapshot == nil || len(p.Snapshot.RouteEngines) != 2 || len(p.Snapshot.Software) == 0 {
		t.Errorf("snapshot lost the RPCs that worked: %+v", p.Snapshot)
	}
	if a := devices.Assess(p, 2, nil); a.State != devices.StateWarning {
		t.Errorf("verdict %v (%s), want WARNING for a partial poll", a.State, a.Summary)
	}
}

func TestAuditCancelledIsInterrupted(t *testing.T) {
	devs := fleetDevices(t, junossim.Generate(5, 1))
	st := openStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// SIGTERM arrives while the first device is being stored.
	a := &Auditor{Poller: &Poller{Now: time.Now}, Store: st, Concurrency: 1, OnPoll: func(devices.Poll) { cancel() }}
	res, err := a.Audit(ctx, devs)
	run, polls := res.Run, res.Polls
	if err != nil {
		t.Fatal(err)
	}
	if !run.Interrupted || run.OK+run.Failed == 5 {
		t.Errorf("run = %+v, want interrupted with devices left unpolled", run)
	}
	if polls[0].Outcome != devices.OutcomeOK || polls[0].ID == 0 {
		t.Errorf("the poll finished before the cancel was lost: %+v", polls[0])
	}
	runs, err := st.Runs(t.Context(), 1)
	if err != nil || len(runs) != 1 || !runs[0].Interrupted {
		t.Errorf("stored run = %+v, %v; want interrupted", runs, err)
	}
}

func TestPollUnreadableCredentialsIsAuth(t *testing.T) {
	d := inventory.Device{Name: "r", Host: "127.0.0.1", Port: 1, Username: "u",
		Auth: inventory.Auth{PasswordEnv: "MASTERSHIP_TEST_UNSET_VARIABLE"}, Timeout: time.Second}
	p := (&Poller{Now: time.Now}).Poll(t.Context(), d)
	if p.Outcome != devices.OutcomeAuth || !strings.Contains(p.Error, "MASTERSHIP_TEST_UNSET_VARIABLE") {
		t.Errorf("outcome %s error %q, want auth naming the variable", p.Outcome, p.Error)
	}
}

func storeFilter(names []string) store.Filter { return store.Filter{Devices: names} }
