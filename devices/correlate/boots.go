package correlate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// bootMarker starts the evidence line WithBoots writes; bootNote reads it.
const bootMarker = " booted at "

// WithBoots adds the RE table of snap, as evidence, to ts, the
// transitions of the poll that read it: for each RE that reports an
// up-time and a last reboot reason, the line "re-table: RE booted at T
// (up-time U at D); last reboot reason "R"" goes to every transition of
// ts within s.FlapWindow + s.EvidenceWindow of the boot. Findings then
// takes the reason as evidence when the boot falls inside a flap's
// window (issue 15, class 3: a backup rebooted by its watchdog left and
// came back, and the cause was unknown although the table said why).
//
// The boot time is the device clock (snap.DeviceTime, the uptime RPC's
// current-time) minus the RE's up-time, never start-time: a backup's
// clock can be years off (MANIFEST pitfall 4). Without a device clock
// nothing is added, since the agent's clock is not the device's. ts is
// not modified; the result is in ts's order.
func WithBoots(ts []devices.Transition, snap *devices.Snapshot, s Settings) []devices.Transition {
	if snap == nil || snap.DeviceTime.IsZero() || len(ts) == 0 {
		return ts
	}
	s = s.effective()
	reach := s.FlapWindow + s.EvidenceWindow
	type boot struct {
		at   time.Time
		note string
	}
	var boots []boot
	for _, re := range snap.RouteEngines {
		up := upTime(re)
		reason := strings.TrimSpace(re.LastRebootReason)
		if up == nil || reason == "" || strings.TrimSpace(re.Name) == "" {
			continue
		}
		at := snap.DeviceTime.Add(-*up)
		boots = append(boots, boot{at, fmt.Sprintf("re-table: %s%s%s (up-time %s at %s); last reboot reason %q",
			re.Name, bootMarker, stamp(at), span(*up), stamp(snap.DeviceTime), reason)})
	}
	if len(boots) == 0 {
		return ts
	}
	out := make([]devices.Transition, len(ts))
	for i, t := range ts {
		for _, b := range boots {
			if d := t.Time.Sub(b.at); d >= -reach && d <= reach {
				t.Evidence = unionLines(append(t.Evidence[:len(t.Evidence):len(t.Evidence)], b.note))
			}
		}
		out[i] = t
	}
	return out
}

// bootNote reads a line of WithBoots: the RE, its boot time and the
// reason; false for any other line.
func bootNote(evidence string) (re string, at time.Time, reason string, ok bool) {
	rest, found := strings.CutPrefix(evidence, "re-table: ")
	if !found {
		return "", time.Time{}, "", false
	}
	re, rest, found = strings.Cut(rest, bootMarker)
	if !found || re == "" || strings.ContainsAny(re, " :") {
		return "", time.Time{}, "", false
	}
	when, rest, found := strings.Cut(rest, " ")
	if !found {
		return "", time.Time{}, "", false
	}
	var err error
	if at, err = time.Parse(time.RFC3339, when); err != nil {
		return "", time.Time{}, "", false
	}
	_, quoted, found := strings.Cut(rest, "; last reboot reason ")
	if !found {
		return "", time.Time{}, "", false
	}
	if reason, err = strconv.Unquote(quoted); err != nil {
		return "", time.Time{}, "", false
	}
	return re, at, reason, true
}

// rebootCause is the cause a last reboot reason points to, the same rules
// as for log lines: a panic, an exception or a watchdog is software
// ("0x1000:reboot due to panic", "0x2:watchdog"); a power cycle or power
// failure is hardware ("0x1:power cycle/failure"); anything else — a
// normal shutdown, a hypervisor or VJUNOS reboot ("0x2000:hypervisor
// reboot", "0x4000:VJUNOS reboot"), which an operator's request vmhost
// reboot or the host causes — names no cause by itself.
func rebootCause(reason string) (devices.Cause, bool) {
	r := fold(reason)
	switch {
	case softwareReason(reason):
		return devices.CauseSoftware, true
	case strings.Contains(r, "hypervisor") || strings.Contains(r, "vjunos"):
		return "", false
	case strings.Contains(r, "power cycle") || strings.Contains(r, "power failure") || strings.Contains(r, "power fail"):
		return devices.CauseHardware, true
	}
	return "", false
}
