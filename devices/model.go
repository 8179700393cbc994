// Package devices holds the domain model of mastership — routers, their
// Routing Engines, alarms and what one poll saw — and the inventory that
// names the fleet. It imports nothing else of the project: decoders,
// correlation, the store and the scheduler all build on these types.
package devices

import (
	"slices"
	"strings"
	"time"
)

// RouteEngine is one Routing Engine as one poll saw it in
// <get-route-engine-information/>. Optional fields are pointers or empty
// strings: absent on the device is not the same as zero.
type RouteEngine struct {
	// Name is the operator's name of the RE: "re0", "re1", or with the
	// multi-routing-engine member first: "member0-re1", "node1-re0",
	// "lcc0-re0", "node0" (SRX cluster node without a slot).
	Name string `json:"name"`
	// Member is the <multi-routing-engine-item><re-name> the RE was
	// reported under, empty for a plain reply.
	Member string `json:"member,omitempty"`
	// Slot is nil on single-RE platforms that report no slot.
	Slot *int `json:"slot"`
	// MastershipState is what the RE is now: "master", "backup", or another
	// word the device used; empty when not reported (single RE, SRX node).
	MastershipState string `json:"mastership_state"`
	// MastershipPriority is the configured election preference ("master
	// (default)", "backup"), not the state; it legitimately differs from
	// the state after a switchover.
	MastershipPriority string `json:"mastership_priority,omitempty"`
	// Status is "OK", "Testing", "Failed", "Absent", ... or empty.
	Status string `json:"status"`
	Model  string `json:"model,omitempty"`
	Serial string `json:"serial,omitempty"`
	// UpTime comes from up-time junos:seconds; nil when not reported.
	UpTime *time.Duration `json:"-"`
	// StartTime comes from start-time junos:seconds. Backup RE clocks can
	// be wrong: reboots are detected from UpTime decreasing, not this.
	StartTime        *time.Time `json:"-"`
	LastRebootReason string     `json:"last_reboot_reason"`
	TemperatureC     *int       `json:"temperature_celsius,omitempty"`
	CPUTemperatureC  *int       `json:"cpu_temperature_celsius,omitempty"`
}

// Alive reports whether the RE counts as a member of the alive set: it is
// present, not failed, and (where the device reports mastership) it is the
// master or a backup that answers.
func (re RouteEngine) Alive() bool {
	switch strings.ToLower(re.Status) {
	case "", "ok", "testing":
	default: // failed, absent, present (powered off), check, offline, ...
		return false
	}
	switch strings.ToLower(re.MastershipState) {
	case "", "master", "backup":
		return true
	default: // "present", "disabled", ...
		return false
	}
}

// IsMaster reports whether the RE says it is the master.
func (re RouteEngine) IsMaster() bool {
	return strings.EqualFold(re.MastershipState, "master")
}

// AlarmSource says which RPC reported an alarm.
type AlarmSource string

const (
	AlarmChassis AlarmSource = "chassis" // <get-alarm-information/>
	AlarmSystem  AlarmSource = "system"  // <get-system-alarm-information/>
)

// Alarm is one active alarm row.
type Alarm struct {
	Source AlarmSource `json:"source"`
	// Member is the multi-routing-engine item that reported it, if any.
	Member string `json:"member,omitempty"`
	// Time is from alarm-time junos:seconds, zero when absent.
	Time             time.Time `json:"time"`
	Class            string    `json:"class"` // "Major", "Minor"
	Type             string    `json:"type"`  // "Chassis", "Configuration", ...
	Description      string    `json:"description"`
	ShortDescription string    `json:"-"`
}

// IsMajor reports whether the alarm is of class Major (red).
func (a Alarm) IsMajor() bool { return strings.EqualFold(a.Class, "major") }

// IsMinor reports whether the alarm is of class Minor (yellow).
func (a Alarm) IsMinor() bool { return strings.EqualFold(a.Class, "minor") }

// Software is <get-software-information/> for one RE or member.
type Software struct {
	Member   string `json:"member,omitempty"`
	Hostname string `json:"hostname"`
	Model    string `json:"model"`
	Version  string `json:"version"`
}

// Snapshot is what one successful (or partly successful) poll of a device
// saw. Times are UTC.
type Snapshot struct {
	Device       string        `json:"device"`
	PolledAt     time.Time     `json:"polled_at"`
	RouteEngines []RouteEngine `json:"route_engines"`
	Alarms       []Alarm       `json:"alarms"`
	Software     []Software    `json:"software,omitempty"`
	// DeviceTime is the device's own clock at the poll (from
	// get-system-uptime-information); zero when unknown. Log years are
	// inferred from it, never from the agent's clock.
	DeviceTime time.Time `json:"device_time,omitempty"`
	// DeviceZone is the device's time zone (a fixed offset), in which its
	// syslog lines are written; nil when unknown (UTC is assumed).
	DeviceZone *time.Location `json:"-"`
	// Logs are the log lines that are new since the previous poll, oldest
	// first, per file in the order the files were read.
	Logs []LogLine `json:"-"`
	// LogCursors are where reading each log file stopped after this poll.
	LogCursors []LogCursor `json:"-"`
	// AlarmsRead is true when both alarm tables were read, so an alarm
	// missing from them has really cleared (not merely gone unread).
	AlarmsRead bool `json:"-"`
	// Config is the redundancy configuration, nil when not read.
	Config *RedundancyConfig `json:"-"`
	// AbsentLogs are the log files the device does not have and never had
	// as far as the agent has seen (an SRX cluster keeps no
	// /var/log/mastership): a note about the platform, not a failure.
	AbsentLogs []string `json:"absent_logs,omitempty"`
	// Replication is the routing task replication state ("show task
	// replication") for switchover readiness (issue 16). It is read
	// rarely and carried from poll to poll: ReplicationAt says when it was
	// read. nil when it was never read, or the last read failed.
	Replication   []ReplicationState `json:"-"`
	ReplicationAt time.Time          `json:"-"`

	// Issue 17 (router cost).
	// LastConfigured is the device's last commit (last-configured-time),
	// zero when not reported: a change of it says software and
	// configuration must be read again.
	LastConfigured time.Time `json:"-"`
	// LargeLogs are the log files read this poll that are bigger than
	// --log-warn-bytes: the router sends them whole at every change.
	LargeLogs []LargeLog `json:"large_logs,omitempty"`
	// ClockNote says the device's clock stepped since the previous poll
	// ("device clock stepped +1h between polls (…)"), which the agent
	// told from a reboot (issue 19); empty otherwise.
	ClockNote string `json:"clock_note,omitempty"`
	// LogGaps are log lines this poll knows it could not read: a file
	// turned over since the last poll whose archive (messages.0.gz) could
	// not be read, or that turned over more than once. Issue 19.
	LogGaps []LogGap `json:"log_gaps,omitempty"`
}

// LogGap is a stretch of a log file that was not read: the lines written
// to File after the last poll and before it was turned over into Archive.
type LogGap struct {
	File    string `json:"file"`    // the log, /var/log/messages
	Archive string `json:"archive"` // the turned-over file, /var/log/messages.0.gz
	// Reason says why, in the device's words when it gave any.
	Reason string `json:"reason"`
}

// LargeLog is a log file read whole although it is large.
type LargeLog struct {
	File string `json:"file"`
	Size int64  `json:"size"`
}

// AliveSet returns the sorted names of the REs in the alive set.
func (s Snapshot) AliveSet() []string {
	var out []string
	for _, re := range s.RouteEngines {
		if re.Alive() {
			out = append(out, re.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Masters returns the names of the REs that say they are master, sorted.
// A plain dual-RE router has one; an MX Virtual Chassis has one per member.
func (s Snapshot) Masters() []string {
	var out []string
	for _, re := range s.RouteEngines {
		if re.IsMaster() {
			out = append(out, re.Name)
		}
	}
	slices.Sort(out)
	return out
}

// AlarmCounts returns the number of Major and Minor alarms, with an alarm
// reported by both the chassis and the system RPC counted once.
func (s Snapshot) AlarmCounts() (major, minor int) {
	for _, a := range DedupeAlarms(s.Alarms) {
		switch {
		case a.IsMajor():
			major++
		case a.IsMinor():
			minor++
		}
	}
	return major, minor
}

// DedupeAlarms drops alarms that repeat an earlier one's member,
// description and time: Junos reports many chassis alarms in the system
// alarm table too.
func DedupeAlarms(alarms []Alarm) []Alarm {
	type key struct {
		member, desc string
		t            int64
	}
	seen := make(map[key]bool, len(alarms))
	out := make([]Alarm, 0, len(alarms))
	for _, a := range alarms {
		k := key{a.Member, a.Description, a.Time.Unix()}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, a)
	}
	return out
}

// Outcome classifies how a poll ended. The words are part of the user
// contract (reports, metrics, check --json).
type Outcome string

const (
	OutcomeOK       Outcome = "ok"
	OutcomePartial  Outcome = "partial"   // some RPCs failed, the rest kept
	OutcomeTimeout  Outcome = "timeout"   // deadline hit while dialing or waiting
	OutcomeRefused  Outcome = "refused"   // TCP connect refused, reset while connecting, or unreachable
	OutcomeAuth     Outcome = "auth"      // credentials rejected or unavailable
	OutcomeHostKey  Outcome = "hostkey"   // host key unknown or changed
	OutcomeProtocol Outcome = "protocol"  // malformed framing, XML or hello
	OutcomeRPCError Outcome = "rpc-error" // the device answered with an error
	OutcomeTooLarge Outcome = "too-large" // a reply exceeded the size limit
)

// Poll is one attempt to poll one device, successful or not.
type Poll struct {
	ID       int64     `json:"-"`
	RunID    int64     `json:"run_id"`
	Device   string    `json:"device"`
	Host     string    `json:"host"`
	Site     string    `json:"site,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Outcome  Outcome   `json:"outcome"`
	// ErrorKind is the Outcome of the failure ("" when ok) and Error its
	// message; for a partial poll, the message names the RPCs that failed.
	ErrorKind string `json:"error_kind,omitempty"`
	Error     string `json:"error,omitempty"`
	// ExpectedREs is how many REs the device should have alive, as judged
	// when the poll was taken (inventory expected_res, else the most REs
	// seen in history); 0 when unknown.
	ExpectedREs int `json:"res_expected"`
	// Snapshot is nil when nothing was decoded.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
}

// Run is one fleet audit.
type Run struct {
	ID          int64     `json:"run_id"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Devices     int       `json:"devices"`
	OK          int       `json:"ok"`
	Failed      int       `json:"failed"`
	Interrupted bool      `json:"interrupted"`
	// Unstored counts the polls of this run (ok or failed alike) that
	// could not be written to the store: they happened, but their history
	// is missing. OK and Failed still count them by outcome.
	Unstored int `json:"unstored"`
}
