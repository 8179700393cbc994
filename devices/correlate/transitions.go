package correlate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// Sources a transition can have, in the words of devices.Transition.
const (
	sourceTable = "re-table"
	sourceAlarm = "alarm"
	sourceLog   = "log" // "log:<file>", or "log" when the file is unknown
)

// rebootSlack is how far an RE's boot time (device time minus up-time)
// may move between two polls without counting as a reboot: the up-time and
// the device time come from two RPCs a few seconds apart, and an RE
// reboot takes minutes, so two minutes cannot hide a real one.
const rebootSlack = 2 * time.Minute

// TableTransitions derives the transitions between two consecutive
// snapshots of one device from the RE table (get-route-engine-information).
// prev nil gives none: the first poll has no delta. A snapshot without
// any RE is a poll whose RE RPC gave no data, not a device whose REs all
// left, and gives none too: pass the last snapshot that had RE data as
// prev.
//
// The state of an RE is master or backup when it is alive
// (RouteEngine.Alive) and its mastership-state says so, and REGone when it
// is missing from the table or not alive (status Failed/Absent, state
// "Present" for a powered-off RE). An alive RE that reports no
// mastership-state (single-RE platforms, SRX cluster nodes) is the master
// when it is the only RE either snapshot lists, else a backup: that keeps
// a lone RE the master of its own alive set without inventing switchovers
// between stateless cluster nodes.
//
// A reboot shows as up-time going down, as up-time growing by more than
// rebootSlack less than the time that passed between the polls while
// being shorter than that time (the RE booted in between), or as
// last-reboot-reason changing. The time that passed is the agent's
// (PolledAt to PolledAt), not the device's: a device clock that steps
// (NTP after a long drift) or runs hours off moves the boot time, device
// time minus up-time, by the step, while the up-time goes on counting
// (issue 19). Such a step is a ClockStep, never a reboot. A rebooted RE that is alive in both polls
// gives two transitions: state→gone and gone→state.
//
// Times come from the device, never from the agent's clock:
//   - a join, and the return after a reboot, happen at the boot time
//     (device time minus up-time) when the RE booted since the last poll;
//   - a departure or a mastership change happens at the alarm-time of
//     the first symptom alarm ("Loss of communication with Backup RE",
//     "Backup RE Active", "Host 1 Absent") raised since the last poll (and,
//     for a reboot, not after the boot); the transition then has sources
//     re-table and alarm;
//   - a takeover the table saw only at the poll happens when the old
//     master left, if it left in the same interval;
//   - otherwise at the device time of this poll.
//
// Times are on the current poll's device clock: the poll is at
// cur.DeviceTime (PolledAt when the device did not say) and the previous
// one the agent's elapsed time before it (pollSpan), so the two ends of
// the interval are measured on one clock even when the device's stepped.
// Transitions are sorted by time, then RE; a reboot's departure comes
// before its return.
func TableTransitions(prev, cur *devices.Snapshot) []devices.Transition {
	if prev == nil || cur == nil || len(prev.RouteEngines) == 0 || len(cur.RouteEngines) == 0 {
		return nil
	}
	prevAt, curAt, elapsed := pollSpan(prev, cur)
	before, after := indexREs(prev.RouteEngines), indexREs(cur.RouteEngines)
	var names []string
	for name := range before {
		names = append(names, name)
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	lone := len(names) == 1

	var out []devices.Transition
	for _, name := range names {
		p, inPrev := before[name]
		c, inCur := after[name]
		from, _ := tableState(p, inPrev, lone)
		to, why := tableState(c, inCur, lone)
		member := cmp.Or(c.Member, p.Member)
		add := func(at time.Time, from, to string, alarm *devices.Alarm, evidence ...string) {
			t := devices.Transition{Device: cur.Device, RE: name, Time: at, From: from, To: to, Sources: []string{sourceTable}, Evidence: evidence}
			if alarm != nil {
				t.Sources = append(t.Sources, sourceAlarm)
				t.Evidence = append(t.Evidence, fmt.Sprintf("alarm: %s %q at %s", alarm.Class, alarm.Description, stamp(alarm.Time)))
			}
			out = append(out, t)
		}
		change := func(from, to, note string) string {
			return fmt.Sprintf("re-table: %s %s→%s (%s)", name, from, to, note)
		}

		var rb reboot
		if inPrev && inCur {
			rb = detectReboot(p, c, curAt, elapsed)
		}
		switch {
		case rb.found && from != devices.REGone:
			at, alarm := departure(cur.Alarms, member, prevAt, rb.boot)
			if to == devices.REGone {
				add(at, from, to, alarm, change(from, to, why+" after a reboot"), rb.note)
				break
			}
			add(at, from, devices.REGone, alarm, change(from, devices.REGone, "rebooted"), rb.note)
			add(rb.boot, devices.REGone, to, nil, change(devices.REGone, to, "back after the reboot"), rb.note)
		case rb.found && to != devices.REGone:
			add(rb.boot, from, to, nil, change(from, to, "back after a reboot"), rb.note)
		case from == to:
		case to == devices.REGone:
			at, alarm := departure(cur.Alarms, member, prevAt, curAt)
			add(at, from, to, alarm, change(from, to, why))
		case from == devices.REGone:
			note := change(from, to, "back in "+rpcRouteEngines)
			if up := upTime(c); up != nil {
				if boot := curAt.Add(-*up); boot.After(prevAt) && !boot.After(curAt) {
					add(boot, from, to, nil, note, fmt.Sprintf("re-table: %s up-time %s: booted at %s%s", name, span(*up), stamp(boot), reasonSuffix(c)))
					break
				}
			}
			add(curAt, from, to, nil, note)
		default: // master <-> backup
			at, alarm := departure(cur.Alarms, member, prevAt, curAt)
			add(at, from, to, alarm, change(from, to, "mastership-state "+strings.ToLower(strings.TrimSpace(c.MastershipState))))
		}
	}
	timeTakeover(out, curAt)
	sortTransitions(out)
	return out
}

// timeTakeover times a takeover the table saw only at the poll: when the
// old master left in the same interval, the new one took over then (the
// backup claims mastership as the master goes), which is a device time.
// Only for a single departing master: a virtual chassis with several is
// left alone.
func timeTakeover(ts []devices.Transition, curAt time.Time) {
	var left *devices.Transition
	for i := range ts {
		if ts[i].From == devices.REMaster && ts[i].To == devices.REGone {
			if left != nil {
				return
			}
			left = &ts[i]
		}
	}
	if left == nil {
		return
	}
	for i := range ts {
		t := &ts[i]
		// Only a backup taking over: a return from gone has its own time
		// (the boot) and may follow its own departure.
		if t.From == devices.REBackup && t.To == devices.REMaster && t.RE != left.RE && t.Time.Equal(curAt) && left.Time.Before(curAt) {
			t.Time = left.Time
			t.Evidence = append(t.Evidence, fmt.Sprintf("re-table: %s took mastership when %s left", t.RE, left.RE))
		}
	}
}

const rpcRouteEngines = "get-route-engine-information"

// indexREs maps RE names to the RE; a name listed twice keeps the first.
func indexREs(res []devices.RouteEngine) map[string]devices.RouteEngine {
	m := make(map[string]devices.RouteEngine, len(res))
	for _, re := range res {
		if _, dup := m[re.Name]; !dup {
			m[re.Name] = re
		}
	}
	return m
}

// tableState is an RE's state in one table and, for REGone, why.
func tableState(re devices.RouteEngine, listed, lone bool) (state, why string) {
	switch {
	case !listed:
		return devices.REGone, "missing from " + rpcRouteEngines
	case !re.Alive():
		if st := strings.TrimSpace(re.Status); st != "" && !strings.EqualFold(st, "ok") && !strings.EqualFold(st, "testing") {
			return devices.REGone, "status " + st
		}
		return devices.REGone, "mastership-state " + strings.TrimSpace(re.MastershipState)
	case re.IsMaster():
		return devices.REMaster, ""
	case strings.EqualFold(strings.TrimSpace(re.MastershipState), devices.REBackup):
		return devices.REBackup, ""
	case lone:
		return devices.REMaster, ""
	default:
		return devices.REBackup, ""
	}
}

// upTime is the RE's up-time, nil when unknown or nonsensical.
func upTime(re devices.RouteEngine) *time.Duration {
	if re.UpTime == nil || *re.UpTime < 0 {
		return nil
	}
	return re.UpTime
}

func reasonSuffix(re devices.RouteEngine) string {
	if r := strings.TrimSpace(re.LastRebootReason); r != "" {
		return fmt.Sprintf("; last reboot reason %q", r)
	}
	return ""
}

// reboot is what detectReboot found: whether the RE rebooted between two
// polls, when it booted (device clock), and an evidence line.
type reboot struct {
	found bool
	boot  time.Time
	note  string
}

// detectReboot compares an RE's up-time in two polls against elapsed,
// the time that passed between them on the agent's clock; curAt is the
// current poll on the device's clock, from which the boot is timed.
func detectReboot(p, c devices.RouteEngine, curAt time.Time, elapsed time.Duration) reboot {
	name := c.Name
	reasonBefore, reasonNow := strings.TrimSpace(p.LastRebootReason), strings.TrimSpace(c.LastRebootReason)
	suffix := "reboot" + reasonSuffix(c)
	pu, cu := upTime(p), upTime(c)
	if pu != nil && cu != nil {
		boot := curAt.Add(-*cu)
		due := *pu + elapsed
		switch {
		case *cu < *pu:
			return reboot{true, boot, fmt.Sprintf("re-table: %s up-time fell from %s to %s (%s)", name, span(*pu), span(*cu), suffix)}
		case due-*cu > rebootSlack && *cu <= elapsed+rebootSlack:
			// Booted since the last poll: an up-time shorter than the
			// time between the polls. One that grew too little but is
			// longer counts from before the last poll: the agent's own
			// clock jumped, or the RE's stood still, and neither is a
			// reboot.
			return reboot{true, boot, fmt.Sprintf("re-table: %s up-time %s where %s was due (%s)", name, span(*cu), span(due), suffix)}
		}
	}
	if reasonBefore != "" && reasonNow != "" && reasonBefore != reasonNow {
		boot := curAt
		if cu != nil {
			boot = curAt.Add(-*cu)
		}
		return reboot{true, boot, fmt.Sprintf("re-table: %s last reboot reason changed from %q to %q (reboot)", name, reasonBefore, reasonNow)}
	}
	return reboot{}
}

// departure is when an RE left the alive set or mastership changed,
// somewhere in (after, until]: the alarm-time of the first symptom alarm
// raised in that span by the RE's member (or the chassis), else until.
func departure(alarms []devices.Alarm, member string, after, until time.Time) (time.Time, *devices.Alarm) {
	var best *devices.Alarm
	for i := range alarms {
		a := &alarms[i]
		if a.Time.IsZero() || !a.Time.After(after) || a.Time.After(until) {
			continue
		}
		if a.Member != "" && member != "" && a.Member != member {
			continue
		}
		if classifyAlarm(a.Type, a.Description) != roleSymptom {
			continue
		}
		if best == nil || compareAlarms(*a, *best) < 0 {
			best = a
		}
	}
	if best == nil {
		return until, nil
	}
	found := *best
	return found.Time, &found
}

// compareTransitions orders transitions by time, then RE; at one instant
// a departure (to gone) comes before a return, so a reboot's pair stays in
// walk order; the remaining fields only make the order total.
func compareTransitions(a, b devices.Transition) int {
	return cmp.Or(
		a.Time.Compare(b.Time),
		cmp.Compare(a.RE, b.RE),
		cmp.Compare(a.Device, b.Device),
		cmp.Compare(walkRank(a), walkRank(b)),
		cmp.Compare(a.From, b.From),
		cmp.Compare(a.To, b.To),
		slices.Compare(a.Sources, b.Sources),
		slices.Compare(a.Evidence, b.Evidence),
	)
}

func walkRank(t devices.Transition) int {
	if t.To == devices.REGone {
		return 0
	}
	return 1
}

func sortTransitions(ts []devices.Transition) { slices.SortFunc(ts, compareTransitions) }

// takeoverSpan is how close to an RE's departure the other RE must take
// mastership for the departed RE to be judged the old master, when the
// log does not say which it was. Junos' default keepalive-time is 300 s:
// a backup that takes over on loss of keepalives does so within it.
const takeoverSpan = 5 * time.Minute

// EventTransitions derives transitions from classified log lines of one
// device: alive-set events (Change "left" → gone, "joined" → backup, or
// master when the same RE's mastership line at the same second says so)
// and mastership events (Change "master"/"backup"). Other kinds, other
// Change words and lines without a time give no transition.
//
// res is the RE table of the poll that read the lines. Event.RE may name
// the RE ("re1", "member0-re1"), or say "self" (the RE that wrote the
// line) or "other" (its peer); an empty RE means "other" for alive-set
// lines (an RE cannot log its own departure) and "self" for mastership
// lines ("new state = master" is about the writer). The writer is the RE
// its syslog host names ("re0-abc", "re1.vmx01"); when the host names
// none, it is the master of res, since the agent reads logs from the
// master. "other" is resolved only on a dual-RE device, as the writer's
// peer (re0↔re1, member0-re0↔member0-re1): res may list no other REs.
// A line whose RE cannot be resolved gives no transition; it is still an
// event, and Findings shows it as evidence.
//
// Each RE's state is followed through the lines in time order; a line
// that does not change it (a second "left") gives nothing. The first line
// about an RE has no known previous state, so it is inferred: joined
// comes from gone, master from backup, backup (mastership) from master,
// and left from master when the other RE took mastership within
// takeoverSpan of it, else from backup. MergeTransitions prefers the RE
// table's observed From over this guess.
func EventTransitions(events []devices.Event, res []devices.RouteEngine) []devices.Transition {
	return EventTransitionsFrom(nil, events, res)
}

// EventTransitionsFrom is EventTransitions with each RE's state before the
// first line known from before, the RE table of the previous poll (nil
// when there was none). Junos writes "new state = master" on every event
// of the mastership state machine, also when the state did not change:
// a master that says it again is no transition. So the walk starts from
// the previous table; only without one (a device's first poll, reading
// its log tail) is an RE's state before its first line inferred.
func EventTransitionsFrom(before []devices.RouteEngine, events []devices.Event, res []devices.RouteEngine) []devices.Transition {
	var evs []devices.Event
	for _, e := range events {
		if aliveSetSignal(e.Kind) && !e.Time.IsZero() {
			evs = append(evs, e)
		}
	}
	slices.SortFunc(evs, compareEvents)
	pr := newPairing(res)

	type step struct {
		ev devices.Event
		re string
		to string
	}
	var steps []step
	for _, e := range evs {
		to := ""
		switch {
		case e.Kind == devices.EventAliveSet && strings.EqualFold(e.Change, "left"):
			to = devices.REGone
		case e.Kind == devices.EventIPCLoss, e.Kind == devices.EventKeepaliveLoss:
			// E_NO_IPC and lost keepalives: the other RE left, as
			// E_NO_ORE says ("Determining Why Mastership Switched").
			// The lines repeat every 20 s while it stays away; the walk
			// makes the first of them the departure.
			to = devices.REGone
		case e.Kind == devices.EventAliveSet && strings.EqualFold(e.Change, "joined"):
			to = devices.REBackup
		case e.Kind == devices.EventMastership && strings.EqualFold(e.Change, devices.REMaster):
			to = devices.REMaster
		case e.Kind == devices.EventMastership && strings.EqualFold(e.Change, devices.REBackup):
			to = devices.REBackup
		default:
			continue
		}
		re, ok := pr.resolve(e)
		if !ok {
			continue
		}
		steps = append(steps, step{e, re, to})
	}
	becomesMaster := func(re string, at time.Time, within time.Duration, other bool) bool {
		for _, s := range steps {
			if s.ev.Kind != devices.EventMastership || s.to != devices.REMaster || (s.re == re) == other {
				continue
			}
			if d := s.ev.Time.Sub(at); d >= -within && d <= within {
				return true
			}
		}
		return false
	}

	walk := make(map[string]string)
	for _, re := range before {
		walk[re.Name], _ = tableState(re, true, len(before) == 1)
	}
	var out []devices.Transition
	for _, s := range steps {
		to := s.to
		joined := s.ev.Kind == devices.EventAliveSet && to == devices.REBackup
		if joined && becomesMaster(s.re, s.ev.Time, time.Second, false) {
			to = devices.REMaster
		}
		from, known := walk[s.re]
		if !known {
			switch {
			case joined:
				from = devices.REGone
			case to == devices.REGone && becomesMaster(s.re, s.ev.Time, takeoverSpan, true):
				from = devices.REMaster
			case to == devices.REGone, to == devices.REMaster:
				from = devices.REBackup
			default:
				from = devices.REMaster
			}
		}
		if from == to {
			continue
		}
		walk[s.re] = to
		source := sourceLog
		if f := strings.TrimSpace(s.ev.Line.File); f != "" {
			source += ":" + f
		}
		out = append(out, devices.Transition{
			Device: s.ev.Device, RE: s.re, Time: s.ev.Time, From: from, To: to,
			Sources: []string{source}, Evidence: []string{eventLine(s.ev)},
		})
	}
	sortTransitions(out)
	return out
}

// aliveSetSignal reports whether events of kind k say an RE entered or
// left the alive set or changed mastership: every such signal gives
// transitions, whichever log carries it (issue 15, class 1: a flap seen
// only as keepalive loss and E_NO_IPC … E_ORE_B in /var/log/mastership).
func aliveSetSignal(k devices.EventKind) bool {
	switch k {
	case devices.EventAliveSet, devices.EventMastership, devices.EventIPCLoss, devices.EventKeepaliveLoss:
		return true
	}
	return false
}

// eventLine is the text an event shows as evidence: the log line as the
// device wrote it, or, for an event built without one, its meaning.
func eventLine(e devices.Event) string {
	if e.Line.Raw != "" {
		return e.Line.Raw
	}
	parts := []string{string(e.Kind)}
	for _, p := range []string{e.RE, e.Change, e.Subject} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return stamp(e.Time) + " " + strings.Join(parts, " ")
}

// compareEvents orders events by time, then by every field that tells
// two lines apart, so that shuffled input walks the same way.
func compareEvents(a, b devices.Event) int {
	return cmp.Or(
		a.Time.Compare(b.Time),
		cmp.Compare(a.Device, b.Device),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.RE, b.RE),
		cmp.Compare(a.Change, b.Change),
		cmp.Compare(a.Subject, b.Subject),
		cmp.Compare(a.Class, b.Class),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Line.File, b.Line.File),
		cmp.Compare(a.Line.Host, b.Line.Host),
		cmp.Compare(a.Line.Raw, b.Line.Raw),
	)
}

// pairing resolves "self" and "other" in log lines against an RE table.
type pairing struct {
	names  map[string]bool
	master string // the one RE that says it is master, "" if not exactly one
}

func newPairing(res []devices.RouteEngine) pairing {
	p := pairing{names: make(map[string]bool)}
	masters := 0
	for _, re := range res {
		p.names[re.Name] = true
		if re.IsMaster() && re.Alive() {
			masters++
			p.master = re.Name
		}
	}
	if masters != 1 {
		p.master = ""
	}
	return p
}

// resolve names the RE an event is about; false when it cannot.
func (p pairing) resolve(e devices.Event) (string, bool) {
	re := strings.TrimSpace(e.RE)
	switch strings.ToLower(re) {
	case "self":
		return p.writer(e)
	case "other":
		return p.peer(e)
	case "":
		if e.Kind == devices.EventMastership {
			return p.writer(e)
		}
		return p.peer(e)
	default:
		return re, true
	}
}

// writer is the RE that wrote the line: named by the syslog host, else
// the master. It must fit the table as one of a dual-RE pair.
func (p pairing) writer(e devices.Event) (string, bool) {
	w := hostRE(e.Line.Host)
	if w == "" {
		w = p.master
	}
	if w == "" || !p.pairs(w) {
		return "", false
	}
	return w, true
}

func (p pairing) peer(e devices.Event) (string, bool) {
	w, ok := p.writer(e)
	if !ok {
		return "", false
	}
	return peerOf(w), true
}

// pairs reports whether the table is a dual-RE (or single-RE) device of
// which w is one RE: every name it lists is w or w's peer.
func (p pairing) pairs(w string) bool {
	peer := peerOf(w)
	if peer == "" {
		return false
	}
	for name := range p.names {
		if name != w && name != peer {
			return false
		}
	}
	return true
}

// peerOf is the other RE of a dual-RE pair: the name with its final
// slot digit swapped (re0↔re1, member0-re1↔member0-re0, node0↔node1);
// "" when the name does not end in 0 or 1.
func peerOf(name string) string {
	n := len(name)
	if n == 0 || (n >= 2 && name[n-2] >= '0' && name[n-2] <= '9') {
		return "" // "re10", "re11": not a slot of a dual-RE pair
	}
	switch name[n-1] {
	case '0':
		return name[:n-1] + "1"
	case '1':
		return name[:n-1] + "0"
	}
	return ""
}

// hostRE reads the RE from a syslog host field: Junos prefixes the
// hostname of each RE with its name, "re0-abc" or "re1.vmx01". "" when
// the host carries no such prefix.
func hostRE(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if !strings.HasPrefix(h, "re") {
		return ""
	}
	i := 2
	for i < len(h) && h[i] >= '0' && h[i] <= '9' {
		i++
	}
	if i == 2 || i-2 > 1 {
		return "" // no slot digit, or not a slot Junos uses (one digit)
	}
	if i < len(h) && h[i] != '-' && h[i] != '.' {
		return ""
	}
	return h[:i]
}

// precision ranks a transition's time: a log line is timestamped to the
// second by the RE that saw it, an alarm-time to the second by the
// master, and the RE table only brackets the change between two polls.
func precision(sources []string) int {
	best := 0
	for _, s := range sources {
		switch {
		case s == sourceLog || strings.HasPrefix(s, sourceLog+":"):
			best = max(best, 3)
		case s == sourceAlarm:
			best = max(best, 2)
		default:
			best = max(best, 1)
		}
	}
	return best
}

func hasLog(sources []string) bool { return precision(sources) == 3 }

// tableOnly: seen by the RE table (possibly timed by an alarm) and by no
// log line.
func tableOnly(sources []string) bool {
	return slices.Contains(sources, sourceTable) && !hasLog(sources)
}

// MergeTransitions joins the transitions that several sources saw of one
// change. Two transitions of the same device and RE into the same state,
// with no other transition of that RE between them, are one when
//   - they are at most tol apart, or
//   - one was seen only by the RE table and the other by a log line: the
//     table sees only the net change between two polls, minutes after a
//     log line timestamped it, and an RE cannot enter one state twice in
//     a row.
//
// From is not part of the key: a log line that says only "left" cannot
// know whether the RE was master or backup. The merged transition takes
// its From from the RE table when the table saw it (observed, not
// inferred), its time from the most precise source (log > alarm >
// re-table; the earliest of equals), and the union of Sources (log, alarm,
// re-table) and Evidence (oldest first, each line once). The result is
// sorted by time, then RE; merging it again changes nothing.
func MergeTransitions(ts []devices.Transition, tol time.Duration) []devices.Transition {
	out := slices.Clone(ts)
	for {
		next := mergeOnce(out, tol)
		if len(next) == len(out) {
			return next
		}
		out = next
	}
}

func mergeOnce(ts []devices.Transition, tol time.Duration) []devices.Transition {
	sorted := slices.Clone(ts)
	slices.SortFunc(sorted, func(a, b devices.Transition) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.RE, b.RE), compareTransitions(a, b))
	})
	var out []devices.Transition
	var group []devices.Transition
	var sources []string
	flush := func() {
		if len(group) > 0 {
			out = append(out, combine(group))
		}
	}
	for _, t := range sorted {
		if len(group) > 0 {
			last := group[len(group)-1]
			same := last.Device == t.Device && last.RE == t.RE && last.To == t.To
			near := t.Time.Sub(last.Time) <= tol
			blind := (tableOnly(sources) && hasLog(t.Sources)) || (tableOnly(t.Sources) && hasLog(sources))
			if same && (near || blind) {
				group = append(group, t)
				sources = append(sources, t.Sources...)
				continue
			}
		}
		flush()
		group = []devices.Transition{t}
		sources = slices.Clone(t.Sources)
	}
	flush()
	sortTransitions(out)
	return out
}

// combine makes one transition of a group sorted by time.
func combine(group []devices.Transition) devices.Transition {
	if len(group) == 1 {
		t := group[0]
		t.Sources = unionSources(t.Sources)
		t.Evidence = unionLines(t.Evidence)
		return t
	}
	best := group[0]
	for _, t := range group[1:] {
		if precision(t.Sources) > precision(best.Sources) {
			best = t
		}
	}
	merged := best
	for _, t := range group {
		if slices.Contains(t.Sources, sourceTable) {
			merged.From = t.From
			break
		}
	}
	var sources, evidence []string
	for _, t := range group {
		sources = append(sources, t.Sources...)
		evidence = append(evidence, t.Evidence...)
	}
	merged.Sources = unionSources(sources)
	merged.Evidence = unionLines(evidence)
	return merged
}

// unionSources dedupes and orders sources most precise first.
func unionSources(s []string) []string {
	out := slices.Clone(s)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(precision([]string{b}), precision([]string{a})), cmp.Compare(a, b))
	})
	return slices.Compact(out)
}

// unionLines keeps the first of each line, in order.
func unionLines(lines []string) []string {
	seen := make(map[string]bool, len(lines))
	var out []string
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
