package devices

import (
	"fmt"
	"slices"
	"strings"
)

// State is a Nagios plugin state; its integer value is the exit code.
type State int

const (
	StateOK       State = 0
	StateWarning  State = 1
	StateCritical State = 2
	StateUnknown  State = 3
)

func (s State) String() string {
	switch s {
	case StateOK:
		return "OK"
	case StateWarning:
		return "WARNING"
	case StateCritical:
		return "CRITICAL"
	default:
		return "UNKNOWN"
	}
}

// MarshalText makes a State print as its word in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the word back, so tools can decode check --json.
func (s *State) UnmarshalText(b []byte) error {
	for _, st := range []State{StateOK, StateWarning, StateCritical, StateUnknown} {
		if string(b) == st.String() {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown state %q", b)
}

// Assessment is the verdict on one poll: a Nagios state, a one-line
// summary in the operator's words, and the reasons behind the state.
type Assessment struct {
	State   State
	Summary string
	// Reasons lists every condition that raised the state, worst first.
	Reasons []string
	// ExpectedREs is the RE count the verdict was judged against.
	ExpectedREs int
}

// Assess judges one poll. expectedREs is the number of Routing Engines the
// device should have alive (from the inventory, or the most REs seen in its
// history); 0 means unknown, and then the REs in this very poll are the
// expectation.
//
// A device that could not be polled is UNKNOWN; a critical finding (a flap
// with a master change or a Major alarm), fewer REs alive than expected, no
// master, or a Major alarm is CRITICAL; any other finding, a Minor alarm or
// a partial poll is WARNING. A finding in maintenance raises nothing: it
// is named at the end of the summary with its window.
func Assess(p Poll, expectedREs int, findings []Finding) Assessment {
	snap := p.Snapshot
	if snap == nil || len(snap.RouteEngines) == 0 {
		msg := p.Error
		if msg == "" {
			msg = "no Routing Engine data in the reply"
		}
		kind := p.ErrorKind
		if kind == "" {
			kind = string(p.Outcome)
		}
		return Assessment{State: StateUnknown, Summary: fmt.Sprintf("cannot poll %s (%s): %s", p.Device, kind, msg), Reasons: []string{kind}, ExpectedREs: expectedREs}
	}
	if expectedREs <= 0 {
		expectedREs = len(snap.RouteEngines)
	}
	a := Assessment{State: StateOK, ExpectedREs: expectedREs}
	raise := func(s State, reason string) {
		if s > a.State {
			a.State = s
			a.Reasons = append([]string{reason}, a.Reasons...)
			return
		}
		a.Reasons = append(a.Reasons, reason)
	}

	var quiet []string // findings in maintenance: shown, not raised
	for _, f := range findings {
		if f.Maintenance {
			quiet = append(quiet, fmt.Sprintf("%s (in maintenance: %s)", describeFinding(f), f.MaintenanceNote))
			continue
		}
		state := StateWarning
		if f.Severity == SeverityCritical {
			state = StateCritical
		}
		raise(state, describeFinding(f))
	}
	alive := snap.AliveSet()
	if len(alive) < expectedREs {
		raise(StateCritical, fmt.Sprintf("%d of %d REs alive (%s)%s", len(alive), expectedREs, joinOrNone(alive), describeNotAlive(snap.RouteEngines)))
	}
	masters := snap.Masters()
	if expectedREs > 1 && len(masters) == 0 && reportsMastership(snap.RouteEngines) {
		raise(StateCritical, "no RE reports mastership")
	}
	var major, minor []string
	for _, al := range DedupeAlarms(snap.Alarms) {
		switch {
		case al.IsMajor():
			major = append(major, al.Description)
		case al.IsMinor():
			minor = append(minor, al.Description)
		}
	}
	if len(major) > 0 {
		raise(StateCritical, fmt.Sprintf("%d Major alarm%s: %s", len(major), plural(len(major)), strings.Join(major, "; ")))
	}
	if len(minor) > 0 {
		raise(StateWarning, fmt.Sprintf("%d Minor alarm%s: %s", len(minor), plural(len(minor)), strings.Join(minor, "; ")))
	}
	if p.Outcome == OutcomePartial {
		raise(StateWarning, "partial poll: "+p.Error)
	}

	head := fmt.Sprintf("master %s, alive set %s (%d/%d)", joinOrNone(masters), joinOrNone(alive), len(alive), expectedREs)
	if len(a.Reasons) == 0 {
		a.Summary = head
	} else {
		a.Summary = strings.Join(a.Reasons, ", ") + "; " + head
	}
	if len(quiet) > 0 {
		a.Summary += "; " + strings.Join(quiet, ", ")
	}
	return a
}

// InMaintenance is the verdict on a poll taken inside a maintenance
// window (window names it and its end): what would raise WARNING or
// CRITICAL is still said, but the state is OK. UNKNOWN stays: a device
// that cannot be polled cannot be judged, in a window or not.
func (a Assessment) InMaintenance(window string) Assessment {
	if window == "" || a.State == StateUnknown {
		return a
	}
	a.State = StateOK
	a.Summary += " (in maintenance: " + window + ")"
	return a
}

// describeFinding is a finding in one phrase: "re1 flapped 3 times
// (hardware, critical)".
func describeFinding(f Finding) string {
	return fmt.Sprintf("%s flapped %d times (%s, %s)", f.RE, f.Transitions, f.Cause, f.Severity)
}

// describeNotAlive names the REs that are reported but out of the alive
// set, with the state that put them out.
func describeNotAlive(res []RouteEngine) string {
	var out []string
	for _, re := range res {
		if re.Alive() {
			continue
		}
		word := re.Status
		if strings.EqualFold(word, "ok") || word == "" {
			word = re.MastershipState
		}
		out = append(out, fmt.Sprintf("%s %s", re.Name, strings.ToLower(word)))
	}
	if len(out) == 0 {
		return ""
	}
	slices.Sort(out)
	return ": " + strings.Join(out, ", ")
}

// reportsMastership is false on platforms (SRX cluster nodes, single-RE
// boxes) whose RE table has no mastership-state at all.
func reportsMastership(res []RouteEngine) bool {
	for _, re := range res {
		if re.MastershipState != "" {
			return true
		}
	}
	return false
}

func joinOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
