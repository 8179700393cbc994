package rules

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossamples"
	"github.com/mastership/mastership/devices/junos/syslog"
)

// evt is what a test expects of a classified line. kind is spelled out
// although the rule implies it, so that a rule moved to another kind
// shows up here.
type evt struct {
	rule, kind, re, change, subject, class string
}

func evtOf(ev devices.Event) evt {
	return evt{ev.Rule, string(ev.Kind), ev.RE, ev.Change, ev.Subject, ev.Class}
}

func mustBuiltinRules(tb testing.TB) *Rules {
	tb.Helper()
	r, err := BuiltinRules()
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// rulesSample returns the file of junos-samples/sub/name: the attributed
// log files are copied in ../syslog/testdata/logs, and a test of an
// unattributed one skips when ../shared is absent.
func rulesSample(tb testing.TB, sub, name string) string {
	tb.Helper()
	return junossamples.Path(tb, sub, name)
}

// rulesSampleLogs returns the names of the log samples that can be read:
// every one in ../shared/junos-samples/logs when it is there, else the
// attributed copies.
func rulesSampleLogs(tb testing.TB) []string {
	tb.Helper()
	files := junossamples.Names(tb, "logs", "*.log")
	if len(files) == 0 {
		tb.Fatal("no sample logs")
	}
	return files
}

// checkSampleEventsSeen fails for an expected event whose line no sample
// read had, unless it is in an unattributed sample ../shared lacks.
func checkSampleEventsSeen(t *testing.T, want map[string]evt, seen map[string]bool) {
	t.Helper()
	for key := range want {
		file, _, _ := strings.Cut(key, ":")
		if !seen[key] && !junossamples.Absent(t, "logs", file) {
			t.Errorf("%s: expected an event but the sample has no such line", key)
		}
	}
}

func rulesReadLines(tb testing.TB, file string) []string {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

// handSplit builds the LogLine a syslog parser gives for raw. It is NOT the
// product parser (devices/junos/syslog.go): it is just enough to cut the
// sample lines into host, process and message, in the two ways a parser
// may reasonably do it. With splitTag false the tag and any "%DAEMON-4:"
// prefix stay in the message; with splitTag true they are taken out, the
// tag into Tag. The rules must give the same event either way.
func handSplit(file, raw string, splitTag bool) devices.LogLine {
	l := devices.LogLine{File: file, Raw: raw, Parsed: true}
	rest := strings.TrimPrefix(raw, handPRI.FindString(raw))
	ts := handTime.FindString(rest)
	if ts == "" {
		return devices.LogLine{File: file, Raw: raw}
	}
	rest = strings.TrimLeft(rest[len(ts):], " ")
	tagFirst := handTagFirst.MatchString(rest) // pastes without host and process
	if file != "mastership" && !tagFirst {
		host, after, _ := strings.Cut(rest, " ")
		l.Host, rest = host, strings.TrimLeft(after, " ")
	}
	switch {
	case tagFirst:
	case strings.HasPrefix(rest, ": "): // PFE lines: "host : %PFE-3: …"
		rest = rest[2:]
	default:
		if m := handProcess.FindStringSubmatch(rest); m != nil {
			l.Process = m[1]
			l.PID, _ = strconv.Atoi(m[2])
			rest = rest[len(m[0]):]
		}
	}
	rest = strings.TrimSpace(rest)
	if splitTag {
		if m := handPriority.FindStringSubmatch(rest); m != nil {
			l.Tag = m[1]
			rest = strings.TrimSpace(rest[len(m[0]):])
		}
		if m := handTag.FindStringSubmatch(rest); m != nil && l.Tag == "" {
			l.Tag = m[1]
			rest = strings.TrimSpace(rest[len(m[0]):])
		}
	}
	l.Message = rest
	return l
}

var (
	handPRI      = regexp.MustCompile(`^<[0-9]+>`)
	handTime     = regexp.MustCompile(`^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2})|[A-Z][a-z]{2} +[0-9]{1,2} [0-9:]{8}(?:\.[0-9]+)?(?: [0-9]{4})?|[0-9:]{8})`)
	handTagFirst = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_[A-Z0-9_]+: `)
	handProcess  = regexp.MustCompile(`^([^\s:\[]+)(?:\[([0-9]+)\])?: `)
	handPriority = regexp.MustCompile(`^%[A-Z]+-[0-7](?:-([A-Z][A-Z0-9_]+))?:`)
	handTag      = regexp.MustCompile(`^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|mcontrol_ore_alive_set):\s`)
)

// sampleEvents is what every line of the shared log samples must give,
// keyed "file:line"; a line not listed must give no event. The values were
// read off the lines, not off the rules.
func sampleEvents() map[string]evt {
	return map[string]evt{
		"alarms.log:1":  {"alarmd-set-major", "alarm-set", "", "set", "CB 0 19.44 MHz clock failure", "Major"},
		"alarms.log:2":  {"craftd-set", "alarm-set", "", "set", "CB 0 19.44 MHz clock failure", "Major"},
		"alarms.log:3":  {"craftd-set", "alarm-set", "", "set", "CB 2 Removed", "Minor"},
		"alarms.log:4":  {"alarmd-cleared-minor", "alarm-cleared", "", "cleared", "CB 2 Removed", "Minor"},
		"alarms.log:5":  {"craftd-cleared", "alarm-cleared", "", "cleared", "CB 2 Removed", "Minor"},
		"alarms.log:6":  {"alarmd-cleared-minor", "alarm-cleared", "", "cleared", "Check CB 2 Fabric Chip 0", "Minor"},
		"alarms.log:7":  {"craftd-cleared", "alarm-cleared", "", "cleared", "Check CB 2 Fabric Chip 0", "Minor"},
		"alarms.log:8":  {"chassisd-fpc-error", "fru", "", "", "FPC 1", ""},
		"alarms.log:9":  {"alarmd-set-minor", "alarm-set", "", "set", "FPC 1 Minor Errors", "Minor"},
		"alarms.log:10": {"craftd-set", "alarm-set", "", "set", "FPC 1 Minor Errors", "Minor"},
		"alarms.log:11": {"alarmd-set-major", "alarm-set", "", "set", "FPC 1 Major Errors", "Major"},
		"alarms.log:12": {"craftd-set", "alarm-set", "", "set", "FPC 1 Major Errors", "Major"},
		"alarms.log:13": {"craftd-cleared", "alarm-cleared", "", "cleared", "FPC 1 Major Errors", "Major"},
		"alarms.log:14": {"craftd-cleared", "alarm-cleared", "", "cleared", "FPC 1 Minor Errors", "Minor"},
		"alarms.log:15": {"craftd-cleared", "alarm-cleared", "", "cleared", "Host 0 me0 : Ethernet Link Down", "Major"},
		"alarms.log:16": {"craftd-set", "alarm-set", "", "set", "Host 0 me0 : Ethernet Link Down", "Major"},
		"alarms.log:17": {"craftd-cleared", "alarm-cleared", "", "cleared", "RE 0 /var partition usage is high", "Minor"},
		"alarms.log:18": {"craftd-set", "alarm-set", "", "set", "RE 0 /var partition usage is high", "Minor"},
		"alarms.log:19": {"alarmd-set-minor", "alarm-set", "", "set", "PEM 1 Fan Failed", "Minor"},
		"alarms.log:20": {"alarmd-set-major", "alarm-set", "", "set", "FPC 0 Major Errors", "Major"},
		"alarms.log:21": {"alarmd-set-minor", "alarm-set", "", "set", "RE 0 /var partition usage is high", "Minor"},
		"alarms.log:22": {"alarmd-cleared-minor", "alarm-cleared", "", "cleared", "PEM 1 Fan Failed", "Minor"},
		"alarms.log:23": {"alarmd-cleared-minor", "alarm-cleared", "", "cleared", "RE 0 /var partition usage is high", "Minor"},

		"commit.log:1": {"commit-completed", "commit", "", "", "commit complete", ""},
		"commit.log:2": {"commit-requested", "commit", "", "", "commit by luke", ""},
		// 3 UI_CONFIGURATION_ERROR: a failed commit changed nothing.
		"commit.log:4": {"commit-rollback", "commit", "", "", "rollback by luke", ""},
		"commit.log:5": {"commit-rollback", "commit", "", "", "rollback 3 by luke", ""},
		// 6 UI_DBASE_LOGIN_EVENT: entering configuration mode.

		"fpc-fru.log:1": {"chassisd-fru-offline", "fru", "", "down", "FPC 10", ""},
		"fpc-fru.log:2": {"chassisd-fru-trap-down", "fru", "", "down", "FPC 10", ""},
		"fpc-fru.log:3": {"chassisd-fru-trap-up", "fru", "", "up", "FPC 10", ""},
		"fpc-fru.log:4": {"chassisd-fru-trap-down", "fru", "", "down", "FPC 10", ""},
		"fpc-fru.log:5": {"chassisd-fru-offline", "fru", "", "down", "FPC 1", ""},
		"fpc-fru.log:6": {"chassisd-fru-trap-down", "fru", "", "down", "FPC 1", ""},
		"fpc-fru.log:7": {"chassisd-fru-trap-up", "fru", "", "up", "MIC 1/0", ""},
		"fpc-fru.log:8": {"chassisd-fru-trap-up", "fru", "", "up", "MIC 1/1", ""},
		"fpc-fru.log:9": {"chassisd-fru-trap-up", "fru", "", "up", "MIC 1/0", ""},

		"internal-link.log:1": {"internal-link-kernel", "internal-link", "re0", "up", "em0", ""},
		"internal-link.log:2": {"internal-link-kernel", "internal-link", "re0", "down", "em0", ""},
		"internal-link.log:3": {"internal-link-trap", "internal-link", "re0", "down", "em0", ""},
		"internal-link.log:4": {"internal-link-kernel", "internal-link", "re0", "up", "em0", ""},
		"internal-link.log:5": {"internal-link-kernel", "internal-link", "re0", "down", "em0", ""},
		// SRX3K names no RE.
		"internal-link.log:6": {"internal-link-rdp-keepalive", "internal-link", "", "down", "rdp", ""},
		// 7 tsec1 watchdog timeout: not an RE link the KB names.
		"internal-link.log:8": {"internal-link-trap", "internal-link", "", "down", "em0", ""},

		"link.log:1": {"link-flap-trap", "link-flap", "", "down", "xe-0/0/0", ""},
		"link.log:2": {"link-flap-trap", "link-flap", "", "up", "xe-0/0/0", ""},
		"link.log:3": {"link-flap-lacp-down", "link-flap", "", "down", "ae105", ""},

		// The mastership log has no host: "self" and "other" are unknown
		// here (TestClassifyFromMastershipLog gives the RE).
		"mastership-file.log:2":  {"keepalive-receive-loss", "keepalive-loss", "", "", "no keepalives received for 60 sec", ""},
		"mastership-file.log:3":  {"keepalive-send-failure", "keepalive-loss", "", "", "keepalives could not be sent", ""},
		"mastership-file.log:4":  {"keepalive-send-failure", "keepalive-loss", "", "", "keepalives could not be sent", ""},
		"mastership-file.log:5":  {"switchover-command-mastership-log", "switchover-command", "", "", "E_CMD_R: mastership command", ""},
		"mastership-file.log:10": {"mastership-new-state", "mastership", "", "giveup", "", ""},
		"mastership-file.log:15": {"mastership-new-state", "mastership", "", "giveup", "", ""},
		"mastership-file.log:20": {"mastership-new-state", "mastership", "", "giveup", "", ""},
		"mastership-file.log:21": {"keepalive-receive-loss", "keepalive-loss", "", "", "no keepalives received for 80 sec", ""},

		// napalm-logs: only commits, link flaps and alarms are events.
		"napalm-logs-wire.log:26": {"commit-completed", "commit", "", "", "commit complete", ""},
		"napalm-logs-wire.log:27": {"commit-requested", "commit", "", "", "commit by luke", ""},
		"napalm-logs-wire.log:29": {"commit-rollback", "commit", "", "", "rollback by luke", ""},
		"napalm-logs-wire.log:30": {"commit-rollback", "commit", "", "", "rollback 3 by luke", ""},
		"napalm-logs-wire.log:33": {"link-flap-trap", "link-flap", "", "down", "xe-0/0/0", ""},
		"napalm-logs-wire.log:35": {"link-flap-trap", "link-flap", "", "up", "xe-0/0/0", ""},
		"napalm-logs-wire.log:38": {"link-flap-lacp-down", "link-flap", "", "down", "ae105", ""},
		"napalm-logs-wire.log:39": {"craftd-cleared", "alarm-cleared", "", "cleared", "Host 0 me0 : Ethernet Link Down", "Major"},
		"napalm-logs-wire.log:40": {"craftd-set", "alarm-set", "", "set", "Host 0 me0 : Ethernet Link Down", "Major"},
		"napalm-logs-wire.log:41": {"craftd-cleared", "alarm-cleared", "", "cleared", "RE 0 /var partition usage is high", "Minor"},
		"napalm-logs-wire.log:42": {"craftd-set", "alarm-set", "", "set", "RE 0 /var partition usage is high", "Minor"},
		"napalm-logs-wire.log:60": {"alarmd-set-minor", "alarm-set", "", "set", "PEM 1 Fan Failed", "Minor"},
		"napalm-logs-wire.log:61": {"alarmd-set-major", "alarm-set", "", "set", "FPC 0 Major Errors", "Major"},
		"napalm-logs-wire.log:62": {"alarmd-set-minor", "alarm-set", "", "set", "RE 0 /var partition usage is high", "Minor"},
		"napalm-logs-wire.log:63": {"alarmd-cleared-minor", "alarm-cleared", "", "cleared", "PEM 1 Fan Failed", "Minor"},
		"napalm-logs-wire.log:64": {"alarmd-cleared-minor", "alarm-cleared", "", "cleared", "RE 0 /var partition usage is high", "Minor"},

		// %PFE lines only; napalm-logs' fpc buffer/NH lines (5-7) are noise.
		"pfe-fabric.log:1": {"pfe-error", "fru", "", "", "fpc1", ""},
		"pfe-fabric.log:2": {"pfe-error", "fru", "", "", "fpc1", ""},
		"pfe-fabric.log:3": {"pfe-error", "fru", "", "", "fpc10", ""},
		"pfe-fabric.log:4": {"pfe-error", "fru", "", "", "fpc0", ""},

		// misc.log (jlaunchd process ceiling) and re-crash-context.log
		// (sshd failed password, inetd exit) give nothing.
	}
}

// logFileOf is the LogLine.File a sample file's lines come from.
func logFileOf(sample string) string {
	if strings.HasPrefix(sample, "mastership") {
		return "mastership"
	}
	return "messages"
}

// TestBuiltinRulesOnSamples runs every line of every shared log sample
// through the built-in rules, cut both ways handSplit knows.
func TestBuiltinRulesOnSamples(t *testing.T) {
	rules := mustBuiltinRules(t)
	want := sampleEvents()
	seen := map[string]bool{}
	for _, name := range rulesSampleLogs(t) {
		for i, raw := range rulesReadLines(t, rulesSample(t, "logs", name)) {
			key := name + ":" + strconv.Itoa(i+1)
			w, wantEvent := want[key]
			seen[key] = true
			for _, split := range []bool{false, true} {
				line := handSplit(logFileOf(name), raw, split)
				ev, ok := rules.Classify("r1", line)
				switch {
				case ok != wantEvent:
					t.Errorf("%s (split tag %v): event %v, want %v: %+v\n  line %+v", key, split, ok, wantEvent, evtOf(ev), line)
				case ok && evtOf(ev) != w:
					t.Errorf("%s (split tag %v):\n got %+v\nwant %+v", key, split, evtOf(ev), w)
				case ok && (ev.Device != "r1" || !reflect.DeepEqual(ev.Line, line)):
					t.Errorf("%s: event does not carry the device and line: %+v", key, ev)
				}
			}
		}
	}
	checkSampleEventsSeen(t, want, seen)
}

// TestBuiltinRulesOnParsedSamples is TestBuiltinRulesOnSamples with the
// product parser, syslog.ParseLine, cutting the lines: the two must agree on
// every line of the samples.
func TestBuiltinRulesOnParsedSamples(t *testing.T) {
	rules := mustBuiltinRules(t)
	want := sampleEvents()
	clock := syslog.DeviceClock{Now: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}
	for _, name := range rulesSampleLogs(t) {
		for i, raw := range rulesReadLines(t, rulesSample(t, "logs", name)) {
			key := name + ":" + strconv.Itoa(i+1)
			w, wantEvent := want[key]
			line := syslog.ParseLine(logFileOf(name), raw, clock)
			ev, ok := rules.Classify("r1", line)
			switch {
			case ok != wantEvent:
				t.Errorf("%s: event %v, want %v: %+v\n  line %+v", key, ok, wantEvent, evtOf(ev), line)
			case ok && evtOf(ev) != w:
				t.Errorf("%s:\n got %+v\nwant %+v", key, evtOf(ev), w)
			case ok && (!ev.Time.Equal(line.Time) || !reflect.DeepEqual(ev.Line, line)):
				t.Errorf("%s: event does not carry the line and its time: %+v", key, ev)
			}
		}
	}
}

// TestCoreDumpListing classifies the lines of a real "show system
// core-dumps" output, as a caller that stores that output as a log file
// would hand them over: unparsed, Raw only.
func TestCoreDumpListing(t *testing.T) {
	rules := mustBuiltinRules(t)
	lines := rulesReadLines(t, rulesSample(t, "cli-text", "show-system-core-dumps.mx960-re-vmcore.txt"))
	var got []string
	for _, raw := range lines {
		if ev, ok := rules.Classify("DC-L36-GTWY04", devices.LogLine{File: "core-dumps", Raw: raw}); ok {
			got = append(got, ev.Rule+" "+ev.Subject+" "+raw[strings.LastIndex(raw, "/")+1:])
		}
	}
	want := []string{
		"core-dump-vmcore kernel vmcore.0",
		"core-dump-vmcore kernel vmcore.1",
		"core-dump-vmcore kernel vmcore.2",
		// vmcore.last@ -> vmcore.2 is a link, not a dump; the "No such
		// file" lines and the prompt are nothing.
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// synthCase is a line no public sample has. Each is marked with where its
// shape comes from.
type synthCase struct {
	name     string
	loggedBy string
	line     devices.LogLine
	want     evt
}

func synthLine(file, host, process, tag, message string) devices.LogLine {
	raw := "Jan 12 21:50:18 "
	if host != "" {
		raw += host + " "
	}
	if process != "" {
		raw += process + "[1234]: "
	}
	if tag != "" {
		raw += tag + ": "
	}
	return devices.LogLine{
		File: file, Raw: raw + message, Host: host, Process: process, Tag: tag, Message: message, Parsed: true,
		Time: time.Date(2026, 1, 12, 21, 50, 18, 0, time.UTC),
	}
}

func synthCases() []synthCase {
	const alive = "mcontrol_ore_alive_set"
	return []synthCase{
		// SYNTHETIC, the shape DEFINED in rules_builtin.yaml for the seed
		// document's tag (no public capture exists).
		{"alive-set left, tag split", "", synthLine("messages", "mx1-re0", "chassisd", alive, "re1 removed from alive set (keepalive timeout)"),
			evt{"alive-set-left", "alive-set", "re1", "left", "keepalive timeout", ""}},
		{"alive-set left, tag in message", "", synthLine("messages", "mx1-re0", "chassisd", "", alive+": re1 removed from alive set (keepalive timeout)"),
			evt{"alive-set-left", "alive-set", "re1", "left", "keepalive timeout", ""}},
		{"alive-set left, member RE, no reason", "", synthLine("messages", "vc1", "chassisd", alive, "member0-re1 left the alive set"),
			evt{"alive-set-left", "alive-set", "member0-re1", "left", "", ""}},
		{"alive-set left, upper case, deleted", "", synthLine("messages", "", "", alive, "RE1 deleted from alive set"),
			evt{"alive-set-left", "alive-set", "re1", "left", "", ""}},
		{"alive-set left, SRX cluster node", "", synthLine("messages", "srx1", "chassisd", alive, "node1 removed from alive set (keepalive timeout)"),
			evt{"alive-set-left", "alive-set", "node1", "left", "keepalive timeout", ""}},
		{"alive-set joined", "", synthLine("messages", "mx1-re0", "chassisd", alive, "re1 added to alive set"),
			evt{"alive-set-joined", "alive-set", "re1", "joined", "", ""}},
		{"alive-set joined, member RE, reason", "", synthLine("messages", "", "", alive, "member1-re0 joined alive set (keepalives resumed)"),
			evt{"alive-set-joined", "alive-set", "member1-re0", "joined", "keepalives resumed", ""}},

		// SYNTHETIC, the mastership-log event codes of Juniper's NOG page,
		// in the shape of the real "event = E_CMD_R, state = master,
		// param = 0x0" line.
		{"E_NO_ORE", "re0", synthLine("mastership", "", "", "", "event = E_NO_ORE, state = master, param = 0x0"),
			evt{"mastership-no-other-re", "alive-set", "re1", "left", "E_NO_ORE: no other Routing Engine detected", ""}},
		{"E_ORE_D", "re1", synthLine("mastership", "", "", "", "event = E_ORE_D, state = master, param = 0x0"),
			evt{"mastership-other-re-disabled", "alive-set", "re0", "left", "E_ORE_D: other Routing Engine disabled", ""}},
		{"E_ORE_M", "member0-re1", synthLine("mastership", "", "", "", "event = E_ORE_M, state = backup, param = 0x0"),
			evt{"mastership-other-re-master", "mastership", "member0-re0", "master", "E_ORE_M: other Routing Engine became master", ""}},
		{"E_ORE_B", "re0", synthLine("mastership", "", "", "", "event = E_ORE_B, state = master, param = 0x0"),
			evt{"mastership-other-re-backup", "mastership", "re1", "backup", "E_ORE_B: other Routing Engine became backup", ""}},
		{"E_NO_IPC", "re0", synthLine("mastership", "", "", "", "event = E_NO_IPC, state = master, param = 0x0"),
			evt{"mastership-ipc-lost", "ipc-loss", "re1", "", "E_NO_IPC: Routing Engine connection lost", ""}},
		{"new state = master", "re1", synthLine("mastership", "", "", "", "new state = master"),
			evt{"mastership-new-state", "mastership", "re1", "master", "", ""}},
		{"new state = backup", "re0", synthLine("mastership", "", "", "", "new state = backup"),
			evt{"mastership-new-state", "mastership", "re0", "backup", "", ""}},

		// SYNTHETIC, the switchover ledger's typed commands: the
		// UI_CMDLINE_READ_LINE shape "User 'x', command 'y '" of the lines
		// above, with the command words of Juniper's "request chassis
		// routing-engine master (acquire | release | switch) <force>
		// <no-confirm>" page.
		{"switchover command typed: switch", "", synthLine("messages", "re0-mx1", "mgd", "UI_CMDLINE_READ_LINE", "User 'lab', command 'request chassis routing-engine master switch '"),
			evt{"switchover-command-cli", "switchover-command", "re0", "", "request chassis routing-engine master switch by lab", ""}},
		{"switchover command typed: release no-confirm, tag in message", "", synthLine("messages", "mx1_RE1", "mgd", "", "UI_CMDLINE_READ_LINE: User 'noc', command 'request chassis routing-engine master release no-confirm '"),
			evt{"switchover-command-cli", "switchover-command", "re1", "", "request chassis routing-engine master release no-confirm by noc", ""}},
		{"switchover command typed: acquire force", "re1", synthLine("messages", "", "mgd", "UI_CMDLINE_READ_LINE", "User 'root', command 'request chassis routing-engine master acquire force'"),
			evt{"switchover-command-cli", "switchover-command", "re1", "", "request chassis routing-engine master acquire force by root", ""}},
		// SYNTHETIC, the other E_CMD_* codes of Juniper's NOG page in the
		// real E_CMD_R line's shape.
		{"E_CMD_S", "re1", synthLine("mastership", "", "", "", "event = E_CMD_S, state = backup, param = 0x0"),
			evt{"switchover-command-mastership-log", "switchover-command", "re1", "", "E_CMD_S: mastership command", ""}},
		{"E_CMD_A", "re1", synthLine("mastership", "", "", "", "event = E_CMD_A, state = backup, param = 0x0"),
			evt{"switchover-command-mastership-log", "switchover-command", "re1", "", "E_CMD_A: mastership command", ""}},
		{"E_CMD_F", "re0", synthLine("mastership", "", "", "", "event = E_CMD_F, state = backup, param = 0x0"),
			evt{"switchover-command-mastership-log", "switchover-command", "re0", "", "E_CMD_F: mastership command", ""}},

		// SYNTHETIC, from the Junos 10.3 System Log Messages Reference
		// templates (REFERENCE-syslog-templates-and-alarm-strings.md).
		{"RE over-temperature shutdown", "", synthLine("messages", "mx1-re0", "chassisd", "CHASSISD_RE_OVER_TEMP_SHUTDOWN", "Routing Engine 1 temperature above 85 degrees C for too long; shutting down"),
			evt{"chassisd-re-over-temp-shutdown", "fru", "re1", "down", "RE 1 temperature", ""}},
		{"RE over-temperature warning", "", synthLine("messages", "mx1-re0", "chassisd", "CHASSISD_RE_OVER_TEMP_WARNING", "Routing Engine 0 temperature (90 C) over threshold 85 degrees C, component will shutdown in 240 seconds if condition persists"),
			evt{"chassisd-re-temp", "fru", "re0", "", "RE 0 temperature", ""}},
		{"RE warm", "", synthLine("messages", "mx1-re0", "chassisd", "CHASSISD_RE_WARM_TEMP_CONDITION", "Routing Engine 1 temperature (70 C) is above warm temperature limit (65 C)"),
			evt{"chassisd-re-temp", "fru", "re1", "", "RE 1 temperature", ""}},
		// SYNTHETIC, in the shape of the real alarmd lines (alarms.log 4,
		// 11): a RED alarm cleared, and colours other than RED/YELLOW or
		// none, which keep the alarm but cannot give its class.
		{"alarmd cleared RED", "", synthLine("messages", "SELLB-ER4", "alarmd", "", "Alarm cleared: FPC id=150995304, color=RED, class=CHASSIS, reason=FPC 1 Major Errors"),
			evt{"alarmd-cleared-major", "alarm-cleared", "", "cleared", "FPC 1 Major Errors", "Major"}},
		{"alarmd set, other colour", "", synthLine("messages", "SELLB-ER4", "alarmd", "", "Alarm set: FPC id=1, color=AMBER, class=CHASSIS, reason=FPC 2 Check"),
			evt{"alarmd-set", "alarm-set", "", "set", "FPC 2 Check", ""}},
		{"alarmd cleared, no colour", "", synthLine("messages", "SELLB-ER4", "alarmd", "", "Alarm cleared: class=CHASSIS, reason=FPC 2 Check"),
			evt{"alarmd-cleared", "alarm-cleared", "", "cleared", "FPC 2 Check", ""}},
		// SYNTHETIC, as junossim writes a PEM power-off trap: jnxFruName
		// without "type: … @ slot".
		{"FRU trap, plain jnxFruName", "", synthLine("messages", "lon1-mx960-3", "chassisd", "CHASSISD_SNMP_TRAP10", "SNMP trap generated: FRU power off (jnxFruContentsIndex 2, jnxFruL1Index 3, jnxFruL2Index 0, jnxFruL3Index 0, jnxFruName PEM 2, jnxFruType 7, jnxFruSlot 2, jnxFruOfflineReason 3, jnxFruLastPowerOff 1905770162, jnxFruLastPowerOn 9000)"),
			evt{"chassisd-fru-trap-down", "fru", "", "down", "PEM 2", ""}},
		{"IPC connection dropped", "", synthLine("messages", "mx1-re0", "chassisd", "CHASSISD_IPC_CONNECTION_DROPPED", "Dropped IPC connection for FPC 1"),
			evt{"chassisd-ipc-connection-dropped", "fru", "", "down", "FPC 1", ""}},

		// From a public JTAC case note (MX104, 17.3R3-S7.2), not in the
		// shared samples; markdown escapes removed.
		{"init core dumped", "", devices.LogLine{File: "messages", Parsed: true,
			Raw:  "Apr 19 16:23:51.204 2022 HCM001CGI01_RE1 init: routing (PID 70445) terminated by signal number 11. Core dumped!",
			Host: "HCM001CGI01_RE1", Process: "init", Message: "routing (PID 70445) terminated by signal number 11. Core dumped!"},
			evt{"core-dump-init", "core-dump", "re1", "", "routing", ""}},
		// SYNTHETIC: the FreeBSD kernel's message, which Junos' kernel
		// writes as /kernel.
		{"kernel exit core dumped", "", synthLine("messages", "re0-mx1", "/kernel", "", "pid 4321 (rpd), uid 0: exited on signal 11 (core dumped)"),
			evt{"core-dump-kernel-exit", "core-dump", "re0", "", "rpd", ""}},
		// SYNTHETIC: no public dumpd line exists; the tolerant rule's
		// defined shape.
		{"dumpd", "", synthLine("messages", "re1-mx1", "dumpd", "", "Core and context for rpd saved in /var/tmp/rpd.core-tarball.0.tgz"),
			evt{"core-dump-dumpd", "core-dump", "re1", "", "rpd", ""}},
		// SYNTHETIC: savecore after a kernel crash.
		{"savecore vmcore", "re0", synthLine("messages", "DC-L36-GTWY04", "savecore", "", "writing core to /var/crash/vmcore.2"),
			evt{"core-dump-vmcore", "core-dump", "re0", "", "kernel", ""}},
		// The file name of the public note's core-dumps listing.
		{"daemon core file", "", devices.LogLine{File: "core-dumps",
			Raw: "-rw-rw----  1 root  field  394722236 Apr 19 18:26 /var/tmp/rpd.core-tarball.4.tgz"},
			evt{"core-dump-file", "core-dump", "", "", "rpd", ""}},

		// SYNTHETIC: FreeBSD kernel panic lines, and the last-reboot-reason
		// text of the real RE table ("0x1000:reboot due to panic").
		{"panic", "", synthLine("messages", "re0-mx1", "/kernel", "", "panic: page fault"),
			evt{"panic-kernel", "panic", "re0", "", "kernel", ""}},
		{"fatal trap", "", synthLine("messages", "re1-mx1", "/kernel", "", "Fatal trap 12: page fault while in kernel mode"),
			evt{"panic-fatal-trap", "panic", "re1", "", "kernel", ""}},
		// SYNTHETIC: FreeBSD disk driver messages, as the Junos kernel
		// writes them (no public Junos capture): ata(4) ata-queue.c,
		// cam(4) xpt_print_path-prefixed error reports, and geom_vfs.c
		// g_vfs_done(). devices/correlate TestClassREDiskErrorsAreHardware
		// cites each.
		{"ata disk failure", "", synthLine("messages", "re1-mx1", "/kernel", "", "ad0: FAILURE - READ_DMA status=51<READY,DSC,ERROR> error=40<UNCORRECTABLE> LBA=6173203"),
			evt{"disk-error-ata", "disk-error", "re1", "", "disk ad0", ""}},
		{"cam disk error", "", synthLine("messages", "re1-mx1", "/kernel", "", "(ada0:ata0:0:0:0): CAM status: ATA Status Error"),
			evt{"disk-error-cam", "disk-error", "re1", "", "disk ada0", ""}},
		{"cam failed command", "", synthLine("messages", "re1-mx1", "/kernel", "", "(da0:umass-sim0:0:0:0): READ(10). CDB: 28 00 00 5e 3a 61 00 00 08 00"),
			evt{"disk-error-cam", "disk-error", "re1", "", "disk da0", ""}},
		{"geom read error", "", synthLine("messages", "re1-mx1", "/kernel", "", "g_vfs_done():ad0s1f[READ(offset=1411760128, length=16384)]error = 5"),
			evt{"disk-error-geom", "disk-error", "re1", "", "disk ad0", ""}},
		{"reboot due to panic", "re0", synthLine("messages", "mx1", "chassisd", "", "Routing Engine 0 last reboot reason: 0x1000:reboot due to panic"),
			evt{"panic-reboot", "panic", "re0", "", "kernel", ""}},
	}
}

func TestBuiltinRulesSynthetic(t *testing.T) {
	rules := mustBuiltinRules(t)
	for _, c := range synthCases() {
		t.Run(c.name, func(t *testing.T) {
			ev, ok := rules.ClassifyFrom("r1", c.loggedBy, c.line)
			if !ok {
				t.Fatalf("no event for %+v", c.line)
			}
			if got := evtOf(ev); got != c.want {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
			if !ev.Time.Equal(c.line.Time) {
				t.Errorf("time %v, want the line's %v", ev.Time, c.line.Time)
			}
			// The product parser cuts the raw line so that the same rule
			// gives the same event.
			parsed := syslog.ParseLine(c.line.File, c.line.Raw, syslog.DeviceClock{Now: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)})
			ev, ok = rules.ClassifyFrom("r1", c.loggedBy, parsed)
			if got := evtOf(ev); !ok || got != c.want {
				t.Errorf("through syslog.ParseLine: %v\n got %+v\nwant %+v\nline %+v", ok, got, c.want, parsed)
			}
		})
	}
}

// ignoredLines must give no event although later rules would match them:
// the text of commands is not an event.
func ignoredLines() []devices.LogLine {
	return []devices.LogLine{
		synthLine("messages", "re0-mx1", "mgd", "UI_CMDLINE_READ_LINE", "User 'root', command 'file delete /var/crash/vmcore.0 '"),
		synthLine("messages", "re0-mx1", "mgd", "UI_NETCONF_CMD", "User 'mastership' used NETCONF client to run command 'get-log filename=mastership' (E_NO_ORE)"),
		synthLine("messages", "re0-mx1", "mgd", "", "UI_CMDLINE_READ_LINE: User 'root', command 'request system reboot due to panic test '"),
		// Only checks readiness (the real gres-nsr-readiness sample
		// answers it "Switchover Ready"): not a switchover command.
		synthLine("messages", "re0-mx1", "mgd", "UI_CMDLINE_READ_LINE", "User 'vietpn', command 'request chassis routing-engine master switch check '"),
		synthLine("messages", "re0-mx1", "mgd", "UI_CMDLINE_READ_LINE", "User 'vietpn', command 'show chassis routing-engine master switch'"),
	}
}

func TestIgnoreCLICommands(t *testing.T) {
	rules := mustBuiltinRules(t)
	for _, line := range ignoredLines() {
		if ev, ok := rules.Classify("r1", line); ok {
			t.Errorf("%q gave %+v", line.Raw, evtOf(ev))
		}
		if got := rules.firstMatch(line); got != "ignore-cli-commands" {
			t.Errorf("%q: first rule %q, want ignore-cli-commands", line.Raw, got)
		}
	}
}

// firstMatch names the first rule that matches line, ignore rules included.
func (r *Rules) firstMatch(line devices.LogLine) string {
	v := newRuleLineView(line)
	for _, ru := range r.rules {
		if _, ok := ru.match(&v); ok {
			return ru.name
		}
	}
	return ""
}

// TestEveryBuiltinRuleTested fails when a built-in rule has no positive
// test line above.
func TestEveryBuiltinRuleTested(t *testing.T) {
	rules := mustBuiltinRules(t)
	tested := map[string]bool{"ignore-cli-commands": len(ignoredLines()) > 0}
	for _, w := range sampleEvents() {
		tested[w.rule] = true
	}
	for _, c := range synthCases() {
		tested[c.want.rule] = true
	}
	tested["core-dump-vmcore"] = true // TestCoreDumpListing
	for _, n := range rules.Names() {
		if !tested[n] {
			t.Errorf("built-in rule %s has no test line", n)
		}
		delete(tested, n)
	}
	for n := range tested {
		t.Errorf("tests name rule %s, which is not built in", n)
	}
}

func TestBuiltinRulesNames(t *testing.T) {
	names := mustBuiltinRules(t).Names()
	if len(names) < 30 {
		t.Fatalf("only %d built-in rules", len(names))
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("duplicate %s", n)
		}
		seen[n] = true
	}
	if r := mustBuiltinRules(t); r.Source() != BuiltinRulesName {
		t.Errorf("source %q", r.Source())
	}
}

func TestWriterAndOtherRE(t *testing.T) {
	for _, c := range []struct{ host, loggedBy, self, other string }{
		{"re0-abc", "", "re0", "re1"},
		{"re0.vmx01", "", "re0", "re1"},
		{"re0-gw2.fin1", "re1", "re0", "re1"}, // the host wins
		{"jtac-mx480-r2014-re0", "", "re0", "re1"},
		{"HCM001CGI01_RE1", "", "re1", "re0"},
		{"ME_AR02.GAZ185_RE0", "", "re0", "re1"},
		{"member1-re0-vc", "", "member1-re0", "member1-re1"},
		{"xn-paoeq1-bo101", "", "", ""},
		{"xn-paoeq1-bo101", "RE1", "re1", "re0"},
		{"", "node1", "node1", "node0"},
		{"fire0", "", "", ""},
		{"", "re2", "re2", ""}, // no partner known
	} {
		self := ruleWriterRE(c.host, c.loggedBy)
		if self != c.self || ruleOtherRE(self) != c.other {
			t.Errorf("host %q loggedBy %q: self %q other %q, want %q %q", c.host, c.loggedBy, self, ruleOtherRE(self), c.self, c.other)
		}
	}
	for in, want := range map[string]string{"RE 0": "re0", "re_1": "re1", "Re1": "re1", "member0-RE1": "member0-re1", "re01": "re1", "fpc3": "fpc3", "": ""} {
		if got := ruleNormalizeRE(in); got != want {
			t.Errorf("normalize %q = %q, want %q", in, got, want)
		}
	}
}

// TestLineView checks the tidying that lets one rule match however the
// parser cut the line.
func TestLineView(t *testing.T) {
	for _, c := range []struct {
		name                            string
		line                            devices.LogLine
		tag, facility, process, message string
	}{
		{"explicit priority with tag", devices.LogLine{Process: "chassisd", Message: "%DAEMON-3-CHASSISD_FPC_ASIC_ERROR: <FPC 1> ASIC Error"},
			"CHASSISD_FPC_ASIC_ERROR", "DAEMON", "chassisd", "<FPC 1> ASIC Error"},
		{"explicit priority, parser kept the tag", devices.LogLine{Tag: "CHASSISD_X", Message: "%DAEMON-3-CHASSISD_Y: text"},
			"CHASSISD_X", "DAEMON", "", "text"},
		{"explicit priority without tag", devices.LogLine{Process: "craftd", Message: "%DAEMON-4:  Minor alarm set, CB 2 Removed"},
			"", "DAEMON", "craftd", "Minor alarm set, CB 2 Removed"},
		{"facility from raw", devices.LogLine{Raw: "Mar 11 23:52:28  xn : %PFE-3: fpc10 XMCHIP(0): FI", Message: "fpc10 XMCHIP(0): FI"},
			"", "PFE", "", "fpc10 XMCHIP(0): FI"},
		{"percent in the message is not a facility", devices.LogLine{Raw: "x mgd: usage %DAEMON-4: 95", Message: "usage %DAEMON-4: 95"},
			"", "", "", "usage %DAEMON-4: 95"},
		{"tag left in message", devices.LogLine{Message: "UI_COMMIT: User 'luke' requested 'commit' operation"},
			"UI_COMMIT", "", "", "User 'luke' requested 'commit' operation"},
		{"lower-case tag left in message", devices.LogLine{Message: "mcontrol_ore_alive_set: re1 added to alive set"},
			"mcontrol_ore_alive_set", "", "", "re1 added to alive set"},
		{"word without underscore is no tag", devices.LogLine{Message: "em0: Link is Down"},
			"", "", "", "em0: Link is Down"},
		{"function name is no tag", devices.LogLine{Message: "tcp_auth_ok: Packet from 192.168.140.254:61664 wrong MD5 digest"},
			"", "", "", "tcp_auth_ok: Packet from 192.168.140.254:61664 wrong MD5 digest"},
		{"unparsed line: raw", devices.LogLine{Raw: "-rw-------  1 root wheel 1 Apr 3 08:31 /var/crash/vmcore.2"},
			"", "", "", "-rw-------  1 root wheel 1 Apr 3 08:31 /var/crash/vmcore.2"},
	} {
		v := newRuleLineView(c.line)
		got := [4]string{v.fields[condTag], v.fields[condFacility], v.fields[condProcess], v.fields[condMessage]}
		want := [4]string{c.tag, c.facility, c.process, c.message}
		if got != want {
			t.Errorf("%s: got %q, want %q", c.name, got, want)
		}
	}
}

// TestInvalidRules: every invalid rule file gives exactly this error.
func TestInvalidRules(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"invalid-rules-bad-regexp.yml",
			`testdata/invalid-rules-bad-regexp.yml:3: rules[0] (em0-down): message: invalid regexp: missing closing ): "^(?P<ifname>em[0-9]+: Link is Down"`},
		{"invalid-rules-unknown-field.yml",
			"testdata/invalid-rules-unknown-field.yml:3: rules[0] (em0-down): mesage: unknown key; did you mean message?"},
		{"invalid-rules-unknown-kind.yml",
			"testdata/invalid-rules-unknown-kind.yml:2: rules[0] (em0-down): kind: \"link-flapp\" is not a rule kind; did you mean link-flap?\n" +
				"testdata/invalid-rules-unknown-kind.yml:5: rules[1] (em1-down): kind: \"flap\" is not a rule kind; one of alive-set, mastership, keepalive-loss, ipc-loss, alarm-set, alarm-cleared, fru, internal-link, link-flap, commit, core-dump, panic, ignore, switchover-command, disk-error"},
		{"invalid-rules-unknown-group.yml",
			"testdata/invalid-rules-unknown-group.yml:5: rules[0] (fru-offline): subject: {slot} is not a named group of the rule's regexps (groups: fru)"},
		{"invalid-rules-duplicate-name.yml",
			"testdata/invalid-rules-duplicate-name.yml:5: rules[1] (em0-down): name: duplicate rule name (first at line 1)"},
		{"invalid-rules-missing-message.yml",
			"testdata/invalid-rules-missing-message.yml:1: rules[0] (em0-down): message: missing: every rule needs a message regexp (use '.' to match any message)"},
		{"invalid-rules-missing-name.yml",
			"testdata/invalid-rules-missing-name.yml:1: rules[0]: name: missing"},
		{"invalid-rules-missing-kind.yml",
			"testdata/invalid-rules-missing-kind.yml:1: rules[0] (em0-down): kind: missing; one of alive-set, mastership, keepalive-loss, ipc-loss, alarm-set, alarm-cleared, fru, internal-link, link-flap, commit, core-dump, panic, ignore, switchover-command, disk-error"},
		{"invalid-rules-bad-change.yml",
			`testdata/invalid-rules-bad-change.yml:4: rules[0] (em0-down): change: "flapped" is not one of left, joined, master, backup, giveup, set, cleared, down, up (or a template like {change})`},
		{"invalid-rules-bad-re.yml",
			`testdata/invalid-rules-bad-re.yml:4: rules[0] (ore-gone): re: "backup" is not self, other, an RE name like re0, or a template like {re}`},
		{"invalid-rules-bad-glob.yml",
			`testdata/invalid-rules-bad-glob.yml:3: rules[0] (em0-down): file: invalid glob "messages[0-9"`},
		{"invalid-rules-bad-name.yml",
			`testdata/invalid-rules-bad-name.yml:1: rules[0] ("em0 down"): name: "em0 down": use letters, digits, '-', '_' and '.', starting with a letter or digit`},
		{"invalid-rules-yaml-syntax.yml",
			"testdata/invalid-rules-yaml-syntax.yml:3: YAML syntax error: found unexpected end of stream"},
		{"invalid-rules-extends-other.yml",
			`testdata/invalid-rules-extends-other.yml:1: extends: "default" is not builtin, the only rule set a file can extend`},
		{"invalid-rules-extends-builtin-name.yml",
			"testdata/invalid-rules-extends-builtin-name.yml:3: rules[0] (commit-requested): name: a built-in rule has this name; choose another (this file's rules run before the built-in ones, so yours already takes precedence)"},
		{"invalid-rules-unknown-top-key.yml",
			"testdata/invalid-rules-unknown-top-key.yml:2: rule: unknown top-level key; did you mean rules?"},
		{"invalid-rules-unclosed-template.yml",
			`testdata/invalid-rules-unclosed-template.yml:4: rules[0] (em0-down): subject: unclosed "{" (write "{{" for a literal brace)`},
		{"invalid-rules-message-not-string.yml",
			"testdata/invalid-rules-message-not-string.yml:4: rules[0] (em0-down): message: want a string, got a list"},
		{"invalid-rules-empty.yml",
			"testdata/invalid-rules-empty.yml:1: empty: give a list of rules, or extends: builtin and rules"},
		{"invalid-rules-empty-list.yml",
			"testdata/invalid-rules-empty-list.yml:1: empty list: a plain list replaces the built-in rules, so it needs at least one rule"},
		{"invalid-rules-empty-tag.yml",
			"testdata/invalid-rules-empty-tag.yml:3: rules[0] (em0-down): tag: empty regexp (leave the key out to match anything)"},
		{"invalid-rules-ignore-with-output.yml",
			"testdata/invalid-rules-ignore-with-output.yml:4: rules[0] (quiet-fpc9): subject: an ignore rule gives no event; remove subject"},
		{"invalid-rules-alive-set-no-change.yml",
			"testdata/invalid-rules-alive-set-no-change.yml:1: rules[0] (ore-gone): change: missing: rules of kind alive-set must say which way the RE went (left, joined, master, backup, giveup)"},
		{"invalid-rules-two-documents.yml",
			"testdata/invalid-rules-two-documents.yml:4: a second YAML document (---): a rule file is one document"},
		{"invalid-rules-duplicate-key.yml",
			"testdata/invalid-rules-duplicate-key.yml:4: rules[0] (em0-down): message: duplicate key (first at line 3)"},
		{"invalid-rules-not-a-list.yml",
			"testdata/invalid-rules-not-a-list.yml:1: want a list of rules, or a mapping with extends and rules, got a string"},
		{"invalid-rules-rule-not-mapping.yml",
			"testdata/invalid-rules-rule-not-mapping.yml:4: rules[1]: want a mapping with name, kind and message, got a string"},
	} {
		t.Run(c.file, func(t *testing.T) {
			r, err := LoadRules(filepath.Join("testdata", c.file))
			if err == nil {
				t.Fatalf("no error; rules %v", r.Names())
			}
			if r != nil {
				t.Errorf("rules returned with the error")
			}
			if err.Error() != c.want {
				t.Errorf("\n got %s\nwant %s", err, c.want)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Errorf("%T is not a *RuleError", err)
			}
		})
	}
	// Every invalid-rules file is in the table.
	files, _ := filepath.Glob("testdata/invalid-rules-*.yml")
	if len(files) != 27 {
		t.Errorf("%d invalid-rules files, the table has 27", len(files))
	}
}

func TestLoadRulesErrors(t *testing.T) {
	if _, err := LoadRules(filepath.Join("testdata", "no-such-rules.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxRuleFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRules(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
}

// TestReplaceRules: a plain list is the whole rule set.
func TestReplaceRules(t *testing.T) {
	r, err := LoadRules(filepath.Join("testdata", "valid-rules-replace.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !slices.Equal(got, []string{"commits"}) {
		t.Errorf("names %v", got)
	}
	commit := handSplit("messages", "<189>Jul 20 21:44:00 vmx01 mgd[7729]: UI_COMMIT_COMPLETED: commit complete", true)
	if ev, ok := r.Classify("r1", commit); !ok || ev.Rule != "commits" || ev.Subject != "commit" {
		t.Errorf("commit: %v %+v", ok, evtOf(ev))
	}
	// file: messages* — the same line in another file is not matched.
	other := commit
	other.File = "mastership"
	if _, ok := r.Classify("r1", other); ok {
		t.Error("file glob ignored")
	}
	other.File = "/var/log/messages.0"
	if _, ok := r.Classify("r1", other); !ok {
		t.Error("file glob not tried on the base name")
	}
	// The built-in rules are gone.
	alarm := handSplit("messages", "<28>Jul  8 23:04:13  vmx01 craftd[4817]:  Major alarm set, Host 0 me0 : Ethernet Link Down", false)
	if ev, ok := r.Classify("r1", alarm); ok {
		t.Errorf("built-in rule still active: %+v", evtOf(ev))
	}
}

// TestExtendRules: an extending file's rules run first, then all the
// built-in ones.
func TestExtendRules(t *testing.T) {
	r, err := LoadRules(filepath.Join("testdata", "valid-rules-extends.yml"))
	if err != nil {
		t.Fatal(err)
	}
	builtin := mustBuiltinRules(t)
	want := append([]string{"ignore-lab-fpc9", "internal-link-fxp1"}, builtin.Names()...)
	if got := r.Names(); !slices.Equal(got, want) {
		t.Errorf("names %v\nwant %v", got, want)
	}
	if want := filepath.Join("testdata", "valid-rules-extends.yml") + " extends builtin"; r.Source() != want {
		t.Errorf("source %q, want %q", r.Source(), want)
	}
	pfe := func(fpc string) devices.LogLine {
		return handSplit("messages", "Mar 11 23:52:28  xn-paoeq1-bo101 : %PFE-3: "+fpc+" XMCHIP(0): XMCHIP(0): FI: Reorder cell timeout - Stream 40, Count 1 ", true)
	}
	// The ignore rule silences a built-in rule for fpc9 only.
	if ev, ok := r.Classify("r1", pfe("fpc9")); ok {
		t.Errorf("fpc9: %+v", evtOf(ev))
	}
	if ev, ok := r.Classify("r1", pfe("fpc10")); !ok || ev.Rule != "pfe-error" {
		t.Errorf("fpc10: %v %+v", ok, evtOf(ev))
	}
	// A new rule adds a line the built-in rules do not classify.
	fxp1 := handSplit("messages", "Feb 11 18:10:13 re1-abc /kernel: fxp1: Link is Down", true)
	if _, ok := builtin.Classify("r1", fxp1); ok {
		t.Fatal("fxp1 is built in; pick another test interface")
	}
	if ev, ok := r.Classify("r1", fxp1); !ok || evtOf(ev) != (evt{"internal-link-fxp1", "internal-link", "re1", "down", "fxp1", ""}) {
		t.Errorf("fxp1: %v %+v", ok, evtOf(ev))
	}
	// Built-in rules still work.
	em0 := handSplit("messages", "Feb 11 18:10:13 re0-abc /kernel: em0: Link is Down", true)
	if ev, ok := r.Classify("r1", em0); !ok || ev.Rule != "internal-link-kernel" {
		t.Errorf("em0: %v %+v", ok, evtOf(ev))
	}
}

// TestFirstRuleWins: with two rules matching a line, the earlier one
// gives the event, in a replacing and in an extending file.
func TestFirstRuleWins(t *testing.T) {
	line := handSplit("messages", "<28>Jul 20 21:45:59 vmx01 mib2d[2424]: SNMP_TRAP_LINK_DOWN: ifIndex 502, ifAdminStatus down(2), ifOperStatus down(2), ifName xe-0/0/0", true)
	for _, c := range []struct{ name, yaml, want string }{
		{"replace, first", `
- {name: a, kind: link-flap, tag: SNMP_TRAP_LINK_DOWN, message: 'ifName', change: down}
- {name: b, kind: internal-link, message: 'xe-', change: down}`, "a"},
		{"replace, second", `
- {name: a, kind: link-flap, tag: SNMP_TRAP_LINK_UP, message: 'ifName', change: up}
- {name: b, kind: internal-link, message: 'xe-', change: down}`, "b"},
		{"extends, user rule before built-in", `
extends: builtin
rules:
- {name: mine, kind: internal-link, message: 'ifName xe-0/0/0\b', change: down, subject: uplink}`, "mine"},
		{"extends, no rules", `extends: builtin`, "link-flap-trap"},
		{"extends, null rules", "extends: builtin\nrules:\n", "link-flap-trap"},
		{"exclude vetoes", `
- {name: a, kind: link-flap, message: 'ifName', exclude: 'ifAdminStatus down', change: down}
- {name: b, kind: link-flap, message: 'ifName', change: down}`, "b"},
	} {
		r, err := ParseRules(c.name, []byte(c.yaml))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		ev, ok := r.Classify("r1", line)
		if !ok || ev.Rule != c.want {
			t.Errorf("%s: %v %+v, want rule %s", c.name, ok, evtOf(ev), c.want)
		}
	}
}

// TestTemplates covers group lookup across fields, alternatives that
// share a name, literal braces, and the tidying of outputs.
func TestTemplates(t *testing.T) {
	r, err := ParseRules("t.yml", []byte(`
- name: tmpl
  kind: fru
  process: '(?P<proc>chassisd)'
  tag: 'CHASSISD_(?P<what>[A-Z]+)_X'
  message: '(?:slot (?P<slot>[0-9]+)|SLOT(?P<slot>[0-9]+)) (?P<what>\w+)?'
  re: 'RE {slot}'
  change: '{what}'
  subject: '{{ {proc}  {slot} }}'
  class: ' a   b '
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		msg  string
		want evt
	}{
		// message groups first: "what" comes from the message when it
		// matched there, else from the tag.
		{"slot 1 Down", evt{"tmpl", "fru", "re1", "down", "{ chassisd 1 }", "a b"}},
		{"SLOT0 -", evt{"tmpl", "fru", "re0", "foo", "{ chassisd 0 }", "a b"}},
	} {
		line := devices.LogLine{Process: "chassisd", Tag: "CHASSISD_FOO_X", Message: c.msg}
		ev, ok := r.Classify("r1", line)
		if !ok || evtOf(ev) != c.want {
			t.Errorf("%q: %v\n got %+v\nwant %+v", c.msg, ok, evtOf(ev), c.want)
		}
	}
	// process and tag match the whole field.
	if _, ok := r.Classify("r1", devices.LogLine{Process: "xchassisd", Tag: "CHASSISD_FOO_X", Message: "slot 1"}); ok {
		t.Error("process regexp not anchored")
	}
	if _, ok := r.Classify("r1", devices.LogLine{Process: "chassisd", Tag: "CHASSISD_FOO_XY", Message: "slot 1"}); ok {
		t.Error("tag regexp not anchored")
	}
}

func TestClassifyFromMastershipLog(t *testing.T) {
	rules := mustBuiltinRules(t)
	lines := rulesReadLines(t, rulesSample(t, "logs", "mastership-file.log"))
	// Line 2: "failed to receive keepalives from other RE for the last 60
	// sec", read from re0's mastership log: the other RE is re1.
	ev, ok := rules.ClassifyFrom("r1", "re0", handSplit("mastership", lines[1], true))
	if !ok || ev.RE != "re1" || ev.Kind != devices.EventKeepaliveLoss {
		t.Errorf("got %v %+v", ok, evtOf(ev))
	}
	// Line 10: "new state = giveup" is about the RE that wrote it.
	ev, ok = rules.ClassifyFrom("r1", "re0", handSplit("mastership", lines[9], true))
	if !ok || ev.RE != "re0" || ev.Change != "giveup" {
		t.Errorf("got %v %+v", ok, evtOf(ev))
	}
}

// FuzzParseRules: any input gives rules or an error, never a panic, and
// rules that parse classify without panicking.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(builtinRulesYAML))
	files, _ := filepath.Glob(filepath.Join("testdata", "*rules-*.yml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("- {name: a, kind: fru, message: '(?P<x>.)', subject: '{x}{{}}', re: '{x}'}"))
	f.Add([]byte("extends: builtin\nrules: [{name: a, kind: ignore, message: x, file: '*'}]"))
	f.Add([]byte("- &a {name: a, kind: fru, message: x}\n- *a\n"))
	line := devices.LogLine{File: "messages", Raw: "<28>Jul  8 23:04:13  vmx01 craftd[4817]:  Major alarm set, x", Host: "vmx01", Process: "craftd", Message: "Major alarm set, x", Parsed: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules("fuzz.yml", data)
		if err != nil {
			if r != nil {
				t.Fatal("rules and an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		names := r.Names()
		if len(names) == 0 {
			t.Fatal("no rules and no error")
		}
		if ev, ok := r.Classify("d", line); ok && (ev.Rule == "" || !slices.Contains(names, ev.Rule)) {
			t.Fatalf("event from an unknown rule %q", ev.Rule)
		}
	})
}

// FuzzClassify: any line gives an event or none, never a panic; an event
// names a built-in rule and carries the device, the line and its time.
func FuzzClassify(f *testing.F) {
	rules := mustBuiltinRules(f)
	names := rules.Names()
	for _, name := range junossamples.Names(f, "logs", "*.log") {
		b, err := os.ReadFile(rulesSample(f, "logs", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, raw := range strings.Split(string(b), "\n") {
			l := handSplit(logFileOf(name), raw, true)
			f.Add(l.File, l.Raw, l.Host, l.Process, l.Tag, l.Message, l.Parsed, "re0")
		}
	}
	for _, c := range synthCases() {
		l := c.line
		f.Add(l.File, l.Raw, l.Host, l.Process, l.Tag, l.Message, l.Parsed, c.loggedBy)
	}
	slow := withoutLiterals(rules)
	f.Fuzz(func(t *testing.T, file, raw, host, process, tag, message string, parsed bool, loggedBy string) {
		line := devices.LogLine{File: file, Raw: raw, Host: host, Process: process, Tag: tag, Message: message, Parsed: parsed,
			Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		ev, ok := rules.ClassifyFrom("dev", loggedBy, line)
		// The literal prefilter is only a shortcut: without it the rules
		// must say the same.
		if ev2, ok2 := slow.ClassifyFrom("dev", loggedBy, line); ok2 != ok || !reflect.DeepEqual(ev2, ev) {
			t.Fatalf("prefilter changed the result: %v %+v, without it %v %+v", ok, ev, ok2, ev2)
		}
		if !ok {
			if !reflect.DeepEqual(ev, devices.Event{}) {
				t.Fatalf("no event but %+v", ev)
			}
			return
		}
		if !slices.Contains(names, ev.Rule) {
			t.Fatalf("rule %q is not built in", ev.Rule)
		}
		if ev.Kind == KindIgnore || !slices.Contains(ruleKinds(), ev.Kind) {
			t.Fatalf("kind %q", ev.Kind)
		}
		if ev.Device != "dev" || !ev.Time.Equal(line.Time) || !reflect.DeepEqual(ev.Line, line) {
			t.Fatalf("event does not carry device, time and line: %+v", ev)
		}
	})
}

// withoutLiterals copies r without the literal prefilter.
func withoutLiterals(r *Rules) *Rules {
	out := &Rules{source: r.source}
	for _, ru := range r.rules {
		c := *ru
		c.literal = ""
		out.rules = append(out.rules, &c)
	}
	return out
}

func TestRequiredLiteral(t *testing.T) {
	for expr, want := range map[string]string{
		`\bE_NO_ORE\b`:                         "E_NO_ORE",
		`^Alarm set: .*?\breason=(?P<r>.+)$`:   "Alarm set: ",
		`(?P<p>\S+) \(PID [0-9]+\) terminated`: ") terminated",
		`(?:ab)+cde`:                           "cde",
		`(?:abc){2,}x`:                         "abc",
		`(?i)failed`:                           "",
		`a|bcd`:                                "",
		`(?:keepalive)?s`:                      "s",
		`x*`:                                   "",
		`(`:                                    "",
	} {
		if got := requiredLiteral(expr); got != want {
			t.Errorf("requiredLiteral(%q) = %q, want %q", expr, got, want)
		}
	}
	// The built-in rules without a literal are these, each behind a tag or
	// process condition that spares most lines the message regexp.
	var none []string
	for _, ru := range mustBuiltinRules(t).rules {
		if ru.literal == "" {
			none = append(none, ru.name)
		}
	}
	want := []string{"ignore-cli-commands", "alive-set-left", "alive-set-joined", "chassisd-re-over-temp-shutdown", "chassisd-re-temp", "commit-completed", "core-dump-dumpd"}
	if !slices.Equal(none, want) {
		t.Errorf("rules without a literal: %q\nwant %q", none, want)
	}
}

// BenchmarkClassify measures the built-in rules on the napalm-logs lines,
// mostly noise, which is what a messages file mostly holds.
func BenchmarkClassify(b *testing.B) {
	rules := mustBuiltinRules(b)
	var lines []devices.LogLine
	for _, raw := range rulesReadLines(b, rulesSample(b, "logs", "napalm-logs-wire.log")) {
		lines = append(lines, handSplit("messages", raw, true))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		rules.Classify("r1", lines[i%len(lines)])
	}
}

// TestJunosFilterPassesEveryRuleLine is issue 17's filter test: every line
// a built-in rule turns into an event — every shared sample line of a
// syslog file, every synthetic test line — passes the Junos match filter
// junos-config prints, read as the POSIX ERE Junos applies to the
// message (its tag and text). And the filter is one Junos accepts: no "/"
// or "%", no ".", no leading "!".
func TestJunosFilterPassesEveryRuleLine(t *testing.T) {
	pattern := JunosFilterPattern()
	if strings.ContainsAny(pattern, "/%.\"") || strings.HasPrefix(pattern, "!") {
		t.Fatalf("filter %q has a character Junos match refuses or reads otherwise", pattern)
	}
	filter, err := regexp.CompilePOSIX(pattern)
	if err != nil {
		t.Fatal(err)
	}
	rules := mustBuiltinRules(t)
	passes := func(l devices.LogLine) bool {
		text := l.Message
		if l.Tag != "" {
			text = l.Tag + ": " + text
		}
		return filter.MatchString(text)
	}
	clock := syslog.DeviceClock{Now: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}
	checked := 0
	want := sampleEvents()
	for _, name := range rulesSampleLogs(t) {
		if logFileOf(name) != "messages" {
			continue // /var/log/mastership is not a syslog file
		}
		for i, raw := range rulesReadLines(t, rulesSample(t, "logs", name)) {
			if _, event := want[name+":"+strconv.Itoa(i+1)]; !event {
				continue
			}
			checked++
			if line := syslog.ParseLine("messages", raw, clock); !passes(line) {
				t.Errorf("%s:%d does not pass the filter: %q", name, i+1, raw)
			}
		}
	}
	for _, c := range synthCases() {
		if c.line.File != "messages" {
			continue
		}
		if _, ok := rules.ClassifyFrom("r1", c.loggedBy, c.line); !ok {
			continue
		}
		checked++
		if !passes(c.line) {
			t.Errorf("%s: %q does not pass the filter", c.name, c.line.Raw)
		}
	}
	if checked < 30 {
		t.Errorf("only %d rule lines checked", checked)
	}
	// The agent's own NETCONF logins are not kept: they are what makes
	// messages change at every poll.
	login := syslog.ParseLine("messages", "Mar 20 10:00:00  re0 sshd[4242]: Accepted publickey for mastership from 192.0.2.10 port 40000 ssh2", clock)
	if passes(login) {
		t.Errorf("the agent's SSH login passes the filter: the file would change at every poll")
	}
	cfg, err := JunosConfig("")
	if err != nil || !strings.Contains(cfg, "set system syslog file mastership-events match \""+pattern+"\"\n") ||
		!strings.Contains(cfg, "set system syslog file mastership-events archive size 1m files 3 world-readable\n") {
		t.Errorf("JunosConfig: %v\n%s", err, cfg)
	}
	if _, err := JunosConfig("../etc/passwd"); err == nil {
		t.Error("a path as file name was accepted")
	}
}
