package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the driver the store uses, to check the file

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
)

// TestDaemonKilledMidAudit kills the daemon with SIGKILL while an audit is
// in flight — 40 routers already stored, 20 hanging until a 60 s deadline
// — then checks the file and restarts the daemon on it: the database
// passes integrity_check, every poll committed before the kill is still
// there, and the run the dead daemon left is marked interrupted.
func TestDaemonKilledMidAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the daemon twice")
	}
	sc := junossim.Generate(40, 9)
	var hanging []string
	for i := range 20 {
		name := fmt.Sprintf("hang-%02d", i)
		hanging = append(hanging, name)
		sc.Devices = append(sc.Devices, junossim.Device{Name: name, Topology: junossim.TopologyDual,
			Faults: &junossim.Faults{HangAfterHello: true}})
	}
	fleet, inv := startFleet(t, sc)
	db := filepath.Join(t.TempDir(), "m.db")

	d := startDaemon(t, "--inventory", inv, "--db", db, "--schedule", "@every 2s", "--listen", "127.0.0.1:0",
		"--timeout", "60s", "--retries", "0", "--log-level", "info")
	var before []devices.Poll
	if !within(60*time.Second, func() bool {
		before = storedPolls(t, db)
		return len(before) >= 40
	}) {
		t.Fatalf("the first audit stored %d polls in 60 s; stderr:\n%s", len(before), lastLines(d.stderr.String(), 20))
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.done
	// What the file held at the moment of the kill: committed polls only.
	before = storedPolls(t, db)
	if len(before) < 40 || len(before) >= 60 {
		t.Fatalf("%d polls stored at the kill; want the 40 healthy ones and no hanging one", len(before))
	}
	checkIntegrity(t, db)

	// Restart on the same file, the hanging routers healed.
	for _, name := range hanging {
		if err := fleet.SetFaults(name, junossim.Faults{}); err != nil {
			t.Fatal(err)
		}
	}
	d = startDaemon(t, "--inventory", inv, "--db", db, "--schedule", "@every 2s", "--listen", "127.0.0.1:0",
		"--timeout", "10s", "--log-level", "info")
	waitFor(t, 60*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
	if code := d.stop(t, 20*time.Second); code != 0 {
		t.Errorf("restarted daemon exit %d", code)
	}
	checkIntegrity(t, db)

	after := storedPolls(t, db)
	kept := map[int64]bool{}
	for _, p := range after {
		kept[p.ID] = true
	}
	for _, p := range before {
		if !kept[p.ID] {
			t.Errorf("poll %d of %s, committed before the kill, is gone", p.ID, p.Device)
		}
	}
	runs := storedRuns(t, db)
	if len(runs) < 2 {
		t.Fatalf("%d runs stored, want the killed one and the restarted daemon's", len(runs))
	}
	first := runs[len(runs)-1] // newest first
	if !first.Interrupted || first.Finished.IsZero() || first.Devices != len(before) || first.OK != len(before) {
		t.Errorf("the killed daemon's run after restart: %+v; want interrupted, finished, with its %d stored polls",
			first, len(before))
	}
	if next := runs[len(runs)-2]; next.Interrupted || next.Devices != 60 || next.OK != 60 {
		t.Errorf("the restarted daemon's first run: %+v; want 60 devices all ok", next)
	}
}

func storedPolls(t *testing.T, db string) []devices.Poll {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []devices.Poll
	if err := st.EachPoll(context.Background(), store.Filter{}, func(p *devices.Poll) error {
		out = append(out, *p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func storedRuns(t *testing.T, db string) []devices.Run {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// checkIntegrity runs SQLite's own full check of the file.
func checkIntegrity(t *testing.T, db string) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res string
	if err := conn.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Errorf("integrity_check: %s", res)
	}
}
