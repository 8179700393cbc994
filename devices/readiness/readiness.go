// Package readiness answers, for one device, "would this router survive a
// switchover right now, and if not, why?". Assess is a pure function of
// what the agent read: the RE table, every RE's release, the redundancy
// configuration, the routing task replication state ("show task
// replication"), the active alarms and the last switchover it knows of.
// The caller passes the time; nothing here reads a clock or does I/O.
//
// The conditions are those of issue 16, in this order:
//
//  1. every backup RE is present, in the alive set, its status OK, and up
//     for at least Settings.MinBackupUptime;
//  2. every RE runs the same Junos release;
//  3. GRES is configured and stateful replication says Enabled;
//  4. with GRES: nonstop-routing is configured, every protocol's
//     replication is complete (when NSR is configured), and commit
//     synchronize is configured;
//  5. no active alarm is about an RE's disk, temperature or "Host N"
//     hardware;
//  6. the last switchover is at least 240 s ago (300 s on an MX Virtual
//     Chassis), the interval Junos enforces between graceful switchovers.
//
// A condition that failed is a Reason; a condition whose data is missing
// (an RPC that failed, a value the device did not report) is not a
// failure but makes the verdict unknown unless another condition failed.
// Single-RE devices and SRX clusters, whose failover is chassis-cluster
// redundancy groups, are not applicable.
package readiness

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// State is the verdict's one word.
type State string

const (
	Ready         State = "ready"
	NotReady      State = "not-ready"
	Unknown       State = "unknown"
	NotApplicable State = "not-applicable"
)

// Reason is one failed (or, in Verdict.Unknown, unread) condition: a
// stable code for metrics and counting, and a text for the operator.
type Reason struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// Verdict is the answer for one device at one time.
type Verdict struct {
	Verdict State `json:"verdict"`
	// Reasons are the failed conditions, in the order of the package
	// documentation; empty unless Verdict is not-ready.
	Reasons []Reason `json:"reasons"`
	// Unknown are the conditions that could not be checked for lack of
	// data; they make the verdict unknown when nothing failed.
	Unknown   []Reason  `json:"unknown,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Reason codes, one per condition that can fail.
const (
	CodeNoMaster              = "no-master"
	CodeBackupDown            = "backup-down"
	CodeBackupNotOK           = "backup-not-ok"
	CodeBackupFresh           = "backup-fresh"
	CodeReleaseMismatch       = "release-mismatch"
	CodeGRESOff               = "gres-off"
	CodeGRESNotReady          = "gres-not-ready"
	CodeNSROff                = "nsr-off"
	CodeReplicationIncomplete = "replication-incomplete"
	CodeCommitSyncOff         = "commit-sync-off"
	CodeREAlarm               = "re-alarm"
	CodeRecentSwitchover      = "recent-switchover"
)

// Codes returns every reason code with its short label for fleet
// summaries ("4 release mismatch, 2 NSR off"), in condition order.
func Codes() []Reason {
	return []Reason{
		{CodeNoMaster, "no master"},
		{CodeBackupDown, "backup down"},
		{CodeBackupNotOK, "backup not OK"},
		{CodeBackupFresh, "backup freshly booted"},
		{CodeReleaseMismatch, "release mismatch"},
		{CodeGRESOff, "GRES off"},
		{CodeGRESNotReady, "GRES not ready"},
		{CodeNSROff, "NSR off"},
		{CodeReplicationIncomplete, "replication incomplete"},
		{CodeCommitSyncOff, "commit synchronize off"},
		{CodeREAlarm, "RE alarm"},
		{CodeRecentSwitchover, "recent switchover"},
	}
}

// Label returns the short label of a reason code, the code itself when
// it is not one of Codes.
func Label(code string) string {
	for _, c := range Codes() {
		if c.Code == code {
			return c.Text
		}
	}
	return code
}

// Settings are the tunables of the assessment.
type Settings struct {
	// MinBackupUptime is how long a backup RE must have been up: a
	// freshly booted backup is still synchronising. Zero means the
	// default.
	MinBackupUptime time.Duration
}

// DefaultMinBackupUptime is readiness.min_backup_uptime's default.
const DefaultMinBackupUptime = 10 * time.Minute

// Junos refuses a graceful switchover sooner than this after the last
// one: 240 s, 300 s on an MX Virtual Chassis.
const (
	switchoverInterval   = 240 * time.Second
	switchoverIntervalVC = 300 * time.Second
)

// Input is what the agent knows of one device. Each nil or false field
// means "not read": its conditions become unknown.
type Input struct {
	// RouteEngines is the RE table of this poll; nil when not read.
	RouteEngines []devices.RouteEngine
	// ExpectedREs is the inventory's expected_res or the most REs ever
	// seen; it tells a dual-RE router whose backup vanished from the RE
	// table from a single-RE device. 0 = unknown.
	ExpectedREs int
	// Software is the reply to "show version invoke-on
	// all-routing-engines", one entry per RE (Member = RE name); nil
	// when not read.
	Software []devices.Software
	// Config is the redundancy configuration; nil or not Known when not
	// read.
	Config *devices.RedundancyConfig
	// Replication is the master's "show task replication"; nil when not
	// read.
	Replication *devices.ReplicationState
	// Alarms are the active alarms, read when AlarmsRead.
	Alarms     []devices.Alarm
	AlarmsRead bool
	// LastSwitchover is the last change of master the agent knows of,
	// zero when it knows none; SwitchoverKnown is false when the history
	// was not consulted.
	LastSwitchover  time.Time
	SwitchoverKnown bool
}

// Assess returns the verdict on in at now.
func Assess(in Input, s Settings, now time.Time) Verdict {
	v := Verdict{CheckedAt: now.UTC(), Reasons: []Reason{}}
	if s.MinBackupUptime <= 0 {
		s.MinBackupUptime = DefaultMinBackupUptime
	}
	if in.RouteEngines == nil {
		v.Verdict = Unknown
		v.Unknown = []Reason{{"route-engines", "the RE table was not read"}}
		return v
	}
	if !applicable(in) {
		v.Verdict = NotApplicable
		return v
	}
	a := &assessment{v: &v}
	checkBackups(a, in, s)
	checkReleases(a, in)
	checkRedundancy(a, in)
	checkAlarms(a, in)
	checkSwitchover(a, in, now)
	switch {
	case len(v.Reasons) > 0:
		v.Verdict = NotReady
	case len(v.Unknown) > 0:
		v.Verdict = Unknown
	default:
		v.Verdict = Ready
	}
	return v
}

type assessment struct{ v *Verdict }

func (a *assessment) fail(code, format string, args ...any) {
	a.v.Reasons = append(a.v.Reasons, Reason{code, fmt.Sprintf(format, args...)})
}

func (a *assessment) unknown(code, text string) {
	a.v.Unknown = append(a.v.Unknown, Reason{code, text})
}

// applicable is false for SRX clusters (nodes "node0", "node1") and for
// devices with one RE that never had more.
func applicable(in Input) bool {
	for _, re := range in.RouteEngines {
		if isClusterNode(re) {
			return false
		}
	}
	return len(in.RouteEngines) >= 2 || in.ExpectedREs >= 2
}

func isClusterNode(re devices.RouteEngine) bool {
	name := re.Member
	if name == "" {
		name = re.Name
	}
	return strings.HasPrefix(name, "node")
}

// virtualChassis reports an MX Virtual Chassis: REs under member0,
// member1.
func virtualChassis(res []devices.RouteEngine) bool {
	for _, re := range res {
		if strings.HasPrefix(re.Member, "member") {
			return true
		}
	}
	return false
}

// chassis groups REs by multi-routing-engine member ("" on a plain
// dual-RE router): on an MX Virtual Chassis each member has its own
// master and backup, and each pair must be able to switch over.
func chassis(res []devices.RouteEngine) (names []string, groups map[string][]devices.RouteEngine) {
	groups = make(map[string][]devices.RouteEngine)
	for _, re := range res {
		if _, ok := groups[re.Member]; !ok {
			names = append(names, re.Member)
		}
		groups[re.Member] = append(groups[re.Member], re)
	}
	slices.Sort(names)
	return names, groups
}

func where(member string) string {
	if member == "" {
		return ""
	}
	return " of " + member
}

func checkBackups(a *assessment, in Input, s Settings) {
	names, groups := chassis(in.RouteEngines)
	for _, m := range names {
		res := groups[m]
		masters := 0
		for _, re := range res {
			if re.IsMaster() {
				masters++
			}
		}
		if masters == 0 {
			a.fail(CodeNoMaster, "no RE%s says it is master", where(m))
			continue
		}
		if len(res) == 1 {
			// Only the master is in the table: a missing backup on a
			// plain router, or a member with one RE in a Virtual Chassis.
			if len(names) == 1 && in.ExpectedREs > len(res) {
				a.fail(CodeBackupDown, "no backup RE: only %s in the RE table, %d expected", res[0].Name, in.ExpectedREs)
			}
			continue
		}
		for _, re := range res {
			if re.IsMaster() {
				continue
			}
			checkBackup(a, re, s)
		}
	}
}

func checkBackup(a *assessment, re devices.RouteEngine, s Settings) {
	switch {
	case !re.Alive():
		state := re.MastershipState
		if !strings.EqualFold(re.Status, "ok") && re.Status != "" {
			state = "status " + re.Status
		}
		if state == "" {
			state = "no mastership state"
		}
		a.fail(CodeBackupDown, "backup %s is not in the alive set (%s)", re.Name, state)
		return
	case !strings.EqualFold(re.Status, "ok"):
		if re.Status == "" {
			a.unknown(CodeBackupNotOK, "backup "+re.Name+" reports no status")
		} else {
			a.fail(CodeBackupNotOK, "backup %s status %s, not OK", re.Name, re.Status)
		}
	}
	if re.UpTime == nil {
		a.unknown(CodeBackupFresh, "backup "+re.Name+" reports no up-time")
		return
	}
	if *re.UpTime < s.MinBackupUptime {
		a.fail(CodeBackupFresh, "backup %s up %s, less than %s", re.Name, re.UpTime.Round(time.Second), s.MinBackupUptime)
	}
}

func checkReleases(a *assessment, in Input) {
	if in.Software == nil {
		a.unknown(CodeReleaseMismatch, "the releases of the REs were not read")
		return
	}
	release := make(map[string]string)
	var distinct []string
	for _, sw := range in.Software {
		if sw.Version == "" {
			continue
		}
		release[sw.Member] = sw.Version
		if !slices.Contains(distinct, sw.Version) {
			distinct = append(distinct, sw.Version)
		}
	}
	if len(distinct) > 1 {
		a.fail(CodeReleaseMismatch, "%s", mismatchText(in.RouteEngines, release))
		return
	}
	// Every RE must have answered: one release is a match only if it is
	// every RE's.
	for _, re := range in.RouteEngines {
		if _, ok := release[re.Name]; !ok && re.Alive() {
			a.unknown(CodeReleaseMismatch, "the release of "+re.Name+" was not read")
			return
		}
	}
}

// mismatchText says who runs what: "backup runs 21.4R3-S5.4, master
// 22.2R3.15" on a dual-RE router, every RE's release otherwise.
func mismatchText(res []devices.RouteEngine, release map[string]string) string {
	var master, backup string
	nBackups := 0
	for _, re := range res {
		switch {
		case re.IsMaster() && master == "":
			master = release[re.Name]
		case strings.EqualFold(re.MastershipState, "backup"):
			backup = release[re.Name]
			nBackups++
		}
	}
	if master != "" && backup != "" && nBackups == 1 && len(release) == 2 {
		return "backup runs " + backup + ", master " + master
	}
	names := make([]string, 0, len(release))
	for n := range release {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " " + release[n]
	}
	return "REs run different releases: " + strings.Join(parts, ", ")
}

func checkRedundancy(a *assessment, in Input) {
	if in.Config == nil || !in.Config.Known {
		a.unknown(CodeGRESOff, "the redundancy configuration was not read")
		return
	}
	c := in.Config
	if !c.GracefulSwitchover {
		a.fail(CodeGRESOff, "GRES is not configured (chassis redundancy graceful-switchover)")
		return
	}
	rep := in.Replication
	switch {
	case rep == nil:
		a.unknown(CodeGRESNotReady, "the replication state (show task replication) was not read")
	case !rep.Enabled():
		said := rep.StatefulReplication
		if said == "" {
			said = "nothing"
		}
		a.fail(CodeGRESNotReady, "GRES is configured but stateful replication says %s", said)
	}
	if !c.NonstopRouting {
		a.fail(CodeNSROff, "nonstop-routing is not configured (routing-options nonstop-routing)")
	} else if rep != nil && rep.Enabled() {
		var behind []string
		for _, p := range rep.Protocols {
			if !p.Complete() {
				status := p.Status
				if status == "" {
					status = "no status"
				}
				behind = append(behind, p.Protocol+" "+status)
			}
		}
		if len(behind) > 0 {
			a.fail(CodeReplicationIncomplete, "replication to the backup incomplete: %s", strings.Join(behind, ", "))
		}
	}
	if !c.CommitSynchronize {
		a.fail(CodeCommitSyncOff, "commit synchronize is not configured: the backup's configuration can drift")
	}
}

func checkAlarms(a *assessment, in Input) {
	if !in.AlarmsRead {
		a.unknown(CodeREAlarm, "the alarms were not read")
		return
	}
	var about []string
	for _, al := range in.Alarms {
		if AboutRE(al.Description) && !slices.Contains(about, al.Description) {
			about = append(about, al.Description)
		}
	}
	if len(about) > 0 {
		a.fail(CodeREAlarm, "alarm about an RE: %s", strings.Join(about, "; "))
	}
}

// AboutRE reports whether an alarm text is about an RE's hardware: a
// "Host N" alarm (Junos calls the RE's host "Host 0", "Host 1"), or a
// disk or temperature alarm that names an RE. "Loss of communication with
// Backup RE" is not: it is the backup being down, condition 1.
func AboutRE(description string) bool {
	words := strings.FieldsFunc(strings.ToLower(description), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	})
	namesRE, hardware := false, false
	for i, w := range words {
		next := ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		switch {
		case w == "host" && isNumber(next):
			return true
		case w == "re" || w == "re0" || w == "re1" || w == "routing" && next == "engine":
			namesRE = true
		case strings.HasPrefix(w, "disk"), w == "ssd", w == "hdd", strings.HasPrefix(w, "temperature"),
			w == "temp", w == "overheating", w == "hot", w == "compact-flash", w == "storage":
			hardware = true
		}
	}
	return namesRE && hardware
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func checkSwitchover(a *assessment, in Input, now time.Time) {
	if !in.SwitchoverKnown {
		a.unknown(CodeRecentSwitchover, "the time of the last switchover is not known")
		return
	}
	if in.LastSwitchover.IsZero() {
		return
	}
	need := switchoverInterval
	if virtualChassis(in.RouteEngines) {
		need = switchoverIntervalVC
	}
	if ago := now.Sub(in.LastSwitchover); ago < need {
		a.fail(CodeRecentSwitchover, "last switchover %s ago: Junos allows the next graceful one after %s", max(ago, 0).Round(time.Second), need)
	}
}

// Summary is the fleet line of an audit: "7 of 112 dual-RE routers not
// ready: 4 release mismatch, 2 NSR off, 1 backup down". Not-applicable
// devices are not counted; a router that fails several conditions counts
// under each, so the counts can add up to more than the routers. Empty
// when no device is applicable.
func Summary(verdicts []Verdict) string {
	applicable, notReady, unknown := 0, 0, 0
	counts := make(map[string]int)
	for _, v := range verdicts {
		switch v.Verdict {
		case NotApplicable, "":
			continue
		case NotReady:
			notReady++
			seen := make(map[string]bool)
			for _, r := range v.Reasons {
				if !seen[r.Code] {
					seen[r.Code] = true
					counts[r.Code]++
				}
			}
		case Unknown:
			unknown++
		}
		applicable++
	}
	if applicable == 0 {
		return ""
	}
	line := fmt.Sprintf("%d of %d dual-RE routers not ready", notReady, applicable)
	var parts []string
	for _, c := range Codes() {
		if n := counts[c.Code]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.Text))
		}
	}
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if unknown > 0 {
		line += fmt.Sprintf("; %d unknown", unknown)
	}
	return line
}
