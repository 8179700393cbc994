package store

import (
	"fmt"

	"github.com/mastership/mastership/devices"
)

// Both engines keep a transition's sources and evidence, and a finding's
// evidence, alarms and other causes, as JSON text; these read them back
// the same way whatever driver scanned the row.

// transitionText fills the JSON text columns of a transition.
func transitionText(t *devices.Transition, sources, evidence string) error {
	var err error
	if t.Sources, err = stringsFromJSON(sources); err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	if t.Evidence, err = stringsFromJSON(evidence); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// findingText fills the text columns of a finding.
func findingText(fd *devices.Finding, cause, severity, evidence, alarms, otherCauses string) error {
	fd.Cause, fd.Severity = devices.Cause(cause), devices.Severity(severity)
	var err error
	if fd.Evidence, err = stringsFromJSON(evidence); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if fd.Alarms, err = alarmsFromJSON(alarms); err != nil {
		return fmt.Errorf("alarms: %w", err)
	}
	others, err := stringsFromJSON(otherCauses)
	if err != nil {
		return fmt.Errorf("other causes: %w", err)
	}
	for _, c := range others {
		fd.OtherCauses = append(fd.OtherCauses, devices.Cause(c))
	}
	return nil
}
