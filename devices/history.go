package devices

import "time"

// LogLine is one line of a device log file (/var/log/messages,
// /var/log/mastership, ...) as the agent read it. Every line read is kept,
// parsed or not: Parsed=false lines are counted and shown, never dropped.
type LogLine struct {
	// File is the log file name as configured ("messages", "mastership").
	File string `json:"file"`
	// Raw is the line exactly as the device wrote it (no trailing newline).
	Raw string `json:"raw"`
	// Time is the line's timestamp in UTC, with the year inferred from the
	// device's clock; zero when the line has no parsable timestamp.
	Time time.Time `json:"time"`
	// Host is the syslog host field ("re0-abc", "SELLB-ER4"); empty in the
	// mastership log, which has none.
	Host string `json:"host,omitempty"`
	// Process is "alarmd", "/kernel", "mgd", ...; empty when absent.
	Process string `json:"process,omitempty"`
	PID     int    `json:"pid,omitempty"`
	// Tag is the Junos message tag ("UI_COMMIT", "CHASSISD_FRU_OFFLINE_NOTICE",
	// "mcontrol_ore_alive_set"); empty for untagged lines.
	Tag string `json:"tag,omitempty"`
	// Message is the text after the tag (or process), trimmed.
	Message string `json:"message"`
	// Parsed is false when the line matched no known syslog shape.
	Parsed bool `json:"parsed"`
}

// EventKind is what a classified log line means to the correlation.
type EventKind string

const (
	// The alive set and mastership.
	EventAliveSet      EventKind = "alive-set"      // an RE left or joined the alive set
	EventMastership    EventKind = "mastership"     // an RE became master or backup
	EventKeepaliveLoss EventKind = "keepalive-loss" // keepalives from the other RE missed
	EventIPCLoss       EventKind = "ipc-loss"       // E_NO_IPC: the RE connection was lost
	// Evidence for causes.
	EventAlarmSet     EventKind = "alarm-set"     // alarmd/craftd: alarm raised
	EventAlarmCleared EventKind = "alarm-cleared" // alarmd/craftd: alarm cleared
	EventFRU          EventKind = "fru"           // CHASSISD_* FRU offline/removal/power/temperature
	EventInternalLink EventKind = "internal-link" // em0/em1/ixgbe RE-CB links, rdp keepalive expired
	EventLinkFlap     EventKind = "link-flap"     // revenue port up/down (noise unless internal)
	EventCommit       EventKind = "commit"        // UI_COMMIT*, configuration change
	EventCoreDump     EventKind = "core-dump"     // a daemon or kernel core
	EventPanic        EventKind = "panic"         // kernel panic, reboot due to panic

	// The switchover ledger (issue 15): an operator asked for a change of
	// master, in the mastership log (E_CMD_A/R/S/F) or as a typed
	// "request chassis routing-engine master acquire|release|switch".
	EventSwitchoverCommand EventKind = "switchover-command"
	// EventDiskError is a disk or flash storage error an RE's kernel
	// logged (ata, CAM, GEOM): hardware evidence about that RE (issue 15,
	// class 4).
	EventDiskError EventKind = "disk-error"
)

// Event is a log line a rule gave meaning to.
type Event struct {
	Device string    `json:"device"`
	Kind   EventKind `json:"kind"`
	Time   time.Time `json:"time"`
	// RE is the Routing Engine the event is about when the rule can tell
	// ("re1", "member0-re1"); empty when it cannot.
	RE string `json:"re,omitempty"`
	// Change says which way an alive-set or mastership event went:
	// "left", "joined", "master", "backup"; for alarms "set"/"cleared";
	// for links "down"/"up".
	Change string `json:"change,omitempty"`
	// Subject is what the event is about: the FRU ("PEM 0", "FPC 1"), the
	// interface ("em0", "xe-0/0/0"), the alarm text, the daemon.
	Subject string `json:"subject,omitempty"`
	// Class is an alarm's class ("Major", "Minor") when the line says.
	Class string `json:"class,omitempty"`
	// Rule names the rule that matched, so a finding can show why.
	Rule string  `json:"rule"`
	Line LogLine `json:"line"`
}

// RE states used in transitions: an RE is master, backup, or gone (not in
// the alive set).
const (
	REMaster = "master"
	REBackup = "backup"
	REGone   = "gone"
)

// Transition is one RE entering or leaving the alive set, or changing
// mastership, at a time taken from the device (a log timestamp, an
// alarm-time, or now minus up-time), never from the poll.
type Transition struct {
	Device string    `json:"device"`
	RE     string    `json:"re"`
	Time   time.Time `json:"time"`
	From   string    `json:"from"` // REMaster, REBackup, REGone
	To     string    `json:"to"`
	// Sources lists where it was seen: "re-table", "log:mastership",
	// "log:messages", "alarm". One real transition seen in several is one
	// Transition with several sources.
	Sources []string `json:"source"`
	// Evidence holds the lines that show it (log lines, or a description
	// of the RE-table change).
	Evidence []string `json:"evidence"`
}

// Cause is what a finding blames, from the table in docs/domain.md.
type Cause string

const (
	CauseHardware      Cause = "hardware"
	CauseNetwork       Cause = "network"
	CauseSoftware      Cause = "software"
	CauseConfiguration Cause = "configuration"
	CauseUnknown       Cause = "unknown"
)

// Severity of a finding.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
)

// Finding joins a flap of one RE to the evidence around it and names the
// most likely cause.
type Finding struct {
	Device   string   `json:"device"`
	RE       string   `json:"re"`
	Cause    Cause    `json:"cause"`
	Severity Severity `json:"severity"`
	// Transitions is how many transitions of the RE the flap holds.
	Transitions int       `json:"transitions"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	// Evidence is the log lines (and RE-table notes) inside the evidence
	// window that support the cause, oldest first.
	Evidence []string `json:"evidence"`
	// Alarms are the alarm rows inside the window (symptoms included:
	// they confirm the transition even when they are not its cause).
	Alarms []Alarm `json:"alarms"`
	// OtherCauses lists the weaker causes that also had evidence.
	OtherCauses []Cause `json:"other_causes,omitempty"`
	Remedy      string  `json:"remedy"`

	// Maintenance is set when the flap overlaps a maintenance window of
	// the device (inventory or "mastership silence"): the finding is
	// stored and reported, but raises neither the Nagios state nor the
	// alerting metrics. MaintenanceNote names the window and its end.
	Maintenance     bool   `json:"maintenance"`
	MaintenanceNote string `json:"maintenance_note,omitempty"`
}

// Switchover is one change of master on a device: the RE that was master
// left mastership and another became master, whichever source saw it. It
// is planned when an operator command for it (Command) came shortly
// before; else unplanned, and Cause is that of the finding whose evidence
// window holds it, when there is one.
type Switchover struct {
	Device string    `json:"device"`
	Time   time.Time `json:"time"`
	// OldMaster and NewMaster are RE names ("re0", "member0-re1").
	OldMaster string `json:"old_master"`
	NewMaster string `json:"new_master"`
	Planned   bool   `json:"planned"`
	// Command names the operator command that made it planned ("request
	// chassis routing-engine master switch by lab", "E_CMD_R: …"); empty
	// when unplanned.
	Command string `json:"command,omitempty"`
	// Cause is the covering finding's cause; empty when planned or when no
	// finding covers it.
	Cause Cause `json:"cause,omitempty"`
	// Evidence holds the lines that show it: the transitions' evidence and
	// the command lines, oldest first.
	Evidence []string `json:"evidence"`
}

// AlarmRecord is an alarm's life across polls: when the agent first and
// last saw it, and when it cleared (by leaving the table, or by an
// alarmd/craftd "cleared" line at that line's time).
type AlarmRecord struct {
	Device    string    `json:"device"`
	Alarm     Alarm     `json:"alarm"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	ClearedAt time.Time `json:"cleared_at"` // zero while active
}

// RedundancyConfig is the part of a device's configuration that decides
// how its REs fail over; devices that differ from the fleet's majority
// are configuration evidence.
type RedundancyConfig struct {
	GracefulSwitchover bool `json:"graceful_switchover"`
	// KeepaliveTime is chassis redundancy keepalive-time; 0 = not set.
	KeepaliveTime time.Duration `json:"keepalive_time"`
	// FailoverOnLossOfKeepalives and FailoverOnDiskFailure are the
	// chassis redundancy failover knobs.
	FailoverOnLossOfKeepalives bool `json:"failover_on_loss_of_keepalives"`
	FailoverOnDiskFailure      bool `json:"failover_on_disk_failure"`
	CommitSynchronize          bool `json:"commit_synchronize"`
	NonstopRouting             bool `json:"nonstop_routing"`
	// Known is false when the device did not answer the configuration RPC.
	Known bool `json:"known"`
}

// LogCursor is where the agent stopped reading one log file of one
// device. Junos returns a whole file per get-log; the cursor finds the
// first new line in it, and notices rotation and clear-log.
type LogCursor struct {
	Device string `json:"device"`
	File   string `json:"file"`
	// Tail holds fingerprints of the last lines read (newest last), enough
	// to find the place again in the next read, then "@N": how many lines
	// the content read so far held (devices/junos/logcursor.go).
	Tail []string `json:"tail"`
	// LastTime is the timestamp of the newest line read (zero if none
	// parsed); after a rotation only lines after it are new.
	LastTime time.Time `json:"last_time"`
	// Lines counts the lines taken from this file so far.
	Lines int64 `json:"lines"`
	// Issue 17 (router cost): what "file list detail" said about the file
	// when it was last read, and a fingerprint of its first line. A file
	// whose size and time are unchanged is not read again; a file whose
	// first line changed was rotated, even if it grew past Size.
	Head    string    `json:"head,omitempty"`
	Size    int64     `json:"size,omitempty"`
	ModTime time.Time `json:"mod_time,omitzero"`
	// Appended is set by the reader for one poll: the cursor found its
	// place, so every line taken this poll is new, even one identical to a
	// stored line (the mastership log repeats lines within a second). When
	// it is false (first read, rotation) identical lines are matched to
	// stored ones and only the surplus is new.
	Appended bool `json:"-"`
}
