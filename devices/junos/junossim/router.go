package junossim

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/netconf/netconftest"
)

// StatusAbsent is the RE status that leaves an RE out of
// <get-route-engine-information/> altogether. MANIFEST pitfall 7: "An RE
// slot can be missing entirely from the reply when that RE is powered off";
// no real XML capture shows <status>Absent</status> for a Routing Engine,
// so the simulator does not invent one. Other statuses ("Failed",
// "Testing") are rendered as given.
const StatusAbsent = "absent"

// Default last-reboot-reason texts, copied from real replies.
const (
	ReasonNormal     = "Router rebooted after a normal shutdown."
	ReasonPowerCycle = "0x1:power cycle/failure"
	ReasonPanic      = "0x1000:reboot due to panic"
	ReasonVJunos     = "0x4000:VJUNOS reboot"
)

// REState is the changeable state of one Routing Engine.
type REState struct {
	Name   string // re0, member1-re0, node0 (read only)
	Member string // member0, node1, or empty (read only)
	Slot   int    // -1 when the reply carries no slot (read only)
	// MastershipState is "master", "backup", or empty where the platform
	// reports none (single RE, SRX cluster node).
	MastershipState string
	// Status is "OK", "Testing", "Failed", ... or StatusAbsent.
	Status string
	// BootTime is when the RE last booted; up-time is clock minus BootTime.
	BootTime         time.Time
	LastRebootReason string
}

// Present reports whether the RE appears in replies at all.
func (s REState) Present() bool { return !strings.EqualFold(s.Status, StatusAbsent) }

// reState is an RE with the static details the replies carry.
type reState struct {
	REState
	priority string // configured election preference; never changes
	model    string
	serial   string // empty: no serial-number element (vmhost REs)
	tempC    int
	cpuTempC int
	baseTemp int // tempC before any over-temperature event
	dramMB   int
}

// Router is one simulated Junos router. It answers NETCONF RPCs from its
// current state; the state changes through its timeline of events, applied
// lazily when an RPC or accessor sees that the clock has passed them (no
// goroutine per router, so a process can hold tens of thousands), and
// through the setters tests call. All methods are safe for concurrent use.
type Router struct {
	hostname string
	model    string
	version  string
	topo     Topology
	loc      *time.Location
	dev      deviceClock // the router's own clock (ClockSpec)
	clock    func() time.Time
	start    time.Time
	logger   *slog.Logger

	host        string // host field of syslog lines
	reHostnames bool   // prefix host with the writing RE's name
	seed        int64
	aliveSetLog bool
	logMax      int

	mu     sync.Mutex
	res    []*reState
	alarms []devices.Alarm
	events []Event // sorted by At; events[next:] are pending
	next   int

	// pending holds the log lines (and checks that write them) that
	// applied events left for later moments, sorted by time.
	pending []pendingAction
	seq     uint64
	// cursor is the moment being applied: lines up to it are written at
	// once, later ones wait in pending.
	cursor time.Time
	logs   map[string]*logFile // by name: messages, messages.0.gz, mastership
	// mastershipLog: the router keeps /var/log/mastership (Device.MastershipLog).
	mastershipLog bool
	// archiveReadable: syslog_archive world-readable; otherwise get-log
	// and file-show of a turned-over file answer permission denied.
	archiveReadable bool
	// archiveUnresolved: a refused archive is answered "could not
	// resolve file" (Device.ArchiveRefusal).
	archiveUnresolved bool
	logsBorn          time.Time // when the files began; older lines are not kept
	lastPID           int
	ifIndex           map[string]int
	// revenuePorts counts the ifIndexes given to ports other than em*.
	revenuePorts int
	cores        map[string]int // core files saved so far, by process

	redundancy devices.RedundancyConfig
	commits    []commitRecord // newest first; never empty

	// RPC-level faults (Faults.RPCErrorOn, Faults.BackupAborted).
	rpcErrorOn    string
	backupAborted AbortShape

	// Switchover readiness (readiness.go): per-RE releases, the
	// replication rows, and how often each RPC was asked.
	reVersions  map[string]string
	replication *ReplicationSpec
	rpcCounts   map[string]int
}

// NewRouter builds a router from a device; fields left empty get the
// built-in defaults (Scenario.Resolved applies a scenario's own first). The simulation starts at clock(); event offsets
// count from there. seed varies up-times and serial numbers; a nil clock
// means time.Now and a nil logger discards.
func NewRouter(d Device, seed int64, clock func() time.Time, logger *slog.Logger) (*Router, error) {
	if clock == nil {
		clock = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d = d.withDefaults(Defaults{})
	// A device built by hand (not parsed) gets the same checks, so a bad
	// event fails here rather than in a log line at poll time.
	if err := (Scenario{Devices: []Device{d}}).Validate(); err != nil {
		return nil, fmt.Errorf("device %s: %w", d.Name, err)
	}
	loc := time.UTC
	if d.Timezone != "" {
		l, err := time.LoadLocation(d.Timezone)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Name, err)
		}
		loc = l
	}
	r := &Router{
		hostname:          d.Name,
		model:             d.Model,
		version:           d.Version,
		topo:              d.Topology,
		loc:               loc,
		clock:             clock,
		start:             clock(),
		logger:            logger.With("device", d.Name),
		host:              shortHost(d.Name),
		reHostnames:       d.REHostnames != nil && *d.REHostnames,
		seed:              seed,
		aliveSetLog:       d.AliveSetLog == nil || *d.AliveSetLog,
		mastershipLog:     keepsMastershipLog(d),
		archiveReadable:   d.SyslogArchive == ArchiveWorldReadable,
		archiveUnresolved: d.ArchiveRefusal == RefuseCouldNotResolve,
		logMax:            cmp.Or(d.LogMaxLines, DefaultLogMaxLines),
		ifIndex:           map[string]int{},
		cores:             map[string]int{},
		reVersions:        d.REVersions,
		replication:       d.Replication,
		rpcCounts:         map[string]int{},
	}
	r.cursor = r.start
	var err error
	if r.dev, err = newDeviceClock(d.Clock, r.start, loc); err != nil {
		return nil, fmt.Errorf("device %s: %w", d.Name, err)
	}
	if d.Faults != nil {
		r.setFaults(*d.Faults)
	}
	rnd := newDetRand(d.Name, seed)
	// A fleet's routers were booted weeks to a year ago; REs of one chassis
	// boot within a minute of each other.
	chassisUp := time.Duration(7*24+rnd.intn(360*24)) * time.Hour
	chassisUp += time.Duration(rnd.intn(3600)) * time.Second
	for i, name := range reNames(d.Topology) {
		st := &reState{REState: REState{Name: name, Slot: -1, Status: "OK"}}
		st.Member, _, _ = strings.Cut(name, "-")
		if st.Member == name {
			st.Member = ""
		}
		if d.Topology == TopologySRXCluster {
			st.Member = name
		}
		slot := i % 2
		switch d.Topology {
		case TopologyDual, TopologyEXVC, TopologyMXVC:
			st.Slot = slot
			st.MastershipState = [2]string{"master", "backup"}[slot]
			st.priority = [2]string{"master (default)", "backup (default)"}[slot]
		}
		up := chassisUp - time.Duration(i*24+rnd.intn(20))*time.Second
		st.BootTime = r.start.Add(-up).Truncate(time.Second)
		st.LastRebootReason = ReasonNormal
		st.model, st.serial, st.dramMB = reHardware(r.model, d.Topology)
		switch st.serial {
		case "serial":
			st.serial = fmt.Sprintf("90130%05d", rnd.intn(100000))
		case "ptx":
			st.serial = fmt.Sprintf("P737A-%06d", rnd.intn(1000000))
		}
		if d.Topology == TopologySingle || strings.HasPrefix(r.model, "mx10003") {
			st.LastRebootReason = ReasonVJunos
		}
		if d.Topology == TopologyEXVC {
			st.LastRebootReason = ReasonPowerCycle // as the EX2300 VC capture
		}
		st.tempC = 30 + rnd.intn(8)
		st.cpuTempC = st.tempC - 2 + rnd.intn(3)
		st.baseTemp = st.tempC
		if spec, ok := d.REStates[name]; ok {
			if spec.Status != "" {
				st.Status = spec.Status
			}
			if spec.MastershipState != "" {
				st.MastershipState = spec.MastershipState
			}
			if spec.UpTime > 0 {
				st.BootTime = r.start.Add(-spec.UpTime).Truncate(time.Second)
			}
			if spec.LastRebootReason != "" {
				st.LastRebootReason = spec.LastRebootReason
			}
		}
		r.res = append(r.res, st)
	}
	// The log files began a day before the start (newsyslog turned them
	// over then), or an hour before the earliest event of a story that
	// happened before the start, so that its lines are in them.
	born := r.start.Add(-24 * time.Hour)
	for _, ev := range d.Events {
		born = minTime(born, r.start.Add(ev.At-time.Hour))
	}
	born = born.Truncate(time.Hour)
	r.initLogsLocked(born)
	r.fillLocked(born, d.LogFillBytes)
	// The configuration was last committed an hour before the start, or
	// before the first commit of the story.
	r.redundancy = d.Redundancy.apply(builtinRedundancy(d.Topology))
	committed := r.start.Add(-time.Hour)
	for _, ev := range d.Events {
		if ev.Kind == EventCommit {
			committed = minTime(committed, r.start.Add(ev.At-time.Hour))
		}
	}
	r.commits = []commitRecord{{at: committed.Truncate(time.Second), user: User, client: "netconf"}}
	// Alarms are raised by the timeline too, even those already active at
	// the start, so that alarmd's and craftd's lines for them land in the
	// log at their own time, in order with the events'. Every look at the
	// router advances the timeline first, so they are there from the start.
	for _, a := range d.Alarms {
		r.events = append(r.events, Event{At: a.SetAfter, Kind: EventAlarmSet,
			Source: a.Source, Member: a.Member, Class: a.Class, Type: a.Type,
			Description: a.Description, ShortDescription: a.ShortDescription})
	}
	r.events = append(r.events, d.Events...)
	slices.SortStableFunc(r.events, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	return r, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// shortHost is the host name syslog writes: the name up to the first dot,
// as FreeBSD's syslogd and newsyslog do.
func shortHost(name string) string {
	h, _, _ := strings.Cut(name, ".")
	return h
}

// reHardware returns RE model, serial ("serial" = generate one, "" = none)
// and DRAM for a chassis, after the real captures.
func reHardware(model string, t Topology) (reModel, serial string, dramMB int) {
	m := strings.ToLower(model)
	switch {
	case t == TopologySRXCluster || strings.HasPrefix(m, "srx"):
		return "SRX Routing Engine", "BUILTIN", 1905
	case t == TopologyEXVC || strings.HasPrefix(m, "ex"):
		// rpc/get-route-engine-information.ex2300-vc.napalm-stripped.xml
		return "RE-EX2300-24P", "BUILTIN", 1951
	case strings.HasPrefix(m, "ptx"):
		// rpc/get-route-engine-information.dual-re-ptx.pyez.xml
		return "RE-DUO-2600", "ptx", 16359
	case t == TopologySingle || strings.HasPrefix(m, "mx10003") || strings.HasPrefix(m, "mx204"):
		// vmhost REs report no serial-number (MANIFEST pitfall 7).
		return "RE-S-1600x8", "", 16339
	default:
		return "RE-S-1800x4", "serial", 32719
	}
}

// Hostname, Model, Version and Topology describe the router.
func (r *Router) Hostname() string   { return r.hostname }
func (r *Router) Model() string      { return r.model }
func (r *Router) Version() string    { return r.version }
func (r *Router) Topology() Topology { return r.topo }

// Start is the moment the simulation started; event offsets count from it.
func (r *Router) Start() time.Time { return r.start }

// ServeNETCONF answers one RPC with a whole <rpc-reply> message, shaped like
// a real Junos reply on the wire. It implements netconftest.Handler.
func (r *Router) ServeNETCONF(_ context.Context, req *netconftest.Request) []byte {
	return r.ReplyTo(req.Operation, req.MessageID, req.Body)
}

// Reply renders the reply to the RPC named op (the local name of the first
// element inside <rpc>), echoing messageID, for an RPC without arguments.
func (r *Router) Reply(op, messageID string) []byte {
	return r.ReplyTo(op, messageID, nil)
}

// ReplyTo renders the reply to an RPC whose inner XML is body
// ("<get-log><filename>messages</filename></get-log>"); the RPCs that
// take arguments (get-log, file-show, get-configuration) read them there.
func (r *Router) ReplyTo(op, messageID string, body []byte) []byte {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.advanceLocked(now)
	r.rpcCounts[op]++
	w := newReplyWriter(r.version, messageID)
	if r.rpcErrorOn != "" && op == r.rpcErrorOn {
		// The timeline has advanced as for any RPC; only the answer fails.
		renderRPCError(w, "protocol", "operation-failed", "junossim: fault rpc_error_on: <"+op+"> failed", op)
		return w.finish()
	}
	switch op {
	case "get-route-engine-information":
		r.renderRouteEngines(w, now)
	case "get-alarm-information":
		r.renderAlarms(w, devices.AlarmChassis)
	case "get-system-alarm-information":
		r.renderAlarms(w, devices.AlarmSystem)
	case "get-software-information":
		if invokesOnAllREs(body) {
			r.renderSoftwareAllREs(w)
		} else {
			r.renderSoftware(w)
		}
	case "get-routing-task-replication-state":
		r.renderReplication(w)
	case "get-system-uptime-information":
		r.renderUptime(w, now)
	case "get-log", "file-show":
		r.renderLogFile(w, op, body)
	case "file-list":
		r.renderFileList(w, body)
	case "get-configuration":
		r.renderConfiguration(w, body)
	case "get-commit-information":
		r.renderCommits(w)
	default:
		renderUnknownRPC(w, op)
	}
	return w.finish()
}

// setFaults switches the RPC-level faults (RPCErrorOn, BackupAborted) to
// f's; the session-level ones are the server's.
func (r *Router) setFaults(f Faults) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rpcErrorOn, r.backupAborted = f.RPCErrorOn, f.BackupAborted
}

// abortedOutput is the text of the real capture of an RE refusing a
// command (rpc/get-chassis-inventory.error-not-master-output.pyez.xml).
const abortedOutput = "Aborted! This command can only be used on the master routing engine."

// xnmNamespace is the namespace of <xnm:error> in the real capture
// (rpc/get-route-engine-information.error-olive-xnm-error.pyez.xml).
const xnmNamespace = "http://xml.juniper.net/xnm/1.1/xnm"

// renderAborted writes what a member that cannot be reached answers
// inside its multi-routing-engine-item, in place of the data element.
func renderAborted(w *replyWriter, shape AbortShape) {
	if shape == AbortXNMError {
		w.b.WriteString(`<xnm:error xmlns="` + xnmNamespace + `" xmlns:xnm="` + xnmNamespace + `">` + "\n")
		// The simulator's own words: no public capture shows this case.
		w.text("message", "routing engine not responding (junossim fault backup_aborted)")
		w.b.WriteString("</xnm:error>\n")
		return
	}
	w.text("output", abortedOutput)
}

// advanceLocked applies, in order, every pending event whose time has come.
// Each event takes effect at its own time, not at now, so what a poll sees
// does not depend on when it happens to look.
//
// Log lines an event leaves for later (an em0 link coming back up, a
// rebooted RE rejoining the alive set) are applied the same way, in time
// order with the events; at the same moment, what was queued first goes
// first.
//
// It returns the moment the router is now at: now, or, if another caller
// has already moved the router past it (it read the clock before waiting
// for the lock), that later moment, because a router's time never runs
// backwards and its logs stay in time order.
func (r *Router) advanceLocked(now time.Time) time.Time {
	if now.Before(r.cursor) {
		now = r.cursor
	}
	for {
		evDue := r.next < len(r.events)
		var evAt time.Time
		if evDue {
			evAt = r.start.Add(r.events[r.next].At)
			evDue = !evAt.After(now)
		}
		if len(r.pending) > 0 && !r.pending[0].at.After(now) && (!evDue || !r.pending[0].at.After(evAt)) {
			p := r.pending[0]
			r.pending = slices.Delete(r.pending, 0, 1)
			r.cursor = p.at
			p.do(p.at)
			continue
		}
		if !evDue {
			r.cursor = now
			return now
		}
		ev := r.events[r.next]
		r.next++
		r.cursor = evAt
		if err := r.applyLocked(ev, evAt); err != nil {
			r.logger.Warn("junossim: timeline event not applied", "kind", ev.Kind, "re", ev.RE, "at", ev.At, "err", err)
			continue
		}
		r.logger.Info("junossim: timeline event applied", "kind", ev.Kind, "re", ev.RE, "at", ev.At)
	}
}

// Apply applies one event now, ignoring its At.
func (r *Router) Apply(ev Event) error {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.advanceLocked(now)
	return r.applyLocked(ev, now)
}

func (r *Router) applyLocked(ev Event, at time.Time) error {
	switch ev.Kind {
	case EventSwitchover:
		return r.changeLocked(at, nil, func() error { return r.switchoverLocked(ev.RE) })
	case EventREDown:
		st, err := r.reLocked(ev.RE)
		if err != nil {
			return err
		}
		return r.changeLocked(at, nil, func() error {
			if st.IsMaster() {
				r.handOverLocked(st)
			}
			st.Status = cmp.Or(ev.Status, StatusAbsent)
			return nil
		})
	case EventREUp:
		st, err := r.reLocked(ev.RE)
		if err != nil {
			return err
		}
		return r.changeLocked(at, nil, func() error {
			st.Status = "OK"
			st.BootTime = at.Truncate(time.Second)
			// A story that means a power failure says so (reason:
			// "0x1:power cycle/failure"): that reason is hardware evidence
			// when the boot falls in a flap's window, and a plain re-up is
			// a story's "nothing explains it".
			st.LastRebootReason = cmp.Or(ev.Reason, ReasonNormal)
			st.tempC, st.cpuTempC = st.baseTemp, st.baseTemp-1
			if st.MastershipState != "" {
				// It comes back as backup unless nobody else is master.
				st.MastershipState = "master"
				if r.peerMasterLocked(st) != nil {
					st.MastershipState = "backup"
				}
			}
			return nil
		})
	case EventReboot, EventPanic:
		st, err := r.reLocked(ev.RE)
		if err != nil {
			return err
		}
		reason := cmp.Or(ev.Reason, ReasonNormal)
		if ev.Kind == EventPanic {
			// The kernel's last words come before the reboot in the file.
			r.writeLocked(at, LogMessages, r.stamp(at)+"  "+r.hostOf(st)+" /kernel: panic: "+cmp.Or(ev.Text, "page fault"))
			reason = cmp.Or(ev.Reason, ReasonPanic)
		}
		return r.changeLocked(at, st, func() error {
			if st.IsMaster() {
				r.handOverLocked(st)
			}
			st.Status = "OK"
			st.BootTime = at.Truncate(time.Second)
			st.LastRebootReason = reason
			st.tempC, st.cpuTempC = st.baseTemp, st.baseTemp-1
			return nil
		})
	case EventAlarmSet:
		a := r.alarmFrom(ev.Source, ev.Member, ev.Class, ev.Type, ev.Description, ev.ShortDescription, at)
		r.setAlarmLocked(a)
		r.alarmLinesLocked(at, a, true)
		return nil
	case EventAlarmClear:
		var cleared []devices.Alarm
		for _, a := range r.alarms {
			if a.Description == ev.Description && (ev.Source == "" || a.Source == ev.Source) && (ev.Member == "" || a.Member == ev.Member) {
				cleared = append(cleared, a)
			}
		}
		if r.clearAlarmLocked(ev.Source, ev.Member, ev.Description) == 0 {
			return fmt.Errorf("no active alarm %q", ev.Description)
		}
		for _, a := range cleared {
			r.alarmLinesLocked(at, a, false)
		}
		return nil
	case EventFRU:
		return r.fruLocked(at, ev)
	case EventInternalLinkFlap:
		r.linkFlapLocked(at, cmp.Or(ev.Interface, "em0"), cmp.Or(ev.Duration, 2*time.Second), true)
		return nil
	case EventLinkFlap:
		r.linkFlapLocked(at, cmp.Or(ev.Interface, "xe-0/0/0"), cmp.Or(ev.Duration, 5*time.Second), false)
		return nil
	case EventKeepaliveLoss:
		r.keepaliveLossLocked(at, cmp.Or(ev.Duration, 60*time.Second))
		return nil
	case EventIPCLoss:
		state := r.masterStateLocked()
		r.mastershipLocked(at, "event = E_NO_IPC, state = "+state+", param = 0x0")
		r.mastershipLocked(at, "new state = "+state)
		return nil
	case EventRDPKeepalive:
		// Verbatim from internal-link.log (an SRX3K em0 lockup).
		r.syslogLocked(at, "/kernel", "%KERN-3: rdp keepalive expired, connection dropped - src 0x0f100001:1011 dest 0x0110011c:1032")
		return nil
	case EventCoreDump:
		// No public capture shows dumpd's line; this shape is the
		// project's (devices/junos/RULES.md): daemon, core file, where it
		// went, named like the real rpd.core-tarball files.
		proc := cmp.Or(ev.Process, "rpd")
		n := r.cores[proc]
		r.cores[proc] = n + 1
		r.daemonLocked(at, "dumpd", fmt.Sprintf("Core and context for %s saved in /var/tmp/%s.core-tarball.%d.tgz", proc, proc, n))
		return nil
	case EventCommit:
		r.commitLocked(at, ev)
		return nil
	case EventRotateLogs:
		r.rotateLocked(at, cmp.Or(ev.File, LogMessages))
		return nil
	case EventClearLog:
		r.clearLocked(at, cmp.Or(ev.File, LogMessages))
		return nil
	case EventReplaceLog:
		r.replaceLocked(at, cmp.Or(ev.File, LogMessages), ev.Keep)
		return nil
	case EventRemoveLog:
		// The file and its rotated generations are gone; later lines
		// for it are not written (writeLocked finds no file).
		file := cmp.Or(ev.File, LogMessages)
		for name := range r.logs {
			if name == file || strings.HasPrefix(name, file+".") {
				delete(r.logs, name)
			}
		}
		return nil
	case EventLog:
		if len(ev.Lines) > 0 {
			return r.verbatimLocked(at, ev)
		}
		if cmp.Or(ev.File, LogMessages) == LogMastership {
			r.mastershipLocked(at, ev.Text)
		} else if ev.RE != "" {
			st, err := r.reLocked(ev.RE)
			if err != nil {
				return err
			}
			r.writeLocked(at, LogMessages, r.stamp(at)+"  "+r.hostOf(st)+" "+ev.Text)
		} else {
			r.syslogLocked(at, "", ev.Text)
		}
		return nil
	}
	return fmt.Errorf("unknown event kind %q", ev.Kind)
}

// IsMaster reports whether the RE is a present master.
func (s *reState) IsMaster() bool {
	return s.Present() && strings.EqualFold(s.MastershipState, "master")
}

func (r *Router) reLocked(name string) (*reState, error) {
	for _, st := range r.res {
		if st.Name == name {
			return st, nil
		}
	}
	return nil, fmt.Errorf("router %s has no RE %q", r.hostname, name)
}

// peersLocked returns the other REs of st's pair (same VC member, or the
// whole chassis of a dual-RE router).
func (r *Router) peersLocked(st *reState) []*reState {
	var out []*reState
	for _, o := range r.res {
		if o != st && o.Member == st.Member && o.MastershipState != "" {
			out = append(out, o)
		}
	}
	return out
}

func (r *Router) peerMasterLocked(st *reState) *reState {
	for _, o := range r.peersLocked(st) {
		if o.IsMaster() {
			return o
		}
	}
	return nil
}

// handOverLocked makes a present peer of master st the master and st the
// backup, as graceful switchover does when the master reboots or dies. With
// no peer, st keeps its state.
func (r *Router) handOverLocked(st *reState) bool {
	for _, o := range r.peersLocked(st) {
		if o.Present() && !strings.EqualFold(o.Status, "failed") {
			o.MastershipState = "master"
			st.MastershipState = "backup"
			return true
		}
	}
	return false
}

func (r *Router) switchoverLocked(name string) error {
	var master *reState
	if name == "" {
		for _, st := range r.res {
			if st.IsMaster() {
				master = st
				break
			}
		}
		if master == nil {
			return fmt.Errorf("router %s has no master RE", r.hostname)
		}
	} else {
		st, err := r.reLocked(name)
		if err != nil {
			return err
		}
		if st.MastershipState == "" {
			return fmt.Errorf("router %s: RE %s has no mastership to switch", r.hostname, name)
		}
		master = st
		if !st.IsMaster() {
			master = r.peerMasterLocked(st)
		}
		if master == nil {
			return fmt.Errorf("router %s: no master RE paired with %s", r.hostname, name)
		}
	}
	if !r.handOverLocked(master) {
		return fmt.Errorf("router %s: no backup RE to take over from %s", r.hostname, master.Name)
	}
	return nil
}

// Switchover swaps master and backup of the pair re belongs to (empty: the
// first master's pair), as "request chassis routing-engine master switch".
func (r *Router) Switchover(re string) error {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.advanceLocked(now)
	return r.changeLocked(now, nil, func() error { return r.switchoverLocked(re) })
}

// REs returns the state of every RE, absent ones included, in reply order.
func (r *Router) REs() []REState {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now)
	out := make([]REState, len(r.res))
	for i, st := range r.res {
		out[i] = st.REState
	}
	return out
}

// RE returns the state of one RE.
func (r *Router) RE(name string) (REState, bool) {
	for _, st := range r.REs() {
		if st.Name == name {
			return st, true
		}
	}
	return REState{}, false
}

// SetREState replaces the changeable fields of an RE (MastershipState,
// Status, LastRebootReason, and BootTime unless zero). Read-modify-write
// with RE: st, _ := r.RE("re1"); st.Status = StatusAbsent; r.SetREState(...).
func (r *Router) SetREState(name string, s REState) error {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.advanceLocked(now)
	st, err := r.reLocked(name)
	if err != nil {
		return err
	}
	return r.changeLocked(now, nil, func() error {
		st.MastershipState = s.MastershipState
		st.Status = s.Status
		st.LastRebootReason = s.LastRebootReason
		if !s.BootTime.IsZero() {
			st.BootTime = s.BootTime
		}
		return nil
	})
}

// Alarms returns the active alarms, newest first, as the device lists them.
func (r *Router) Alarms() []devices.Alarm {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advanceLocked(now)
	return slices.Clone(r.alarms)
}

// SetAlarm raises an alarm, or replaces the one with the same source,
// member and description. A zero Source means chassis, a zero Time now;
// Member defaults to the first member on multi-member routers.
func (r *Router) SetAlarm(a devices.Alarm) {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.advanceLocked(now)
	if a.Time.IsZero() {
		a.Time = now
	}
	a = r.alarmFrom(a.Source, a.Member, a.Class, a.Type, a.Description, a.ShortDescription, a.Time)
	r.setAlarmLocked(a)
	// The lines go in at the alarm's time unless that would put them
	// before lines already written: a log file is in time order.
	at := a.Time
	if at.Before(r.logs[LogMessages].modTime) || at.After(now) {
		at = now
	}
	r.alarmLinesLocked(at, a, true)
}

// ClearAlarm clears the alarms with this description (and source, unless
// empty) and returns how many it cleared.
func (r *Router) ClearAlarm(src devices.AlarmSource, description string) int {
	now := r.clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	now = r.advanceLocked(now)
	for _, a := range r.alarms {
		if a.Description == description && (src == "" || a.Source == src) {
			r.alarmLinesLocked(now, a, false)
		}
	}
	return r.clearAlarmLocked(src, "", description)
}

func (r *Router) alarmFrom(src devices.AlarmSource, member, class, typ, desc, short string, at time.Time) devices.Alarm {
	if src == "" {
		src = devices.AlarmChassis
	}
	if ms := members(r.topo); ms != nil && member == "" {
		member = ms[0]
	}
	if members(r.topo) == nil {
		member = ""
	}
	if short == "" {
		short = shortDescription(desc)
	}
	return devices.Alarm{Source: src, Member: member, Time: at.Truncate(time.Second),
		Class: class, Type: typ, Description: desc, ShortDescription: short}
}

// shortDescription stands in for Junos' abbreviated alarm name, which is
// at most 20 characters ("PEM 0 No Power", "autorecovery-save-r").
func shortDescription(desc string) string {
	if len(desc) <= 20 {
		return desc
	}
	return strings.TrimSpace(desc[:20])
}

func (r *Router) setAlarmLocked(a devices.Alarm) {
	r.clearAlarmLocked(a.Source, a.Member, a.Description)
	r.alarms = append(r.alarms, a)
	// Junos lists the newest alarm first.
	slices.SortStableFunc(r.alarms, func(x, y devices.Alarm) int { return y.Time.Compare(x.Time) })
}

func (r *Router) clearAlarmLocked(src devices.AlarmSource, member, desc string) int {
	n := len(r.alarms)
	r.alarms = slices.DeleteFunc(r.alarms, func(a devices.Alarm) bool {
		return a.Description == desc && (src == "" || a.Source == src) && (member == "" || a.Member == member)
	})
	return n - len(r.alarms)
}

// detRand is a small deterministic generator keyed by device name and
// seed, so that a router looks the same however the fleet is ordered.
type detRand struct{ x uint64 }

func newDetRand(name string, seed int64) *detRand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &detRand{x: h.Sum64() ^ uint64(seed)*0x9e3779b97f4a7c15 | 1}
}

func (d *detRand) intn(n int) int {
	// splitmix64
	d.x += 0x9e3779b97f4a7c15
	z := d.x
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(n))
}

// keepsMastershipLog is Device.MastershipLog with its platform default:
// an SRX chassis cluster has no /var/log/mastership, everything else has.
func keepsMastershipLog(d Device) bool {
	if d.MastershipLog != nil {
		return *d.MastershipLog
	}
	return d.Topology != TopologySRXCluster
}
