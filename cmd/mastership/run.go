package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/maintenance"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/schedule/alerting"
	"github.com/mastership/mastership/schedule/metrics"
)

type runOptions struct {
	inventory   string
	db          string
	spec        string
	listen      string
	listenAll   bool
	dryRun      bool
	concurrency int
	timeout     time.Duration
	spread      float64
	retries     int
	grace       time.Duration
	retention   time.Duration
	keepalive   time.Duration
	shared      bool
	spoolDir    string
	spoolMax    string
	history     historyOptions
	// Alertmanager push (issue 18 part 4).
	alertmanagers []string
	amResend      time.Duration
	// The API's authentication and TLS (issue 18 part 1).
	http httpOptions
}

func newRunCommand(a *app) *cobra.Command {
	o := runOptions{}
	cmd := &cobra.Command{
		Use:   "run --inventory FILE --schedule SPEC",
		Short: "The daemon: audit the fleet on a schedule, keep history, serve metrics",
		Long: `run audits the whole inventory on a cron schedule and serves Prometheus
metrics, /healthz, /readyz, the read-only JSON API (/api/v1/…, see
docs/daemon.md) and the live fleet page (/) on --listen (loopback unless
--listen-all). Beyond loopback the API and the page are served only with
a bearer token (--http-token-file), TLS (--tls-cert, --tls-key) or both;
a token, when given, is required on loopback too.

Schedules: 5 fields (minute hour day month weekday), 6 with seconds first,
descriptors (@hourly, @daily, @every 5m) and a CRON_TZ=Zone prefix. An
audit still running when the next is due is skipped and counted. Each
device's poll starts at a fixed offset (from its name) within the first
--spread of the interval, so the fleet does not hit its AAA servers at
once. Transient failures (refused, timeout) are retried with backoff; auth
and host-key failures never are.

SIGHUP re-reads the inventory, the token and the certificate (a bad file
is reported and the old one kept). SIGTERM or SIGINT stops scheduling,
lets polls in flight finish for --grace, cancels the rest, marks the run
interrupted and exits 0.

--shared lets several agents with the same inventory, schedule and
database share the fleet: "@every" schedules are aligned to the clock so
every agent agrees on each audit's slot, and each device is polled by
exactly one agent per slot (the first to claim it in the database). An
agent that dies loses only its unfinished devices of the current slot;
from the next slot on, the others poll them.`,
		Example: `  mastership run --inventory devices.yaml --schedule '@every 5m'
  mastership run --inventory devices.yaml --schedule 'CRON_TZ=Europe/Amsterdam */10 * * * *' --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runDaemon(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.inventory, "inventory", "i", "", "inventory file (YAML; see devices.example.yaml)")
	dbFlag(f, &o.db, defaultDBPath(), "")
	f.StringVar(&o.spec, "schedule", "", "cron schedule of the audits, e.g. '@every 5m' or '*/10 * * * *'")
	f.StringVar(&o.listen, "listen", "127.0.0.1:9728", "address of /metrics, /healthz, /readyz, /api/v1/… and the fleet page /")
	f.BoolVar(&o.listenAll, "listen-all", false, "allow --listen on all interfaces (0.0.0.0, ::)")
	f.BoolVar(&o.dryRun, "dry-run", false, "check the schedule and inventory, print the next 3 audit times, and exit")
	f.IntVar(&o.concurrency, "concurrency", schedule.DefaultConcurrency, "devices polled at once")
	f.DurationVar(&o.timeout, "timeout", 0, "hard deadline of one device's poll (default: the inventory's timeout, 30s)")
	f.Float64Var(&o.spread, "spread", 0.2, "fraction of the interval over which the devices' poll starts are spread (0 to 0.9)")
	f.IntVar(&o.retries, "retries", 2, "retries of a refused or timed-out poll, within its deadline")
	f.DurationVar(&o.grace, "grace", 30*time.Second, "how long polls in flight may finish after SIGTERM")
	f.DurationVar(&o.retention, "retention", 30*24*time.Hour, "history older than this is pruned (at most hourly, after an audit)")
	f.BoolVar(&o.shared, "shared", false, "share the fleet with other agents using the same database: each device polled by one agent per slot")
	f.StringVar(&o.spoolDir, "spool-dir", "", "directory of the local spool that polls wait in while the store is down (default: beside an SQLite --db, else in the state directory)")
	f.StringVar(&o.spoolMax, "spool-max", "256MiB", "bound of the spool on disk (KiB, MiB, GiB or bytes); when full, the oldest log lines are dropped first, then new polls are refused")
	f.DurationVar(&o.keepalive, "keepalive", 30*time.Second, "SSH keepalive interval of idle persistent sessions (session: persistent); 0 turns keepalives off")
	// Alertmanager push (issue 18 part 4).
	f.StringSliceVar(&o.alertmanagers, "alertmanager", nil, "post alerts to this Alertmanager (base URL; repeat or comma-separate for an HA pair); use it or the shipped Prometheus rules, not both")
	f.DurationVar(&o.amResend, "alertmanager-resend", time.Minute, "re-send firing alerts this often, with endsAt three intervals ahead")
	o.http.addFlags(f)
	o.history.addFlags(f)
	_ = cmd.MarkFlagRequired("inventory")
	_ = cmd.MarkFlagRequired("schedule")
	return cmd
}

// The daemon's own store operations, beside the audit's
// (schedule.StoreOps), as mastership_store_errors_total{op} names them.
const (
	opPrune       = "prune"
	opRecoverRuns = "recover_runs"
)

func (a *app) runDaemon(ctx context.Context, o *runOptions) error {
	sched, err := schedule.ParseSpec(o.spec)
	if err != nil {
		return usageError(fmt.Errorf("--schedule: %w", err))
	}
	if o.shared {
		sched = schedule.Aligned(sched) // every agent must agree on the slots
	}
	if o.spread < 0 || o.spread > 0.9 || o.concurrency < 1 || o.retries < 0 || o.grace < 0 || o.retention <= 0 {
		return usageError(errors.New("--spread must be 0..0.9, --concurrency ≥ 1, --retries, --grace ≥ 0 and --retention > 0"))
	}
	amURLs, err := alerting.ParseURLs(o.alertmanagers)
	if err != nil {
		return usageError(fmt.Errorf("--alertmanager: %w", err))
	}
	if o.amResend <= 0 {
		return usageError(errors.New("--alertmanager-resend must be > 0"))
	}
	guard, err := newHTTPGuard(o.http, a.log)
	if err != nil {
		return usageError(err)
	}
	inv, err := a.loadInventory(ctx, o.inventory)
	if err != nil {
		return usageError(err)
	}
	now := time.Now()
	next := schedule.NextRuns(sched, now, 3)
	if o.dryRun {
		fmt.Fprintf(a.stdout, "schedule %q is valid; %d devices in %s\n", o.spec, len(inv.Devices), o.inventory)
		// Shown in the schedule's own zone (CRON_TZ=…) and in UTC.
		loc := time.UTC
		if ss, ok := sched.(*cron.SpecSchedule); ok && ss.Location != nil {
			loc = ss.Location
		}
		for _, t := range next {
			fmt.Fprintf(a.stdout, "next audit: %s (%s UTC)\n", t.In(loc).Format(time.RFC3339), t.UTC().Format("2006-01-02 15:04:05"))
		}
		return nil
	}
	interval := next[1].Sub(next[0])
	spoolMax, err := parseSize(o.spoolMax)
	if err != nil || spoolMax < 1<<20 {
		return usageError(fmt.Errorf("--spool-max %q: give a size of at least 1MiB, such as 256MiB", o.spoolMax))
	}

	st, err := openStore(ctx, o.db)
	if err != nil {
		return usageError(err)
	}
	defer st.Close()
	m := metrics.New(append(schedule.StoreOps(), opPrune, opRecoverRuns)...)
	m.SetBuildInfo(buildInfo())
	m.StoreOp(opRecoverRuns, a.recoverRuns(ctx, st), time.Now())
	hist, err := o.history.historian(a, st)
	if err != nil {
		return usageError(err)
	}
	// Issue 19: the audit writes through the spool, and the flusher
	// drains it into the store whenever the store answers.
	sp, unlockSpool, err := openDaemonSpool(o.spoolDir, o.db, spoolMax, st, hist,
		func(op string, err error) { m.StoreOp(op, err, time.Now()) }, a.log)
	if err != nil {
		return err
	}
	defer unlockSpool()
	m.WatchSpool(func() metrics.SpoolState {
		s := sp.Status()
		return metrics.SpoolState{PollsWaiting: s.PollsWaiting, Bytes: s.Bytes, MaxBytes: s.MaxBytes,
			Full: s.Full, DroppedLogs: s.DroppedLogs, StoreError: s.StoreError}
	})
	fctx, stopFlusher := context.WithCancel(context.WithoutCancel(ctx))
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		sp.Run(fctx, time.Second, 15*time.Second)
	}()
	defer func() {
		// Polls of the last audit are flushed if the store answers;
		// whatever it does not take stays in the spool for next time.
		stopFlusher()
		<-flusherDone
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sp.Flush(sctx); err != nil {
			a.log.Warn("stopping with polls in the spool; the next start flushes them", "polls_waiting", sp.Status().PollsWaiting, "error", err)
		}
		if err := sp.Close(); err != nil {
			a.log.Warn("close spool", "error", err)
		}
	}()
	var ready atomic.Bool
	lctx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	var invMu sync.Mutex
	current := inv
	currentInventory := func() *inventory.Inventory {
		invMu.Lock()
		defer invMu.Unlock()
		return current
	}
	// The JSON API and the live page (issue 18) beside /metrics,
	// /healthz and /readyz. They show the fleet's state to whoever can
	// reach the port: beyond loopback only behind a token or TLS, and
	// behind the token wherever one is given.
	// SIGHUP is caught before the listener opens: a probe that sees
	// /healthz may reload at once, and an uncaught SIGHUP would end the
	// daemon (the Go runtime's default for it).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	mux := http.NewServeMux()
	serveAPI, warning := apiExposure(o.listen, guard.hasToken(), guard.hasTLS())
	if warning != "" {
		a.log.Warn(warning)
	}
	if serveAPI {
		api := http.NewServeMux()
		(&apiServer{a: a, st: st, hist: hist, spec: o.spec, sched: sched, inventory: currentInventory,
			ready: ready.Load, now: time.Now, spooled: sp.LatestPolls}).register(api)
		mux.Handle("/api/", guard.require(api))
		mux.Handle("GET /{$}", guard.require(api))
	}
	// /healthz and /readyz stay open: probes carry no token.
	mh := m.Handler(ready.Load)
	if o.http.protectMetrics {
		mux.Handle("GET /metrics", guard.require(mh))
	}
	mux.Handle("/", mh)
	addr, serveErr, err := metrics.Listen(lctx, metrics.ListenConfig{Addr: o.listen, AllowAllInterfaces: o.listenAll, TLS: guard.tlsConfig()}, mux, a.log)
	if err != nil {
		return usageError(fmt.Errorf("--listen: %w", err))
	}
	a.log.Info("serving metrics", "addr", addr.String())
	// Alertmanager push (issue 18 part 4): the audit hands its result over
	// and goes on; the pusher posts from its own goroutine.
	var push *alertPusher
	if len(amURLs) > 0 {
		push = a.startAlertPusher(lctx, amURLs, o.amResend, m, guard.scheme()+"://"+addr.String()+"/")
		defer push.stop()
	}

	// The inventory's maintenance windows as of its latest reload.
	hist.Maintenance = func(name string) []maintenance.Window {
		invMu.Lock()
		defer invMu.Unlock()
		d, _ := current.Device(name)
		return d.Maintenance
	}
	// Devices with `session: persistent` keep their NETCONF session open
	// between audits, probed with SSH keepalives while idle.
	sessions := schedule.NewSessionPool(o.keepalive, a.log)
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := sessions.Close(cctx); err != nil {
			a.log.Warn("close persistent sessions", "error", err)
		}
	}()
	poller := o.history.poller(a, st, o.timeout)
	poller.Cursors = sp
	poller.Sessions = sessions
	// The replication state is read rarely: remembered across audits.
	poller.Readiness = schedule.NewReadinessMemory()
	// The daemon keeps each device's software and configuration between
	// polls (issue 17); check and audit read them every time.
	poller.Refresh = &schedule.Refresher{Interval: o.history.refresh}
	auditor := &schedule.Auditor{
		Poller:       poller,
		Store:        st,
		Historian:    hist,
		Concurrency:  o.concurrency,
		Retries:      o.retries,
		RetryBackoff: time.Second,
		Spread:       time.Duration(o.spread * float64(interval)),
		StoreOp:      func(op string, err error) { m.StoreOp(op, err, time.Now()) },
		Logger:       a.log,
		Spool:        sp,
	}
	const pruneEvery = time.Hour
	var lastPrune time.Time // jobs never overlap: the runner skips instead
	job := func(ctx context.Context) {
		invMu.Lock()
		devs := current.Devices
		invMu.Unlock()
		var slot time.Time
		if o.shared {
			slot = schedule.SlotOf(sched, time.Now())
		}
		res, err := auditor.AuditSlot(ctx, slot, devs)
		if err != nil {
			a.log.Error("audit", "error", err)
		}
		m.ObserveAudit(res.Run, res.Polls, res.Findings)
		if res.Switchovers != nil {
			for _, p := range res.Polls {
				if p.Device != "" {
					m.ObserveSwitchovers(p.Device, p.Site, res.Switchovers[p.Device])
				}
			}
		}
		// Switchover readiness (issue 16).
		for _, p := range res.Polls {
			if v, ok := res.Readiness[p.Device]; ok && p.Device != "" {
				m.ObserveReadiness(p.Device, p.Site, v)
			}
		}
		names := make([]string, 0, len(devs))
		for i, d := range devs {
			// Shared: this agent's metrics are of the devices it polled;
			// another agent reports the rest. An audit that could not
			// begin its run has no polls at all.
			if !o.shared || (i < len(res.Polls) && res.Polls[i].Device != "") {
				names = append(names, d.Name)
			}
		}
		m.Forget(names)
		// mastership_maintenance: which devices are in a window now, so
		// alert rules can leave them out.
		var inM map[string]bool // nil when the windows could not be read
		if open, err := hist.MaintenanceAt(ctx, names, time.Now()); err != nil {
			a.log.Warn("maintenance windows", "error", err)
		} else {
			inM = make(map[string]bool, len(names))
			for _, n := range names {
				inM[n] = open[n] != ""
			}
			m.ObserveMaintenance(inM)
		}
		if push != nil {
			push.audited(alerting.Audit{Polls: res.Polls, Findings: res.Findings, Readiness: res.Readiness, InMaintenance: inM})
		}
		ready.Store(true)
		a.log.Info("audit finished", "slot", slot, "run", res.Run.ID, "ok", res.Run.OK, "failed", res.Run.Failed, "interrupted", res.Run.Interrupted)
		// Retention runs after an audit, at most once an hour: pruning
		// every few minutes would only compete with the polls for the
		// writer.
		if ctx.Err() == nil && time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			stats, err := st.Prune(ctx, lastPrune.Add(-o.retention))
			if ctx.Err() == nil {
				m.StoreOp(opPrune, err, time.Now())
			}
			if err != nil && ctx.Err() == nil {
				a.log.Error("prune history", "error", err)
			} else if n := stats.Total(); n > 0 {
				a.log.Info("pruned history", "rows", n, "older_than", o.retention)
			}
		}
	}
	runner := schedule.NewRunner(sched, job, schedule.RunnerOptions{Logger: a.log, OnSkip: func(int64) { m.AuditSkipped() }})
	runner.Start()
	fmt.Fprintf(a.stdout, "mastership run: %d devices, schedule %q, next audit %s, metrics on %s://%s/metrics\n",
		len(inv.Devices), o.spec, next[0].Format(time.RFC3339), guard.scheme(), addr)

	for {
		select {
		case <-hup:
			// The token and the certificate may have been rotated; a bad
			// inventory does not stop that.
			if err := guard.reload(); err != nil {
				a.log.Error("SIGHUP: token or certificate not reloaded, keeping the old ones", "error", err)
			}
			fresh, err := a.loadInventory(ctx, o.inventory)
			if err != nil {
				a.log.Error("SIGHUP: inventory not reloaded, keeping the old one", "error", err)
				continue
			}
			invMu.Lock()
			current = fresh
			invMu.Unlock()
			a.log.Info("SIGHUP: inventory reloaded", "devices", len(fresh.Devices))
		case err := <-serveErr:
			return fmt.Errorf("metrics server: %w", err)
		case <-ctx.Done():
			a.log.Info("stopping: letting polls in flight finish", "grace", o.grace)
			sctx, cancel := context.WithTimeout(context.Background(), o.grace)
			err := runner.Stop(sctx)
			cancel()
			if err != nil {
				a.log.Warn("grace period over: polls in flight cancelled, the run is marked interrupted", "error", err)
				// The cancelled audit still stores its polls and its run;
				// the store closes only after it has.
				<-runner.Done()
			}
			return nil
		}
	}
}

// loopbackOnly reports whether listen (host:port) binds to loopback only:
// localhost or a loopback address. Anything else, a name included, may
// reach other hosts.
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
