package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/report"
)

// lockedRE is every way SQLite says another connection has the file:
// SQLITE_BUSY ("database is locked") and SQLITE_LOCKED ("database table
// is locked"), as the modernc driver words them.
var lockedRE = regexp.MustCompile(`(?i)database( table)? is locked|SQLITE_BUSY|SQLITE_LOCKED`)

// TestSQLiteBesideDaemonNeverLocked is issue 19 part 1's claim for SQLite:
// `check` and `report` running beside the daemon never get `database is
// locked`. The daemon audits 20 routers every second into one SQLite
// file; while at least three audits happen, two goroutines run
// `check DEVICE --db FILE` (a second writer: check stores its poll) and
// two run `report --db FILE` of every kind and the HTML page, in this
// process and so beside the daemon's. A third party holds a read
// transaction open the whole time (a long report, an sqlite3 shell) and
// another takes the write lock for a moment every second (a busy file).
// None of them, and not the daemon either, may fail or say the file is
// locked; every audit's polls and every check's poll are stored.
func TestSQLiteBesideDaemonNeverLocked(t *testing.T) {
	sc := junossim.Generate(20, 191)
	_, inv := startFleet(t, sc)
	db := filepath.Join(t.TempDir(), "m.db")
	d := startDaemon(t, "--inventory", inv, "--db", db, "--schedule", "@every 1s", "--listen", "127.0.0.1:0",
		"--spread", "0", "--timeout", "10s", "--log-level", "info")
	// Ready once the first audit is stored: the schema exists.
	waitFor(t, 60*time.Second, func() bool { code, _ := d.get(t, "/readyz"); return code == 200 })

	ctx := t.Context()
	holdRead, holdWrite := thirdParty(t, db)
	defer holdRead()

	start := scrape(ctx, d.addr)
	if start.err != nil {
		t.Fatal(start.err)
	}
	begun := time.Now()

	// watch scrapes the daemon's metrics until three audits have ended
	// since start, the event the workers wait for; it remembers whether
	// the store was ever degraded (the daemon spooling because a write
	// failed, a lock it hid) and the last store error count.
	threeAudits := make(chan struct{})
	enough := (<-chan struct{})(threeAudits)
	stop := make(chan struct{})
	var (
		watchMu   sync.Mutex
		degraded  bool
		lastScrap = start
	)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		closed := false
		for {
			m := scrape(ctx, d.addr)
			watchMu.Lock()
			if m.err == nil {
				degraded = degraded || m.degraded
				lastScrap = m
			}
			watchMu.Unlock()
			if m.err == nil && m.audits >= start.audits+3 && !closed {
				close(threeAudits)
				closed = true
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	// Each worker runs at least minRuns commands, then on until three
	// audits have ended, and never more than maxRuns.
	const minRuns, maxRuns = 10, 100
	done := func(i int) bool {
		if i < minRuns {
			return false
		}
		select {
		case <-enough:
			return true
		default:
			return i >= maxRuns
		}
	}
	var checks, reports sync.WaitGroup
	var countMu sync.Mutex
	checked := 0
	kinds := append(report.Kinds(), "html")
	lockedOrFailed := func(what string, r result, wantCode int) {
		if r.code != wantCode || lockedRE.MatchString(r.stdout) || lockedRE.MatchString(r.stderr) {
			t.Errorf("%s beside the daemon: exit %d (want %d)\n%s%s", what, r.code, wantCode, lastLines(r.stdout, 10), lastLines(r.stderr, 10))
		}
	}
	for g := range 2 {
		checks.Add(1)
		go func() {
			defer checks.Done()
			for i := 0; !done(i); i++ {
				dev := sc.Devices[(g*10+i)%len(sc.Devices)].Name
				r := runCLI(t, "check", dev, "--inventory", inv, "--db", db)
				// Every router is healthy: anything but OK is a failure,
				// UNKNOWN (3) the one a store error gives.
				lockedOrFailed("check "+dev, r, 0)
				if r.code == 0 {
					countMu.Lock()
					checked++
					countMu.Unlock()
				}
			}
		}()
		reports.Add(1)
		go func() {
			defer reports.Done()
			for i := 0; !done(i); i++ {
				kind := kinds[(g+2*i)%len(kinds)]
				args := []string{"report", "--db", db, "--inventory", inv, "--kind", string(kind)}
				if kind == "html" {
					args = []string{"report", "--db", db, "--inventory", inv, "--format", "html"}
				}
				lockedOrFailed(fmt.Sprintf("report %v", args[1:]), runCLI(t, args...), 0)
			}
		}()
	}
	// The busy third party takes the write lock for a moment each second
	// until the commands are done: a pacing, not a synchronisation.
	busy := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 60 {
			if err := holdWrite(ctx, 200*time.Millisecond); err != nil {
				t.Errorf("third-party writer: %v", err)
				return
			}
			select {
			case <-busy:
				return
			case <-time.After(800 * time.Millisecond):
			}
		}
	}()
	checks.Wait()
	reports.Wait()
	close(busy)
	select {
	case <-enough:
	default:
		t.Errorf("fewer than three audits ended while %d commands ran", 4*maxRuns)
	}
	ended := time.Now()
	close(stop)
	wg.Wait()
	holdRead()

	watchMu.Lock()
	last, wasDegraded := lastScrap, degraded
	watchMu.Unlock()
	if wasDegraded || last.storeErrors != 0 {
		t.Errorf("the daemon: store degraded seen %v, %v store errors; want neither beside check and report", wasDegraded, last.storeErrors)
	}
	if code := d.stop(t, 30*time.Second); code != 0 {
		t.Errorf("run: exit %d", code)
	}
	if m := lockedRE.FindString(d.stderr.String()); m != "" {
		t.Errorf("the daemon logged %q:\n%s", m, lastLines(d.stderr.String(), 20))
	}

	// Everything the daemon and the checks wrote is there.
	st := openStored(t, db)
	polls := map[int64]int{}
	if err := st.EachPoll(context.Background(), store.Filter{}, func(p *devices.Poll) error { polls[p.RunID]++; return nil }); err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, r := range storedRuns(t, db) {
		if r.Started.Before(begun) || r.Started.After(ended) {
			continue
		}
		audited++
		if r.Finished.IsZero() || r.Interrupted || r.OK != len(sc.Devices) || polls[r.ID] != len(sc.Devices) {
			t.Errorf("run %d: finished %v, interrupted %v, %d ok, %d polls stored; want all %d", r.ID, r.Finished, r.Interrupted, r.OK, polls[r.ID], len(sc.Devices))
		}
	}
	if audited < 3 {
		t.Errorf("%d runs stored that began while the commands ran, want 3 or more", audited)
	}
	// check stores its poll outside any run (run 0).
	if polls[0] < checked {
		t.Errorf("%d polls stored outside a run, want at least the %d checks'", polls[0], checked)
	}
	t.Logf("%d audits, %d checks and the reports ran beside each other in %v", audited, checked, ended.Sub(begun).Round(time.Millisecond))
}

// metricsScrape is what TestSQLiteBesideDaemonNeverLocked reads off the
// daemon's /metrics.
type metricsScrape struct {
	audits      float64
	degraded    bool
	storeErrors float64
	err         error
}

var storeErrorsRE = regexp.MustCompile(`(?m)^mastership_store_errors_total\{[^}]*\} (\S+)$`)

// scrape reads the daemon's metrics; unlike daemon.get it may run on any
// goroutine, so it returns its error.
func scrape(ctx context.Context, addr string) metricsScrape {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return metricsScrape{err: err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return metricsScrape{err: fmt.Errorf("GET /metrics: %w", err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return metricsScrape{err: fmt.Errorf("GET /metrics: %w", err)}
	}
	body := string(b)
	var m metricsScrape
	m.audits, _ = metricValue(body, "mastership_audits_total")
	deg, _ := metricValue(body, "mastership_store_degraded")
	m.degraded = deg != 0
	for _, s := range storeErrorsRE.FindAllStringSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(s[1], 64)
		m.storeErrors += v
	}
	return m
}

// thirdParty opens the file as another program would, through the same
// driver: holdRead ends the read transaction it begins at once (and may
// be called more than once); holdWrite takes the write lock for d.
func thirdParty(t *testing.T, db string) (holdRead func(), holdWrite func(context.Context, time.Duration) error) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+db+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()
	reader, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reader.ExecContext(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	// The first read takes the snapshot the transaction keeps.
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM polls`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	holdRead = func() {
		once.Do(func() {
			if _, err := reader.ExecContext(ctx, `ROLLBACK`); err != nil {
				t.Errorf("end the long read: %v", err)
			}
			reader.Close()
		})
	}
	holdWrite = func(ctx context.Context, d time.Duration) error {
		c, err := raw.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			return fmt.Errorf("take the write lock: %w", err)
		}
		<-time.After(d) // the lock is held for d: the scenario, not a wait for anything
		if _, err := c.ExecContext(ctx, `COMMIT`); err != nil {
			return fmt.Errorf("release the write lock: %w", err)
		}
		return nil
	}
	return holdRead, holdWrite
}
