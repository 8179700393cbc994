package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store/pgtest"
)

// TestOneDBEveryCommand: the same --db value means the same store on
// audit, check, run and report, for SQLite and for PostgreSQL: what the
// first three store, report reads back, through --db and through the
// deprecated --store alias alike.
func TestOneDBEveryCommand(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			_, inv := startFleet(t, junossim.Scenario{Devices: []junossim.Device{
				{Name: "ams1-r1", Model: "mx960", Topology: junossim.TopologyDual, Site: "ams1"},
				{Name: "fra1-r2", Model: "mx480", Topology: junossim.TopologyDual, Site: "fra1"},
			}})
			var db string
			if engine == "sqlite" {
				db = "sqlite:" + filepath.Join(t.TempDir(), "m.db")
			} else {
				db = pgtest.Schema(t)
			}
			if r := runCLI(t, "audit", "--inventory", inv, "--db", db); r.code != 0 {
				t.Fatalf("audit: exit %d: %s", r.code, r.stderr)
			}
			if r := runCLI(t, "check", "ams1-r1", "--inventory", inv, "--db", db); r.code != 0 {
				t.Fatalf("check: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			d := startDaemon(t, "--inventory", inv, "--db", db, "--schedule", "@every 1s", "--listen", "127.0.0.1:0", "--timeout", "5s")
			waitFor(t, 30*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
			if c := d.stop(t, 10*time.Second); c != 0 {
				t.Fatalf("run: exit %d", c)
			}
			for _, flag := range []string{"--db", "--store"} {
				r := runCLI(t, "report", flag, db, "--kind", "runs")
				// audit's run and at least one of run's; check makes no run.
				if lines := strings.Count(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || lines < 2 {
					t.Errorf("report %s --kind runs: exit %d, %d runs:\n%s%s", flag, r.code, lines, r.stdout, r.stderr)
				}
				r = runCLI(t, "report", flag, db, "--kind", "polls", "--device", "ams1-r1")
				// audit's poll, check's and run's.
				if lines := strings.Count(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || lines < 3 {
					t.Errorf("report %s --kind polls: exit %d, %d polls of ams1-r1:\n%s%s", flag, r.code, lines, r.stdout, r.stderr)
				}
			}
		})
	}
}
