package junossim

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos"
)

// Real lines, verbatim from junos-samples/logs (file named beside each).
// Each shape below must match its real line(s) and every line the
// simulator writes, so the simulator cannot drift from the captures.
var realLines = map[string][]string{
	"alarmd": {
		"Mar 3 18:07:36.171 jtac-mx480-r2014-re0 alarmd[2030]: Alarm set: CB color=RED, class=CHASSIS, reason=CB 0 19.44 MHz clock failure", // alarms.log:1
		"<28>Jul  8 23:04:13  vmx01 alarmd[2449]: Alarm set: Pwr supply color=YELLOW, class=CHASSIS, reason=PEM 1 Fan Failed",               // alarms.log:19
		"<28>Jul  8 23:04:13  vmx01 alarmd[2449]: Alarm cleared: RE color=YELLOW, class=CHASSIS, reason=RE 0 /var partition usage is high",  // alarms.log:23
	},
	"craftd": {
		"Mar 3 18:07:36.171 jtac-mx480-r2014-re0 craftd[1765]: Major alarm set, CB 0 19.44 MHz clock failure", // alarms.log:2
		"<28>Jul  8 23:04:13  vmx01 craftd[4817]:  Major alarm set, Host 0 me0 : Ethernet Link Down",          // alarms.log:16
		"<28>Jul  8 23:04:13  vmx01 craftd[4817]:  Minor alarm cleared, RE 0 /var partition usage is high",    // alarms.log:17
	},
	"kernel-em": {
		"Feb 11 18:10:13 re0-abc /kernel: em0: Link is up 100 Mbps Half Duplex", // internal-link.log:1
		"Feb 11 18:10:13 re0-abc /kernel: em0: Link is Down",                    // internal-link.log:2
	},
	"mib2d": {
		"Feb 11 18:10:13 re0-abc mib2d[3387]: SNMP_TRAP_LINK_DOWN: ifIndex 17, ifAdminStatus up(1), ifOperStatus down(2), ifName em0",           // internal-link.log:3
		"<28>Jul 20 21:45:59 vmx01 mib2d[2424]: SNMP_TRAP_LINK_DOWN: ifIndex 502, ifAdminStatus down(2), ifOperStatus down(2), ifName xe-0/0/0", // link.log:1
		"<28>Jul 20 21:45:59 vmx01 mib2d[2424]: SNMP_TRAP_LINK_UP: ifIndex 502, ifAdminStatus up(1), ifOperStatus up(1), ifName xe-0/0/0",       // link.log:2
	},
	"rdp": {
		"Feb 11 22:37:56 SRX3K /kernel: %KERN-3: rdp keepalive expired, connection dropped - src 0x0f100001:1011 dest 0x0110011c:1032", // internal-link.log:6 (its date was elided on the source page)
	},
	"chassisd-fru": {
		"Mar 14 00:21:12 SELLB-ER4 chassisd[27847]: CHASSISD_FRU_OFFLINE_NOTICE: Taking FPC 10 offline: Offlined by cli command",                                                                                                                                                                                                             // fpc-fru.log:1 (host and process dropped by the engineer's paste; restored from line 5)
		"Mar 14 00:23:02 SELLB-ER4 chassisd[27847]: CHASSISD_SNMP_TRAP7: SNMP trap generated: FRU removal (jnxFruContentsIndex 7, jnxFruL1Index 11, jnxFruL2Index 0, jnxFruL3Index 0, jnxFruName FPC: MPC5E 3D 2CGE+4XGE @ 10/*/*, jnxFruType 3, jnxFruSlot 10)",                                                                             // fpc-fru.log:2, same
		"Jan 21 07:24:13 SELLB-ER4 chassisd[27847]: CHASSISD_SNMP_TRAP10: SNMP trap generated: FRU power off (jnxFruContentsIndex 7, jnxFruL1Index 2, jnxFruL2Index 0, jnxFruL3Index 0, jnxFruName FPC: MPC3E NG HQoS @ 1/*/*, jnxFruType 3, jnxFruSlot 1, jnxFruOfflineReason 7, jnxFruLastPowerOff 1781269837, jnxFruLastPowerOn 4896758)", // fpc-fru.log:6, without %DAEMON-5-
	},
	"rpd": {
		"<28>Jun 21 14:03:12  vmx01 rpd[2902]: RPD_BGP_NEIGHBOR_STATE_CHANGED: BGP peer 1.1.1.1 (External AS 2222) changed state from Established to Idle (event HoldTime) (instance master)", // napalm-logs-wire.log:15
	},
	"mgd": {
		"<189>Jul 20 21:44:00 vmx01 mgd[7729]: UI_COMMIT_COMPLETED: commit complete",                                 // commit.log:1
		"<189>Jul 20 21:44:00 vmx01 mgd[7729]: UI_COMMIT: User 'luke' requested 'commit' operation (comment: hello)", // commit.log:2
	},
	"mastership": {
		"Jan 12 21:50:18 failed to receive keepalives from other RE for the last 60 sec",         // mastership-file.log:2
		"Jan 12 21:50:23 failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec", // :3
		"Jan 12 21:50:34 event = E_CMD_R, state = master, param = 0x0",                           // :5
		`Jan 12 21:50:34 send "you are the master" request`,                                      // :6
		"Jan 12 21:50:34 new state = giveup",                                                     // :10
		"Jan 12 21:50:36 event = E_TMOUT, state = giveup, param = 0x0",                           // :11
	},
	"clear-log": {
		"Jan 12 21:50:05 clear-log[865]: logfile cleared", // mastership-file.log:1
	},
}

// Headers: the real ones vary (PRI, milliseconds, one or two spaces); the
// simulator writes one form of each.
var (
	realHeader    = regexp.MustCompile(`^(<\d+>)?[A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d(\.\d{3})? {1,2}\S+ (.*)$`)
	simHeader     = regexp.MustCompile(`^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d  [A-Za-z0-9_-]+ (.*)$`)
	stampOnly     = regexp.MustCompile(`^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d (.*)$`)
	turnoverShape = regexp.MustCompile(`^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d [A-Za-z0-9_-]+ newsyslog\[\d+\]: logfile turned over$`)
)

// Bodies: what follows the host, per shape.
var bodyShapes = map[string]*regexp.Regexp{
	// A typed command logged by interactive-commands (the switchover
	// ledger's planned switchovers, written by log events).
	"mgd-command":  regexp.MustCompile(`^mgd\[\d+\]: UI_CMDLINE_READ_LINE: User '[^']+', command '[^']*'$`),
	"alarmd":       regexp.MustCompile(`^alarmd\[\d+\]: Alarm (set|cleared): [A-Za-z ]+ color=(RED|YELLOW), class=(CHASSIS|SYSTEM), reason=\S.*$`),
	"craftd":       regexp.MustCompile(`^craftd\[\d+\]: {1,2}(Major|Minor) alarm (set|cleared), \S.*$`),
	"kernel-em":    regexp.MustCompile(`^/kernel: em\d: Link is (Down|up 100 Mbps Half Duplex)$`),
	"mib2d":        regexp.MustCompile(`^mib2d\[\d+\]: SNMP_TRAP_LINK_(DOWN|UP): ifIndex \d+, ifAdminStatus (up\(1\)|down\(2\)), ifOperStatus (up\(1\)|down\(2\)), ifName \S+$`),
	"rdp":          regexp.MustCompile(`^/kernel: %KERN-3: rdp keepalive expired, connection dropped - src 0x[0-9a-f]{8}:\d+ dest 0x[0-9a-f]{8}:\d+$`),
	"chassisd-fru": regexp.MustCompile(`^chassisd\[\d+\]: (CHASSISD_FRU_OFFLINE_NOTICE: Taking [A-Za-z ]+ \d+ offline: .+|CHASSISD_SNMP_TRAP(7|10): SNMP trap generated: FRU (removal|insertion|power off|power on) \(jnxFruContentsIndex \d+, jnxFruL1Index \d+, jnxFruL2Index \d+, jnxFruL3Index \d+, jnxFruName [^,]+, jnxFruType \d+, jnxFruSlot \d+(, jnxFruOfflineReason \d+, jnxFruLastPowerOff \d+, jnxFruLastPowerOn \d+)?\))$`),
	"mgd":          regexp.MustCompile(`^mgd\[\d+\]: (UI_COMMIT: User '[^']+' requested 'commit' operation \(comment: [^)]*\)|UI_COMMIT_COMPLETED: commit complete)$`),
	// Shapes with no public sample; the simulator's own, documented in
	// doc.go: the temperature lines fill the Syslog Reference templates.
	"chassisd-temp": regexp.MustCompile(`^chassisd\[\d+\]: CHASSISD_RE_(WARM_TEMP_CONDITION: Routing Engine \d+ temperature \(\d+ C\) is above warm temperature limit \(\d+ C\)|OVER_TEMP_WARNING: Routing Engine \d+ temperature \(\d+ C\) over \d+ degrees C, component will shutdown in \d+ seconds if condition persists|OVER_TEMP_SHUTDOWN: Routing Engine \d+ temperature above \d+ degrees C for too long; shutting down)$`),
	"alive-set":     regexp.MustCompile(`^chassisd\[\d+\]: mcontrol_ore_alive_set: ((member\d+-)?re\d|node\d) (removed from alive set \(keepalive timeout\)|added to alive set)$`),
	"dumpd":         regexp.MustCompile(`^dumpd\[\d+\]: Core and context for ([a-z0-9_-]+) saved in /var/tmp/([a-z0-9_-]+)\.core-tarball\.\d+\.tgz$`),
	"panic":         regexp.MustCompile(`^/kernel: panic: \S.*$`),
	// rpd lines a log event copies from napalm-logs-wire.log.
	"rpd": regexp.MustCompile(`^rpd\[\d+\]: RPD_[A-Z_]+: \S.*$`),
}

var mastershipShape = regexp.MustCompile(`^(failed to receive keepalives from other RE for the last \d+ sec|failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec|event = E_[A-Z_]+, state = [a-z]+, param = 0x0|send "you are the master" request|new state = [a-z]+)$`)

var clearLogShape = regexp.MustCompile(`^[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d clear-log\[\d+\]: logfile cleared$`)

func TestShapesMatchTheRealLines(t *testing.T) {
	for shape, lines := range realLines {
		for _, line := range lines {
			switch shape {
			case "mastership":
				m := stampOnly.FindStringSubmatch(line)
				if m == nil || !mastershipShape.MatchString(m[1]) {
					t.Errorf("mastership shape does not match the real %q", line)
				}
			case "clear-log":
				if !clearLogShape.MatchString(line) {
					t.Errorf("clear-log shape does not match the real %q", line)
				}
			default:
				m := realHeader.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("real header does not match %q", line)
				}
				if !bodyShapes[shape].MatchString(m[3]) {
					t.Errorf("%s shape does not match the real %q", shape, m[3])
				}
			}
		}
	}
}

// checkLine reports which shape a simulator line has, or "" if none.
func lineShape(file, line string) string {
	if turnoverShape.MatchString(line) {
		return "newsyslog"
	}
	if clearLogShape.MatchString(line) {
		return "clear-log"
	}
	if strings.HasPrefix(file, LogMastership) {
		if m := stampOnly.FindStringSubmatch(line); m != nil && mastershipShape.MatchString(m[1]) {
			return "mastership"
		}
		return ""
	}
	m := simHeader.FindStringSubmatch(line)
	if m == nil {
		return ""
	}
	for name, re := range bodyShapes {
		if re.MatchString(m[1]) {
			return name
		}
	}
	return ""
}

// everyEvent is a timeline with one of each event kind, the ones that
// write lines twice.
func everyEvent() []Event {
	m := time.Minute
	return []Event{
		{At: 1 * m, Kind: EventAlarmSet, Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered"},
		{At: 2 * m, Kind: EventFRU, FRU: "PEM 0", Action: "power-off"},
		{At: 3 * m, Kind: EventInternalLinkFlap},
		{At: 3 * m, Kind: EventKeepaliveLoss},
		{At: 4 * m, Kind: EventREDown, RE: "re1"},
		{At: 4 * m, Kind: EventAlarmSet, Class: "Minor", Type: "Chassis", Description: "Loss of communication with Backup RE"},
		{At: 6 * m, Kind: EventREUp, RE: "re1"},
		{At: 6 * m, Kind: EventAlarmClear, Description: "Loss of communication with Backup RE"},
		{At: 8 * m, Kind: EventSwitchover},
		{At: 10 * m, Kind: EventPanic, RE: "re1"},
		{At: 14 * m, Kind: EventReboot, RE: "re1"},
		{At: 15 * m, Kind: EventFRU, FRU: "FPC 1"},
		{At: 15 * m, Kind: EventFRU, FRU: "FPC 1", Action: "online"},
		{At: 15 * m, Kind: EventFRU, FRU: "Fan Tray 0", Action: "removal"},
		{At: 15 * m, Kind: EventFRU, FRU: "CB 1", Action: "insertion"},
		{At: 15 * m, Kind: EventFRU, FRU: "RE 1", Action: "warm-temp"},
		{At: 15 * m, Kind: EventFRU, FRU: "RE 1", Action: "over-temp"},
		{At: 15 * m, Kind: EventFRU, FRU: "RE 1", Action: "shutdown"},
		{At: 16 * m, Kind: EventCoreDump},
		{At: 16 * m, Kind: EventRDPKeepalive},
		{At: 16 * m, Kind: EventIPCLoss},
		{At: 17 * m, Kind: EventLinkFlap},
		{At: 18 * m, Kind: EventCommit, Comment: "hello"},
		{At: 18 * m, Kind: EventLog, Text: "rpd[2902]: RPD_ISIS_ADJUP: IS-IS new L2 adjacency to second.junos.device on ge-0/0/1.0"},
		{At: 18 * m, Kind: EventLog, Text: "mgd[4711]: UI_CMDLINE_READ_LINE: User 'lab', command 'request chassis routing-engine master switch '"},
		{At: 19 * m, Kind: EventREDown, RE: "re0", Status: "Failed"},
		{At: 20 * m, Kind: EventREUp, RE: "re0"},
	}
}

func TestEveryLineHasARealShape(t *testing.T) {
	for _, topo := range []Topology{TopologyDual, TopologyMXVC, TopologySRXCluster} {
		clock := newFakeClock()
		evs := everyEvent()
		if topo != TopologyDual {
			evs = slices.DeleteFunc(evs, func(e Event) bool {
				return e.RE != "" || e.Kind == EventSwitchover || e.Kind == EventKeepaliveLoss || e.Kind == EventIPCLoss
			})
			names := reNames(topo)
			evs = append(evs, Event{At: 30 * time.Minute, Kind: EventREDown, RE: names[1]},
				Event{At: 31 * time.Minute, Kind: EventPanic, RE: names[1]})
		}
		r := mustRouter(t, Device{Name: "edge-1", Topology: topo, Timezone: "Asia/Kolkata", Events: evs}, clock)
		clock.Advance(time.Hour)
		seen := map[string]int{}
		for _, file := range []string{LogMessages, LogMastership} {
			lines, _ := r.Log(file)
			for _, l := range lines {
				s := lineShape(file, l)
				if s == "" {
					t.Errorf("%s %s: line of no known shape: %q", topo, file, l)
				}
				seen[s]++
			}
		}
		if topo == TopologyDual {
			for s := range bodyShapes {
				if seen[s] == 0 {
					t.Errorf("no %s line written", s)
				}
			}
			if seen["mastership"] == 0 {
				t.Error("no mastership lines")
			}
		}
	}
}

func TestLogTimestampsAreLocalWithAPaddedDay(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 3, 3, 17, 7, 36, 0, time.UTC)}
	r := mustRouter(t, Device{Name: "r1", Timezone: "America/Los_Angeles", Events: []Event{
		{At: time.Second, Kind: EventRDPKeepalive},
	}}, clock)
	clock.Advance(time.Second)
	lines, _ := r.Log(LogMessages)
	want := "Mar  3 09:07:37  r1 /kernel: %KERN-3: rdp keepalive expired, connection dropped - src 0x0f100001:1011 dest 0x0110011c:1032"
	if got := lines[len(lines)-1]; got != want {
		t.Errorf("line\n got %q\nwant %q", got, want)
	}
}

// lines returns the lines of file written since the previous call.
type lineTail struct {
	r    *Router
	file string
	seen int
}

func (l *lineTail) next(t *testing.T) []string {
	t.Helper()
	all, _ := l.r.Log(l.file)
	out := all[l.seen:]
	l.seen = len(all)
	return out
}

func TestTimelineWritesLinesAtTheirTimes(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		{At: time.Minute, Kind: EventInternalLinkFlap, Duration: 30 * time.Second},
		{At: 3 * time.Minute, Kind: EventKeepaliveLoss, Duration: time.Minute},
		{At: 5 * time.Minute, Kind: EventReboot, RE: "re1"},
	}}, clock)
	msgs := &lineTail{r: r, file: LogMessages}
	ms := &lineTail{r: r, file: LogMastership}
	msgs.next(t)
	ms.next(t)
	at := func(d time.Duration) { clock.Advance(r.Start().Add(d).Sub(clock.Now())) }
	expect := func(tail *lineTail, want ...string) {
		t.Helper()
		got := tail.next(t)
		if len(got) != len(want) {
			t.Fatalf("at %v: %d new lines %q, want %d", clock.Now().Sub(r.Start()), len(got), got, len(want))
		}
		for i, w := range want {
			if !strings.Contains(got[i], w) {
				t.Errorf("line %d = %q, want it to contain %q", i, got[i], w)
			}
		}
	}
	at(59 * time.Second)
	expect(msgs)
	at(time.Minute)
	expect(msgs, "Link is Down", "SNMP_TRAP_LINK_DOWN")
	at(time.Minute + 29*time.Second)
	expect(msgs)
	// A poll long after sees the up lines stamped with their own time.
	at(2*time.Minute + 50*time.Second)
	got := msgs.next(t)
	if len(got) != 2 || !strings.HasPrefix(got[0], "Mar 19 17:13:57  r1 /kernel: em0: Link is up") {
		t.Errorf("up lines = %q", got)
	}
	at(3*time.Minute + 19*time.Second)
	expect(ms)
	at(3*time.Minute + 20*time.Second)
	expect(ms, "for the last 20 sec", "failed to send RE info/keepalive")
	at(4 * time.Minute)
	expect(ms, "for the last 40 sec", "for the last 60 sec")
	at(5 * time.Minute)
	expect(msgs, "re1 removed from alive set")
	expect(ms, "E_NO_ORE, state = master", "new state = master")
	if up := upTime(t, r, 1); up != 0 {
		t.Errorf("the RE table shows the reboot at once: up-time %d", up)
	}
	at(6*time.Minute + 59*time.Second)
	expect(msgs)
	at(7 * time.Minute)
	expect(msgs, "re1 added to alive set")
	expect(ms, "E_ORE_B, state = master", "new state = master")
}

func TestMastershipLinesFollowTheMaster(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		{At: time.Minute, Kind: EventSwitchover},
		{At: 10 * time.Minute, Kind: EventPanic, RE: "re1", Text: "vm_fault: pager read error"},
	}}, clock)
	ms := &lineTail{r: r, file: LogMastership}
	msgs := &lineTail{r: r, file: LogMessages}
	ms.next(t)
	msgs.next(t)
	clock.Advance(time.Minute)
	got := ms.next(t)
	want := []string{"event = E_ORE_B, state = backup, param = 0x0", "new state = master"}
	if len(got) != len(want) {
		t.Fatalf("switchover lines %q", got)
	}
	for i := range want {
		if !strings.HasSuffix(got[i], " "+want[i]) {
			t.Errorf("switchover line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if m := msgs.next(t); len(m) != 0 {
		t.Errorf("a switchover with both REs up changes no alive set: %q", m)
	}
	// The master (now re1) panics: its kernel line, then re0 takes over.
	clock.Advance(9 * time.Minute)
	m := msgs.next(t)
	if len(m) != 2 || !strings.HasSuffix(m[0], "/kernel: panic: vm_fault: pager read error") ||
		!strings.HasSuffix(m[1], "mcontrol_ore_alive_set: re1 removed from alive set (keepalive timeout)") {
		t.Errorf("panic lines %q", m)
	}
	if got := ms.next(t); len(got) != 2 || !strings.HasSuffix(got[0], "event = E_NO_ORE, state = backup, param = 0x0") {
		t.Errorf("takeover lines %q", got)
	}
	re0, _ := r.RE("re0")
	re1, _ := r.RE("re1")
	if re0.MastershipState != "master" || re1.LastRebootReason != ReasonPanic {
		t.Errorf("after the panic: %+v %+v", re0, re1)
	}
}

var pidPattern = regexp.MustCompile(`alarmd\[(\d+)\]`)

// TestDaemonPIDsBelongToTheMaster: the daemons that log are the master's;
// after a switchover their pids are another RE's.
func TestDaemonPIDsBelongToTheMaster(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		{At: time.Minute, Kind: EventAlarmSet, Class: "Minor", Description: "a"},
		{At: 2 * time.Minute, Kind: EventAlarmSet, Class: "Minor", Description: "b"},
		{At: 3 * time.Minute, Kind: EventSwitchover},
		{At: 4 * time.Minute, Kind: EventAlarmSet, Class: "Minor", Description: "c"},
	}}, clock)
	clock.Advance(time.Hour)
	lines, _ := r.Log(LogMessages)
	var pids []string
	for _, l := range lines {
		if m := pidPattern.FindStringSubmatch(l); m != nil {
			pids = append(pids, m[1])
		}
	}
	if len(pids) != 3 || pids[0] != pids[1] || pids[1] == pids[2] {
		t.Errorf("alarmd pids %v: want the same twice, then another after the switchover", pids)
	}
}

func TestAliveSetLogOff(t *testing.T) {
	off := false
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", AliveSetLog: &off, Events: []Event{
		{At: time.Minute, Kind: EventREDown, RE: "re1"}, {At: 2 * time.Minute, Kind: EventREUp, RE: "re1"},
	}}, clock)
	clock.Advance(time.Hour)
	lines, _ := r.Log(LogMessages)
	for _, l := range lines {
		if strings.Contains(l, "mcontrol_ore_alive_set") {
			t.Errorf("alive-set line with alive_set_log off: %q", l)
		}
	}
	if ms, _ := r.Log(LogMastership); len(ms) < 5 {
		t.Errorf("the mastership log still tells: %q", ms)
	}
}

func TestRotateAndClear(t *testing.T) {
	clock := newFakeClock()
	var evs []Event
	for i := range 5 {
		at := time.Duration(i+1) * 10 * time.Minute
		evs = append(evs, Event{At: at - time.Minute, Kind: EventLinkFlap, Interface: fmt.Sprintf("xe-0/0/%d", i)},
			Event{At: at, Kind: EventRotateLogs})
	}
	evs = append(evs, Event{At: time.Hour, Kind: EventIPCLoss}, Event{At: 61 * time.Minute, Kind: EventClearLog, File: LogMastership},
		Event{At: 62 * time.Minute, Kind: EventIPCLoss})
	r := mustRouter(t, Device{Name: "r1", Events: evs}, clock)
	clock.Advance(2 * time.Hour)
	cur, _ := r.Log("messages")
	if len(cur) != 1 || !turnoverShape.MatchString(cur[0]) || !strings.Contains(cur[0], "18:02:27 r1 newsyslog[") {
		t.Errorf("messages after the last rotation = %q", cur)
	}
	for g, port := range map[int]string{0: "xe-0/0/4", 1: "xe-0/0/3", 2: "xe-0/0/2"} {
		old, ok := r.Log(fmt.Sprintf("/var/log/messages.%d.gz", g))
		if !ok || len(old) != 3 || !turnoverShape.MatchString(old[0]) || !strings.HasSuffix(old[2], "ifName "+port) {
			t.Errorf("messages.%d.gz = %q", g, old)
		}
	}
	if _, ok := r.Log("messages.3.gz"); ok {
		t.Errorf("more than %d generations kept", rotatedGenerations)
	}
	ms, _ := r.Log("mastership")
	if len(ms) != 3 || !clearLogShape.MatchString(ms[0]) || !strings.HasPrefix(ms[0], "Mar 19 18:13:27 clear-log[") ||
		!strings.HasSuffix(ms[1], "E_NO_IPC, state = master, param = 0x0") {
		t.Errorf("mastership after clear-log = %q", ms)
	}
}

func TestLogCap(t *testing.T) {
	clock := newFakeClock()
	var evs []Event
	for i := range 20 {
		evs = append(evs, Event{At: time.Duration(i+1) * time.Minute, Kind: EventRDPKeepalive})
	}
	r := mustRouter(t, Device{Name: "r1", LogMaxLines: 5, Events: evs}, clock)
	clock.Advance(time.Hour)
	lines, _ := r.Log(LogMessages)
	if len(lines) != 5 || !strings.HasPrefix(lines[4], "Mar 19 17:32:27 ") || !strings.HasPrefix(lines[0], "Mar 19 17:28:27 ") {
		t.Errorf("capped lines = %q", lines)
	}
	rep := decodeFile(t, r.ReplyTo("get-log", "1", []byte("<get-log><filename>messages</filename></get-log>")))
	if rep.Size != len(rep.Text)-1 {
		t.Errorf("filesize %d for %d bytes of text", rep.Size, len(rep.Text)-1)
	}
}

type xFile struct {
	XMLName xml.Name `xml:"rpc-reply"`
	Content *struct {
		Filename string `xml:"filename,attr"`
		Seconds  int64  `xml:"seconds,attr"`
		Size     int    `xml:"filesize,attr"`
		Encoding string `xml:"encoding,attr"`
		Text     string `xml:",chardata"`
	} `xml:"file-content"`
	Error *struct {
		Type    string `xml:"error-type"`
		Tag     string `xml:"error-tag"`
		Message string `xml:"error-message"`
	} `xml:"rpc-error"`
	// flattened for convenience
	Size int
	Text string
}

func decodeFile(t *testing.T, b []byte) xFile {
	t.Helper()
	decodeReply(t, b) // envelope and well-formedness
	var f xFile
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Content != nil {
		f.Size, f.Text = f.Content.Size, f.Content.Text
	}
	return f
}

func TestGetLogAndFileShowRoundTrip(t *testing.T) {
	clock := newFakeClock()
	weird := `rpd[2902]: RPD_X: FPC "MPC3E NG PQ & Flex Q" <major> errors`
	r := mustRouter(t, Device{Name: "r1", Timezone: "Europe/Amsterdam", Events: []Event{
		{At: time.Minute, Kind: EventLog, Text: weird},
		{At: 2 * time.Minute, Kind: EventIPCLoss},
	}}, clock)
	clock.Advance(5 * time.Minute)
	want, _ := r.Log(LogMessages)
	for _, req := range []struct{ op, body string }{
		{"get-log", "<get-log><filename>messages</filename></get-log>"},
		{"get-log", "<get-log>\n  <filename> /var/log/messages </filename>\n</get-log>"},
		{"file-show", "<file-show><filename>/var/log/messages</filename></file-show>"},
	} {
		b := r.ReplyTo(req.op, "7", []byte(req.body))
		f := decodeFile(t, b)
		c := f.Content
		if c == nil {
			t.Fatalf("%s: no file-content in\n%s", req.body, b)
		}
		if c.Filename != "/var/log/messages" || c.Encoding != "text" || c.Seconds != r.Start().Add(time.Minute).Unix() {
			t.Errorf("%s: attributes %+v", req.body, c)
		}
		text := strings.TrimPrefix(c.Text, "\n")
		if text != strings.Join(want, "\n")+"\n" || c.Size != len(text) {
			t.Errorf("%s: text %q (size %d), want the lines %q", req.body, c.Text, c.Size, want)
		}
		if !bytes.Contains(b, []byte("&amp; Flex Q\" &lt;major&gt;")) {
			t.Errorf("text not escaped as character data:\n%s", b)
		}
	}
	f := decodeFile(t, r.ReplyTo("get-log", "1", []byte("<get-log><filename>mastership</filename></get-log>")))
	if f.Content == nil || f.Content.Filename != "/var/log/mastership" || !strings.Contains(f.Text, "E_NO_IPC") {
		t.Errorf("mastership: %+v", f.Content)
	}
}

func TestUnknownLogFile(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1"}, clock)
	for _, req := range []struct{ op, body, msg string }{
		{"get-log", "<get-log><filename>nosuch</filename></get-log>", "could not resolve file: nosuch"},
		{"get-log", "<get-log><filename>messages.0.gz</filename></get-log>", "could not resolve file: messages.0.gz"},
		{"file-show", "<file-show><filename>messages</filename></file-show>", "could not resolve file: messages"},
		{"file-show", "<file-show><filename>/etc/passwd</filename></file-show>", "could not resolve file: /etc/passwd"},
		{"get-log", "<get-log/>", "syntax error, expecting <filename>"},
	} {
		f := decodeFile(t, r.ReplyTo(req.op, "1", []byte(req.body)))
		if f.Error == nil || f.Error.Message != req.msg || f.Content != nil {
			t.Errorf("%s: error %+v, want %q", req.body, f.Error, req.msg)
		}
	}
}

// TestVirtualChassisLogsOnlyTheMastersPair: member1's pair keeps its own
// mastership log; the VC master's holds only member0's state machine, and
// messages names every member's RE.
func TestVirtualChassisLogsOnlyTheMastersPair(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "vc1", Topology: TopologyMXVC, Events: []Event{
		{At: time.Minute, Kind: EventREDown, RE: "member1-re1"},
		{At: 2 * time.Minute, Kind: EventREDown, RE: "member0-re1"},
	}}, clock)
	ms := &lineTail{r: r, file: LogMastership}
	msgs := &lineTail{r: r, file: LogMessages}
	ms.next(t)
	msgs.next(t)
	clock.Advance(time.Minute)
	if got := ms.next(t); len(got) != 0 {
		t.Errorf("member1's state machine in the VC master's log: %q", got)
	}
	if got := msgs.next(t); len(got) != 1 || !strings.HasSuffix(got[0], "mcontrol_ore_alive_set: member1-re1 removed from alive set (keepalive timeout)") {
		t.Errorf("messages %q", got)
	}
	clock.Advance(time.Minute)
	if got := ms.next(t); len(got) != 2 || !strings.HasSuffix(got[0], "event = E_NO_ORE, state = master, param = 0x0") {
		t.Errorf("member0's state machine: %q", got)
	}
}

// TestREHostnames: with re_hostnames each line names the RE that wrote
// it, the way "groups re0 system host-name" makes real logs do.
func TestREHostnames(t *testing.T) {
	on := true
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "lab.example.net", REHostnames: &on, Events: []Event{
		{At: time.Minute, Kind: EventPanic, RE: "re1"},
		{At: 10 * time.Minute, Kind: EventSwitchover},
		{At: 11 * time.Minute, Kind: EventRDPKeepalive},
	}}, clock)
	clock.Advance(time.Hour)
	lines, _ := r.Log(LogMessages)
	want := []string{
		" re0-lab newsyslog[",
		"  re1-lab /kernel: panic: page fault",
		"  re0-lab chassisd[",      // re1 removed
		"  re0-lab chassisd[",      // re1 added
		"  re1-lab /kernel: %KERN", // the new master's kernel
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) || lineShape(LogMessages, lines[i]) == "" {
			t.Errorf("line %d %q: want %q, a known shape", i, lines[i], w)
		}
	}
}

// TestFileListAndFill: a filled messages file is about the size asked,
// and "file list detail" reports its size and time without its text.
func TestFileListAndFill(t *testing.T) {
	r := mustRouter(t, Device{Name: "r1", LogFillBytes: 100_000}, newFakeClock())
	lines, _ := r.Log("messages")
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	if size < 100_000 || size > 101_000 {
		t.Fatalf("messages holds %d bytes, want about 100000", size)
	}
	reply := r.ReplyTo("file-list", "1", []byte(junos.FileListRPC("messages")))
	if len(reply) > 2000 {
		t.Errorf("file-list reply is %d bytes: it must not carry the file", len(reply))
	}
	infos, err := junos.DecodeFileList(reply)
	if err != nil || len(infos) != 1 {
		t.Fatal(infos, err)
	}
	info := infos[0]
	if !info.Exists || info.Size != int64(size) || info.Path != "/var/log/messages" || info.ModTime.IsZero() {
		t.Errorf("file-list says %+v, file has %d bytes", info, size)
	}
	infos, err = junos.DecodeFileList(r.ReplyTo("file-list", "2", []byte(junos.FileListRPC("nosuch"))))
	if err != nil || len(infos) != 0 {
		t.Errorf("missing file: %+v, %v", infos, err)
	}
	infos, err = junos.DecodeFileList(r.ReplyTo("file-list", "3", []byte(junos.FileListRPC("/var/log/m*"))))
	if err != nil || len(infos) != 2 || infos[0].Path != "/var/log/mastership" || infos[1].Path != "/var/log/messages" {
		t.Errorf("pattern: %+v, %v", infos, err)
	}
}

// TestArchiveRotationAndPermission: after a rotation messages.0.gz is in
// the file listing with its compressed size and the old file's time; its
// content is served decompressed through get-log and file-show in the
// same <file-content> as the live file when the archive is world-readable,
// and refused otherwise, as Junos's default no-world-readable does for a
// user without the maintenance permission.
func TestArchiveRotationAndPermission(t *testing.T) {
	for _, perm := range []string{"", ArchiveNoWorldReadable, ArchiveWorldReadable} {
		t.Run(cmp.Or(perm, "default"), func(t *testing.T) {
			clock := newFakeClock()
			r := mustRouter(t, Device{Name: "r1", SyslogArchive: perm, Events: []Event{
				{At: time.Minute, Kind: EventLinkFlap},
				{At: 2 * time.Minute, Kind: EventRotateLogs},
			}}, clock)
			clock.Advance(5 * time.Minute)
			old, ok := r.Log("messages.0.gz")
			if !ok || len(old) < 3 {
				t.Fatalf("messages.0.gz = %q", old)
			}
			infos, err := junos.DecodeFileList(r.ReplyTo("file-list", "1", []byte(junos.FileListRPC("/var/log/messages*"))))
			if err != nil || len(infos) != 2 || infos[1].Path != "/var/log/messages.0.gz" {
				t.Fatalf("listing: %+v, %v", infos, err)
			}
			text := strings.Join(old, "\n") + "\n"
			if a := infos[1]; a.Size != int64(gzipSize(text)) || a.Size >= int64(len(text)) || !a.ModTime.Equal(r.Start().Add(time.Minute+5*time.Second)) {
				t.Errorf("archive listed as %+v; want %d compressed bytes (of %d) and the last write's time", a, gzipSize(text), len(text))
			}
			for _, req := range []struct{ op, body string }{
				{"get-log", "<get-log><filename>messages.0.gz</filename></get-log>"},
				{"file-show", "<file-show><filename>/var/log/messages.0.gz</filename></file-show>"},
			} {
				f := decodeFile(t, r.ReplyTo(req.op, "2", []byte(req.body)))
				if perm != ArchiveWorldReadable {
					if f.Error == nil || f.Error.Tag != "access-denied" || !strings.Contains(f.Error.Message, "Permission denied") || f.Content != nil {
						t.Errorf("%s: want permission denied, got %+v", req.op, f.Error)
					}
					continue
				}
				if f.Content == nil || f.Content.Filename != "/var/log/messages.0.gz" || f.Content.Encoding != "text" ||
					strings.TrimPrefix(f.Text, "\n") != text {
					t.Errorf("%s: %+v, want the archive's lines as text", req.op, f.Content)
				}
			}
			if perm == "" {
				// Refused in the missing file's words: listed all the same.
				r.archiveUnresolved = true
				f := decodeFile(t, r.ReplyTo("get-log", "4", []byte("<get-log><filename>messages.0.gz</filename></get-log>")))
				if f.Error == nil || f.Error.Message != "could not resolve file: messages.0.gz" {
					t.Errorf("archive_refusal could-not-resolve: %+v", f.Error)
				}
			}
			// The live file stays readable whatever the archive setting.
			if f := decodeFile(t, r.ReplyTo("get-log", "3", []byte("<get-log><filename>messages</filename></get-log>"))); f.Content == nil {
				t.Errorf("live file refused: %+v", f.Error)
			}
		})
	}
}

// TestReplaceLog: replace-log leaves the file's first keep lines, the
// same first line, and a smaller size in the listing.
func TestReplaceLog(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		{At: time.Minute, Kind: EventLinkFlap},
		{At: 2 * time.Minute, Kind: EventLinkFlap, Interface: "xe-0/0/1"},
		{At: 3 * time.Minute, Kind: EventReplaceLog, Keep: 2},
		{At: 4 * time.Minute, Kind: EventRDPKeepalive},
	}}, clock)
	clock.Advance(90 * time.Second)
	before, _ := r.Log(LogMessages)
	clock.Advance(5 * time.Minute)
	after, _ := r.Log(LogMessages)
	if len(after) != 3 || after[0] != before[0] || after[1] != before[1] || !strings.Contains(after[2], "rdp keepalive expired") {
		t.Errorf("after replace-log: %q (before %q)", after, before)
	}
}
