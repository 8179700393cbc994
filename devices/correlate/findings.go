package correlate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// History is what the agent knows of one device: every transition
// (raw or merged), classified log event and alarm record in the span to
// judge, and the device's configuration drift from the fleet (Drift).
type History struct {
	Transitions []devices.Transition
	Events      []devices.Event
	Alarms      []devices.AlarmRecord
	ConfigDrift []string
	// Config is the device's redundancy configuration, nil when unknown:
	// with failover on-disk-failure a disk error is the likely trigger of
	// a switchover.
	Config *devices.RedundancyConfig
}

// causeRank orders causes from the most specific: a failing FRU explains
// everything downstream of it (an RE that loses power stops sending
// keepalives, drops IPC and may leave a core), a panic explains the
// silence its peer sees on the internal link but not a FRU alarm, an
// internal link or IPC loss is a direct observation of the path the alive
// set depends on, and a commit or a setting that differs from the fleet
// is circumstantial: commits happen all day and drift is a standing
// condition, so either only wins when nothing else is there. A commit an
// hour before a PEM alarm does not beat the PEM.
func causeRank(c devices.Cause) int {
	switch c {
	case devices.CauseHardware:
		return 0
	case devices.CauseSoftware:
		return 1
	case devices.CauseNetwork:
		return 2
	case devices.CauseConfiguration:
		return 3
	default:
		return 4
	}
}

// Findings finds the flaps of one device in h and judges each one.
//
// Items of h whose Device is another device are ignored, "" counts as
// this device. Transitions are merged first (MergeTransitions with
// s.MergeTolerance), so raw per-source transitions are fine. A flap is a
// run of at least s.FlapMin transitions of one RE, each at most
// s.FlapWindow after the one before. Each flap gives one finding:
//
//   - Evidence window: [first − EvidenceWindow, last + EvidenceWindow];
//     commits are looked for from first − CommitLookback.
//   - Causes, with their evidence in the window:
//     hardware: an alarm about a FRU active in the window (alarm table,
//     alarmd/craftd set or cleared lines), a CHASSISD FRU line, or an RE
//     disk or storage error its kernel logged (ata, CAM, GEOM; named
//     first when the device has failover on-disk-failure, h.Config);
//     software: a core dump, a panic, or a reboot in the window whose
//     last reboot reason says panic, exception or watchdog (a reboot
//     the RE table detected, or an RE's boot time, device clock minus
//     up-time, inside the window: see WithBoots); a reason that says
//     power cycle or failure is hardware, a hypervisor or VJUNOS reboot
//     names no cause (rebootCause);
//     network: internal RE link lines (em0/em1/ixgbe, rdp keepalive
//     expired), E_NO_IPC, keepalive loss, or link-flap lines of an
//     internal interface;
//     configuration: a commit in [first − CommitLookback, first], or any
//     ConfigDrift.
//     Symptom alarms ("Loss of communication with Backup RE", "Backup RE
//     Active", "Host 1 Absent") are never a cause. The finding names the
//     highest-ranked cause (see causeRank) and lists the others, in rank
//     order, in OtherCauses; with none, the cause is unknown.
//   - Severity is critical when the device's master changed inside the
//     window without an operator asking for it (a transition of any RE
//     to or from master with no switchover command just before it; see
//     unplannedMasterChange), when a Major FRU alarm is in the window, or
//     when the flap reaches 3 × FlapMin transitions (DESIGN: severity
//     grows with the count); else warning.
//   - Evidence: the flap's transitions' evidence, that of other REs'
//     transitions in the window, and the log lines of the window
//     (revenue-port link flaps left out: they are noise), oldest first,
//     each once; drift lines last. Alarms: every alarm row active
//     in the window, symptoms included.
//
// Findings are sorted by First, then RE. s is used as given where valid;
// a FlapMin below 2 counts as 2, a FlapWindow ≤ 0 as the default, and
// negative spans as 0.
func Findings(device string, h History, s Settings) []devices.Finding {
	s = s.effective()
	var ts []devices.Transition
	for _, t := range h.Transitions {
		if t.Device == "" || t.Device == device {
			t.Device = device
			ts = append(ts, t)
		}
	}
	ts = MergeTransitions(ts, s.MergeTolerance)
	var events []devices.Event
	for _, e := range h.Events {
		if (e.Device == "" || e.Device == device) && !e.Time.IsZero() {
			events = append(events, e)
		}
	}
	slices.SortFunc(events, compareEvents)
	var records []devices.AlarmRecord
	for _, r := range h.Alarms {
		if r.Device == "" || r.Device == device {
			records = append(records, r)
		}
	}
	slices.SortFunc(records, compareRecords)

	// The switchover ledger: a flap made only of the transitions of
	// planned switchovers (an operator switching over and back) is the
	// operator's doing, not a fault; a flap with any other transition
	// (the alive set still short after it) is judged as usual.
	planned := plannedTransitions(pairSwitchovers(device, ts, switchoverCommands(device, h.Events), s))
	var out []devices.Finding
	for _, f := range flaps(ts, s) {
		if plannedOnly(f, planned) {
			continue
		}
		out = append(out, judge(device, f, ts, events, records, h.ConfigDrift, h.Config, s))
	}
	return out
}

// line is one evidence line and the time it speaks of.
type line struct {
	at   time.Time
	text string
}

// clues gathers a flap's evidence: the lines, what each cause's
// evidence names (for the remedy), and whether anything makes it critical.
type clues struct {
	lines    []line
	named    map[devices.Cause][]culprit
	critical bool
	// powerCycles are reboots whose reason says power cycle or failure:
	// hardware evidence only when nothing else names a cause (see
	// blameReboot).
	powerCycles []culprit
	// disks are the culprits named by RE disk errors.
	disks []string
}

// disksFirst names the disks first among the hardware culprits: with
// chassis redundancy failover on-disk-failure configured, a disk error
// is the likely trigger of the switchover.
func (c *clues) disksFirst() {
	list := c.named[devices.CauseHardware]
	var disks, rest []culprit
	for _, u := range list {
		if slices.Contains(c.disks, u.name) {
			u.details = append(u.details, "failover on-disk-failure is configured: the likely trigger of the switchover")
			disks = append(disks, u)
		} else {
			rest = append(rest, u)
		}
	}
	if len(disks) > 0 {
		c.named[devices.CauseHardware] = append(disks, rest...)
	}
}

// culprit is one thing a cause's evidence names — a FRU, a link, a
// commit — with the details that point at it, in the order seen.
type culprit struct {
	name    string
	details []string
}

func (u culprit) String() string {
	if len(u.details) == 0 {
		return u.name
	}
	return u.name + " (" + strings.Join(u.details, ", ") + ")"
}

// blame records evidence for a cause: name is what it points at, detail
// (optional) how; the same name seen again gathers its details in one
// place, so the remedy names each FRU once.
func (c *clues) blame(cause devices.Cause, name, detail string) {
	list := c.named[cause]
	i := slices.IndexFunc(list, func(u culprit) bool { return u.name == name })
	if i < 0 {
		list = append(list, culprit{name: name})
		i = len(list) - 1
	}
	if detail != "" && !slices.Contains(list[i].details, detail) {
		list[i].details = append(list[i].details, detail)
	}
	c.named[cause] = list
}

// blameReboot records a reboot of re, with its last reboot reason, under
// the cause the reason names (rebootCause), if any.
//
// "0x1:power cycle/failure" says the RE lost power, not why: Junos
// records it as well when the RE was reseated or reset after it was
// lost, and it is the reason of every RE that was simply switched on.
// So it names hardware only when nothing else in the window names a
// cause (weighPowerCycles).
func (c *clues) blameReboot(re, reason string) {
	cause, ok := rebootCause(reason)
	switch {
	case !ok:
	case cause == devices.CauseHardware:
		name, detail := re+" rebooted", fmt.Sprintf("last reboot reason %q", strings.TrimSpace(reason))
		i := slices.IndexFunc(c.powerCycles, func(u culprit) bool { return u.name == name })
		if i < 0 {
			c.powerCycles = append(c.powerCycles, culprit{name: name})
			i = len(c.powerCycles) - 1
		}
		if !slices.Contains(c.powerCycles[i].details, detail) {
			c.powerCycles[i].details = append(c.powerCycles[i].details, detail)
		}
	default:
		c.blame(cause, re+" rebooted", fmt.Sprintf("last reboot reason %q", strings.TrimSpace(reason)))
	}
}

// weighPowerCycles turns the power-cycle reboots into hardware evidence
// when no other evidence names a cause.
func (c *clues) weighPowerCycles() {
	if len(c.named) > 0 {
		return
	}
	for _, u := range c.powerCycles {
		if len(u.details) == 0 {
			c.blame(devices.CauseHardware, u.name, "")
		}
		for _, d := range u.details {
			c.blame(devices.CauseHardware, u.name, d)
		}
	}
}

// judge names the cause of one flap. all is every merged transition of
// the device: those of other REs inside the window are evidence too (the
// backup took over because the master panicked).
func judge(device string, f flap, all []devices.Transition, events []devices.Event, records []devices.AlarmRecord, drift []string, cfg *devices.RedundancyConfig, s Settings) devices.Finding {
	first := f.transitions[0].Time
	last := f.transitions[len(f.transitions)-1].Time
	from, until := first.Add(-s.EvidenceWindow), last.Add(s.EvidenceWindow)
	commitsFrom := first.Add(-s.CommitLookback)
	inWindow := func(t time.Time) bool { return !t.Before(from) && !t.After(until) }

	c := clues{named: make(map[devices.Cause][]culprit)}
	var commits []devices.Event
	if unplannedMasterChange(all, events, from, until, s.SwitchoverCommandWindow) {
		c.critical = true
	}
	for _, t := range all {
		if t.RE != f.re && !inWindow(t.Time) {
			continue
		}
		if t.RE == f.re && (t.Time.Before(first) || t.Time.After(last)) {
			continue // the same RE's transitions outside the flap
		}
		for _, ev := range t.Evidence {
			// A boot the RE table showed (WithBoots) is evidence when it
			// falls inside the window, whichever transition carries it.
			if name, boot, reason, ok := bootNote(ev); ok {
				if inWindow(boot) {
					c.lines = append(c.lines, line{boot, ev})
					c.blameReboot(name, reason)
				}
				continue
			}
			c.lines = append(c.lines, line{t.Time, ev})
			if reason, ok := rebootReason(ev); ok {
				c.blameReboot(t.RE, reason)
			}
		}
	}
	if len(f.transitions) >= 3*s.FlapMin {
		c.critical = true
	}

	for _, e := range events {
		isCommit := e.Kind == devices.EventCommit && !e.Time.Before(commitsFrom) && !e.Time.After(first)
		if !inWindow(e.Time) && !isCommit {
			continue
		}
		text := eventLine(e)
		switch e.Kind {
		case devices.EventCommit:
			if isCommit {
				commits = append(commits, e)
			}
		case devices.EventAlarmSet, devices.EventAlarmCleared:
			desc := cmp.Or(e.Subject, e.Line.Message)
			if classifyAlarm("", desc) == roleHardware {
				c.blame(devices.CauseHardware, fruOf(desc), quoted(desc))
				if strings.EqualFold(e.Class, "major") {
					c.critical = true
				}
			}
		case devices.EventFRU:
			c.blame(devices.CauseHardware, fruEventName(e), e.Line.Tag)
		case devices.EventInternalLink:
			c.blame(devices.CauseNetwork, internalLinkNote(e), "")
		case devices.EventLinkFlap:
			if !internalInterface(e.Subject) {
				continue // a revenue port: noise, not evidence
			}
			c.blame(devices.CauseNetwork, internalLinkNote(e), "")
		case devices.EventIPCLoss:
			c.blame(devices.CauseNetwork, "IPC connection between the REs lost (E_NO_IPC)", "")
		case devices.EventKeepaliveLoss:
			c.blame(devices.CauseNetwork, "keepalives from the other RE lost", "")
		case devices.EventDiskError:
			c.blame(devices.CauseHardware, diskName(e), "")
			c.disks = append(c.disks, diskName(e))
		case devices.EventCoreDump:
			c.blame(devices.CauseSoftware, "core dump"+ofSubject(e), "")
		case devices.EventPanic:
			c.blame(devices.CauseSoftware, "kernel panic"+ofSubject(e), "")
		}
		c.lines = append(c.lines, line{e.Time, text})
	}

	var alarms []devices.Alarm
	for _, r := range records {
		start := r.Alarm.Time
		if start.IsZero() {
			start = r.FirstSeen // the device gave no alarm-time
		}
		if start.After(until) || (!r.ClearedAt.IsZero() && r.ClearedAt.Before(from)) {
			continue
		}
		alarms = append(alarms, r.Alarm)
		if classifyAlarm(r.Alarm.Type, r.Alarm.Description) == roleHardware {
			c.blame(devices.CauseHardware, fruOf(r.Alarm.Description), quoted(r.Alarm.Description))
			if r.Alarm.IsMajor() {
				c.critical = true
			}
		}
	}
	slices.SortFunc(alarms, compareAlarms)
	alarms = slices.Compact(alarms)

	for _, note := range commitNotes(commits) {
		c.blame(devices.CauseConfiguration, note, "")
	}
	for _, d := range drift {
		c.blame(devices.CauseConfiguration, d, "")
	}
	c.weighPowerCycles()
	if cfg != nil && cfg.FailoverOnDiskFailure {
		c.disksFirst()
	}

	slices.SortStableFunc(c.lines, func(a, b line) int { return a.at.Compare(b.at) })
	var evidence []string
	for _, l := range c.lines {
		evidence = append(evidence, l.text)
	}
	for _, d := range drift {
		evidence = append(evidence, "config: "+d)
	}

	var causes []devices.Cause
	for cause := range c.named {
		causes = append(causes, cause)
	}
	slices.SortFunc(causes, func(a, b devices.Cause) int { return cmp.Compare(causeRank(a), causeRank(b)) })
	cause := devices.CauseUnknown
	var others []devices.Cause
	if len(causes) > 0 {
		cause, others = causes[0], causes[1:]
	}
	severity := devices.SeverityWarning
	if c.critical {
		severity = devices.SeverityCritical
	}
	return devices.Finding{
		Device:      device,
		RE:          f.re,
		Cause:       cause,
		Severity:    severity,
		Transitions: len(f.transitions),
		First:       first,
		Last:        last,
		Evidence:    unionLines(evidence),
		Alarms:      alarms,
		OtherCauses: others,
		Remedy:      remedy(cause, c.named[cause]),
	}
}

// remedy is docs/domain.md's suggestion for a cause, naming what the evidence
// named (the FRU, the link, the release problem, the commit).
func remedy(cause devices.Cause, culprits []culprit) string {
	var named []string
	for _, u := range culprits {
		named = append(named, u.String())
	}
	var head string
	switch cause {
	case devices.CauseHardware:
		head = "Inspect and replace the FRU (hardware maintenance)"
	case devices.CauseNetwork:
		head = "Check internal links and redundancy paths (network optimisation)"
	case devices.CauseSoftware:
		head = "Match the Junos release against known problem reports; upgrade (software updates)"
	case devices.CauseConfiguration:
		head = "Review the commit and standardise the configuration"
	default:
		return "No cause in the evidence window: compare show log messages and show log mastership on both REs around the transitions"
	}
	const most = 3
	if len(named) > most {
		named = append(slices.Clone(named[:most]), fmt.Sprintf("and %d more", len(named)-most))
	}
	return head + ": " + strings.Join(named, "; ")
}

// rebootReason reads the last reboot reason from an RE-table evidence
// line of TableTransitions.
func rebootReason(evidence string) (string, bool) {
	const marker = `last reboot reason "`
	if !strings.HasPrefix(evidence, "re-table: ") {
		return "", false
	}
	i := strings.LastIndex(evidence, marker)
	if i < 0 {
		return "", false
	}
	rest := evidence[i+len(marker):]
	j := strings.Index(rest, `"`)
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}

// softwareReason: Junos reboot reasons that name a software failure
// ("0x1000:reboot due to panic"), as opposed to a power cycle or a
// requested reboot.
func softwareReason(reason string) bool {
	r := fold(reason)
	return strings.Contains(r, "panic") || strings.Contains(r, "exception") || strings.Contains(r, "watchdog")
}

// commitNotes names the commits for the remedy: who, when. One commit
// logs several lines (UI_DBASE_LOGIN_EVENT, UI_COMMIT,
// UI_COMMIT_COMPLETED) and only some name the user, so the lines that
// name a user are enough when there are any; else the last commit's time.
func commitNotes(commits []devices.Event) []string {
	var named []string
	for _, e := range commits {
		if user := commitUser(e); user != "" {
			named = append(named, fmt.Sprintf("commit by %s at %s", user, stamp(e.Time)))
		}
	}
	if len(named) == 0 && len(commits) > 0 {
		named = append(named, "commit at "+stamp(commits[len(commits)-1].Time))
	}
	return unionLines(named)
}

// commitUser is the user a UI_* line names ("User 'luke' requested
// 'commit' operation"), else the one a rule's "OP by USER" subject names,
// else "": UI_COMMIT_COMPLETED names nobody (its subject is "commit
// complete", which is not a user).
func commitUser(e devices.Event) string {
	for _, text := range []string{e.Line.Message, e.Line.Raw} {
		if i := strings.Index(text, "User '"); i >= 0 {
			rest := text[i+len("User '"):]
			if j := strings.Index(rest, "'"); j > 0 {
				return rest[:j]
			}
		}
	}
	if _, user, ok := strings.Cut(e.Subject, " by "); ok {
		return strings.TrimSpace(user)
	}
	return ""
}

// fruOf names the FRU an alarm text is about, or the whole text when it
// names none.
func fruOf(description string) string {
	d := strings.Join(strings.Fields(description), " ")
	return cmp.Or(fruName(d), d)
}

func quoted(s string) string { return fmt.Sprintf("%q", strings.Join(strings.Fields(s), " ")) }

func fruEventName(e devices.Event) string {
	if e.Subject != "" {
		return e.Subject
	}
	return cmp.Or(fruName(e.Line.Message), "a FRU")
}

func internalLinkNote(e devices.Event) string {
	subject := strings.TrimSpace(e.Subject)
	if subject == "" {
		if strings.Contains(fold(e.Line.Message), "rdp keepalive") {
			return "rdp keepalive expired on the internal RE link"
		}
		return "internal RE link"
	}
	return subject + " (internal RE link)"
}

// diskName names a disk of an RE disk error: "disk ad0 of re1".
func diskName(e devices.Event) string {
	name := cmp.Or(strings.TrimSpace(e.Subject), "disk")
	if re := strings.TrimSpace(e.RE); re != "" {
		name += " of " + re
	}
	return name
}

func ofSubject(e devices.Event) string {
	if s := strings.TrimSpace(e.Subject); s != "" {
		return " of " + s
	}
	return ""
}

// internalInterface reports whether an interface is one of the RE's
// internal links to the control boards and the other RE (KB13389: em0,
// em1; ixgbe on newer REs; fxp1 and bme on older ones), as opposed to a
// revenue or management port.
func internalInterface(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n = n[:i] // em0.0
	}
	switch n {
	case "em0", "em1", "fxp1", "bme0", "bme1":
		return true
	}
	return strings.HasPrefix(n, "ixgbe")
}
