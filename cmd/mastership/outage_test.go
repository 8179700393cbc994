package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/pgtest"
)

// metricValue reads one sample (a name with no labels, or a name and its
// labels as exposed) from a /metrics body; ok is false when absent.
func metricValue(body, name string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

// openStored opens the store the daemon wrote, closed when t ends.
func openStored(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// flushedThenStop waits until the daemon's spool is empty and the store
// takes its records again (after what), then stops the daemon.
func (d *daemon) flushedThenStop(t *testing.T, after string) {
	t.Helper()
	if !within(90*time.Second, func() bool {
		_, b := d.get(t, "/metrics")
		v, ok := metricValue(b, "mastership_spool_polls_waiting")
		degraded, _ := metricValue(b, "mastership_store_degraded")
		return ok && v == 0 && degraded == 0
	}) {
		t.Fatalf("spool not flushed 90 s after %s:\n%s", after, lastLines(d.stderr.String(), 30))
	}
	if code := d.stop(t, 30*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d; stderr:\n%s", code, lastLines(d.stderr.String(), 30))
	}
}

// TestRunSurvivesPostgresOutage is issue 19's first acceptance test: the
// real PostgreSQL server the daemon writes to (a private cluster: the
// shared test server must stay up) is stopped for 60 s during `run` and
// started again. Every audit scheduled in that minute happens, the
// metrics and /healthz say the store is degraded and how many polls wait
// while /readyz stays ready, and after the restart every poll of those
// audits is in the database.
func TestRunSurvivesPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 90 s")
	}
	pg := pgtest.Cluster(t)
	sc := junossim.Generate(6, 19)
	_, inv := startFleet(t, sc)
	spoolDir := filepath.Join(t.TempDir(), "spool")
	d := startDaemon(t, "--inventory", inv, "--db", pg.DSN, "--schedule", "@every 5s", "--listen", "127.0.0.1:0",
		"--spread", "0", "--timeout", "10s", "--spool-dir", spoolDir, "--log-level", "info")
	waitFor(t, 60*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
	metrics := func() string { _, b := d.get(t, "/metrics"); return b }
	count := func(body, name string) float64 { v, _ := metricValue(body, name); return v }
	before := metrics()

	pg.Stop(t)
	down := time.Now()
	// The outage is the scenario itself: a minute of scheduled audits
	// with the server down, observed through the daemon's metrics.
	degraded := false
	sawWaiting := 0.0
	for time.Since(down) < 60*time.Second {
		body := metrics()
		if count(body, "mastership_store_degraded") == 1 {
			degraded = true
			sawWaiting = max(sawWaiting, count(body, "mastership_spool_polls_waiting"))
		}
		if code, msg := d.get(t, "/readyz"); code != 200 {
			t.Errorf("/readyz during the outage = %d %q, want 200 while the spool takes polls", code, msg)
		}
		time.Sleep(time.Second)
	}
	_, health := d.get(t, "/healthz")
	// The API shows the latest polls, from the spool, with the store down.
	var api []struct {
		Device   string    `json:"device"`
		PolledAt time.Time `json:"polled_at"`
		Expected int       `json:"res_expected"`
	}
	code, apiBody := d.get(t, "/api/v1/devices")
	if err := json.Unmarshal([]byte(apiBody), &api); code != 200 || err != nil || len(api) != len(sc.Devices) {
		t.Errorf("/api/v1/devices during the outage = %d, %d devices (%v); want 200 and %d", code, len(api), err, len(sc.Devices))
	}
	for _, v := range api {
		if v.PolledAt.Before(down) || v.Expected == 0 {
			t.Errorf("/api/v1/devices during the outage: %s polled at %s (before the outage: not the spool's latest?), %d REs expected",
				v.Device, v.PolledAt, v.Expected)
		}
	}
	outage := metrics()
	pg.Start(t)
	up := time.Now()
	if !degraded || sawWaiting < float64(len(sc.Devices)) {
		t.Errorf("during the outage: mastership_store_degraded seen %v, most polls waiting %v; want 1 and at least %d",
			degraded, sawWaiting, len(sc.Devices))
	}
	if !regexp.MustCompile(`store degraded, \d+ polls waiting`).MatchString(health) {
		t.Errorf("/healthz during the outage = %q, want \"store degraded, N polls waiting\"", health)
	}
	audits := count(outage, "mastership_audits_total") - count(before, "mastership_audits_total")
	skipped := count(outage, "mastership_audits_skipped_total") - count(before, "mastership_audits_skipped_total")
	if audits < 11 || skipped != 0 {
		t.Errorf("during the 60 s outage: %v audits and %v skipped of '@every 5s', want 11 or more, none skipped", audits, skipped)
	}

	// The flusher drains the spool once the server answers.
	d.flushedThenStop(t, "the restart")

	ctx := context.Background()
	st, runs := openStored(t, pg.DSN), storedRuns(t, pg.DSN)
	polls := map[int64]map[string]bool{}
	if err := st.EachPoll(ctx, store.Filter{}, func(p *devices.Poll) error {
		if polls[p.RunID] == nil {
			polls[p.RunID] = map[string]bool{}
		}
		if polls[p.RunID][p.Device] {
			return fmt.Errorf("run %d: %s stored twice", p.RunID, p.Device)
		}
		polls[p.RunID][p.Device] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	inOutage := 0
	for _, r := range runs {
		if r.Started.Before(down) || !r.Started.Before(up) {
			continue
		}
		inOutage++
		if r.Finished.IsZero() || r.Interrupted {
			t.Errorf("run %d begun during the outage: finished %v, interrupted %v", r.ID, r.Finished, r.Interrupted)
		}
		if got := len(polls[r.ID]); got != len(sc.Devices) || r.OK+r.Failed != len(sc.Devices) {
			t.Errorf("run %d begun during the outage: %d polls stored, counted %d ok + %d failed; want %d",
				r.ID, got, r.OK, r.Failed, len(sc.Devices))
		}
	}
	// The daemon's count is taken between two scrapes a little apart
	// from the outage's edges: one audit either way.
	if inOutage < 11 || float64(inOutage) < audits-1 || float64(inOutage) > audits+1 {
		t.Errorf("%d runs stored that began during the outage, the daemon counted %v audits; want the same (±1), 11 or more", inOutage, audits)
	}
	if strings.Contains(d.stderr.String(), "panic") {
		t.Errorf("the daemon panicked:\n%s", lastLines(d.stderr.String(), 30))
	}
}

// TestRunSurvivesFullFileSystem is issue 19's second acceptance test: the
// SQLite file lives on a small tmpfs the test mounts, and the test fills
// it. The daemon does not crash, the metrics and /healthz say the store
// is degraded and how many polls wait while /readyz stays ready (the
// spool, on another file system, takes the polls), and once space
// returns every poll is stored. It needs root (mount); without, it skips.
func TestRunSurvivesFullFileSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 40 s")
	}
	mnt := mountTmpfs(t, "8m")
	sc := junossim.Generate(4, 29)
	_, inv := startFleet(t, sc)
	db := filepath.Join(mnt, "m.db")
	d := startDaemon(t, "--inventory", inv, "--db", db, "--schedule", "@every 3s", "--listen", "127.0.0.1:0",
		"--spread", "0", "--timeout", "10s", "--spool-dir", filepath.Join(t.TempDir(), "spool"), "--log-level", "info")
	waitFor(t, 60*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })
	metrics := func() string { _, b := d.get(t, "/metrics"); return b }
	count := func(body, name string) float64 { v, _ := metricValue(body, name); return v }

	filler := filepath.Join(mnt, "filler")
	fillFileSystem(t, filler)
	full := time.Now()
	var body string
	if !within(60*time.Second, func() bool {
		body = metrics()
		return count(body, "mastership_store_degraded") == 1 && count(body, "mastership_spool_polls_waiting") >= float64(len(sc.Devices))
	}) {
		t.Fatalf("the full file system is not reported: store_degraded %v, polls waiting %v\n%s",
			count(body, "mastership_store_degraded"), count(body, "mastership_spool_polls_waiting"), lastLines(d.stderr.String(), 20))
	}
	if code, msg := d.get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz with the store full = %d %q, want 200 while the spool takes polls", code, msg)
	}
	if _, health := d.get(t, "/healthz"); !regexp.MustCompile(`store degraded, \d+ polls waiting: .*(full|space)`).MatchString(health) {
		t.Errorf("/healthz with the store full = %q, want \"store degraded, N polls waiting\" naming the full disk", health)
	}
	// Two more audits with the disk full.
	audits := count(body, "mastership_audits_total")
	waitFor(t, 60*time.Second, func() bool { return count(metrics(), "mastership_audits_total") >= audits+2 })

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	d.flushedThenStop(t, "space returned")

	ctx := context.Background()
	st, runs := openStored(t, db), storedRuns(t, db)
	polls := map[int64]int{}
	if err := st.EachPoll(ctx, store.Filter{}, func(p *devices.Poll) error { polls[p.RunID]++; return nil }); err != nil {
		t.Fatal(err)
	}
	whileFull := 0
	for _, r := range runs {
		if r.Finished.IsZero() {
			t.Errorf("run %d never finished", r.ID)
		}
		if polls[r.ID] != r.OK+r.Failed || (!r.Interrupted && polls[r.ID] != len(sc.Devices)) {
			t.Errorf("run %d: %d polls stored, counted %d ok + %d failed of %d devices", r.ID, polls[r.ID], r.OK, r.Failed, len(sc.Devices))
		}
		if !r.Started.Before(full) && r.Started.Before(freed) {
			whileFull++
		}
	}
	if whileFull < 2 {
		t.Errorf("%d runs stored that began while the file system was full, want 2 or more", whileFull)
	}
}

// mountTmpfs mounts a tmpfs of size for t, unmounted when t ends; it
// skips t when this process cannot mount (not root, or no permission).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("a full file system needs a tmpfs mount, and mount needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): the full-file-system test needs one", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillFileSystem writes path until the file system it is on has no room
// left (ENOSPC).
func fillFileSystem(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := 0; ; i++ {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC", path, err)
			}
			break
		}
		if i > 1<<16 {
			t.Fatal("the file system never filled")
		}
	}
	// The last bytes, smaller than a buffer.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
}
