package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/store"
)

// defaultDBPath is where audits keep history unless --db says otherwise:
// the XDG state directory, so runs from any directory share one history.
func defaultDBPath() string {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "mastership", "mastership.db")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "mastership", "mastership.db")
	}
	return "mastership.db"
}

// loadInventory loads the inventory and prints its warnings.
func (a *app) loadInventory(path string) (*inventory.Inventory, error) {
	if path == "" {
		return nil, fmt.Errorf("--inventory is required")
	}
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings() {
		a.log.Warn(w, "inventory", path)
	}
	return inv, nil
}

func openStore(ctx context.Context, db string) (store.Store, error) {
	st, err := store.Open(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", db, err)
	}
	return st, nil
}

func utcNow() time.Time { return time.Now().UTC() }

// recoverRuns marks interrupted the runs a killed agent left unfinished,
// so reports and metrics do not show them as still running. A failure is
// logged, not fatal: the audit about to start matters more.
func (a *app) recoverRuns(ctx context.Context, st store.Store) {
	runs, err := st.RecoverRuns(ctx)
	if err != nil {
		a.log.Warn("could not mark unfinished runs interrupted", "error", err)
		return
	}
	for _, r := range runs {
		a.log.Warn("run left unfinished by an agent that is gone: marked interrupted",
			"run", r.ID, "started", r.Started, "polls_stored", r.Devices)
	}
}
