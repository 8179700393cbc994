// Package metrics exposes what the scheduled fleet audits saw as
// Prometheus metrics, and serves them with /healthz and /readyz.
//
// Everything lives on a Metrics value with its own registry: there is no
// package-level state, so tests and several daemons in one process do not
// share series.
//
// # Per-device series
//
// Per-device gauges are not kept in client_golang vectors but in a state
// map that a custom collector turns into constant metrics under one lock.
// A scrape therefore sees one audit's view of a device or the next one's,
// never half of each (e.g. two outcomes at 1, or none), a device that
// Forget removed is gone from every series at once, and a device whose
// site changed does not leave series behind under the old site.
//
// # Cardinality
//
// mastership_poll_duration_seconds is a histogram without a device label:
// with one it would be (buckets+2) series per device per outcome, about
// 14 x 9 x fleet size, for percentiles nobody reads per router. The fleet
// histogram (by outcome, 9 values at most) answers "are polls getting
// slower", and the per-device gauge mastership_poll_last_duration_seconds
// answers "which router is slow". Label values are bounded: outcome and
// cause are fixed word lists (an unknown cause folds into "unknown"),
// class is major/minor, and device/site come from the inventory, with
// Forget removing devices that left it.
//
// # A failed poll is not a healthy device
//
// A poll that decoded nothing (no snapshot) keeps the device's last
// success time and outcome, but its alive-set size, expected RE count and
// alarm counts are deleted, not left at their previous values and not set
// to 0: "alive_res 2" or "alarms 0" for a router we could not reach is the
// exporter that reports "up" even when half the data failed. Likewise a
// partial poll whose RE table is empty (the RE RPC failed) reports no
// alive_res, and one whose alarm tables were not both read
// (Snapshot.AlarmsRead false) reports no alarms. Alert on
// absent(mastership_alive_res) or on mastership_poll_outcome{outcome="ok"} == 0.
package metrics

import (
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
)

const namespace = "mastership"

// Outcomes are every poll outcome word, in the order they are exported.
// mastership_poll_outcome has one series per word per device.
var outcomes = [...]devices.Outcome{
	devices.OutcomeOK,
	devices.OutcomePartial,
	devices.OutcomeTimeout,
	devices.OutcomeRefused,
	devices.OutcomeAuth,
	devices.OutcomeHostKey,
	devices.OutcomeProtocol,
	devices.OutcomeRPCError,
	devices.OutcomeTooLarge,
}

// causes are every finding cause word; mastership_findings_open has one
// series per word per device, 0 when the device has none of that cause.
var causes = [...]devices.Cause{
	devices.CauseHardware,
	devices.CauseNetwork,
	devices.CauseSoftware,
	devices.CauseConfiguration,
	devices.CauseUnknown,
}

// Alarm class label values.
const (
	classMajor = "major"
	classMinor = "minor"
)

// PollDurationBuckets are the buckets of mastership_poll_duration_seconds:
// a healthy NETCONF poll takes a second or a few, a hung one runs to the
// per-device deadline (tens of seconds to minutes).
var PollDurationBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300}

// AuditDurationBuckets are the buckets of mastership_audit_duration_seconds.
var AuditDurationBuckets = []float64{1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}

// device is what the metrics know of one device, replaced as a whole by
// each poll of it.
type device struct {
	site         string
	outcome      devices.Outcome
	lastDuration float64
	// lastSuccess is the end of the last ok or partial poll; zero when the
	// agent has not seen one since it started.
	lastSuccess time.Time
	// hasAlive, hasExpected, hasAlarms say whether the values are known
	// from the last poll; unknown values are not exported.
	hasAlive     bool
	alive        int
	hasExpected  bool
	expected     int
	hasAlarms    bool
	major, minor int
	// findings counts open findings by cause; nil when unknown (the audit
	// judged no findings), in which case no series is exported. Findings
	// in maintenance are not counted: they must not alert.
	findings map[devices.Cause]int
	// critical counts the critical ones among them, by cause.
	critical map[devices.Cause]int
	// hasMaintenance says maintenance is known (ObserveMaintenance);
	// maintenance is whether a maintenance window is open.
	hasMaintenance, maintenance bool
}

// Metrics holds the registry and the state behind it. Its methods are
// safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	pollDuration       *prometheus.HistogramVec
	auditDuration      prometheus.Histogram
	audits             prometheus.Counter
	auditsInterrupted  prometheus.Counter
	auditsSkipped      prometheus.Counter
	descOutcome        *prometheus.Desc
	descLastDuration   *prometheus.Desc
	descLastSuccess    *prometheus.Desc
	descAlive          *prometheus.Desc
	descExpected       *prometheus.Desc
	descAlarms         *prometheus.Desc
	descFindings       *prometheus.Desc
	descCritical       *prometheus.Desc
	descMaintenance    *prometheus.Desc
	descAuditLast      *prometheus.Desc
	descAuditDevices   *prometheus.Desc
	descAuditTimestamp *prometheus.Desc

	// The switchover ledger (issue 15): switchovers first seen by this
	// process, and what it has seen of each device's ledger.
	switchovers     *prometheus.CounterVec
	switchoversMu   sync.Mutex
	switchoversSeen map[string][]devices.Switchover

	// Switchover readiness (issue 16): each device's last verdict.
	ready, readyReason *prometheus.GaugeVec
	readyMu            sync.Mutex
	readySeen          map[string]bool

	store *storeHealth
	spool spoolWatch
	// buildInfo is the mastership_build_info gauge, nil until set.
	buildMu   sync.Mutex
	buildInfo prometheus.Collector

	mu      sync.RWMutex
	devices map[string]*device
	// lastRun is the last audit observed; observed is false before one.
	lastRun  devices.Run
	observed bool
}

// New returns Metrics with a fresh registry holding the mastership
// metrics and the Go runtime and process collectors. storeOps are the
// store operations whose error counters are exported from the start.
func New(storeOps ...string) *Metrics {
	m := &Metrics{
		store:   newStoreHealth(storeOps),
		reg:     prometheus.NewRegistry(),
		devices: make(map[string]*device),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "poll_duration_seconds",
			Help: "Duration of device polls across the fleet, by outcome. No device label " +
				"on purpose (buckets x devices series); see mastership_poll_last_duration_seconds.",
			Buckets: PollDurationBuckets,
		}, []string{"outcome"}),
		auditDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "audit_duration_seconds",
			Help:      "Duration of fleet audits.",
			Buckets:   AuditDurationBuckets,
		}),
		audits: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "audits_total",
			Help:      "Fleet audits completed, interrupted ones included.",
		}),
		auditsInterrupted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "audits_interrupted_total",
			Help:      "Fleet audits that were interrupted before every device was polled.",
		}),
		auditsSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "audits_skipped_total",
			Help:      "Scheduled fleet audits skipped because the previous one was still running.",
		}),
		switchovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "switchovers_total",
			Help: "Changes of master this agent saw appear in a device's switchover ledger, planned (an " +
				"operator's command) or not. The ledger a device has when first judged is the baseline, not counted.",
		}, []string{"device", "site", "planned"}),
		switchoversSeen: make(map[string][]devices.Switchover),
		readySeen:       make(map[string]bool),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "switchover_ready",
			Help: "1 when the dual-RE router would survive a switchover now (every readiness condition met), 0 when not; " +
				"absent when unknown and on single-RE devices and SRX clusters.",
		}, []string{"device", "site"}),
		readyReason: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "switchover_ready_reason",
			Help:      "1 for each condition (reason code) that makes the router not ready for a switchover; absent otherwise.",
		}, []string{"device", "site", "reason"}),
		descOutcome: prometheus.NewDesc(namespace+"_poll_outcome",
			"Outcome of the device's last poll: 1 for the outcome it had, 0 for the others.",
			[]string{"device", "site", "outcome"}, nil),
		descLastDuration: prometheus.NewDesc(namespace+"_poll_last_duration_seconds",
			"Duration of the device's last poll.",
			[]string{"device", "site"}, nil),
		descLastSuccess: prometheus.NewDesc(namespace+"_last_success_timestamp_seconds",
			"Unix time the device's last ok or partial poll ended; absent until one is seen.",
			[]string{"device", "site"}, nil),
		descAlive: prometheus.NewDesc(namespace+"_alive_res",
			"Routing Engines in the alive set at the device's last poll; absent when that poll did not read the RE table.",
			[]string{"device", "site"}, nil),
		descExpected: prometheus.NewDesc(namespace+"_expected_res",
			"Routing Engines the device should have alive; absent when unknown or the last poll read nothing.",
			[]string{"device", "site"}, nil),
		descAlarms: prometheus.NewDesc(namespace+"_alarms_active",
			"Active alarms by class at the device's last poll, chassis and system tables deduplicated; "+
				"absent when that poll did not read both tables.",
			[]string{"device", "site", "class"}, nil),
		descFindings: prometheus.NewDesc(namespace+"_findings_open",
			"Open findings (RE flaps) of the device by cause.",
			[]string{"device", "site", "cause"}, nil),
		descCritical: prometheus.NewDesc(namespace+"_findings_critical",
			"Open critical findings (flaps with an unplanned change of master, or a Major alarm) of the device by cause; "+
				"a subset of mastership_findings_open.",
			[]string{"device", "site", "cause"}, nil),
		descMaintenance: prometheus.NewDesc(namespace+"_maintenance",
			"1 while a maintenance window (inventory or mastership silence) of the device is open, else 0; "+
				"its findings are then not in mastership_findings_open.",
			[]string{"device", "site"}, nil),
		descAuditLast: prometheus.NewDesc(namespace+"_audit_last_duration_seconds",
			"Duration of the last fleet audit.", nil, nil),
		descAuditDevices: prometheus.NewDesc(namespace+"_audit_devices",
			"Devices of the last fleet audit by result (ok counts partial polls).",
			[]string{"result"}, nil),
		descAuditTimestamp: prometheus.NewDesc(namespace+"_audit_last_end_timestamp_seconds",
			"Unix time the last fleet audit ended.", nil, nil),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.pollDuration, m.auditDuration,
		m.audits, m.auditsInterrupted, m.auditsSkipped,
		m.store.errors,
		m.switchovers,
		m.ready, m.readyReason,
		stateCollector{m},
	)
	return m
}

// Registry returns the registry the metrics are on, for a caller that
// wants to add its own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveAudit records one finished fleet audit: the run, its polls (a
// zero Poll, for a device the audit never reached, is skipped and leaves
// that device's series as they were) and the open findings of each polled
// device (nil when the audit judged none: no findings series are then
// exported for the polled devices).
//
// It takes the devices types rather than schedule.Result so that this
// package does not import schedule, which may import it.
func (m *Metrics) ObserveAudit(run devices.Run, polls []devices.Poll, findings map[string][]devices.Finding) {
	for _, p := range polls {
		if p.Device == "" {
			continue
		}
		m.pollDuration.WithLabelValues(string(p.Outcome)).Observe(pollSeconds(p))
	}
	m.audits.Inc()
	if run.Interrupted {
		m.auditsInterrupted.Inc()
	}
	if d := run.Finished.Sub(run.Started); !run.Started.IsZero() && d >= 0 {
		m.auditDuration.Observe(d.Seconds())
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range polls {
		if p.Device == "" {
			continue
		}
		m.devices[p.Device] = nextState(m.devices[p.Device], p, findings)
	}
	m.lastRun = run
	m.observed = true
}

// ObserveMaintenance records which known devices are in a maintenance
// window now (true) or not (false); devices not in inMaintenance keep
// what they had. Call it after ObserveAudit.
func (m *Metrics) ObserveMaintenance(inMaintenance map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, in := range inMaintenance {
		if d := m.devices[name]; d != nil {
			d.hasMaintenance, d.maintenance = true, in
		}
	}
}

// sameSwitchover is how far apart two sightings of one change of master
// (same old and new master) may be as the ledger is recomputed: a later
// poll can move its time (a log line is more precise than the RE table),
// and GRES allows no two switchovers within 240 s.
const sameSwitchover = 2 * time.Minute

// ObserveSwitchovers counts the switchovers of device's judged ledger sws
// that this process had not seen in it before, in
// mastership_switchovers_total{device,site,planned}. The first ledger of
// a device is the baseline and counts nothing: a restarted agent does not
// count the last day's switchovers again.
func (m *Metrics) ObserveSwitchovers(device, site string, sws []devices.Switchover) {
	m.switchoversMu.Lock()
	defer m.switchoversMu.Unlock()
	prev, known := m.switchoversSeen[device]
	m.switchoversSeen[device] = slices.Clone(sws)
	if !known {
		return
	}
	for _, sw := range sws {
		seen := slices.ContainsFunc(prev, func(p devices.Switchover) bool {
			d := p.Time.Sub(sw.Time)
			return p.OldMaster == sw.OldMaster && p.NewMaster == sw.NewMaster && d <= sameSwitchover && d >= -sameSwitchover
		})
		if !seen {
			m.switchovers.WithLabelValues(device, site, strconv.FormatBool(sw.Planned)).Inc()
		}
	}
}

// nextState is a device's state after poll p, given the previous one
// (nil if none).
func nextState(prev *device, p devices.Poll, findings map[string][]devices.Finding) *device {
	d := &device{
		site:         p.Site,
		outcome:      p.Outcome,
		lastDuration: pollSeconds(p),
	}
	if prev != nil {
		d.lastSuccess = prev.lastSuccess
		d.hasMaintenance, d.maintenance = prev.hasMaintenance, prev.maintenance
	}
	if p.Outcome == devices.OutcomeOK || p.Outcome == devices.OutcomePartial {
		d.lastSuccess = p.Finished
	}
	if s := p.Snapshot; s != nil {
		if len(s.RouteEngines) > 0 {
			d.hasAlive, d.alive = true, len(s.AliveSet())
		}
		if p.ExpectedREs > 0 {
			d.hasExpected, d.expected = true, p.ExpectedREs
		}
		if s.AlarmsRead {
			d.hasAlarms = true
			d.major, d.minor = s.AlarmCounts()
		}
	}
	if findings != nil {
		d.findings = make(map[devices.Cause]int, len(causes))
		d.critical = make(map[devices.Cause]int, len(causes))
		for _, f := range findings[p.Device] {
			if f.Maintenance {
				continue
			}
			c := f.Cause
			if !slices.Contains(causes[:], c) {
				c = devices.CauseUnknown // keep the label set bounded
			}
			d.findings[c]++
			if f.Severity == devices.SeverityCritical {
				d.critical[c]++
			}
		}
	}
	return d
}

func pollSeconds(p devices.Poll) float64 {
	if p.Started.IsZero() || p.Finished.Before(p.Started) {
		return 0
	}
	return p.Finished.Sub(p.Started).Seconds()
}

// AuditSkipped counts a scheduled audit that was skipped because the
// previous one was still running.
func (m *Metrics) AuditSkipped() { m.auditsSkipped.Inc() }

// Forget deletes every series of the devices not named in keep: call it
// with the inventory's device names after the inventory is (re)loaded, so
// a removed router does not linger with its last values.
func (m *Metrics) Forget(keep []string) {
	set := make(map[string]bool, len(keep))
	for _, name := range keep {
		set[name] = true
	}
	m.forgetReadiness(set)
	m.mu.Lock()
	defer m.mu.Unlock()
	for name := range m.devices {
		if !set[name] {
			delete(m.devices, name)
		}
	}
	m.switchoversMu.Lock()
	defer m.switchoversMu.Unlock()
	for name := range m.switchoversSeen {
		if !set[name] {
			delete(m.switchoversSeen, name)
			m.switchovers.DeletePartialMatch(prometheus.Labels{"device": name})
		}
	}
}

// Ready reports whether an audit has been observed.
func (m *Metrics) Ready() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.observed
}

// stateCollector exports the per-device and last-run gauges from the
// state under one read lock, so a scrape is consistent.
type stateCollector struct{ m *Metrics }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	m := c.m
	for _, d := range []*prometheus.Desc{
		m.descOutcome, m.descLastDuration, m.descLastSuccess, m.descAlive,
		m.descExpected, m.descAlarms, m.descFindings, m.descCritical, m.descMaintenance,
		m.descAuditLast, m.descAuditDevices, m.descAuditTimestamp,
	} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	for name, d := range m.devices {
		known := false
		for _, o := range outcomes {
			v := 0.0
			if o == d.outcome {
				v, known = 1, true
			}
			gauge(m.descOutcome, v, name, d.site, string(o))
		}
		if !known && d.outcome != "" {
			// A word this package does not know yet: still say it,
			// rather than show a device with no outcome at 1.
			gauge(m.descOutcome, 1, name, d.site, string(d.outcome))
		}
		gauge(m.descLastDuration, d.lastDuration, name, d.site)
		if !d.lastSuccess.IsZero() {
			gauge(m.descLastSuccess, unixSeconds(d.lastSuccess), name, d.site)
		}
		if d.hasAlive {
			gauge(m.descAlive, float64(d.alive), name, d.site)
		}
		if d.hasExpected {
			gauge(m.descExpected, float64(d.expected), name, d.site)
		}
		if d.hasAlarms {
			gauge(m.descAlarms, float64(d.major), name, d.site, classMajor)
			gauge(m.descAlarms, float64(d.minor), name, d.site, classMinor)
		}
		if d.hasMaintenance {
			v := 0.0
			if d.maintenance {
				v = 1
			}
			gauge(m.descMaintenance, v, name, d.site)
		}
		if d.findings != nil {
			for _, cause := range causes {
				gauge(m.descFindings, float64(d.findings[cause]), name, d.site, string(cause))
				gauge(m.descCritical, float64(d.critical[cause]), name, d.site, string(cause))
			}
		}
	}
	if m.observed {
		r := m.lastRun
		if dur := r.Finished.Sub(r.Started); !r.Started.IsZero() && dur >= 0 {
			gauge(m.descAuditLast, dur.Seconds())
		}
		gauge(m.descAuditDevices, float64(r.OK), "ok")
		gauge(m.descAuditDevices, float64(r.Failed), "failed")
		if !r.Finished.IsZero() {
			gauge(m.descAuditTimestamp, unixSeconds(r.Finished))
		}
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// ObserveReadiness sets device's switchover readiness from its last
// verdict v: mastership_switchover_ready 1 or 0 and one
// mastership_switchover_ready_reason per failed condition. Unknown and
// not-applicable verdicts remove the device's series: absent, not 0.
func (m *Metrics) ObserveReadiness(device, site string, v readiness.Verdict) {
	m.readyMu.Lock()
	defer m.readyMu.Unlock()
	m.readySeen[device] = true
	m.ready.DeletePartialMatch(prometheus.Labels{"device": device})
	m.readyReason.DeletePartialMatch(prometheus.Labels{"device": device})
	switch v.Verdict {
	case readiness.Ready:
		m.ready.WithLabelValues(device, site).Set(1)
	case readiness.NotReady:
		m.ready.WithLabelValues(device, site).Set(0)
		for _, r := range v.Reasons {
			m.readyReason.WithLabelValues(device, site, r.Code).Set(1)
		}
	}
}

// forgetReadiness drops the readiness series of devices not in keep.
func (m *Metrics) forgetReadiness(keep map[string]bool) {
	m.readyMu.Lock()
	defer m.readyMu.Unlock()
	for name := range m.readySeen {
		if !keep[name] {
			delete(m.readySeen, name)
			m.ready.DeletePartialMatch(prometheus.Labels{"device": name})
			m.readyReason.DeletePartialMatch(prometheus.Labels{"device": name})
		}
	}
}
