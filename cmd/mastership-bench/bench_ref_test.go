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
	// counted is the RPCs the fleet answered while fn ran, by operation.
	counted := func(fn func()) map[string]int {
		before := fleet.Totals()
		fn()
		after := fleet.Totals()
		diff := map[string]int{}
		for op, n := range after.Operations {
			if d := n - before.Operations[op]; d != 0 {
				diff[op] = d
			}
		}
		return diff
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
	agent := counted(func() { audit(ctx, t, auditor, devs) })
	refOps := counted(func() {
		if run := ref.fresh(ctx); run.failed > 0 {
			t.Fatalf("reference fresh: %v", run.firstErr)
		}
	})
	t.Logf("fresh poll: agent %v, reference %v", agent, refOps)
	if !maps.Equal(agent, refOps) {
		t.Errorf("fresh: the agent asked %v, the reference %v", agent, refOps)
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
	first := counted(func() { audit(ctx, t, auditor, pdevs) })
	agent = counted(func() { audit(ctx, t, auditor, pdevs) })
	refBoth := counted(func() {
		if run := ref.persistent(ctx); run.failed > 0 {
			t.Fatalf("reference persistent: %v", run.firstErr)
		}
	})
	// The reference's first poll is the agent's first; what is left of
	// its count is its measured, steady-state poll.
	refSteady := map[string]int{}
	for op, n := range refBoth {
		if d := n - first[op]; d != 0 {
			refSteady[op] = d
		}
	}
	t.Logf("persistent steady-state poll: agent %v, reference %v", agent, refSteady)
	if !maps.Equal(agent, refSteady) {
		t.Errorf("persistent: the agent's steady-state poll asked %v, the reference's %v", agent, refSteady)
	}
	if n := len(devs); agent["get-software-information"] != 0 || agent["get-log"] != 0 || agent["file-list"] != n {
		t.Errorf("persistent: the agent's second poll is not the steady-state one: %v", agent)
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
