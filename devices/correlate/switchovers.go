package correlate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// switchover is a ledger row with the two transitions it pairs, so that
// Findings can tell the transitions of a planned switchover apart.
type switchover struct {
	devices.Switchover
	in, out devices.Transition // the new master's arrival, the old master's departure
}

// Switchovers is the switchover ledger of one device: every change of
// master in its transitions, oldest first, each marked planned or not.
//
// Items whose Device is another device are ignored, "" counts as this
// device. Transitions are merged first (MergeTransitions with
// s.MergeTolerance), so raw per-source transitions are fine, and a change
// of master is counted once whichever source (RE table, mastership log,
// messages, alarm) saw it. A change of master is a transition of one RE
// to master (from backup or gone) paired with a transition of another RE
// out of master (to backup or gone) at most s.MergeTolerance apart: the
// nearest such departure, each used once. An RE becoming master with no
// master seen leaving (a first boot, a lone RE) is not a switchover.
//
// A switchover is planned when an operator command for it — an event of
// kind devices.EventSwitchoverCommand, logged on either RE — is at most
// s.SwitchoverCommandWindow before it (or at the same second). Each
// command plans at most one switchover, the first after it; a command
// with no change of master after it plans nothing, and a change of master
// with no command line before it is unplanned (commands reach messages
// only when interactive-commands is logged there, so a missing line is
// common, never an error). Its Time is the new master's arrival, its
// Evidence the two transitions' evidence and the command lines.
//
// Cause is left empty: it is the covering finding's, see
// SwitchoverCauses. The result is the same for the same input in any
// order.
func Switchovers(device string, transitions []devices.Transition, events []devices.Event, s Settings) []devices.Switchover {
	var out []devices.Switchover
	for _, sw := range switchovers(device, transitions, events, s) {
		out = append(out, sw.Switchover)
	}
	return out
}

// switchovers is Switchovers keeping the paired transitions.
func switchovers(device string, transitions []devices.Transition, events []devices.Event, s Settings) []switchover {
	s = s.effective()
	var ts []devices.Transition
	for _, t := range transitions {
		if t.Device == "" || t.Device == device {
			t.Device = device
			ts = append(ts, t)
		}
	}
	return pairSwitchovers(device, MergeTransitions(ts, s.MergeTolerance), switchoverCommands(device, events), s)
}

// switchoverCommands picks the device's command events, in order.
func switchoverCommands(device string, events []devices.Event) []devices.Event {
	var cmds []devices.Event
	for _, e := range events {
		if e.Kind == devices.EventSwitchoverCommand && (e.Device == "" || e.Device == device) && !e.Time.IsZero() {
			e.Device = device
			cmds = append(cmds, e)
		}
	}
	slices.SortFunc(cmds, compareEvents)
	return cmds
}

// pairSwitchovers builds the ledger from merged, sorted transitions and
// sorted command events.
func pairSwitchovers(device string, ts []devices.Transition, cmds []devices.Event, s Settings) []switchover {
	var out []switchover
	used := make([]bool, len(ts))
	for i, in := range ts {
		if in.To != devices.REMaster || in.From == devices.REMaster {
			continue
		}
		best := -1
		for j, t := range ts {
			if used[j] || j == i || t.RE == in.RE || t.From != devices.REMaster || t.To == devices.REMaster {
				continue
			}
			d := absDuration(t.Time.Sub(in.Time))
			if d > s.MergeTolerance {
				continue
			}
			if best < 0 || d < absDuration(ts[best].Time.Sub(in.Time)) {
				best = j // ts is sorted, so ties keep the earlier departure
			}
		}
		if best < 0 {
			continue
		}
		used[best] = true
		out = append(out, switchover{
			Switchover: devices.Switchover{
				Device:    device,
				Time:      in.Time,
				OldMaster: ts[best].RE,
				NewMaster: in.RE,
			},
			in:  in,
			out: ts[best],
		})
	}
	slices.SortStableFunc(out, func(a, b switchover) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.NewMaster, b.NewMaster), cmp.Compare(a.OldMaster, b.OldMaster))
	})

	// Each command plans the first switchover after it; switchovers take
	// every unused command of their window, so the E_CMD line and the CLI
	// line of one request both end up in its evidence.
	taken := make([]bool, len(cmds))
	for k := range out {
		sw := &out[k]
		var lines []line
		for _, l := range append(slices.Clone(sw.out.Evidence), sw.in.Evidence...) {
			lines = append(lines, line{sw.Time, l})
		}
		for c, e := range cmds {
			if taken[c] || e.Time.After(sw.Time) || sw.Time.Sub(e.Time) > s.SwitchoverCommandWindow {
				continue
			}
			taken[c] = true
			if !sw.Planned || (typedCommand(commandName(e)) && !typedCommand(sw.Command)) {
				// The typed command names the user; prefer it to E_CMD_*.
				sw.Command = commandName(e)
			}
			sw.Planned = true
			lines = append(lines, line{e.Time, eventLine(e)})
		}
		slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })
		sw.Evidence = nil
		for _, l := range lines {
			sw.Evidence = append(sw.Evidence, l.text)
		}
		sw.Evidence = unionLines(sw.Evidence)
	}
	return out
}

// commandName is what the ledger shows for a command event: the rule's
// subject ("request chassis routing-engine master switch by lab"), else
// the line.
func commandName(e devices.Event) string {
	return cmp.Or(e.Subject, e.Line.Message, e.Line.Raw)
}

// typedCommand tells a typed command's name from an E_CMD_* one.
func typedCommand(name string) bool { return strings.HasPrefix(name, "request ") }

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// SwitchoverCauses fills the Cause of each unplanned switchover from the
// first finding (in fs's order, Findings sorts by First) whose evidence
// window, [First − EvidenceWindow, Last + EvidenceWindow], holds its time:
// the flap whose evidence explains why the master changed. Planned
// switchovers keep an empty cause: the operator is the cause. sws is
// changed in place and returned.
func SwitchoverCauses(sws []devices.Switchover, fs []devices.Finding, s Settings) []devices.Switchover {
	s = s.effective()
	for i := range sws {
		if sws[i].Planned {
			continue
		}
		for _, f := range fs {
			from, until := f.First.Add(-s.EvidenceWindow), f.Last.Add(s.EvidenceWindow)
			if f.Device == sws[i].Device && !sws[i].Time.Before(from) && !sws[i].Time.After(until) {
				sws[i].Cause = f.Cause
				break
			}
		}
	}
	return sws
}

// plannedTransitions is the set of transitions planned switchovers pair:
// a flap made only of them is the operator's doing, not a fault.
func plannedTransitions(sws []switchover) map[transitionKey]bool {
	keys := make(map[transitionKey]bool)
	for _, sw := range sws {
		if sw.Planned {
			keys[transitionKeyOf(sw.in)] = true
			keys[transitionKeyOf(sw.out)] = true
		}
	}
	return keys
}

// plannedOnly reports whether every transition of f belongs to a planned
// switchover.
func plannedOnly(f flap, planned map[transitionKey]bool) bool {
	for _, t := range f.transitions {
		if !planned[transitionKeyOf(t)] {
			return false
		}
	}
	return len(planned) > 0
}

type transitionKey struct {
	re, from, to string
	at           int64
}

func transitionKeyOf(t devices.Transition) transitionKey {
	return transitionKey{t.RE, t.From, t.To, t.Time.UnixNano()}
}
