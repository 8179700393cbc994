package correlate

import (
	"slices"
	"testing"

	"github.com/mastership/mastership/devices"
)

// TestClassSwitchoverMakesCritical: the master crashed and the backup
// took over. The old master's flap (it left, came back as backup, left
// and came back again) holds no transition to or from master of its own
// when the table first saw it as backup: the change of master is in the
// other RE's transitions, and in the mastership log. It is critical. A
// change of master an operator asked for just before (E_CMD_S in the
// mastership log, Table 1 of "Determining Why Mastership Switched":
// "The command request chassis routing-engine master switch was issued
// from a Routing Engine"; or the logged CLI command, as UI_CMDLINE_READ_LINE
// writes "User 'a', command '…'") does not escalate it by itself.
func TestClassSwitchoverMakesCritical(t *testing.T) {
	flap := []devices.Transition{
		{RE: "re0", Time: at("10:00:40"), From: "backup", To: "gone", Sources: []string{"log:mastership"}},
		{RE: "re0", Time: at("10:04:00"), From: "gone", To: "backup", Sources: []string{"log:mastership"}},
	}
	takeover := devices.Transition{RE: "re1", Time: at("10:00:30"), From: "backup", To: "master", Sources: []string{"log:mastership"}}
	h := History{Transitions: append(slices.Clone(flap), takeover)}
	found := Findings("mx1", h, DefaultSettings())
	if len(found) != 1 || found[0].RE != "re0" || found[0].Severity != devices.SeverityCritical {
		t.Fatalf("unplanned switchover: findings %+v, want re0 critical", found)
	}

	for name, cmd := range map[string][]devices.Event{
		"E_CMD_S": classifyLines(t, "mx1", "re1", "mastership", "Mar 14 10:00:20 event = E_CMD_S, state = backup, param = 0x0"),
		"CLI": classifyLines(t, "mx1", "", "messages",
			"Mar 14 09:58:02 re0-mx1 mgd[4242]: UI_CMDLINE_READ_LINE: User 'noc', command 'request chassis routing-engine master switch no-confirm '"),
	} {
		if len(cmd) != 1 || cmd[0].Kind != devices.EventSwitchoverCommand {
			t.Fatalf("%s: events %+v, want one switchover-command", name, cmd)
		}
		h := History{Transitions: append(slices.Clone(flap), takeover), Events: cmd}
		found := Findings("mx1", h, DefaultSettings())
		if len(found) != 1 || found[0].Severity != devices.SeverityWarning {
			t.Errorf("planned by %s: findings %+v, want one warning", name, found)
		}
	}
	// "switch check" only checks (cli-text/gres-nsr-readiness-and-planned-
	// switchover: "request chassis routing-engine master switch check").
	check := classifyLines(t, "mx1", "", "messages",
		"Mar 14 09:58:02 re0-mx1 mgd[4242]: UI_CMDLINE_READ_LINE: User 'noc', command 'request chassis routing-engine master switch check '")
	if len(check) != 0 {
		t.Errorf("switch check gave %+v", check)
	}
	// A command long before the change does not make it planned.
	late := []devices.Event{{Kind: devices.EventSwitchoverCommand, Time: at("09:30:00"), Rule: "switchover-command-cli"}}
	found = Findings("mx1", History{Transitions: append(slices.Clone(flap), takeover), Events: late}, DefaultSettings())
	if len(found) != 1 || found[0].Severity != devices.SeverityCritical {
		t.Errorf("command 30 minutes before: findings %+v, want critical", found)
	}
}
