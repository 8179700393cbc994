package main

import (
	"context"
	"log/slog"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/schedule"
)

// TestBenchRefSendsTheAgentsRPCs: the reference client is only a floor
// for the same work, so each of its polls must ask the simulator exactly
// what the bench's agent asks in the same scenario: the first poll of a
// fresh audit, and the steady-state poll on an open session. Counted by
// the simulator's per-session counters, over real SSH.
func TestBenchRefSendsTheAgentsRPCs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a simulated fleet")
	}
	ctx := t.Context()
	fleet, err := junossim.Start(ctx, junossim.Generate(6, 1), junossim.Options{InventoryTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	invPath := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(invPath); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(invPath)
	if err != nil {
		t.Fatal(err)
	}
	devs := inv.Devices
	b := &bencher{o: &benchOptions{concurrency: 3, keepalive: 30 * time.Second}, dir: t.TempDir(), log: slog.New(slog.DiscardHandler)}
	// ops adds up, over every device, the RPCs its k-th session (oldest
	// first) was asked, by operation. Read once every session is closed:
	// the simulator counts an RPC after its reply is on the way, so a
	// session's count is final only when it has answered close-session.
	ops := func(k int) map[string]int {
		sum := map[string]int{}
		for _, d := range devs {
			sessions := fleet.Sessions(d.Name)
			if len(sessions) <= k {
				t.Fatalf("%s: %d sessions, want a %d-th", d.Name, len(sessions), k+1)
			}
			for op, n := range sessions[k].Operations {
				sum[op] += n
			}
		}
		return sum
	}
	ref, err := newBenchRef(devs, 3)
	if err != nil {
		t.Fatal(err)
	}

	// Fresh: one audit into a new store, every poll a first poll.
	st, err := openStore(ctx, filepath.Join(b.dir, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	auditor, err := b.auditor(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Each device's sessions, in order: the agent's fresh poll, the
	// reference's, the agent's persistent session (two polls), the
	// reference's (two polls).
	audit(ctx, t, auditor, devs)
	if run := ref.fresh(ctx); run.failed > 0 {
		t.Fatalf("reference fresh: %v", run.firstErr)
	}

	// Persistent: a first audit opens the sessions, the second is the
	// one measured.
	pool := schedule.NewSessionPool(b.o.keepalive, b.log)
	defer func() { _ = pool.Close(context.WithoutCancel(ctx)) }()
	st2, err := openStore(ctx, filepath.Join(b.dir, "persistent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	pdevs := append([]inventory.Device(nil), devs...)
	for i := range pdevs {
		pdevs[i].Session = inventory.SessionPersistent
	}
	auditor, err = b.auditor(st2, pool)
	if err != nil {
		t.Fatal(err)
	}
	audit(ctx, t, auditor, pdevs)
	audit(ctx, t, auditor, pdevs)
	if err := pool.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if run := ref.persistent(ctx); run.failed > 0 {
		t.Fatalf("reference persistent: %v", run.firstErr)
	}

	agentFresh, refFresh := ops(0), ops(1)
	t.Logf("fresh poll: agent %v, reference %v", agentFresh, refFresh)
	if !maps.Equal(agentFresh, refFresh) {
		t.Errorf("fresh: the agent asked %v, the reference %v", agentFresh, refFresh)
	}
	agentBoth, refBoth := ops(2), ops(3)
	if !maps.Equal(agentBoth, refBoth) {
		t.Errorf("persistent: the agent's two polls asked %v, the reference's %v", agentBoth, refBoth)
	}
	// The first poll on a persistent session is a first poll, as fresh.
	steady := map[string]int{}
	for op, n := range agentBoth {
		if d := n - agentFresh[op]; d != 0 {
			steady[op] = d
		}
	}
	t.Logf("persistent steady-state poll: %v", steady)
	if n := len(devs); steady["get-software-information"] != 0 || steady["get-log"] != 0 || steady["file-list"] != n {
		t.Errorf("persistent: the agent's second poll is not the steady-state one: %v", steady)
	}
}

func audit(ctx context.Context, t *testing.T, a *schedule.Auditor, devs []inventory.Device) {
	t.Helper()
	res, err := a.Audit(ctx, devs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Polls {
		if p.Error != "" {
			t.Fatalf("%s: %s: %s", p.Device, p.Outcome, p.Error)
		}
	}
}
