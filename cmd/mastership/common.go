package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/spf13/pflag"

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

// loadInventory loads the inventory, with the devices of its NetBox
// source if it has one (cached in the state directory), and prints its
// warnings.
func (a *app) loadInventory(ctx context.Context, path string) (*inventory.Inventory, error) {
	if path == "" {
		return nil, fmt.Errorf("--inventory is required")
	}
	inv, err := inventory.Load(ctx, path, inventory.ResolveOptions{StateDir: filepath.Dir(defaultDBPath())})
	if err != nil {
		return nil, err
	}
	for _, w := range inv.Warnings() {
		a.log.Warn(w, "inventory", path)
	}
	return inv, nil
}

// dbFlagUsage is --db's help: one text for every command, so the same
// value means the same store everywhere.
const dbFlagUsage = "the store: an SQLite file path or sqlite:PATH, a PostgreSQL URL (postgres://user@host/db) or libpq keywords (host=… dbname=…); put the password in PGPASSWORD or ~/.pgpass, not here"

// dbFlag registers --db on a command, and --store as its hidden,
// deprecated alias for one release (warnDeprecated says so when used).
func dbFlag(f *pflag.FlagSet, db *string, def, usage string) {
	if usage == "" {
		usage = dbFlagUsage
	}
	f.StringVar(db, "db", def, usage)
	f.StringVar(db, "store", def, "deprecated alias of --db")
	_ = f.MarkHidden("store")
}

// warnDeprecated logs a warning for each deprecated flag the command line
// used.
func (a *app) warnDeprecated(f *pflag.FlagSet) {
	if fl := f.Lookup("store"); fl != nil && fl.Changed {
		a.log.Warn("--store is deprecated and will be removed in the next release: use --db, which takes the same values")
	}
}

// openStore opens the store --db names. store.Open's errors already name
// the store, with its password masked (devices.MaskDSN), so they are not
// wrapped again.
func openStore(ctx context.Context, db string) (store.Store, error) {
	return store.Open(ctx, db)
}

func utcNow() time.Time { return time.Now().UTC() }

// recoverRuns marks interrupted the runs a killed agent left unfinished,
// so reports and metrics do not show them as still running. A failure is
// logged, not fatal: the audit about to start matters more. The error is
// returned for the daemon's store health.
func (a *app) recoverRuns(ctx context.Context, st store.Store) error {
	runs, err := st.RecoverRuns(ctx)
	if err != nil {
		a.log.Warn("could not mark unfinished runs interrupted", "error", err)
		return err
	}
	for _, r := range runs {
		a.log.Warn("run left unfinished by an agent that is gone: marked interrupted",
			"run", r.ID, "started", r.Started, "polls_stored", r.Devices)
	}
	return nil
}
