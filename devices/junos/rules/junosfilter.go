package rules

import (
	"fmt"
	"strings"
)

// Issue 17 (small logs by design): a dedicated syslog file that holds
// only what the rules may need, so that the file the agent reads stays
// small and unchanged between events, and an unchanged file is not
// transferred at all.
//
// The rules are RE2; Junos "match" is a restricted POSIX ERE (no "/" or
// "%", "." does not match a space, a leading "!" negates). Translating the
// rules is not possible, so the filter is deliberately broader: an
// alternation of plain words that every line any built-in rule reads
// contains (its tag, its daemon's word, the mastership state-machine
// codes). TestJunosFilterPassesEveryRuleLine holds it to that.

// JunosFilterWords returns the words of the filter: a line containing any
// of them goes to the dedicated file. Each is plain text, valid inside a
// Junos match ERE as it is (literal text, at most a bracket class).
func JunosFilterWords() []string {
	return []string{
		// The alive set and the mastership state machine.
		"mcontrol", "alive set", "E_NO_", "E_ORE_", "E_CMD_", "keepalive", "new state", "mastership state",
		// Commits, rollbacks, typed commands (switchover requests).
		"UI_COMMIT", "UI_LOAD_EVENT", "rollback", "UI_CMDLINE_READ_LINE",
		// Chassis: FRUs, alarms, temperatures, IPC to FPCs.
		"CHASSISD", "FRU", "FPC", "fpc", "Alarm", "alarm", "offline", "IPC",
		// Links: the internal em0/ixgbe links and revenue ports.
		"SNMP_TRAP", "LACP_INTF_DOWN", "Link is", "ifName", "rdp keepalive",
		// Software: cores, panics.
		"core", "Core", "dumpd", "panic", "Fatal trap",
		// RE disks (FreeBSD's ata, CAM and GEOM kernel messages).
		"FAILURE - ", "TIMEOUT - ", "WARNING - ", "CAM status", "ATA status", "SCSI sense",
		"Retrying command", "Error [0-9]+, ", "CDB: ", "ACB: ", "g_vfs_done",
	}
}

// JunosFilterPattern is JunosFilterWords as one Junos match expression.
func JunosFilterPattern() string { return strings.Join(JunosFilterWords(), "|") }

// DefaultEventsFile is the name of the dedicated file junos-config
// suggests: /var/log/mastership-events on the router.
const DefaultEventsFile = "mastership-events"

// JunosConfig returns the Junos configuration, in set commands, of the
// dedicated log file: every facility at info and above (the rules read
// notices and errors of many daemons), filtered by JunosFilterPattern,
// kept small by its own archive settings, its archives readable by the
// agent's login. file is its name under
// /var/log; empty means DefaultEventsFile.
func JunosConfig(file string) (string, error) {
	if file == "" {
		file = DefaultEventsFile
	}
	if strings.ContainsAny(file, "/ \t\"'%") {
		return "", fmt.Errorf("log file name %q: a plain name under /var/log is needed", file)
	}
	var b strings.Builder
	p := "set system syslog file " + file
	fmt.Fprintf(&b, "%s any info\n", p)
	fmt.Fprintf(&b, "%s match \"%s\"\n", p, JunosFilterPattern())
	// world-readable: the agent reads the file's archive (file.0.gz)
	// after a rotation, which Junos lets only root and the maintenance
	// class read by default (issue 19; docs/operations.md, Rotation).
	fmt.Fprintf(&b, "%s archive size 1m files 3 world-readable\n", p)
	return b.String(), nil
}
