package store

import (
	"context"
	"encoding/json"
	"errors"
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

// checkFinding is what both engines require of a finding before storing
// it for device (times in SQLite's range, which PostgreSQL keeps too, so
// the engines refuse the same findings).
func checkFinding(device string, f devices.Finding) error {
	if f.Device != "" && f.Device != device {
		return fmt.Errorf("finding is of device %q", f.Device)
	}
	if f.Cause == "" {
		return errors.New("no cause")
	}
	if f.First.IsZero() || f.Last.IsZero() {
		return errors.New("no first or last transition time")
	}
	if _, err := nanos(f.First); err != nil {
		return fmt.Errorf("first: %w", err)
	}
	if _, err := nanos(f.Last); err != nil {
		return fmt.Errorf("last: %w", err)
	}
	return nil
}

// findingJSON encodes the text columns findingText reads back.
func findingJSON(f devices.Finding) (evidence, alarms, otherCauses string, err error) {
	if evidence, err = stringsJSON(f.Evidence); err != nil {
		return "", "", "", fmt.Errorf("evidence: %w", err)
	}
	if alarms, err = alarmsJSON(f.Alarms); err != nil {
		return "", "", "", fmt.Errorf("alarms: %w", err)
	}
	others := make([]string, len(f.OtherCauses))
	for i, c := range f.OtherCauses {
		others[i] = string(c)
	}
	if otherCauses, err = stringsJSON(others); err != nil {
		return "", "", "", fmt.Errorf("other causes: %w", err)
	}
	return evidence, alarms, otherCauses, nil
}

// collect gathers what one of the Each readers streams into a slice.
func collect[T any](ctx context.Context, f Filter, each func(context.Context, Filter, func(*T) error) error) ([]T, error) {
	var out []T
	err := each(ctx, f, func(v *T) error {
		out = append(out, *v)
		return nil
	})
	return out, err
}

// configFromJSON reads a stored redundancy configuration of device.
func configFromJSON(device, text string) (devices.RedundancyConfig, error) {
	var cfg devices.RedundancyConfig
	if err := json.Unmarshal([]byte(text), &cfg); err != nil {
		return cfg, fmt.Errorf("configuration of %s: %w", device, err)
	}
	return cfg, nil
}
