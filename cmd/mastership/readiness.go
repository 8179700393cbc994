package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/readiness"
)

// Switchover readiness (issue 16) in check and audit.

// readinessView is the readiness object of check --json and audit
// --format json; absent on devices where it does not apply (single-RE,
// SRX cluster) and when the RE table was not read.
type readinessView struct {
	Verdict   readiness.State    `json:"verdict"`
	Reasons   []readiness.Reason `json:"reasons"`
	Unknown   []readiness.Reason `json:"unknown,omitempty"`
	CheckedAt time.Time          `json:"checked_at"`
}

// withReadiness adds the device's verdict. A router that would not
// survive a switchover raises the state to the device's
// readiness.severity (WARNING by default; off raises and shows nothing),
// and says why on the status line; not inside a maintenance window, where
// nothing raises the state.
func (v deviceView) withReadiness(r readiness.Verdict, known bool, d inventory.Device) deviceView {
	if !known || r.Verdict == readiness.NotApplicable || r.Verdict == "" {
		return v
	}
	if r.Verdict == readiness.Unknown && len(r.Unknown) == 1 && r.Unknown[0].Code == "route-engines" {
		return v // the poll read nothing: its error says so already
	}
	rv := &readinessView{Verdict: r.Verdict, Reasons: append([]readiness.Reason{}, r.Reasons...),
		Unknown: r.Unknown, CheckedAt: r.CheckedAt.UTC()}
	v.Readiness = rv
	if r.Verdict != readiness.NotReady || d.Readiness.Severity == inventory.ReadinessOff {
		return v
	}
	texts := make([]string, len(r.Reasons))
	for i, reason := range r.Reasons {
		texts[i] = reason.Text
	}
	why := "switchover not ready: " + strings.Join(texts, "; ")
	v.Summary += "; " + why
	if v.Maintenance != "" || v.State == devices.StateUnknown {
		return v
	}
	state := devices.StateWarning
	if d.Readiness.Severity == inventory.ReadinessCritical {
		state = devices.StateCritical
	}
	v.Reasons = append(v.Reasons, why)
	v.State = max(v.State, state)
	return v
}

// readinessSummary is audit's fleet line, "" when no router is dual-RE.
func readinessSummary(views []deviceView) string {
	var vs []readiness.Verdict
	for _, v := range views {
		if v.Readiness != nil {
			vs = append(vs, readiness.Verdict{Verdict: v.Readiness.Verdict, Reasons: v.Readiness.Reasons})
		}
	}
	return readiness.Summary(vs)
}

// writeReadinessSummary prints the fleet line under audit's table, and
// the not-ready routers with their reasons.
func writeReadinessSummary(w io.Writer, views []deviceView) {
	line := readinessSummary(views)
	if line == "" {
		return
	}
	fmt.Fprintf(w, "\nSwitchover readiness: %s\n", line)
	for _, v := range views {
		if v.Readiness == nil || v.Readiness.Verdict != readiness.NotReady {
			continue
		}
		for _, r := range v.Readiness.Reasons {
			fmt.Fprintf(w, "  %s: %s\n", v.Device, oneLine(r.Text, 160))
		}
	}
}
