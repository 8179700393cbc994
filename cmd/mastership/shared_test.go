package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/pgtest"
)

// TestSharedAgents is issue 9's acceptance run: three `mastership run
// --shared` agents, one database, 500 simulated routers, '@every 10s'.
// Over six slots every device is polled exactly once per slot; one agent
// is killed with SIGKILL in the third slot, which may then miss the few
// devices that agent had claimed and not yet polled, and from the fourth
// slot on the other two poll everything, still never twice.
//
// The agents and the simulator are separate processes built without the
// race detector: under it, 500 polls take longer than the 10 s slot and
// the test would measure the detector, not the sharing. The store under
// test is SQLite (three processes on one file) and, when
// MASTERSHIP_TEST_POSTGRES names a server, PostgreSQL.
func TestSharedAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 80 s")
	}
	bin := buildBinaries(t)
	dir := t.TempDir()
	inv := filepath.Join(dir, "devices.yaml")
	sim := exec.Command(filepath.Join(bin, "junossim"), "--devices", "500", "--seed", "9", "--write-inventory", inv)
	simOut, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sim.Stderr = os.Stderr
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })
	sc := bufio.NewScanner(simOut)
	for sc.Scan() && !strings.Contains(sc.Text(), "inventory written") {
	}
	go func() { // drain the simulator's table so it never blocks on stdout
		for sc.Scan() {
		}
	}()

	t.Run("sqlite", func(t *testing.T) { runSharedAgents(t, bin, inv, filepath.Join(dir, "shared.db")) })
	t.Run("postgres", func(t *testing.T) {
		// A schema of its own, dropped afterwards; skips without a server
		// unless MASTERSHIP_REQUIRE_POSTGRES=1.
		runSharedAgents(t, bin, inv, pgtest.Schema(t))
	})
}

func runSharedAgents(t *testing.T, bin, inv, dsn string) {
	const (
		interval = 10 * time.Second
		slots    = 6
		conc     = 16
	)
	var agents []*daemon
	for range 3 {
		agents = append(agents, startAgent(t, filepath.Join(bin, "mastership"), "--inventory", inv, "--db", dsn,
			"--schedule", "@every 10s", "--shared", "--listen", "127.0.0.1:0", "--timeout", "5s",
			"--spread", "0", "--concurrency", fmt.Sprint(conc), "--log-level", "info"))
	}
	// The first slot every agent takes part in in full starts after they
	// are all up.
	first := time.Now().Truncate(interval).Add(interval)
	end := first.Add(slots * interval)
	slot := func(n int) (time.Time, time.Time) {
		return first.Add(time.Duration(n-1) * interval), first.Add(time.Duration(n) * interval)
	}
	watch, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	// Kill one agent once slot 3 is under way (a fifth of its polls
	// stored): it then surely has polls of that slot in flight.
	from, to := slot(3)
	waitForPolls(t, watch, from, to, 100, to)
	victim := agents[2]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	// Done when the last slot is complete, or its polls' 5 s deadline
	// and a margin have passed.
	from, to = slot(slots)
	waitForPolls(t, watch, from, to, 500, to.Add(6*time.Second))
	for _, a := range agents[:2] {
		if code := a.stop(t, 15*time.Second); code != 0 {
			t.Errorf("agent exit %d", code)
		}
	}

	st := watch
	perSlot := make([]map[string]int, slots)
	for i := range perSlot {
		perSlot[i] = map[string]int{}
	}
	err = st.EachPoll(context.Background(), store.Filter{Since: first, Until: end}, func(p *devices.Poll) error {
		perSlot[int(p.Started.Sub(first)/interval)][p.Device]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, polled := range perSlot {
		dups := 0
		for dev, n := range polled {
			if n > 1 {
				dups++
				t.Errorf("slot %d: %s polled %d times", i+1, dev, n)
			}
		}
		missing := 500 - len(polled)
		t.Logf("slot %d: %d devices polled, %d missing, %d polled twice", i+1, len(polled), missing, dups)
		switch {
		case i == 2 && missing > conc:
			// The killed agent can only have held what it had in flight.
			t.Errorf("slot 3: %d devices missing, more than the killed agent's %d polls in flight", missing, conc)
		case i != 2 && missing != 0:
			t.Errorf("slot %d: %d devices never polled", i+1, missing)
		}
	}
}

// startAgent is startDaemon for a built binary rather than the test binary.
func startAgent(t *testing.T, binary string, args ...string) *daemon {
	t.Helper()
	return startDaemonCmd(t, exec.Command(binary, append([]string{"run"}, args...)...))
}

// buildBinaries builds mastership and junossim without the race detector
// into a temporary directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH: cannot build the agents")
	}
	dir := t.TempDir()
	cmd := exec.Command(goTool, "build", "-o", dir, "./cmd/mastership", "./cmd/junossim")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// waitForPolls waits until st holds at least want polls started in [from,
// to), or until deadline. The agents run on the wall clock: their slots
// cannot be hurried, only watched.
func waitForPolls(t *testing.T, st store.Store, from, to time.Time, want int, deadline time.Time) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		n := 0
		if err := st.EachPoll(t.Context(), store.Filter{Since: from, Until: to}, func(*devices.Poll) error {
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n >= want || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}
