package correlate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// TestClassRETableRebootEvidence: the backup RE was rebooted once by its
// watchdog; the log shows it leave and come back. The RE table of the
// poll after says last-reboot-reason "0x2:watchdog" with an up-time that
// puts the boot inside the flap (device clock minus up-time, never
// start-time: MANIFEST pitfall 4). Real reasons from junos-samples
// rpc/get-route-engine-information.*: "0x1000:reboot due to panic",
// "0x1:power cycle/failure " (trailing space as sent), "0x2000:hypervisor
// reboot", "0x4000:VJUNOS reboot", "Router rebooted after a normal
// shutdown.".
func TestClassRETableRebootEvidence(t *testing.T) {
	events := classifyLines(t, "mx1", "re0", "mastership",
		"Mar 14 10:00:20 event = E_NO_ORE, state = master, param = 0x0",
		"Mar 14 10:04:10 event = E_ORE_B, state = master, param = 0x0",
	)
	for _, c := range []struct {
		reason string
		cause  devices.Cause
	}{
		{"0x2:watchdog", devices.CauseSoftware},
		{"0x1000:reboot due to panic", devices.CauseSoftware},
		{"0x1:power cycle/failure ", devices.CauseHardware},
		{"0x2000:hypervisor reboot", devices.CauseUnknown},
		{"0x4000:VJUNOS reboot", devices.CauseUnknown},
		{"Router rebooted after a normal shutdown.", devices.CauseUnknown},
	} {
		t.Run(c.reason, func(t *testing.T) {
			// The poll at 10:05 sees re1 back, up 3 minutes: it booted
			// at 10:02:00, between its departure and its return.
			cur := snap("mx1", "10:05:00", re("re0", "master", "OK", 40*dayLen, ""), re("re1", "backup", "OK", 3*time.Minute, c.reason))
			ts := EventTransitionsFrom(dualRE(), events, cur.RouteEngines)
			ts = WithBoots(ts, cur, DefaultSettings())
			found := Findings("mx1", History{Transitions: ts, Events: events}, DefaultSettings())
			if len(found) != 1 {
				t.Fatalf("findings %+v", found)
			}
			if found[0].Cause != c.cause {
				t.Errorf("cause %s, want %s; evidence %q", found[0].Cause, c.cause, found[0].Evidence)
			}
			if !slices.ContainsFunc(found[0].Evidence, func(l string) bool { return strings.Contains(l, "booted at 2026-03-14T10:02:00Z") }) {
				t.Errorf("no boot in the evidence: %q", found[0].Evidence)
			}
		})
	}
	// A boot long before the flap is no evidence of it.
	cur := snap("mx1", "10:05:00", re("re0", "master", "OK", 40*dayLen, ""), re("re1", "backup", "OK", 2*time.Hour, "0x2:watchdog"))
	ts := WithBoots(EventTransitionsFrom(dualRE(), events, cur.RouteEngines), cur, DefaultSettings())
	found := Findings("mx1", History{Transitions: ts, Events: events}, DefaultSettings())
	if len(found) != 1 || found[0].Cause != devices.CauseUnknown {
		t.Errorf("boot 2h before: findings %+v, want one, cause unknown", found)
	}
}
