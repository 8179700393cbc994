package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/correlate"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/syslog"
	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/store"
)

// Targets of the issue, printed beside the figures.
const (
	benchFreshMaxRatio        = 1.3   // agent CPU per fresh poll ≤ 1.3× the reference's
	benchFreshFloorRatio      = 1.6   // issue 17's floor for it
	benchPersistentMaxRatio   = 2.0   // per poll on an open session ≤ 2× the reference's (issue 17)
	benchPersistentFloorRatio = 3.0   // and its floor
	benchPersistentMaxCPUMS   = 0.3   // ms of agent CPU per poll on an open session
	benchMaxRSSPerSession     = 64    // KiB of RSS per idle open session
	benchBigFleet             = 10000 // the fleet the interval targets are about
	benchBigFleetMaxWall      = 60.0  // s: audited inside one 60 s interval
	benchBigFleetMaxCorePct   = 15.0  // % of one core, averaged over that interval (issue 17)
	benchBigFleetFloorPct     = 20.0  // and its floor
	benchCorrelateMaxSeconds  = 10.0
	benchCSVMaxSeconds        = 10.0
	benchCSVMaxRSSMiB         = 200.0
	benchWANRTT               = 50 * time.Millisecond // wan-N: every router's added round trip
	benchWANMaxWall           = 60.0                  // s: 5,000 routers at that RTT, fresh
)

// auditor is the agent as `mastership run` builds it with its default
// flags — poller, store, historian — polling into st, keeping sessions in
// pool when it is not nil. It makes the library calls cmd/mastership's
// historyOptions.historian and .poller make (cmd/mastership/history_flags.go),
// and run's own (a readiness memory, a refresh cache of --refresh's
// default), with the defaults of their flags: built-in rules, default correlation
// settings, a 24 h findings horizon and syslog's default log limits.
func (b *bencher) auditor(st store.Store, pool *schedule.SessionPool) (*schedule.Auditor, error) {
	hist, err := schedule.NewHistorian(st, b.log)
	if err != nil {
		return nil, fmt.Errorf("historian: %w", err)
	}
	hist.Settings = correlate.DefaultSettings()
	hist.Horizon = benchFindingsHorizon
	poller := &schedule.Poller{
		Now:         utcNow,
		Cursors:     st,
		LogTail:     syslog.DefaultFirstTail,
		LogMaxBytes: syslog.DefaultMaxBytes,
		Logger:      b.log,
		KnownHosts:  &netconf.KnownHostsCache{},
		Sessions:    pool,
		// As run keeps them between audits (cmd/mastership/run.go): the
		// steady-state poll of an open session asks only what may have
		// changed, and the reference client asks the same.
		Readiness: schedule.NewReadinessMemory(),
		Refresh:   &schedule.Refresher{Interval: schedule.DefaultRefresh},
	}
	return &schedule.Auditor{
		Poller:      poller,
		Store:       st,
		Historian:   hist,
		Concurrency: b.o.concurrency,
		Logger:      b.log,
	}, nil
}

// benchFindingsHorizon is the default of `mastership run --findings-horizon`.
const benchFindingsHorizon = 24 * time.Hour

func utcNow() time.Time { return time.Now().UTC() }

// openStore opens the store at dsn (an SQLite path or a URL) as the
// agent's commands do.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dsn, err)
	}
	return st, nil
}

// loadInventory loads an inventory the simulator wrote and logs its
// warnings.
func (a *app) loadInventory(path string) (*inventory.Inventory, error) {
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		return nil, fmt.Errorf("load inventory: %w", err)
	}
	for _, w := range inv.Warnings() {
		a.log.Warn(w, "inventory", path)
	}
	return inv, nil
}

// benchFleet is a scenario's simulated fleet: its simulator children and
// the devices of their inventories.
type benchFleet struct {
	sims []*benchChild
	devs []inventory.Device
}

// stop stops the simulator children.
func (f *benchFleet) stop() {
	for _, sim := range f.sims {
		sim.stop()
	}
}

// cost is what the fleet's routers have done so far, summed over the
// simulator children.
func (f *benchFleet) cost(ctx context.Context) (benchSimStats, error) {
	var t benchSimStats
	for _, sim := range f.sims {
		st, err := sim.stats(ctx)
		if err != nil {
			return t, err
		}
		t = t.add(st)
	}
	return t, nil
}

// logLines has every router write n lines to its messages file.
func (f *benchFleet) logLines(ctx context.Context, n int) error {
	for _, sim := range f.sims {
		if _, err := sim.ask(ctx, "log "+strconv.Itoa(n)); err != nil {
			return err
		}
	}
	return nil
}

// fleet starts the simulated fleet of sc, as spec says, and loads its
// inventory. need is how many files this process will have open.
//
// The simulator holds a listener per router and a connection per session,
// so a fleet whose sessions stay open needs twice its size in descriptors:
// when the open files limit (which an unprivileged process cannot raise
// past its hard limit) is too low for that, the fleet is split over
// several simulator processes, and the devices of shard k are renamed
// NAME-sk (each shard generates the same names).
func (b *bencher) fleet(ctx context.Context, sc benchScenario, spec benchSimSpec, need uint64) (*benchFleet, error) {
	lim, err := benchRaiseFileLimit(need)
	if err == nil && lim < need {
		return nil, fmt.Errorf("the open files limit is %d, and %s needs about %d: raise it (ulimit -n)", lim, sc.name(), need)
	}
	shards := 1
	if err == nil && lim > 1024 {
		perShard := int(lim-256) / 2
		shards = (sc.size + perShard - 1) / perShard
	}
	fl := &benchFleet{}
	b.logf("%s: starting %d simulated routers in %d process(es)", sc.name(), sc.size, shards)
	for k := range shards {
		n := sc.size/shards + btoi(k < sc.size%shards)
		dir := filepath.Join(b.dir, sc.name(), "sim"+strconv.Itoa(k))
		sim, invPath, err := b.startSim(ctx, dir, n, b.o.seed+int64(k), spec)
		if err != nil {
			fl.stop()
			return nil, err
		}
		fl.sims = append(fl.sims, sim)
		inv, err := b.app.loadInventory(invPath)
		if err != nil {
			fl.stop()
			return nil, err
		}
		for _, d := range inv.Devices {
			if shards > 1 {
				d.Name += "-s" + strconv.Itoa(k)
			}
			fl.devs = append(fl.devs, d)
		}
	}
	switch {
	case b.o.splitKnownHosts:
		err = benchSplitKnownHosts(fl.devs, filepath.Join(b.dir, sc.name(), "known_hosts.d"))
	case shards > 1:
		// One fleet, one known_hosts file, as an operator would have it.
		err = benchJoinKnownHosts(fl.devs, filepath.Join(b.dir, sc.name(), "known_hosts"))
	}
	if err != nil {
		fl.stop()
		return nil, err
	}
	return fl, nil
}

// benchJoinKnownHosts writes the known_hosts files of devs, one after the
// other, to path, and points every device at it.
func benchJoinKnownHosts(devs []inventory.Device, path string) error {
	var all []byte
	done := map[string]bool{}
	for _, d := range devs {
		if done[d.KnownHosts] {
			continue
		}
		done[d.KnownHosts] = true
		data, err := os.ReadFile(d.KnownHosts)
		if err != nil {
			return fmt.Errorf("join known_hosts: %w", err)
		}
		all = append(all, data...)
	}
	if err := os.WriteFile(path, all, 0o644); err != nil {
		return fmt.Errorf("join known_hosts: %w", err)
	}
	for i := range devs {
		devs[i].KnownHosts = path
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// benchSplitKnownHosts writes each device's line of its known_hosts file
// to a file of its own in dir and points the device at it.
func benchSplitKnownHosts(devs []inventory.Device, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("split known_hosts: %w", err)
	}
	lines := map[string]map[string]string{} // file → label → line
	for i, d := range devs {
		byLabel, ok := lines[d.KnownHosts]
		if !ok {
			data, err := os.ReadFile(d.KnownHosts)
			if err != nil {
				return fmt.Errorf("split known_hosts: %w", err)
			}
			byLabel = map[string]string{}
			for line := range strings.Lines(string(data)) {
				if label, _, ok := strings.Cut(line, " "); ok {
					byLabel[label] = line
				}
			}
			lines[d.KnownHosts] = byLabel
		}
		line, ok := byLabel[knownhosts.Normalize(net.JoinHostPort(d.Host, strconv.Itoa(d.Port)))]
		if !ok {
			return fmt.Errorf("%s: not in %s", d.Name, d.KnownHosts)
		}
		path := filepath.Join(dir, d.Name)
		if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
			return fmt.Errorf("split known_hosts: %w", err)
		}
		devs[i].KnownHosts = path
	}
	return nil
}

// benchOutcomes counts the polls that ended ok and the others, and keeps
// the first failure's message.
func benchOutcomes(polls []devices.Poll) (ok, failed int, first string) {
	for _, p := range polls {
		if p.Outcome == devices.OutcomeOK {
			ok++
			continue
		}
		failed++
		if first == "" {
			first = fmt.Sprintf("%s: %s: %s", p.Device, p.Outcome, p.Error)
			if p.Device == "" {
				first = "a device was never polled (audit interrupted)"
			}
		}
	}
	return ok, failed, first
}

// measureAudit runs one agent audit of devs and measures it: CPU, wall,
// allocations and peak RSS, under a CPU profile when asked, and what it
// cost fl's routers.
func (b *bencher) measureAudit(ctx context.Context, fl *benchFleet, auditor *schedule.Auditor, devs []inventory.Device, name string, r *benchResult) error {
	benchSettle()
	stopProfile, err := benchProfile(b.o.cpuprofile, name)
	if err != nil {
		return err
	}
	// fl is nil for a fleet the bench does not count router costs of
	// (the memory scenario's own simulator).
	var before benchSimStats
	if fl != nil {
		if before, err = fl.cost(ctx); err != nil {
			return err
		}
	}
	peak := startPeak()
	m := startMeter()
	res, err := auditor.Audit(ctx, devs)
	span := m.stop()
	r.PeakRSSBytes = peak.stop()
	if perr := stopProfile(); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}
	n := float64(len(devs))
	if fl != nil {
		after, err := fl.cost(ctx)
		if err != nil {
			return err
		}
		router := after.sub(before)
		r.RouterRPCsPerPoll = float64(router.RPCs) / n
		r.RouterReplyBytesPerPoll = float64(router.ReplyBytes) / n
		r.RouterCPUPerPollMS = float64(router.CPUNanos) / 1e6 / n
	}
	r.WallSeconds = span.Wall.Seconds()
	r.CPUSeconds = span.CPU.Seconds()
	r.Rate, r.RateUnit = n/span.Wall.Seconds(), "polls"
	r.CPUPerOpMS, r.OpName = float64(span.CPU.Microseconds())/1000/n, "poll"
	r.AllocsPerOp = float64(span.Mallocs) / n
	var first string
	r.OK, r.Failed, first = benchOutcomes(res.Polls)
	if first != "" {
		r.Note = benchJoin(r.Note, "first failed poll: "+first)
	}
	return nil
}

// refFresh runs the reference client over devs, a session per poll, and
// records its outcomes in r.
func (b *bencher) refFresh(ctx context.Context, sc benchScenario, devs []inventory.Device, r *benchResult) (benchRefRun, error) {
	b.logf("%s: reference client, a session per poll", sc.name())
	ref, err := newBenchRef(devs, b.o.concurrency)
	if err != nil {
		return benchRefRun{}, err
	}
	refRun := ref.fresh(ctx)
	if err := context.Cause(ctx); err != nil {
		return refRun, err
	}
	r.RefOK, r.RefFailed = refRun.ok, refRun.failed
	if refRun.firstErr != nil {
		r.Note = benchJoin(r.Note, "reference: "+refRun.firstErr.Error())
	}
	return refRun, nil
}

// agentFresh audits devs with the agent into a new store of the scenario's
// and measures the audit into r.
func (b *bencher) agentFresh(ctx context.Context, sc benchScenario, fl *benchFleet, r *benchResult) error {
	st, err := openStore(ctx, b.storeFor(sc.name()))
	if err != nil {
		return err
	}
	defer st.Close()
	auditor, err := b.auditor(st, nil)
	if err != nil {
		return err
	}
	return b.measureAudit(ctx, fl, auditor, fl.devs, sc.name(), r)
}

// runFresh audits a fleet with a new session per poll, as the audit
// command and the daemon do by default, beside the reference client doing
// the same. wan-N is the same audit with every router behind a 50 ms
// round trip, and no reference run: its target is the audit's wall time.
func (b *bencher) runFresh(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "devices", Concurrency: b.o.concurrency}
	wan := sc.group == benchWAN
	spec := benchSimSpec{}
	if wan {
		spec.rtt = benchWANRTT
	}
	fl, err := b.fleet(ctx, sc, spec, uint64(b.o.concurrency)*2+256)
	if err != nil {
		return r, err
	}
	defer fl.stop()
	devs := fl.devs
	if b.o.splitKnownHosts {
		r.Note = "diagnostic --split-known-hosts: a one-line known_hosts file per device"
	}
	ctx, stopGuard := benchGuard(ctx, b.maxRSS, nil)
	defer stopGuard()

	var refRun benchRefRun
	if !wan {
		if refRun, err = b.refFresh(ctx, sc, devs, &r); err != nil {
			return r, err
		}
	}

	b.logf("%s: agent audit", sc.name())
	if err := b.agentFresh(ctx, sc, fl, &r); err != nil {
		return r, err
	}
	if err := context.Cause(ctx); err != nil {
		return r, err
	}
	b.logf("%s: agent audit took %s; stopping the simulator", sc.name(), benchSeconds(r.WallSeconds))
	if wan {
		r.Note = benchJoin(r.Note, fmt.Sprintf("every router %s of added round-trip time (the rtt fault), fresh sessions", benchWANRTT))
		r.Targets = append(r.Targets, atMost("wall", r.WallSeconds, benchWANMaxWall, "s"))
		return r, nil
	}
	r.RefCPUPerOpMS = refRun.span.CPU.Seconds() * 1000 / float64(len(devs))
	if r.RefCPUPerOpMS > 0 {
		r.RefRatio = r.CPUPerOpMS / r.RefCPUPerOpMS
		r.Targets = append(r.Targets, atMost("cpu/ref", r.RefRatio, benchFreshMaxRatio, "×"),
			atMost("floor cpu/ref", r.RefRatio, benchFreshFloorRatio, "×"))
	}
	r.Note = benchJoin(r.Note, fmt.Sprintf("reference %.0f polls/s, %s wall", float64(len(devs))/refRun.span.Wall.Seconds(), refRun.span.Wall.Round(time.Millisecond)))
	return r, nil
}

// runPersistent opens a session per device in a first audit (devices set
// to session: persistent, the pool of the daemon), measures the RSS of the
// idle sessions, then measures a second audit on them; then the reference
// client does the same.
func (b *bencher) runPersistent(ctx context.Context, sc benchScenario) (benchResult, error) {
	r := benchResult{Size: sc.size, Unit: "devices", Concurrency: b.o.concurrency}
	fl, err := b.fleet(ctx, sc, benchSimSpec{}, uint64(sc.size)+uint64(b.o.concurrency)*2+256)
	if err != nil {
		return r, err
	}
	defer fl.stop()
	devs := fl.devs
	if b.o.splitKnownHosts {
		r.Note = "diagnostic --split-known-hosts: a one-line known_hosts file per device"
	}
	for i := range devs {
		devs[i].Session = inventory.SessionPersistent
	}
	pool := schedule.NewSessionPool(b.o.keepalive, b.log)
	benchSettle()
	before, goBefore := benchRSS(), runtime.NumGoroutine()
	// Once a twentieth of the sessions are open, their RSS so far says
	// where the scenario is heading.
	ctx, stopGuard := benchGuard(ctx, b.maxRSS, func(rss int64) int64 {
		if open := pool.Len(); open >= max(100, sc.size/20) {
			return before + (rss-before)/int64(open)*int64(sc.size)
		}
		return rss
	})
	defer stopGuard()

	st, err := openStore(ctx, b.storeFor(sc.name()))
	if err != nil {
		return r, err
	}
	defer st.Close()
	closePool := func() error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return pool.Close(cctx)
	}
	defer func() { _ = closePool() }() // after the explicit close, a no-op
	auditor, err := b.auditor(st, pool)
	if err != nil {
		return r, err
	}

	b.logf("%s: agent audit opening the sessions", sc.name())
	m := startMeter()
	first, err := auditor.Audit(ctx, devs)
	firstSpan := m.stop()
	if cause := context.Cause(ctx); cause != nil {
		open := max(1, int64(pool.Len()))
		return r, fmt.Errorf("first audit: %w; %d sessions were open, %s of RSS each", cause, open, benchBytes((benchRSS()-before)/open))
	}
	if err != nil {
		return r, fmt.Errorf("first audit: %w", err)
	}
	if ok, failed, msg := benchOutcomes(first.Polls); failed > 0 {
		r.Note = benchJoin(r.Note, fmt.Sprintf("first audit: %d ok, %d failed, first: %s", ok, failed, msg))
	}
	benchSettle()
	after := benchRSS()
	open := pool.Len()
	if open > 0 && before > 0 {
		r.RSSPerSessionBytes = (after - before) / int64(open)
	}
	if open > 0 {
		r.Note = benchJoin(r.Note, fmt.Sprintf("%.1f goroutines per idle session", float64(runtime.NumGoroutine()-goBefore)/float64(open)))
	}
	if err := benchHeapProfile(b.o.memprofile, sc.name()); err != nil {
		return r, err
	}

	b.logf("%s: agent audit on %d open sessions", sc.name(), open)
	if err := b.measureAudit(ctx, fl, auditor, devs, sc.name(), &r); err != nil {
		return r, err
	}
	if err := context.Cause(ctx); err != nil {
		return r, err
	}
	r.Note = benchJoin(r.Note, fmt.Sprintf("first audit (dialing) %s CPU/poll, %s wall", benchMS(firstSpan.CPU.Seconds()*1000/float64(len(devs))), firstSpan.Wall.Round(time.Millisecond)))
	if err := closePool(); err != nil {
		return r, fmt.Errorf("close the sessions: %w", err)
	}

	b.logf("%s: reference client, opening the sessions", sc.name())
	ref, err := newBenchRef(devs, b.o.concurrency)
	if err != nil {
		return r, err
	}
	refRun := ref.persistent(ctx)
	if err := context.Cause(ctx); err != nil {
		return r, fmt.Errorf("reference client: %w", err)
	}
	r.RefOK, r.RefFailed = refRun.ok, refRun.failed
	if refRun.firstErr != nil {
		r.Note = benchJoin(r.Note, "reference: "+refRun.firstErr.Error())
	}
	r.RefRSSPerSessionBytes = refRun.rssPerSession
	r.Note = benchJoin(r.Note, fmt.Sprintf("reference: %.1f goroutines per idle session", refRun.goroutinesPerSession))
	r.RefCPUPerOpMS = refRun.span.CPU.Seconds() * 1000 / float64(len(devs))
	if r.RefCPUPerOpMS > 0 {
		r.RefRatio = r.CPUPerOpMS / r.RefCPUPerOpMS
	}

	r.Targets = append(r.Targets, atMost("cpu/poll", r.CPUPerOpMS, benchPersistentMaxCPUMS, "ms"))
	if r.RefRatio > 0 {
		r.Targets = append(r.Targets, atMost("cpu/ref", r.RefRatio, benchPersistentMaxRatio, "×"),
			atMost("floor cpu/ref", r.RefRatio, benchPersistentFloorRatio, "×"))
	}
	if r.RSSPerSessionBytes != 0 {
		r.Targets = append(r.Targets, atMost("rss/session", float64(r.RSSPerSessionBytes)/1024, benchMaxRSSPerSession, "KiB"))
	}
	if sc.size >= benchBigFleet {
		// The daemon audits this fleet once a minute: the audit must fit
		// in the interval, and its CPU spread over the interval must stay
		// under 15 % of a core (issue 17; floor 20 %).
		r.Targets = append(r.Targets,
			atMost("wall", r.WallSeconds, benchBigFleetMaxWall, "s"),
			atMost("core%/60s", 100*r.CPUSeconds/benchBigFleetMaxWall, benchBigFleetMaxCorePct, "%"),
			atMost("floor core%/60s", 100*r.CPUSeconds/benchBigFleetMaxWall, benchBigFleetFloorPct, "%"))
	}
	return r, nil
}

// benchJoin appends more to a note.
func benchJoin(note, more string) string {
	switch {
	case note == "":
		return more
	case more == "":
		return note
	}
	return note + "; " + more
}
