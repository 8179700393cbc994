package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
)

// The soak test (issue 19 part 4): the daemon, built as operators run it,
// audits 300 simulated routers '@every 10s' while the routers' faults
// change at every audit and the inventory changes every minute (SIGHUP).
// It judges the slope of the daemon's RSS, goroutines and open file
// descriptors and of the routers' open connections, and checks that every
// audit stored every device's poll inside its interval.
//
//	MASTERSHIP_SOAK=20m go test -run TestSoak -v -timeout 40m ./cmd/mastership/
//
// CI runs MASTERSHIP_SOAK=2m; without the variable the test is skipped.
const (
	soakEnv      = "MASTERSHIP_SOAK"
	soakRouters  = 310 // the inventory holds 300 of them at a time
	soakWindow   = 10  // routers left out of (and moved in) each inventory version
	soakInterval = 10 * time.Second
	soakTimeout  = 3 * time.Second // --timeout: a hanging router's poll ends here
	// soakSpread is --spread: the polls start within the first second, so
	// an audit needs 1 s + soakTimeout and has 6 s of its interval to
	// spare for a loaded machine's delays.
	soakSpread = "0.1"
	soakReload = time.Minute
)

// soakSample is what the daemon and the simulator showed right after one
// audit finished: the same phase of every interval, so polls in flight do
// not add a sawtooth to the series.
type soakSample struct {
	at time.Duration // since the daemon started
	// scraped to settled is when the sample was taken; one that
	// overlaps an audit is not judged (see TestSoak).
	scraped, settled      time.Time
	rss, goroutines, fds  float64
	sessions              float64 // connections the routers hold open
	heap                  float64 // Go heap in use: reported beside RSS, not judged
	audits, skipped, intr float64
}

// soakMetric is one judged series: its floor is the growth per minute
// that is accepted as no leak (see judgeSlope).
type soakMetric struct {
	name, unit string
	floor      float64 // per minute
	value      func(soakSample) float64
}

// The floors, per minute (6 audits of 300 polls, 1,800 polls): a leak of
// one goroutine, descriptor or session per poll grows 1,800 a minute, and
// one per failing poll (about 15 % of them) about 270, so a floor of 1 a
// minute passes only growth that is not tied to polls at all. RSS: one
// goroutine per poll is at least 1,800 × 8 KiB = 14 MiB a minute, and a
// 1 KiB object kept per poll 1.8 MiB; the floor of 1 MiB a minute is what a
// heap settling after the warm-up and SQLite's bounded page cache may
// still add.
var soakMetrics = []soakMetric{
	{"RSS", "MiB", 1, func(s soakSample) float64 { return s.rss / (1 << 20) }},
	{"goroutines", "", 1, func(s soakSample) float64 { return s.goroutines }},
	{"open fds", "", 1, func(s soakSample) float64 { return s.fds }},
	{"router sessions", "", 1, func(s soakSample) float64 { return s.sessions }},
}

// slopeVerdict is judgeSlope's answer, per minute.
type slopeVerdict struct {
	n            int
	slope, se    float64 // least-squares slope and its standard error
	bound        float64 // floor + 3 standard errors
	first, last  float64 // fitted values at the ends, for the report
	ok           bool
	insufficient bool
}

// judgeSlope fits v = a + b·t by least squares (t in minutes) and passes
// the series when b ≤ floor + 3·se(b). Three standard errors is the slope
// a flat series with this much scatter shows by chance less than once in
// 700 runs (normal residuals), so a flat daemon does not fail on a loaded
// machine; the floor is the growth that is no leak. A real leak adds its
// rate on top of both: see TestSoakSlopeJudge. Fewer than 6 samples is no
// verdict. The formula is five sums; a statistics library for it would be
// a dependency for one line.
func judgeSlope(t, v []float64, floor float64) slopeVerdict {
	n := len(t)
	verdict := slopeVerdict{n: n}
	if n < 6 || len(v) != n {
		verdict.insufficient = true
		return verdict
	}
	var mt, mv float64
	for i := range n {
		mt += t[i]
		mv += v[i]
	}
	mt /= float64(n)
	mv /= float64(n)
	var sxx, sxy float64
	for i := range n {
		sxx += (t[i] - mt) * (t[i] - mt)
		sxy += (t[i] - mt) * (v[i] - mv)
	}
	if sxx == 0 {
		verdict.insufficient = true
		return verdict
	}
	b := sxy / sxx
	a := mv - b*mt
	var rss float64
	for i := range n {
		r := v[i] - a - b*t[i]
		rss += r * r
	}
	verdict.slope = b
	verdict.se = math.Sqrt(rss / float64(n-2) / sxx)
	verdict.bound = floor + 3*verdict.se
	verdict.first, verdict.last = a+b*t[0], a+b*t[n-1]
	verdict.ok = b <= verdict.bound
	return verdict
}

// soakFaults is what each router does in the next audit: about one in
// four misbehaves, a different one each time.
func soakFaults(t *testing.T, fleet *junossim.Fleet, rnd *rand.Rand) {
	t.Helper()
	for _, d := range fleet.Devices() {
		f := junossim.Faults{}
		var event func(*junossim.Router) error
		dual := d.Topology == junossim.TopologyDual
		switch p := rnd.IntN(100); {
		case p < 2:
			f.HangAfterHello = true
		case p < 3:
			f.StallAfterHandshake = true
		case p < 4:
			f.SilentAfterAccept = true
		case p < 5:
			f.StallMidReply = true
		case p < 8:
			f.ResetMidReply = true
		case p < 11:
			f.RejectAuth = true
		case p < 16 && dual:
			event = func(r *junossim.Router) error { return r.Switchover("") }
		case p < 19 && dual:
			// A mastership flap: over and back before the next poll.
			event = func(r *junossim.Router) error {
				if err := r.Switchover(""); err != nil {
					return err
				}
				return r.Switchover("")
			}
		case p < 22:
			event = func(r *junossim.Router) error { return r.Apply(junossim.Event{Kind: junossim.EventLinkFlap}) }
		case p < 24:
			event = func(r *junossim.Router) error {
				return r.Apply(junossim.Event{Kind: junossim.EventInternalLinkFlap})
			}
		}
		if err := fleet.SetFaults(d.Name, f); err != nil {
			t.Fatal(err)
		}
		if event != nil {
			if err := event(fleet.Router(d.Name)); err != nil {
				t.Fatalf("%s: %v", d.Name, err)
			}
		}
	}
}

// soakInventory writes inventory version k: the fleet's own inventory less
// soakWindow routers (a different window each version) with the next
// window's routers moved to another site. It returns the devices in it.
func soakInventory(t *testing.T, fleet *junossim.Fleet, path string, k int) []string {
	t.Helper()
	raw, err := fleet.Inventory()
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		Defaults yaml.Node        `yaml:"defaults"`
		Devices  []map[string]any `yaml:"devices"`
	}
	if err := yaml.Unmarshal(raw, &inv); err != nil {
		t.Fatal(err)
	}
	n := len(inv.Devices)
	left := (k * soakWindow) % n
	moved := (left + soakWindow) % n
	in := func(i, from int) bool { return (i-from+n)%n < soakWindow }
	var keep []map[string]any
	var names []string
	for i, d := range inv.Devices {
		if in(i, left) {
			continue
		}
		if in(i, moved) {
			d["site"] = "soak-moved"
		}
		keep = append(keep, d)
		names = append(names, d["name"].(string))
	}
	inv.Devices = keep
	out, err := yaml.Marshal(&inv)
	if err != nil {
		t.Fatal(err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // the daemon never reads half a file
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// soakVersion is one inventory version and when the daemon may have used
// it: from the SIGHUP that asked for it to the log line that confirmed its
// successor.
type soakVersion struct {
	devices    []string
	from, till time.Time // till zero: still current
}

func (v soakVersion) active(at time.Time) bool {
	return !at.Before(v.from) && (v.till.IsZero() || !at.After(v.till))
}

// idleSessions is the fewest connections the routers hold open over the
// 2 s after an audit: a router's server notices a closed connection when
// its goroutine next runs, which on a loaded machine can be a while after
// the daemon closed it, so one reading at the audit's end counts closes in
// flight; the minimum over the idle gap does not, and a session the daemon
// never closes is in every reading.
func idleSessions(fleet *junossim.Fleet) float64 {
	fewest := fleet.OpenConnections()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 20 {
		<-tick.C
		fewest = min(fewest, fleet.OpenConnections())
	}
	return float64(fewest)
}

func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	s := os.Getenv(soakEnv)
	if s == "" {
		t.Skipf("the soak test runs only with %s=DURATION (2m in CI, 20m by hand)", soakEnv)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 2*time.Minute {
		t.Fatalf("%s=%q: want a duration of at least 2m", soakEnv, s)
	}
	return d
}

func scrapeSoak(t *testing.T, d *daemon) (soakSample, error) {
	t.Helper()
	code, body := d.get(t, "/metrics")
	if code != 200 {
		return soakSample{}, fmt.Errorf("/metrics = %d", code)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return soakSample{}, fmt.Errorf("/metrics: %w", err)
	}
	value := func(name string) float64 {
		f := families[name]
		if f == nil || len(f.Metric) == 0 {
			return math.NaN()
		}
		m := f.Metric[0]
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		}
		return math.NaN()
	}
	s := soakSample{
		rss: value("process_resident_memory_bytes"), goroutines: value("go_goroutines"),
		fds: value("process_open_fds"), audits: value("mastership_audits_total"),
		skipped: value("mastership_audits_skipped_total"), intr: value("mastership_audits_interrupted_total"),
		heap: value("go_memstats_heap_inuse_bytes"),
	}
	for _, v := range []float64{s.rss, s.goroutines, s.fds, s.audits, s.skipped, s.intr, s.heap} {
		if math.IsNaN(v) {
			return s, fmt.Errorf("/metrics lacks a series the soak reads:\n%s", lastLines(body, 5))
		}
	}
	return s, nil
}

func TestSoak(t *testing.T) {
	length := soakDuration(t)
	bin := buildBinaries(t)
	rnd := rand.New(rand.NewPCG(19, 4))
	fleet, inv := startFleet(t, junossim.Generate(soakRouters, 19))
	db := filepath.Join(t.TempDir(), "soak.db")
	versions := []soakVersion{{devices: soakInventory(t, fleet, inv, 0)}}
	soakFaults(t, fleet, rnd)

	// About 25 routers hang or reset each audit and hold a poll slot for
	// up to soakTimeout; --concurrency 64 keeps the healthy polls from
	// queueing behind them.
	d := startAgent(t, filepath.Join(bin, "mastership"), "--inventory", inv, "--db", db,
		"--schedule", "@every "+soakInterval.String(), "--listen", "127.0.0.1:0", "--concurrency", "64", "--spread", soakSpread,
		"--timeout", soakTimeout.String(), "--grace", "5s", "--log-level", "info")
	began := time.Now()
	versions[0].from = began
	warmUp := max(30*time.Second, length/6)

	var samples []soakSample
	lastAudits, lastReload, reloads := 0.0, began, 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// The run ends at the first audit past its length: stopping the daemon
	// between audits leaves no run interrupted by the test itself.
	for {
		select {
		case err := <-d.done:
			t.Fatalf("the daemon exited: %v; stderr:\n%s", err, lastLines(d.stderr.String(), 30))
		case <-tick.C:
		}
		if time.Since(began) > length+2*soakInterval+time.Minute {
			t.Fatalf("no audit finished in the last %v; stderr:\n%s", 2*soakInterval+time.Minute, lastLines(d.stderr.String(), 30))
		}
		scraped := time.Now()
		s, err := scrapeSoak(t, d)
		s.scraped = scraped
		if err != nil {
			t.Fatal(err)
		}
		if s.audits == lastAudits {
			continue
		}
		lastAudits = s.audits
		s.at = time.Since(began)
		if s.at < length {
			soakFaults(t, fleet, rnd)
		}
		s.sessions = idleSessions(fleet)
		s.settled = time.Now()
		samples = append(samples, s)
		if s.at >= length {
			break
		}
		if time.Since(lastReload) >= soakReload {
			reloads++
			names := soakInventory(t, fleet, inv, reloads)
			sent := time.Now()
			if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitFor(t, soakInterval, func() bool {
				return strings.Count(d.stderr.String(), "SIGHUP: inventory reloaded") == reloads
			})
			versions[len(versions)-1].till = time.Now()
			versions = append(versions, soakVersion{devices: names, from: sent})
			lastReload = sent
		}
	}
	last := samples[len(samples)-1]
	if code := d.stop(t, 10*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d; stderr:\n%s", code, lastLines(d.stderr.String(), 30))
	}

	log := d.stderr.String()
	if dir := os.Getenv("MASTERSHIP_ARTIFACTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "soak-daemon.log"), []byte(log), 0o600); err != nil {
			t.Error(err)
		}
	}
	busy := checkSoakStore(t, db, versions, int(last.audits), auditEnds(t, log))

	// The slopes, over the samples after the warm-up. A sample is taken
	// after an audit ends, but a loaded machine can delay the scrape into
	// the next audit, whose polls in flight are no leak: such a sample is
	// dropped.
	var ts []float64
	var kept []soakSample
	dropped := 0
	for _, s := range samples {
		if s.at < warmUp {
			continue
		}
		// Runs are numbered from 1 in a fresh database, so the sample
		// follows run s.audits; a later run overlapping it is the next
		// audit's polls.
		if slices.ContainsFunc(busy, func(b soakBusy) bool {
			return b.run > int64(s.audits) && s.scraped.Before(b.to) && b.from.Before(s.settled)
		}) {
			dropped++
			continue
		}
		ts = append(ts, s.at.Minutes())
		kept = append(kept, s)
	}
	t.Logf("soak %v: %d audits sampled, %d judged after the %v warm-up (%d taken during an audit), %d SIGHUP reloads, %d NETCONF sessions opened",
		length, len(samples), len(kept), warmUp, dropped, reloads, fleet.Totals().ID)
	for _, m := range soakMetrics {
		vs := make([]float64, len(kept))
		for i, s := range kept {
			vs[i] = m.value(s)
		}
		v := judgeSlope(ts, vs, m.floor)
		lo, hi := slices.Min(vs), slices.Max(vs)
		t.Logf("  %-15s slope %+8.3f %s/min (± %.3f, bound %.3f), fitted %.1f → %.1f, range %.1f–%.1f",
			m.name, v.slope, m.unit, v.se, v.bound, v.first, v.last, lo, hi)
		switch {
		case v.insufficient:
			t.Errorf("%s: %d samples after the warm-up: too few to judge a slope", m.name, v.n)
		case !v.ok:
			t.Errorf("%s grows %.3f %s a minute, over the bound of %.3f (floor %.0f + 3 × %.3f)",
				m.name, v.slope, m.unit, v.bound, m.floor, v.se)
		}
	}
	// The Go heap beside RSS: RSS that grows while the heap does not is
	// memory outside it, as SQLite's page caches (2 MiB a connection).
	heap := make([]float64, len(kept))
	for i, s := range kept {
		heap[i] = s.heap / (1 << 20)
	}
	if h := judgeSlope(ts, heap, 0); !h.insufficient {
		t.Logf("  (Go heap       slope %+8.3f MiB/min (± %.3f), fitted %.1f → %.1f; not judged)", h.slope, h.se, h.first, h.last)
	}
	if last.skipped != 0 || last.intr != 0 {
		t.Errorf("%v audits skipped and %v interrupted: an audit overran its interval; the daemon said:\n%s",
			last.skipped, last.intr, grepLines(log, "skipped", 10))
	}
}

// grepLines is the first n lines of s that contain word.
func grepLines(s, word string, n int) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, word) && len(out) < n {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// auditEnds is when the daemon logged each run's "audit finished": the
// end of the whole audit, findings judged and metrics updated, which is
// what must end before the next is due. The run's own Finished is taken
// before the findings are judged.
func auditEnds(t *testing.T, log string) map[int64]time.Time {
	t.Helper()
	re := regexp.MustCompile(`(?m)^time=(\S+) level=INFO msg="audit finished" .*\brun=(\d+)\b`)
	ends := map[int64]time.Time{}
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("daemon log time %q: %v", m[1], err)
		}
		id, _ := strconv.ParseInt(m[2], 10, 64)
		ends[id] = at
	}
	return ends
}

// soakBusy is when one run's audit ran.
type soakBusy struct {
	run      int64
	from, to time.Time
}

// checkSoakStore checks that every audit stored every device's poll of the
// inventory version it ran on, and ended inside its interval. It returns
// when each audit ran.
func checkSoakStore(t *testing.T, db string, versions []soakVersion, audits int, ends map[int64]time.Time) (busy []soakBusy) {
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
	byRun := map[int64][]string{}
	slowest := map[int64]devices.Poll{} // the poll that ended last, per run
	total := 0
	if err := st.EachPoll(context.Background(), store.Filter{}, func(p *devices.Poll) error {
		byRun[p.RunID] = append(byRun[p.RunID], p.Device)
		if p.Finished.After(slowest[p.RunID].Finished) {
			slowest[p.RunID] = *p
		}
		total++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(runs) != audits {
		t.Errorf("%d runs stored, the daemon counted %d audits", len(runs), audits)
	}
	var longest, longestPolls time.Duration
	var failed int
	var at, took []float64 // the audits' durations over time, for their slope
	for _, r := range runs {
		polled := r.Finished.Sub(r.Started)
		longestPolls = max(longestPolls, polled)
		end, logged := ends[r.ID]
		if !logged {
			t.Errorf("run %d: the daemon never logged its audit finished", r.ID)
			end = r.Finished
		}
		audit := end.Sub(r.Started)
		longest = max(longest, audit)
		busy = append(busy, soakBusy{r.ID, r.Started, end})
		at = append(at, r.Started.Sub(runs[len(runs)-1].Started).Minutes())
		took = append(took, audit.Seconds())
		if p := slowest[r.ID]; testing.Verbose() {
			t.Logf("  run %d: audit %v, polls %v, %d ok %d failed; last poll %s %s started +%v took %v", r.ID,
				audit.Round(time.Millisecond), polled.Round(time.Millisecond), r.OK, r.Failed, p.Device, p.Outcome,
				p.Started.Sub(r.Started).Round(time.Millisecond), p.Finished.Sub(p.Started).Round(time.Millisecond))
		}
		failed += r.Failed
		got := slices.Sorted(slices.Values(byRun[r.ID]))
		matched := false
		for _, v := range versions {
			if v.active(r.Started) && slices.Equal(got, v.devices) {
				matched = true
			}
		}
		switch {
		case r.Interrupted || r.Unstored != 0 || r.Finished.IsZero():
			t.Errorf("run %d: %+v; want finished, not interrupted, every poll stored", r.ID, r)
		case audit > soakInterval:
			t.Errorf("run %d: the audit took %v (its polls %v), past its %v interval", r.ID, audit, polled, soakInterval)
		case !matched || r.Devices != len(got) || r.OK+r.Failed != len(got):
			t.Errorf("run %d (started %s): %d polls stored for %d devices (%d ok, %d failed); "+
				"not the devices of the inventory it ran on", r.ID, r.Started.Format(time.TimeOnly), len(got), r.Devices, r.OK, r.Failed)
		}
	}
	t.Logf("  %d runs, %d polls stored (%d failed by the faults), longest audit %v of %v (its polls: %v)",
		len(runs), total, failed, longest.Round(time.Millisecond), soakInterval, longestPolls.Round(time.Millisecond))
	// Not judged: an audit's findings are judged over the history of the
	// last 25 h, which a 20-minute run only fills, so its duration grows
	// by design; the interval above is the bound.
	slices.Reverse(at) // oldest first, as the fit reports its ends
	slices.Reverse(took)
	v := judgeSlope(at, took, 0)
	t.Logf("  audit duration slope %+.3f s/min (± %.3f), fitted %.2f s → %.2f s", v.slope, v.se, v.first, v.last)
	return busy
}

// TestSoakSlopeJudge is the judge's self-check on synthetic series shaped
// like the smoke run's (9 samples, one an audit) and the long run's (100):
// flat series with the scatter the daemon shows pass, and the leaks the
// floors are meant to catch fail.
func TestSoakSlopeJudge(t *testing.T) {
	series := func(n int, base, perAudit, noise float64) (ts, vs []float64) {
		rnd := rand.New(rand.NewPCG(uint64(n), uint64(perAudit*1000)))
		for i := range n {
			ts = append(ts, float64(i)*soakInterval.Minutes())
			vs = append(vs, base+perAudit*float64(i)+noise*rnd.NormFloat64())
		}
		return ts, vs
	}
	const polls, failing = 300, 45
	for _, n := range []int{9, 100} {
		for _, c := range []struct {
			name                  string
			base, perAudit, noise float64
			floor                 float64
			pass                  bool
		}{
			{"flat goroutines", 60, 0, 3, 1, true},
			{"flat RSS MiB", 80, 0, 4, 1, true},
			{"flat sessions", 0, 0, 0.5, 1, true},
			{"a goroutine per poll", 60, polls, 3, 1, false},
			{"an fd per failing poll", 20, failing, 1, 1, false},
			{"a session per failing poll", 0, failing, 0.5, 1, false},
			{"8 KiB RSS per poll", 80, polls * 8.0 / 1024, 4, 1, false},
		} {
			ts, vs := series(n, c.base, c.perAudit, c.noise)
			v := judgeSlope(ts, vs, c.floor)
			if v.insufficient || v.ok != c.pass {
				t.Errorf("%d samples, %s: slope %.3f/min bound %.3f ok=%v; want ok=%v", n, c.name, v.slope, v.bound, v.ok, c.pass)
			}
		}
	}
	// A 1 KiB object kept per poll is 1.8 MiB a minute: the long run's
	// hundred samples see it through RSS scatter, the smoke run's nine
	// need not (its goroutine and fd series catch the leaks tied to a
	// goroutine or a descriptor).
	ts, vs := series(100, 80, polls*1.0/1024, 4)
	if v := judgeSlope(ts, vs, 1); v.ok {
		t.Errorf("1 KiB per poll over 100 samples passed: slope %.3f MiB/min, bound %.3f", v.slope, v.bound)
	}
	if v := judgeSlope([]float64{0, 1, 2}, []float64{1, 2, 3}, 1); !v.insufficient {
		t.Error("three samples judged")
	}
}
