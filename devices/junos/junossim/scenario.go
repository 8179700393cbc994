package junossim

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices/strictyaml"

	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices"
)

// Topology names how a router's Routing Engines are arranged.
type Topology string

const (
	// TopologySingle is one RE with no slot or mastership elements, like an
	// MX204 or MX80 (MANIFEST pitfall 7).
	TopologySingle Topology = "single"
	// TopologyDual is re0 and re1 in a plain reply.
	TopologyDual Topology = "dual"
	// TopologyMXVC is an MX Virtual Chassis: member0 and member1 with two
	// REs each, wrapped in multi-routing-engine-results.
	TopologyMXVC Topology = "mx-vc"
	// TopologySRXCluster is an SRX chassis cluster: node0 and node1, one RE
	// each, with no slot and no mastership-state, as the real capture.
	TopologySRXCluster Topology = "srx-cluster"
	// TopologyEXVC is an EX Virtual Chassis: its master and backup
	// members' REs answer in one plain reply with slot 0 and 1, master and
	// backup, RE-EX2300-24P with serial BUILTIN and last reboot reason
	// "0x1:power cycle/failure", as the real capture
	// (rpc/get-route-engine-information.ex2300-vc.napalm-stripped.xml). It
	// fails over as a dual-RE router does.
	TopologyEXVC Topology = "ex-vc"
)

// pairOfREs reports whether t is one master and one backup in a plain
// reply: a dual-RE chassis or an EX Virtual Chassis.
func (t Topology) pairOfREs() bool { return t == TopologyDual || t == TopologyEXVC }

// Scenario is a simulated fleet: defaults plus one entry per router. See the
// package documentation for the YAML form.
type Scenario struct {
	// Seed varies the generated details (up-times, serial numbers) so that
	// two fleets with the same names need not look identical.
	Seed int64 `yaml:"seed,omitempty"`
	// StartTime is the instant a test should start its fake clock at, so
	// that log timestamps (which carry no year) are the same every run and
	// a scenario can cross midnight or the new year on purpose. Zero: the
	// test picks. The simulator itself starts at whatever its clock says.
	StartTime time.Time `yaml:"start_time,omitempty"`
	// Polls are the simulated offsets from the start at which a test
	// audits the fleet; Device.Expect is what the audits should have found
	// by the last of them.
	Polls []time.Duration `yaml:"polls,omitempty,flow"`
	// Pending names the agent feature a labelled story waits for ("the
	// switchover ledger"): the corpus test still runs it and shows its
	// result, but does not fail on it. The simulator does not use it.
	Pending  string   `yaml:"pending,omitempty"`
	Defaults Defaults `yaml:"defaults,omitempty"`
	Devices  []Device `yaml:"devices"`
}

// Defaults apply to every device that leaves the field empty. Faults and
// Tags are replaced as a whole, not merged, when a device sets them.
type Defaults struct {
	Model    string   `yaml:"model,omitempty"`
	Version  string   `yaml:"version,omitempty"`
	Topology Topology `yaml:"topology,omitempty"`
	Framing  string   `yaml:"framing,omitempty"`
	Timezone string   `yaml:"timezone,omitempty"`
	Site     string   `yaml:"site,omitempty"`
	Tags     []string `yaml:"tags,omitempty,flow"`
	Faults   *Faults  `yaml:"faults,omitempty"`
	// Redundancy, AliveSetLog and LogMaxLines are merged into each device's
	// own: Redundancy field by field, the others when the device leaves
	// them unset.
	Redundancy  *RedundancySpec `yaml:"redundancy,omitempty"`
	AliveSetLog *bool           `yaml:"alive_set_log,omitempty"`
	LogMaxLines int             `yaml:"log_max_lines,omitempty"`
	REHostnames *bool           `yaml:"re_hostnames,omitempty"`
}

// Device is one simulated router in a scenario.
type Device struct {
	Name     string   `yaml:"name"`
	Model    string   `yaml:"model,omitempty"`   // "mx960", "mx204", "srx4600", ...
	Version  string   `yaml:"version,omitempty"` // "21.4R3-S5.4"
	Topology Topology `yaml:"topology,omitempty"`
	// Framing is "1.0" (end-of-message ]]>]]>) or "1.1" (chunked).
	Framing string `yaml:"framing,omitempty"`
	// Timezone is an IANA zone for the text of start-time and alarm-time,
	// because real replies carry local abbreviations (PST, CET, MSK).
	Timezone string `yaml:"timezone,omitempty"`
	// Clock is the router's own clock: off the true time, stepping,
	// changing zone (issue 19; ClockSpec). nil: the true time in Timezone.
	Clock    *ClockSpec        `yaml:"clock,omitempty"`
	Site     string            `yaml:"site,omitempty"`
	Tags     []string          `yaml:"tags,omitempty,flow"`
	REStates map[string]RESpec `yaml:"re_states,omitempty"`
	Alarms   []AlarmSpec       `yaml:"alarms,omitempty"`
	Events   []Event           `yaml:"events,omitempty"`
	Faults   *Faults           `yaml:"faults,omitempty"`
	// Redundancy is the router's RE redundancy configuration, field by
	// field over the scenario defaults, over the built-in defaults (all
	// on, keepalive-time 300 s, for dual and mx-vc; all off for single and
	// srx-cluster).
	Redundancy *RedundancySpec `yaml:"redundancy,omitempty"`
	// AliveSetLog turns the project's own "mcontrol_ore_alive_set" lines
	// in /var/log/messages on or off (default on), so tests can prove
	// that correlation works without them: no public capture shows that
	// tag, and real routers may never write it.
	AliveSetLog *bool `yaml:"alive_set_log,omitempty"`
	// LogMaxLines caps each log file; the oldest lines go first. Zero
	// means DefaultLogMaxLines.
	LogMaxLines int `yaml:"log_max_lines,omitempty"`
	// LogFillBytes fills /var/log/messages at the start with routine
	// lines (cron, sshd) up to about this many bytes, as a busy router's
	// file is: real ones are configured for 1–10 MB. The cap on lines is
	// raised to hold them. Zero: no filling. (Issue 17: router cost.)
	LogFillBytes int `yaml:"log_fill_bytes,omitempty"`
	// MastershipLog says whether the router keeps /var/log/mastership.
	// nil means the platform's default: every topology but srx-cluster,
	// whose failover is chassis-cluster redundancy groups and which has
	// no such file (get-log answers "could not resolve file").
	MastershipLog *bool `yaml:"mastership_log,omitempty"`
	// SyslogArchive is the router's "system syslog archive" permission:
	// "no-world-readable" (the Junos default, and the simulator's) lets
	// only root and users with the maintenance permission read the
	// turned-over files (messages.0.gz), so get-log and file-show of one
	// answer an rpc-error; "world-readable" lets every user read them.
	// The live files are readable either way.
	SyslogArchive string `yaml:"syslog_archive,omitempty"`
	// ArchiveRefusal is how a refused archive is answered: "access-denied"
	// (default: an rpc-error access-denied, "Permission denied") or
	// "could-not-resolve" (Junos's words for a missing file, "could not
	// resolve file: NAME"). No public capture shows which one Junos uses,
	// so the agent must tell a refused archive from a missing one either
	// way (by listing it).
	ArchiveRefusal string `yaml:"archive_refusal,omitempty"`
	// REHostnames gives each RE its own syslog host name, "<re>-<name>"
	// (re1-ams1-mx960-1), as operators do with "groups re0 system
	// host-name" (re0-abc, jtac-mx480-r2014-re0 in the samples), so a line
	// tells which RE wrote it: daemon lines the master, a kernel panic the
	// RE that panicked. Default off: every line carries the router's name.
	REHostnames *bool `yaml:"re_hostnames,omitempty"`
	// Maintenance windows go into the inventory the fleet writes, as the
	// device's maintenance: list.
	Maintenance []MaintenanceWindow `yaml:"maintenance,omitempty"`
	// Silences are ad-hoc maintenance windows an operator sets with
	// "mastership silence" during the story; the simulator does not use
	// them, a test runs the command at their time.
	Silences []Silence `yaml:"silences,omitempty"`
	// --- switchover readiness (issue 16); see readiness.go ---
	// REVersions gives REs their own Junos release ("re1: 21.4R3-S5.4"),
	// a backup left behind by an upgrade; the others run Version. Only
	// "show version invoke-on all-routing-engines" shows it.
	REVersions map[string]string `yaml:"re_versions,omitempty"`
	// Replication is the protocol part of "show task replication".
	Replication *ReplicationSpec `yaml:"replication,omitempty"`
	// --- end of switchover readiness ---

	// Expect is what the agent's audits should find on this router by the
	// last of the scenario's polls: one entry per finding, or an empty
	// list for a router with none. The simulator does not use it.
	Expect []Expectation `yaml:"expect,omitempty"`
	// State is the Nagios state (OK, WARNING, CRITICAL, UNKNOWN) the
	// agent should judge the router to be in at the last poll; empty: the
	// story does not say. The simulator does not use it.
	State string `yaml:"state,omitempty"`
}

// MaintenanceWindow is one inventory maintenance window: a cron spec
// (with an optional CRON_TZ= prefix) and a duration, or a from/until
// pair.
type MaintenanceWindow struct {
	Cron     string        `yaml:"cron,omitempty"`
	Duration time.Duration `yaml:"duration,omitempty"`
	From     time.Time     `yaml:"from,omitempty"`
	Until    time.Time     `yaml:"until,omitempty"`
}

// Silence is an ad-hoc window set At (from the start of the simulation)
// For a while, with the operator's Reason.
type Silence struct {
	At     time.Duration `yaml:"at"`
	For    time.Duration `yaml:"for"`
	Reason string        `yaml:"reason"`
}

// States are the Nagios state words Device.State takes.
func States() []string { return []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"} }

// DefaultLogMaxLines is the default cap on the lines of each log file.
const DefaultLogMaxLines = 5000

// Expectation is one finding a test expects the agent to report.
type Expectation struct {
	RE       string           `yaml:"re"`
	Cause    devices.Cause    `yaml:"cause"`
	Severity devices.Severity `yaml:"severity"`
	// Maintenance: the finding falls in a maintenance window and is
	// marked so.
	Maintenance bool `yaml:"maintenance,omitempty"`
}

// RedundancySpec is the part of the configuration that decides how the
// REs fail over, as the scenario gives it: a field left out keeps the
// value underneath (scenario defaults, then the built-in ones), so a
// device or a commit can change one knob.
type RedundancySpec struct {
	// GracefulSwitchover is chassis redundancy graceful-switchover.
	GracefulSwitchover *bool `yaml:"graceful_switchover,omitempty"`
	// KeepaliveTime is chassis redundancy keepalive-time; 0 leaves the
	// statement out of the configuration.
	KeepaliveTime *time.Duration `yaml:"keepalive_time,omitempty"`
	// FailoverOnLossOfKeepalives and FailoverOnDiskFailure are the chassis
	// redundancy failover knobs.
	FailoverOnLossOfKeepalives *bool `yaml:"failover_on_loss_of_keepalives,omitempty"`
	FailoverOnDiskFailure      *bool `yaml:"failover_on_disk_failure,omitempty"`
	// CommitSynchronize is system commit synchronize.
	CommitSynchronize *bool `yaml:"commit_synchronize,omitempty"`
	// NonstopRouting is routing-options nonstop-routing.
	NonstopRouting *bool `yaml:"nonstop_routing,omitempty"`
}

// over returns s's fields laid over base's.
func (s *RedundancySpec) over(base *RedundancySpec) *RedundancySpec {
	if s == nil {
		return base
	}
	if base == nil {
		c := *s
		return &c
	}
	out := *base
	for _, f := range []struct{ dst, src **bool }{
		{&out.GracefulSwitchover, &s.GracefulSwitchover},
		{&out.FailoverOnLossOfKeepalives, &s.FailoverOnLossOfKeepalives},
		{&out.FailoverOnDiskFailure, &s.FailoverOnDiskFailure},
		{&out.CommitSynchronize, &s.CommitSynchronize},
		{&out.NonstopRouting, &s.NonstopRouting},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if s.KeepaliveTime != nil {
		out.KeepaliveTime = s.KeepaliveTime
	}
	return &out
}

// apply lays s over a resolved configuration.
func (s *RedundancySpec) apply(c devices.RedundancyConfig) devices.RedundancyConfig {
	if s == nil {
		return c
	}
	set := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	set(&c.GracefulSwitchover, s.GracefulSwitchover)
	set(&c.FailoverOnLossOfKeepalives, s.FailoverOnLossOfKeepalives)
	set(&c.FailoverOnDiskFailure, s.FailoverOnDiskFailure)
	set(&c.CommitSynchronize, s.CommitSynchronize)
	set(&c.NonstopRouting, s.NonstopRouting)
	if s.KeepaliveTime != nil {
		c.KeepaliveTime = *s.KeepaliveTime
	}
	return c
}

// RESpec overrides the initial state of one Routing Engine, keyed by its
// name (re0, re1, member1-re0, node1).
type RESpec struct {
	// Status is rendered as given ("OK", "Testing", "Failed"), except
	// "absent", which leaves the RE out of the reply altogether.
	Status string `yaml:"status,omitempty"`
	// MastershipState is rendered as given: "master", "backup", "Present".
	MastershipState string `yaml:"mastership_state,omitempty"`
	// UpTime is the RE's up-time when the simulation starts.
	UpTime           time.Duration `yaml:"up_time,omitempty"`
	LastRebootReason string        `yaml:"last_reboot_reason,omitempty"`
}

// AlarmSpec is an alarm active from SetAfter on.
type AlarmSpec struct {
	// Source is the RPC that reports the alarm: chassis (default) or system.
	Source devices.AlarmSource `yaml:"source,omitempty"`
	// Member is the multi-routing-engine item (member0, node1) that reports
	// it; empty means the first member. Ignored for single and dual.
	Member           string `yaml:"member,omitempty"`
	Class            string `yaml:"class"` // Major, Minor
	Type             string `yaml:"type"`  // Chassis, Configuration, System, ...
	Description      string `yaml:"description"`
	ShortDescription string `yaml:"short_description,omitempty"`
	// SetAfter is when the alarm is raised, from the start of the
	// simulation. Zero or negative means active from the start, with an
	// alarm-time that many seconds before it.
	SetAfter time.Duration `yaml:"set_after,omitempty"`
}

// EventKind is what a timeline event does.
type EventKind string

const (
	EventSwitchover EventKind = "switchover"  // master and backup of re's pair swap
	EventREDown     EventKind = "re-down"     // re goes away (absent, or Status)
	EventREUp       EventKind = "re-up"       // re comes back, freshly booted
	EventReboot     EventKind = "reboot"      // re reboots; a master hands over first
	EventAlarmSet   EventKind = "alarm-set"   // raise the alarm described
	EventAlarmClear EventKind = "alarm-clear" // clear alarms with Description
	// Evidence and noise: these write log lines and, apart from panic
	// (a reboot) and commit (the configuration), change no state.
	EventPanic            EventKind = "panic"              // kernel panic line, then re reboots
	EventFRU              EventKind = "fru"                // chassisd FRU and RE temperature lines
	EventInternalLinkFlap EventKind = "internal-link-flap" // em0 down, up again after Duration
	EventKeepaliveLoss    EventKind = "keepalive-loss"     // mastership keepalive-loss lines for Duration
	EventIPCLoss          EventKind = "ipc-loss"           // E_NO_IPC in the mastership log
	EventRDPKeepalive     EventKind = "rdp-keepalive"      // kernel rdp keepalive expired
	EventCoreDump         EventKind = "core-dump"          // dumpd saved a core of Process
	EventCommit           EventKind = "commit"             // UI_COMMIT lines; may change Redundancy
	EventLinkFlap         EventKind = "link-flap"          // revenue port down, up again after Duration
	EventRotateLogs       EventKind = "rotate-logs"        // newsyslog turns File over
	EventClearLog         EventKind = "clear-log"          // clear log File
	EventRemoveLog        EventKind = "remove-log"         // File is deleted: get-log no longer finds it
	EventReplaceLog       EventKind = "replace-log"        // File is replaced by its first Keep lines
	EventLog              EventKind = "log"                // write Text to File as is
)

var eventKinds = []EventKind{EventSwitchover, EventREDown, EventREUp, EventReboot, EventAlarmSet, EventAlarmClear,
	EventPanic, EventFRU, EventInternalLinkFlap, EventKeepaliveLoss, EventIPCLoss, EventRDPKeepalive,
	EventCoreDump, EventCommit, EventLinkFlap, EventRotateLogs, EventClearLog, EventRemoveLog, EventReplaceLog, EventLog}

// Log file names, as get-log takes them; file-show wants them under
// /var/log/.
const (
	LogMessages   = "messages"
	LogMastership = "mastership"
)

// Values of Device.SyslogArchive, as the Junos statements are spelled.
const (
	ArchiveWorldReadable   = "world-readable"
	ArchiveNoWorldReadable = "no-world-readable"
)

// Values of Device.ArchiveRefusal.
const (
	RefuseAccessDenied    = "access-denied"
	RefuseCouldNotResolve = "could-not-resolve"
)

// FRU actions of a fru event.
var fruActions = []string{"offline", "online", "power-off", "power-on", "removal", "insertion",
	"warm-temp", "over-temp", "shutdown"}

// Event is one state change at a moment of the simulation.
type Event struct {
	// At is the offset from the start of the simulation. A negative offset
	// is a story that happened before the simulation started: it is
	// applied, at its own time, on the first look at the router.
	At   time.Duration `yaml:"at"`
	Kind EventKind     `yaml:"kind"`
	// RE names the Routing Engine for switchover (either RE of the pair;
	// empty: the pair of the first master), re-down, re-up and reboot.
	RE string `yaml:"re,omitempty"`
	// Reason is the new last-reboot-reason for reboot and re-up.
	Reason string `yaml:"reason,omitempty"`
	// Status is what re-down leaves behind: "absent" (default: missing from
	// the reply) or a status to render, such as "Failed".
	Status string `yaml:"status,omitempty"`
	// Alarm fields, for alarm-set and alarm-clear (which matches on
	// Description, and on Source and Member when given).
	Source           devices.AlarmSource `yaml:"source,omitempty"`
	Member           string              `yaml:"member,omitempty"`
	Class            string              `yaml:"class,omitempty"`
	Type             string              `yaml:"type,omitempty"`
	Description      string              `yaml:"description,omitempty"`
	ShortDescription string              `yaml:"short_description,omitempty"`

	// Keep is how many of its first lines replace-log leaves in the file:
	// an older, shorter copy of it put in its place (a restored backup),
	// which starts with the same line. At least 1, and only for
	// replace-log.
	Keep int `yaml:"keep,omitempty"`
	// File is the log for rotate-logs, clear-log, replace-log and log: messages
	// (default) or mastership.
	File string `yaml:"file,omitempty"`
	// Interface is the port of link-flap (default xe-0/0/0) and
	// internal-link-flap (default em0).
	Interface string `yaml:"interface,omitempty"`
	// Duration is how long a link stays down (default 5s; 2s for em0) or
	// keepalives stay lost (default 60s, a line every 20s).
	Duration time.Duration `yaml:"duration,omitempty"`
	// FRU names the unit of a fru event: "PEM 1", "FPC 3", "Fan Tray 0",
	// "CB 0", "RE 1" (Member picks the VC member); Action is one of
	// offline (default), online, power-off, power-on, removal, insertion,
	// and for an RE warm-temp, over-temp, shutdown; Celsius is the RE's
	// temperature for those, shown in the RE table from then on.
	FRU     string `yaml:"fru,omitempty"`
	Action  string `yaml:"action,omitempty"`
	Celsius int    `yaml:"celsius,omitempty"`
	// Process is the daemon whose core core-dump saves (default rpd).
	Process string `yaml:"process,omitempty"`
	// Text is the panic message (default "page fault"), a fru offline
	// reason (default "Error"), or the line a log event writes after the
	// timestamp and host ("rpd[1234]: RPD_...: ..."; the whole text after
	// the timestamp for the mastership file).
	Text string `yaml:"text,omitempty"`
	// User and Comment are the commit's (default 'luke', as in the real
	// sample, and "none", as Junos writes a commit without a comment).
	User    string `yaml:"user,omitempty"`
	Comment string `yaml:"comment,omitempty"`
	// Lines are whole lines quoted from real logs, timestamp and host
	// included, for a log event: the first is written at At, each later
	// one as much after it as its own timestamp says, with the router's
	// time and host name in place of the sample's and everything else as
	// it was (a syslog <PRI> prefix, which files do not carry, is
	// dropped). See VerbatimLine.
	Lines []string `yaml:"lines,omitempty"`
	// Cite names the documentation a log event's line shape comes from,
	// for a line the samples hold no example of.
	Cite string `yaml:"cite,omitempty"`
	// Redundancy is what a commit changes, field by field.
	Redundancy *RedundancySpec `yaml:"redundancy,omitempty"`
}

// Faults make a device misbehave the way real networks do. The package
// documentation lists them with the outcome the agent should classify.
type Faults struct {
	// Refuse: nothing listens on the device's port; connects get
	// ECONNREFUSED.
	Refuse bool `yaml:"refuse,omitempty"`
	// RejectAuth: SSH authentication always fails.
	RejectAuth bool `yaml:"reject_auth,omitempty"`
	// WrongHostKey: the written known_hosts holds a different key from the
	// one the server presents, as after an RE replacement.
	WrongHostKey bool `yaml:"wrong_host_key,omitempty"`
	// SilentAfterAccept: TCP accepts but SSH never starts.
	SilentAfterAccept bool `yaml:"silent_after_accept,omitempty"`
	// StallAfterHandshake: SSH and authentication complete and the netconf
	// subsystem starts, but the router never sends its hello.
	StallAfterHandshake bool `yaml:"stall_after_handshake,omitempty"`
	// HangAfterHello: the server sends its hello and then never answers.
	HangAfterHello bool `yaml:"hang_after_hello,omitempty"`
	// StallMidReply: replies stop half way.
	StallMidReply bool `yaml:"stall_mid_reply,omitempty"`
	// ResetMidReply: half of the first reply is written, then the TCP
	// connection is reset (RST).
	ResetMidReply bool `yaml:"reset_mid_reply,omitempty"`
	// Drip writes every reply one byte per Drip (drip: 1s).
	Drip time.Duration `yaml:"drip,omitempty"`
	// SplitDelimiter writes every reply in writes of 1 to 3 bytes, so the
	// framing delimiters are split across SSH packets.
	SplitDelimiter bool `yaml:"split_delimiter,omitempty"`
	// MalformedXML: replies are not well-formed XML.
	MalformedXML bool `yaml:"malformed_xml,omitempty"`
	// InvalidUTF8: replies carry bytes that are not UTF-8 in their text.
	InvalidUTF8 bool `yaml:"invalid_utf8,omitempty"`
	// WrongMessageID: replies carry another message-id than the request.
	WrongMessageID bool `yaml:"wrong_message_id,omitempty"`
	// HugeReply answers every RPC with a reply of that size, generated as
	// it is sent (huge_reply: 200MB, or a number of bytes; true means
	// DefaultHugeReply).
	HugeReply ByteSize `yaml:"huge_reply,omitempty"`
	// Loss is the probability (0 to 1) that a reply is never sent. Which
	// replies are lost depends only on the scenario seed, the device name
	// and the session's number on the device, so a test sees the same
	// losses every run.
	Loss float64 `yaml:"loss,omitempty"`
	// Latency delays every reply.
	Latency time.Duration `yaml:"latency,omitempty"`
	// RTT is a WAN link's added round-trip time (rtt: 50ms): every
	// message in both directions, the SSH handshake included, is delayed
	// by half of it each way.
	RTT time.Duration `yaml:"rtt,omitempty"`
	// RPCErrorOn names one RPC (get-alarm-information) that answers with
	// an <rpc-error>; the others answer as usual.
	RPCErrorOn string `yaml:"rpc_error_on,omitempty"`
	// BackupAborted makes every multi-routing-engine reply (mx-vc,
	// srx-cluster) answer for the members after the first with an error
	// instead of data, as when the master cannot reach the backup member:
	// "output" (or true) the <output>Aborted! …</output> of the real
	// sample, "xnm-error" an <xnm:error>.
	BackupAborted AbortShape `yaml:"backup_aborted,omitempty"`
}

// DefaultHugeReply is the size of the reply huge_reply: true asks for.
const DefaultHugeReply ByteSize = 200_000_000

// ByteSize is a size in bytes. In YAML it is a number of bytes or a
// string with a unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024), as "200MB" or "1.5 GiB"; true means DefaultHugeReply
// and false zero.
type ByteSize int64

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

// ParseByteSize parses "200MB", "64MiB", "1.5 GB" or "4096".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	unit, ok := byteUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	n, err := strconv.ParseFloat(t[:i], 64)
	if !ok || err != nil || i == 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes or one with a unit (KB, MB, GB, KiB, MiB, GiB)", s)
	}
	v := n * unit
	if v >= 1<<62 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return ByteSize(v), nil
}

// UnmarshalYAML reads a number, a string with a unit, or a boolean.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size such as 200MB", n.Line)
	}
	switch n.ShortTag() {
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return err
		}
		*b = 0
		if v {
			*b = DefaultHugeReply
		}
		return nil
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return err
		}
		*b = ByteSize(v)
		return nil
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// AbortShape is how BackupAborted has a member answer.
type AbortShape string

const (
	// AbortOutput is the reply of a Junos RE asked what only the master
	// answers, verbatim from the real capture
	// (rpc/get-chassis-inventory.error-not-master-output.pyez.xml):
	// <output>Aborted! This command can only be used on the master
	// routing engine.</output>.
	AbortOutput AbortShape = "output"
	// AbortXNMError is the <xnm:error> element of the real capture
	// (rpc/get-route-engine-information.error-olive-xnm-error.pyez.xml):
	// namespaces, <source-daemon> and <message>. The message is the
	// simulator's own: no public capture shows what Junos says for a member
	// it cannot reach.
	AbortXNMError AbortShape = "xnm-error"
)

// UnmarshalYAML accepts true (AbortOutput), false, "output" and
// "xnm-error".
func (a *AbortShape) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: backup_aborted: want true, output or xnm-error", n.Line)
	}
	if n.ShortTag() == "!!bool" {
		var v bool
		if err := n.Decode(&v); err != nil {
			return err
		}
		*a = ""
		if v {
			*a = AbortOutput
		}
		return nil
	}
	*a = AbortShape(n.Value)
	return nil
}

// validate reports what is wrong with the faults of a device of topology
// t; path prefixes the field names.
func (f *Faults) validate(path string, t Topology, bad func(path, format string, args ...any)) {
	if f == nil {
		return
	}
	if f.Latency < 0 {
		bad(path+".latency", "negative latency")
	}
	if f.RTT < 0 {
		bad(path+".rtt", "negative round-trip time")
	}
	if f.Drip < 0 {
		bad(path+".drip", "negative drip interval")
	}
	if f.HugeReply < 0 {
		bad(path+".huge_reply", "negative huge_reply size")
	}
	if !(f.Loss >= 0 && f.Loss <= 1) { // also NaN
		bad(path+".loss", "loss %v: want a probability from 0 to 1", f.Loss)
	}
	if f.RPCErrorOn != "" && !rpcName.MatchString(f.RPCErrorOn) {
		bad(path+".rpc_error_on", "rpc_error_on %q: want an RPC name such as get-alarm-information", f.RPCErrorOn)
	}
	switch f.BackupAborted {
	case "":
	case AbortOutput, AbortXNMError:
		if members(t) == nil {
			bad(path+".backup_aborted", "backup_aborted needs a multi-member router (mx-vc, srx-cluster): a %s router answers for all its REs from the master, in one reply without members", t)
		}
	default:
		bad(path+".backup_aborted", "backup_aborted %q: want true, output or xnm-error", f.BackupAborted)
	}
}

// rpcName is the shape of a Junos RPC element name.
var rpcName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,80}$`)

// Names of the REs of each topology, in reply order.
func reNames(t Topology) []string {
	switch t {
	case TopologySingle:
		return []string{"re0"}
	case TopologyDual, TopologyEXVC:
		return []string{"re0", "re1"}
	case TopologyMXVC:
		return []string{"member0-re0", "member0-re1", "member1-re0", "member1-re1"}
	case TopologySRXCluster:
		return []string{"node0", "node1"}
	}
	return nil
}

// members returns the multi-routing-engine item names, or nil for a plain
// reply.
func members(t Topology) []string {
	switch t {
	case TopologyMXVC:
		return []string{"member0", "member1"}
	case TopologySRXCluster:
		return []string{"node0", "node1"}
	}
	return nil
}

// ExpectedREs is the number of Routing Engines a healthy router of the
// topology has; it goes into the inventory as expected_res.
func (t Topology) ExpectedREs() int { return len(reNames(t)) }

// Valid reports whether t is one of the known topologies.
func (t Topology) Valid() bool { return len(reNames(t)) > 0 }

// defaultModel is the chassis a topology gets when the scenario names none.
func defaultModel(t Topology) string {
	switch t {
	case TopologySingle:
		return "mx204"
	case TopologySRXCluster:
		return "srx4600"
	case TopologyEXVC:
		return "ex2300-24p"
	}
	return "mx960"
}

// DefaultVersion is the Junos release of devices that name none.
const DefaultVersion = "21.4R3-S5.4"

// withDefaults returns the device with the scenario defaults and built-in
// defaults filled in.
func (d Device) withDefaults(def Defaults) Device {
	pick := func(v, dv string) string {
		if v != "" {
			return v
		}
		return dv
	}
	d.Topology = Topology(pick(string(d.Topology), string(def.Topology)))
	if d.Topology == "" {
		d.Topology = TopologyDual
	}
	d.Model = pick(d.Model, pick(def.Model, defaultModel(d.Topology)))
	d.Version = pick(d.Version, pick(def.Version, DefaultVersion))
	d.Framing = pick(d.Framing, pick(def.Framing, "1.0"))
	d.Timezone = pick(d.Timezone, def.Timezone)
	d.Site = pick(d.Site, def.Site)
	if d.Tags == nil {
		d.Tags = slices.Clone(def.Tags)
	}
	if d.Faults == nil && def.Faults != nil {
		f := *def.Faults
		d.Faults = &f
	}
	d.Redundancy = d.Redundancy.over(def.Redundancy)
	if d.AliveSetLog == nil && def.AliveSetLog != nil {
		v := *def.AliveSetLog
		d.AliveSetLog = &v
	}
	if d.LogMaxLines == 0 {
		d.LogMaxLines = def.LogMaxLines
	}
	if d.REHostnames == nil && def.REHostnames != nil {
		v := *def.REHostnames
		d.REHostnames = &v
	}
	return d
}

// Resolved returns the devices with defaults applied, after validating the
// scenario.
func (sc Scenario) Resolved() ([]Device, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	out := make([]Device, len(sc.Devices))
	for i, d := range sc.Devices {
		out[i] = d.withDefaults(sc.Defaults)
	}
	return out, nil
}

// Validate checks the scenario; errors name the device and field.
func (sc Scenario) Validate() error {
	return sc.validate(func(path string) string { return path })
}

// namePattern keeps device names usable as inventory names, file names and
// log fields.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// validate checks the scenario. where turns a path such as
// "devices[2].events[0]" into the prefix the error starts with, so that
// ParseScenario can say file:line.
func (sc Scenario) validate(where func(path string) string) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where(path), fmt.Sprintf(format, args...)))
	}
	if len(sc.Devices) == 0 {
		bad("devices", "no devices")
	}
	if sc.Defaults.Topology != "" && !sc.Defaults.Topology.Valid() {
		bad("defaults.topology", "unknown topology %q (want single, dual, mx-vc, ex-vc or srx-cluster)", sc.Defaults.Topology)
	}
	for i, p := range sc.Polls {
		if p < 0 {
			bad(fmt.Sprintf("polls[%d]", i), "negative poll offset %v", p)
		} else if i > 0 && p <= sc.Polls[i-1] {
			bad(fmt.Sprintf("polls[%d]", i), "poll offsets must increase (%v after %v)", p, sc.Polls[i-1])
		}
	}
	validRedundancy("defaults.redundancy", sc.Defaults.Redundancy, bad)
	if sc.Defaults.LogMaxLines < 0 {
		bad("defaults.log_max_lines", "negative log_max_lines")
	}
	seen := make(map[string]int, len(sc.Devices))
	for i, raw := range sc.Devices {
		p := fmt.Sprintf("devices[%d]", i)
		if !namePattern.MatchString(raw.Name) {
			bad(p+".name", "device name %q: want letters, digits, '.', '_' or '-'", raw.Name)
		} else if j, dup := seen[raw.Name]; dup {
			bad(p+".name", "device name %q already used by devices[%d]", raw.Name, j)
		}
		seen[raw.Name] = i
		d := raw.withDefaults(sc.Defaults)
		if !d.Topology.Valid() {
			bad(p+".topology", "unknown topology %q (want single, dual, mx-vc, ex-vc or srx-cluster)", d.Topology)
			continue
		}
		if d.Framing != "1.0" && d.Framing != "1.1" {
			bad(p+".framing", "framing %q: want \"1.0\" or \"1.1\"", d.Framing)
		}
		if d.Timezone != "" {
			if _, err := time.LoadLocation(d.Timezone); err != nil {
				bad(p+".timezone", "timezone %q: %v", d.Timezone, err)
			}
		}
		validClock(p+".clock", d.Clock, bad)
		if strings.ContainsAny(d.Version, " \t\n/<>&\"") || d.Version == "" {
			bad(p+".version", "version %q is not a Junos release name", d.Version)
		}
		names := reNames(d.Topology)
		for re, st := range raw.REStates {
			if !slices.Contains(names, re) {
				bad(p+".re_states."+re, "no RE %q in a %s router (have %s)", re, d.Topology, strings.Join(names, ", "))
			}
			if st.UpTime < 0 {
				bad(p+".re_states."+re+".up_time", "negative up_time")
			}
		}
		mems := members(d.Topology)
		checkMember := func(path, m string) {
			if m != "" && !slices.Contains(mems, m) {
				bad(path, "no member %q in a %s router", m, d.Topology)
			}
		}
		for j, a := range raw.Alarms {
			ap := fmt.Sprintf("%s.alarms[%d]", p, j)
			validAlarm(ap, a.Source, a.Class, a.Description, bad)
			checkMember(ap+".member", a.Member)
		}
		validRedundancy(p+".redundancy", raw.Redundancy, bad)
		validReadiness(p, d, bad) // switchover readiness (issue 16)
		if raw.LogMaxLines < 0 {
			bad(p+".log_max_lines", "negative log_max_lines")
		}
		if raw.LogFillBytes < 0 || raw.LogFillBytes > 1<<30 {
			bad(p+".log_fill_bytes", "log_fill_bytes must be between 0 and 1 GiB")
		}
		seenExpect := map[Expectation]bool{}
		for j, e := range raw.Expect {
			xp := fmt.Sprintf("%s.expect[%d]", p, j)
			if !slices.Contains(names, e.RE) {
				bad(xp+".re", "no RE %q in a %s router (have %s)", e.RE, d.Topology, strings.Join(names, ", "))
			}
			if !slices.Contains(causes, e.Cause) {
				bad(xp+".cause", "cause %q: want hardware, network, software, configuration or unknown", e.Cause)
			}
			if e.Severity != devices.SeverityCritical && e.Severity != devices.SeverityWarning {
				bad(xp+".severity", "severity %q: want critical or warning", e.Severity)
			}
			if seenExpect[e] {
				bad(xp, "expectation listed twice")
			}
			seenExpect[e] = true
		}
		if raw.State != "" && !slices.Contains(States(), raw.State) {
			bad(p+".state", "state %q: want %s", raw.State, strings.Join(States(), ", "))
		}
		for j, w := range raw.Maintenance {
			validWindow(fmt.Sprintf("%s.maintenance[%d]", p, j), w, bad)
		}
		for j, sl := range raw.Silences {
			sp := fmt.Sprintf("%s.silences[%d]", p, j)
			if sl.For <= 0 {
				bad(sp+".for", "a silence needs a positive for:")
			}
			if strings.TrimSpace(sl.Reason) == "" || strings.ContainsAny(sl.Reason, "\n\r") {
				bad(sp+".reason", "a silence needs a reason: one line")
			}
		}
		if raw.SyslogArchive != "" && raw.SyslogArchive != ArchiveWorldReadable && raw.SyslogArchive != ArchiveNoWorldReadable {
			bad(p+".syslog_archive", "syslog_archive %q: want %s or %s", raw.SyslogArchive, ArchiveWorldReadable, ArchiveNoWorldReadable)
		}
		if raw.ArchiveRefusal != "" && raw.ArchiveRefusal != RefuseAccessDenied && raw.ArchiveRefusal != RefuseCouldNotResolve {
			bad(p+".archive_refusal", "archive_refusal %q: want %s or %s", raw.ArchiveRefusal, RefuseAccessDenied, RefuseCouldNotResolve)
		}
		noMastershipLog := !keepsMastershipLog(d)
		for j, ev := range raw.Events {
			ep := fmt.Sprintf("%s.events[%d]", p, j)
			if ev.Duration < 0 {
				bad(ep+".duration", "negative duration")
			}
			switch {
			case ev.Kind == EventReplaceLog && ev.Keep < 1:
				bad(ep+".keep", "replace-log needs keep: the number of the file's first lines left in it, at least 1 (have %d)", ev.Keep)
			case ev.Kind != EventReplaceLog && ev.Keep != 0:
				bad(ep+".keep", "keep is for replace-log, not %s", ev.Kind)
			}
			switch ev.Kind {
			case EventSwitchover:
				if !d.Topology.pairOfREs() && d.Topology != TopologyMXVC {
					bad(ep+".kind", "switchover needs a dual, ex-vc or mx-vc router, not %s", d.Topology)
				}
				if ev.RE != "" && !slices.Contains(names, ev.RE) {
					bad(ep+".re", "no RE %q in a %s router", ev.RE, d.Topology)
				}
			case EventREDown, EventREUp, EventReboot, EventPanic:
				if !slices.Contains(names, ev.RE) {
					bad(ep+".re", "%s needs re: one of %s", ev.Kind, strings.Join(names, ", "))
				}
				if ev.Kind == EventREDown && d.Topology == TopologySingle {
					bad(ep+".kind", "re-down on a single-RE router leaves nothing to answer")
				}
			case EventAlarmSet:
				validAlarm(ep, ev.Source, ev.Class, ev.Description, bad)
				checkMember(ep+".member", ev.Member)
			case EventAlarmClear:
				if ev.Description == "" {
					bad(ep+".description", "alarm-clear needs the description of the alarm")
				}
				checkMember(ep+".member", ev.Member)
			case EventFRU:
				kind, _, ok := parseFRU(ev.FRU)
				if !ok {
					bad(ep+".fru", "fru %q: want \"PEM n\", \"FPC n\", \"Fan Tray n\", \"CB n\" or \"RE n\"", ev.FRU)
				}
				if ev.Action != "" && !slices.Contains(fruActions, ev.Action) {
					bad(ep+".action", "fru action %q: want one of %s", ev.Action, strings.Join(fruActions, ", "))
				}
				if isTempAction(ev.Action) && ok && kind != fruRE {
					bad(ep+".action", "%s is about a Routing Engine, not %s", ev.Action, ev.FRU)
				}
				if ev.Celsius < 0 || ev.Celsius > 150 {
					bad(ep+".celsius", "celsius %d out of range", ev.Celsius)
				}
				checkMember(ep+".member", ev.Member)
			case EventRotateLogs, EventClearLog, EventRemoveLog, EventReplaceLog, EventLog:
				if ev.File != "" && ev.File != LogMessages && ev.File != LogMastership {
					bad(ep+".file", "file %q: want messages or mastership", ev.File)
				}
				if ev.File == LogMastership && noMastershipLog {
					bad(ep+".file", "%s of the mastership file, but the router has none (mastership_log: false, or an srx-cluster)", ev.Kind)
				}
				if ev.Kind == EventLog {
					validLogText(ep, ev, bad)
					if ev.RE != "" && (!slices.Contains(names, ev.RE) || ev.File == LogMastership) {
						bad(ep+".re", "log re %q: want one of %s, for a messages line", ev.RE, strings.Join(names, ", "))
					}
				}
			case EventCommit:
				validRedundancy(ep+".redundancy", ev.Redundancy, bad)
				if ev.User != "" && !plainName.MatchString(ev.User) {
					bad(ep+".user", "commit user %q: want a login name", ev.User)
				}
				if strings.ContainsAny(ev.Comment, "\n\r") {
					bad(ep+".comment", "commit comment must be one line")
				}
			case EventKeepaliveLoss, EventIPCLoss:
				if d.Topology == TopologySingle {
					bad(ep+".kind", "%s needs another RE to lose", ev.Kind)
				}
				if noMastershipLog {
					bad(ep+".kind", "%s writes the mastership file, but the router has none (mastership_log: false, or an srx-cluster)", ev.Kind)
				}
			case EventInternalLinkFlap:
				if ev.Interface != "" && !internalPort.MatchString(ev.Interface) {
					bad(ep+".interface", "internal RE link %q: want em0, em1, ...", ev.Interface)
				}
			case EventLinkFlap:
				if ev.Interface != "" && !revenuePort.MatchString(ev.Interface) {
					bad(ep+".interface", "interface %q: want a port name such as xe-0/0/0", ev.Interface)
				}
			case EventCoreDump:
				if ev.Process != "" && !plainName.MatchString(ev.Process) {
					bad(ep+".process", "process %q: want a daemon name such as rpd", ev.Process)
				}
			case EventRDPKeepalive:
			default:
				bad(ep+".kind", "unknown event kind %q (want %s)", ev.Kind, joinKinds())
			}
		}
		d.Faults.validate(p+".faults", d.Topology, bad)
	}
	return errors.Join(errs...)
}

func joinKinds() string {
	s := make([]string, len(eventKinds))
	for i, k := range eventKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Names events write into log lines, kept to what the lines can carry.
var (
	internalPort = regexp.MustCompile(`^em\d$`)
	revenuePort  = regexp.MustCompile(`^[a-z]{2,3}-\d+/\d+/\d+(:\d+)?$`)
	plainName    = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,30}$`)
)

// causes are the finding causes an expectation may name.
var causes = []devices.Cause{devices.CauseHardware, devices.CauseNetwork, devices.CauseSoftware,
	devices.CauseConfiguration, devices.CauseUnknown}

func validRedundancy(path string, r *RedundancySpec, bad func(string, string, ...any)) {
	if r == nil || r.KeepaliveTime == nil {
		return
	}
	// Junos accepts keepalive-time 2..10000 seconds (NOG hardware p.486).
	if k := *r.KeepaliveTime; k != 0 && (k < 2*time.Second || k > 10000*time.Second || k%time.Second != 0) {
		bad(path+".keepalive_time", "keepalive_time %v: want whole seconds from 2s to 10000s, or 0 for unset", k)
	}
}

// validLogText checks the text or the verbatim lines of a log event.
func validLogText(path string, ev Event, bad func(string, string, ...any)) {
	switch {
	case ev.Text != "" && len(ev.Lines) > 0:
		bad(path+".lines", "log takes text or lines, not both")
	case ev.Text == "" && len(ev.Lines) == 0:
		bad(path+".text", "log needs text (one line) or lines")
	case strings.ContainsAny(ev.Text, "\n\r"):
		bad(path+".text", "log text must be one line")
	}
	var first time.Time
	for i, l := range ev.Lines {
		v, err := ParseVerbatimLine(l, cmp.Or(ev.File, LogMessages))
		if err != nil {
			bad(fmt.Sprintf("%s.lines[%d]", path, i), "%v", err)
			continue
		}
		if i == 0 {
			first = v.Stamp
		} else if v.Stamp.Before(first) {
			bad(fmt.Sprintf("%s.lines[%d]", path, i), "line is older than the first line of the event")
		}
	}
}

// validWindow checks one maintenance window: cron and duration, or from
// and until.
func validWindow(path string, w MaintenanceWindow, bad func(string, string, ...any)) {
	cron := w.Cron != "" || w.Duration != 0
	span := !w.From.IsZero() || !w.Until.IsZero()
	switch {
	case cron && span:
		bad(path, "a maintenance window is cron and duration, or from and until, not both")
	case cron:
		if strings.TrimSpace(w.Cron) == "" || strings.ContainsAny(w.Cron, "\n\r") {
			bad(path+".cron", "a maintenance window needs a cron spec")
		}
		if w.Duration <= 0 {
			bad(path+".duration", "a maintenance window needs a positive duration")
		}
	case span:
		if w.From.IsZero() || w.Until.IsZero() || !w.Until.After(w.From) {
			bad(path+".until", "a maintenance window needs from before until")
		}
	default:
		bad(path, "empty maintenance window: want cron and duration, or from and until")
	}
}

func validAlarm(path string, src devices.AlarmSource, class, desc string, bad func(string, string, ...any)) {
	if src != "" && src != devices.AlarmChassis && src != devices.AlarmSystem {
		bad(path+".source", "alarm source %q: want chassis or system", src)
	}
	if class == "" {
		bad(path+".class", "alarm needs a class (Major, Minor)")
	}
	if desc == "" {
		bad(path+".description", "alarm needs a description")
	}
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(data, path)
}

// ParseScenario parses and validates a scenario. Unknown keys are errors
// (a misspelt fault would otherwise silently make a healthy router);
// every error starts with filename:line.
func ParseScenario(data []byte, filename string) (Scenario, error) {
	if filename == "" {
		filename = "scenario"
	}
	r := strictyaml.Reader{File: filename}
	root, empty := r.Document(data, "a scenario")
	if empty {
		return Scenario{}, fmt.Errorf("%s: empty scenario: no devices", filename)
	}
	if root == nil {
		return Scenario{}, r.Err()
	}
	lines := r.CheckKeys(root, reflect.TypeFor[Scenario]())
	if err := r.Err(); err != nil {
		return Scenario{}, err
	}
	var sc Scenario
	// yaml.v3's Node.Decode cannot be strict; checkKeys above did that.
	if err := root.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", filename, err)
	}
	err := sc.validate(func(path string) string {
		// Walk up the path until a recorded node is found, so an error
		// about a field that was left out points at its device.
		for p := path; ; {
			if l, ok := lines[p]; ok {
				return filename + ":" + strconv.Itoa(l) + ": " + path
			}
			i := strings.LastIndexAny(p, ".[")
			if i < 0 {
				return filename + ": " + path
			}
			p = p[:i]
		}
	})
	if err != nil {
		return Scenario{}, err
	}
	return sc, nil
}
