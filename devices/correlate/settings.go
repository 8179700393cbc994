package correlate

import (
	"errors"
	"fmt"
	"time"
)

// Settings tunes flap detection and correlation. The zero value is not
// useful; start from DefaultSettings.
type Settings struct {
	// FlapMin is how many transitions of one RE make a flap (default 2:
	// an RE that leaves and comes back has flapped once).
	FlapMin int
	// FlapWindow is the longest gap between two consecutive transitions of
	// one RE inside a flap (default 1h); a longer gap starts a new run.
	FlapWindow time.Duration
	// EvidenceWindow is how far before the first and after the last
	// transition of a flap evidence is looked for (default 5m).
	EvidenceWindow time.Duration
	// CommitLookback: a commit this long before the first transition (or
	// at it) is configuration evidence (default 10m). Commits are looked
	// for further back than other evidence because a bad redundancy
	// setting bites at the next keepalive timeout, not at commit time.
	CommitLookback time.Duration
	// MergeTolerance: transitions of the same RE into the same state this
	// close together, seen by different sources (a log line, an alarm,
	// the RE table), are one transition (default 2m).
	MergeTolerance time.Duration

	// SwitchoverCommandWindow (the switchover ledger): an operator command
	// for a change of master (E_CMD_*, request chassis routing-engine
	// master …) at most this long before a change of master makes it
	// planned (default 5m: the command asks for confirmation, and GRES
	// waits for the backup to be ready).
	SwitchoverCommandWindow time.Duration
}

// DefaultSettings returns the defaults of docs/domain.md: a flap is 2 or more
// transitions of one RE with at most 1h between them, evidence is
// looked for ±5m around it and commits 10m before it, and sources that
// saw the same transition within 2m are merged.
func DefaultSettings() Settings {
	return Settings{
		FlapMin:        2,
		FlapWindow:     time.Hour,
		EvidenceWindow: 5 * time.Minute,
		CommitLookback: 10 * time.Minute,
		MergeTolerance: 2 * time.Minute,

		SwitchoverCommandWindow: 5 * time.Minute,
	}
}

// Validate reports every setting that is out of range, joined.
func (s Settings) Validate() error {
	var errs []error
	if s.FlapMin < 2 {
		// One transition is a switchover or a reboot's half, not a flap.
		errs = append(errs, fmt.Errorf("flap minimum %d: must be at least 2 transitions", s.FlapMin))
	}
	if s.FlapWindow <= 0 {
		errs = append(errs, fmt.Errorf("flap window %v: must be positive", s.FlapWindow))
	}
	if s.EvidenceWindow < 0 {
		errs = append(errs, fmt.Errorf("evidence window %v: must not be negative", s.EvidenceWindow))
	}
	if s.CommitLookback < 0 {
		errs = append(errs, fmt.Errorf("commit lookback %v: must not be negative", s.CommitLookback))
	}
	if s.MergeTolerance < 0 {
		errs = append(errs, fmt.Errorf("merge tolerance %v: must not be negative", s.MergeTolerance))
	}
	if s.SwitchoverCommandWindow < 0 {
		errs = append(errs, fmt.Errorf("switchover command window %v: must not be negative", s.SwitchoverCommandWindow))
	}
	if s.FlapWindow > 0 && s.MergeTolerance >= s.FlapWindow {
		// Otherwise two real transitions of a flap could be merged into one.
		errs = append(errs, fmt.Errorf("merge tolerance %v: must be shorter than the flap window %v", s.MergeTolerance, s.FlapWindow))
	}
	return errors.Join(errs...)
}

// effective returns settings Findings can always work with: it never
// fails, so out-of-range values are clamped rather than rejected (callers
// are expected to have called Validate; fuzzing does not).
func (s Settings) effective() Settings {
	d := DefaultSettings()
	if s.FlapMin < 2 {
		s.FlapMin = 2
	}
	if s.FlapWindow <= 0 {
		s.FlapWindow = d.FlapWindow
	}
	s.EvidenceWindow = max(s.EvidenceWindow, 0)
	s.CommitLookback = max(s.CommitLookback, 0)
	s.MergeTolerance = max(s.MergeTolerance, 0)
	s.SwitchoverCommandWindow = max(s.SwitchoverCommandWindow, 0)
	return s
}
