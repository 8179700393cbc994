package syslog

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone tests must not depend on the host's zoneinfo

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossamples"
)

// readLogSample returns the lines of one sample file of junos-samples/logs,
// without newlines. The attributed files are copied in testdata/logs (see
// testdata/SOURCES.md); a test of an unattributed one skips when
// ../shared is absent.
func readLogSample(tb testing.TB, name string) []string {
	tb.Helper()
	f, err := os.Open(junossamples.Path(tb, "logs", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// lineRow is a LogLine flattened for comparison: Time as RFC 3339 UTC with
// fractions, "" when zero.
type lineRow struct {
	Time, Host, Process string
	PID                 int
	Tag, Message        string
}

func rowOfLine(l devices.LogLine) lineRow {
	r := lineRow{Host: l.Host, Process: l.Process, PID: l.PID, Tag: l.Tag, Message: l.Message}
	if !l.Time.IsZero() {
		r.Time = l.Time.Format(time.RFC3339Nano)
	}
	return r
}

// lineWant is what line n (1-based) of a sample must parse to.
type lineWant struct {
	n    int
	want lineRow
}

type logSample struct {
	file string
	// logName is the file name ParseLine is told ("messages" if empty).
	logName string
	clock   DeviceClock
	// lines is the number of lines in the file; all must parse except
	// those in unparsed, each with the reason its shape is not read.
	lines    int
	unparsed map[int]string
	checks   []lineWant
}

// march2026 is the clock of the JTAC case notes the newest lines come
// from: year-less lines after it fall in 2025.
func march2026() DeviceClock { return DeviceClock{Now: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)} }

// logSamples lists every logs/*.log file with what its lines must parse
// to; the expected values were read off the files by hand.
func logSamples(tb testing.TB) []logSample {
	return []logSample{
		{file: "alarms.log", clock: march2026(), lines: 23, checks: []lineWant{
			// Milliseconds, day not padded (the source collapsed the
			// double space), no tag.
			{1, lineRow{"2026-03-03T18:07:36.171Z", "jtac-mx480-r2014-re0", "alarmd", 2030, "", "Alarm set: CB color=RED, class=CHASSIS, reason=CB 0 19.44 MHz clock failure"}},
			// Two spaces before the host; %DAEMON-4: then two spaces.
			{3, lineRow{"2026-03-13T23:30:39Z", "xn-paoeq1-bo101", "craftd", 16834, "", "Minor alarm set, CB 2 Removed"}},
			{4, lineRow{"2026-03-13T23:31:51Z", "xn-paoeq1-bo101", "alarmd", 24777, "", "Alarm cleared: CB id=33555062, color=YELLOW, class=CHASSIS, reason=CB 2 Removed"}},
			// Year and milliseconds; the tag is after the second dash.
			{8, lineRow{"2026-01-18T02:59:24.466Z", "SELLB-ER4", "chassisd", 27847, "CHASSISD_FPC_ASIC_ERROR", "<FPC 1> ASIC Error detected errorno 0x00070138 (null)"}},
			{10, lineRow{"2026-01-18T02:59:24.468Z", "SELLB-ER4", "craftd", 27851, "", "Minor alarm set, FPC 1 Minor Errors"}},
			{14, lineRow{"2026-01-21T07:27:36.342Z", "SELLB-ER4", "craftd", 27851, "", "Minor alarm cleared, FPC 1 Minor Errors"}},
			// <PRI>; July is more than a day after the March clock: 2025.
			{15, lineRow{"2025-07-08T23:04:13Z", "vmx01", "craftd", 4817, "", "Major alarm cleared, Host 0 me0 : Ethernet Link Down"}},
			{19, lineRow{"2025-07-08T23:04:13Z", "vmx01", "alarmd", 2449, "", "Alarm set: Pwr supply color=YELLOW, class=CHASSIS, reason=PEM 1 Fan Failed"}},
		}},
		{file: "commit.log", clock: march2026(), lines: 6, checks: []lineWant{
			{1, lineRow{"2025-07-20T21:44:00Z", "vmx01", "mgd", 7729, "UI_COMMIT_COMPLETED", "commit complete"}},
			{2, lineRow{"2025-07-20T21:44:00Z", "vmx01", "mgd", 7729, "UI_COMMIT", "User 'luke' requested 'commit' operation (comment: hello)"}},
			{3, lineRow{"2025-07-20T21:44:00Z", "vmx01", "mgd", 7729, "UI_CONFIGURATION_ERROR", "Process: mgd, path: [edit vlans VLANTEST l3-interface], statement: l3-interface vlan.666, Interface must already be defined under [edit interfaces]"}},
			{6, lineRow{"2025-07-20T21:44:00Z", "vmx01", "mgd", 7729, "UI_DBASE_LOGIN_EVENT", "User 'luke' entering configuration mode"}},
		}},
		{file: "fpc-fru.log", clock: march2026(), lines: 9, checks: []lineWant{
			// Engineer's paste: host and process removed, tag first.
			{1, lineRow{"2026-03-14T00:21:12Z", "", "", 0, "CHASSISD_FRU_OFFLINE_NOTICE", "Taking FPC 10 offline: Offlined by cli command"}},
			{3, lineRow{"2026-03-14T00:46:16Z", "", "", 0, "CHASSISD_SNMP_TRAP7", "SNMP trap generated: FRU insertion (jnxFruContentsIndex 7, jnxFruL1Index 11, jnxFruL2Index 0, jnxFruL3Index 0, jnxFruName FPC: MPC3E NG PQ & Flex Q @ 10/*/*, jnxFruType 3, jnxFruSlot 10)"}},
			{5, lineRow{"2026-01-21T07:24:13.393Z", "SELLB-ER4", "chassisd", 27847, "CHASSISD_FRU_OFFLINE_NOTICE", "Taking FPC 1 offline: Offlined by cli command"}},
			// Inner double space ("MIC:  @") is message text and stays.
			{7, lineRow{"2026-01-21T07:27:51.998Z", "SELLB-ER4", "chassisd", 27847, "CHASSISD_SNMP_TRAP7", "SNMP trap generated: FRU insertion (jnxFruContentsIndex 20, jnxFruL1Index 2, jnxFruL2Index 1, jnxFruL3Index 0, jnxFruName MIC:  @ 1/0/*, jnxFruType 11, jnxFruSlot 1)"}},
			{9, lineRow{"2026-01-21T07:28:07.333Z", "SELLB-ER4", "chassisd", 27847, "CHASSISD_SNMP_TRAP10", "SNMP trap generated: FRU power on (jnxFruContentsIndex 20, jnxFruL1Index 2, jnxFruL2Index 1, jnxFruL3Index 0, jnxFruName MIC: 10X10GE SFPP @ 1/0/*, jnxFruType 11, jnxFruSlot 1, jnxFruOfflineReason 2, jnxFruLastPowerOff 0, jnxFruLastPowerOn 4915017)"}},
		}},
		{file: "internal-link.log", clock: march2026(), lines: 8, checks: []lineWant{
			// /kernel without a PID.
			{1, lineRow{"2026-02-11T18:10:13Z", "re0-abc", "/kernel", 0, "", "em0: Link is up 100 Mbps Half Duplex"}},
			{3, lineRow{"2026-02-11T18:10:13Z", "re0-abc", "mib2d", 3387, "SNMP_TRAP_LINK_DOWN", "ifIndex 17, ifAdminStatus up(1), ifOperStatus down(2), ifName em0"}},
			{5, lineRow{"2026-02-11T18:10:16Z", "re0-abc", "/kernel", 0, "", "em0: Link is Down"}},
			// The source page elided the date: parsed, but undatable.
			{6, lineRow{"", "SRX3K", "/kernel", 0, "", "rdp keepalive expired, connection dropped - src 0x0f100001:1011 dest 0x0110011c:1032"}},
			{8, lineRow{"", "SRX3K", "mib2d", 12111, "SNMP_TRAP_LINK_DOWN", "ifIndex 17, ifAdminStatus up(1), ifOperStatus down(2), ifName em0"}},
		}},
		{file: "link.log", clock: march2026(), lines: 3, checks: []lineWant{
			{1, lineRow{"2025-07-20T21:45:59Z", "vmx01", "mib2d", 2424, "SNMP_TRAP_LINK_DOWN", "ifIndex 502, ifAdminStatus down(2), ifOperStatus down(2), ifName xe-0/0/0"}},
			{2, lineRow{"2025-07-20T21:45:59Z", "vmx01", "mib2d", 2424, "SNMP_TRAP_LINK_UP", "ifIndex 502, ifAdminStatus up(1), ifOperStatus up(1), ifName xe-0/0/0"}},
			// ISO 8601: the year is the line's, not the clock's.
			{3, lineRow{"2020-11-04T07:05:36Z", "some-switch", "lacpd", 12694, "LACP_INTF_DOWN", "ae105: Interface marked down due to lacp timeout on member et-0/0/25:3"}},
		}},
		// The Network Operations Guide sample is from January 2000 (its own
		// "timestamp:" line says so): dated against a clock of that day.
		{file: "mastership-file.log", logName: "mastership", clock: DeviceClock{Now: time.Date(2000, 1, 12, 22, 0, 0, 0, time.UTC)}, lines: 23, checks: []lineWant{
			{1, lineRow{"2000-01-12T21:50:05Z", "", "clear-log", 865, "", "logfile cleared"}},
			// No host, no process: free text after the time.
			{2, lineRow{"2000-01-12T21:50:18Z", "", "", 0, "", "failed to receive keepalives from other RE for the last 60 sec"}},
			{5, lineRow{"2000-01-12T21:50:34Z", "", "", 0, "", "event = E_CMD_R, state = master, param = 0x0"}},
			{6, lineRow{"2000-01-12T21:50:34Z", "", "", 0, "", `send "you are the master" request`}},
			// "word:" with no host is text, not a process.
			{8, lineRow{"2000-01-12T21:50:34Z", "", "", 0, "", "Currentstate: master NextState:giveupreason_code: 1"}},
			{9, lineRow{"2000-01-12T21:50:34Z", "", "", 0, "", "timestamp: Wed Jan 12 21:50:34 2000"}},
			{23, lineRow{"2000-01-12T21:50:41Z", "", "", 0, "", `send "you are the master" request`}},
		}},
		// One line only: all of it is checked.
		{file: "misc.log", clock: march2026(), lines: 1, checks: []lineWant{
			{1, lineRow{"2025-10-24T20:21:27Z", "vmx01", "jlaunchd", 0, "", "System reaching processes ceiling high watermark: Contact to system administrator to clean up unnecessary processes or increase maxproc ceiling. Further process fork request may be denied."}},
		}},
		{file: "napalm-logs-wire.log", clock: march2026(), lines: 65, checks: []lineWant{
			{1, lineRow{"2020-03-31T08:41:59Z", "some-router", "rpd", 13037, "BGP_CEASE_PREFIX_LIMIT_EXCEEDED", "172.17.17.1 (External AS 4208010101): Shutting down peer due to exceeding configured maximum prefix-limit(500) for inet-unicast nlri: 501 (instance underlay)"}},
			// Function names are not tags.
			{2, lineRow{"2020-03-31T08:41:59Z", "some-router", "rpd", 13037, "", "bgp_handle_notify:4236: NOTIFICATION received from 10.0.0.1 (External AS 64512): code 6 (Cease) subcode 5 (Connection Rejected)"}},
			{3, lineRow{"2020-03-31T08:41:59Z", "some-router", "rpd", 13037, "", "bgp_recv: read from peer fd00:1065::1 (External AS 65500) failed: Connection reset by peer"}},
			{5, lineRow{"2020-03-31T08:41:59Z", "vmx01", "/kernel", 0, "", "tcp_auth_ok: Packet from 192.168.140.254:61664 wrong MD5 digest"}},
			{8, lineRow{"2025-07-20T21:23:00Z", "vmx01", "kernel", 0, "", "tcp_auth_ok: Packet from 192.168.140.254:61664 missing MD5 digest"}},
			{9, lineRow{"2025-06-21T14:03:12Z", "vmx01", "rpd", 2902, "RPD_BGP_NEIGHBOR_STATE_CHANGED", "BGP peer 1.1.1.1 (External AS 2222) changed state from Active to Connect (event TransportError) (instance master)"}},
			{24, lineRow{"2025-11-20T16:58:04Z", "re0-gw2.fin1", "rpd", 3167, "", "bgp_listen_accept:4984: NOTIFICATION sent to 2001:e8:124::f1:12:1+51528 (proto): code 6 (Cease) subcode 5 (Connection Rejected), Reason: Connection attempt from unconfigured neighbor: 2001:e8:124::f1:12:1+51528"}},
			{31, lineRow{"2025-11-09T01:02:40Z", "some-switch", "jddosd", 4223, "DDOS_PROTOCOL_VIOLATION_SET", "Warning: Host-bound traffic for protocol/exception  Redirect:aggregate exceeded its allowed bandwidth at fpc 0 for 6661 times, started at 2020-11-09 01:02:39 UTC"}},
			// A line card logging through the RE: name, no colon.
			{32, lineRow{"2025-12-10T00:00:01Z", "some-switch", "fpc0", 0, "", "(buf alloc) failed allocating packet buffer"}},
			{36, lineRow{"2026-03-14T13:19:49Z", "junos.test.env", "rpd", 1167, "RPD_ISIS_ADJDOWN", "IS-IS lost L2 adjacency to second.junos.device on ge-0/0/1.0, reason: Aged Out: 1521033590.3"}},
			// Process without PID, then the tag.
			{43, lineRow{"2025-12-13T13:12:00Z", "srx-firewall", "RT_FLOW", 0, "RT_FLOW_SESSION_CLOSE", "session closed idle Timeout: 172.16.0.1/23456->8.8.8.8/443 junos-https 172.16.0.2/12345->8.8.8.8/443 source rule LAN N/A N/A 6 allow-any PRIVATE PUBLIC 123456 N/A(N/A) hu-1/0/0.0 UNKNOWN UNKNOWN UNKNOWN"}},
			// "NH:" is one word: not a tag.
			{49, lineRow{"2026-01-15T08:18:57Z", "re0.vmx01", "fpc1", 0, "", "NH: hold packet out failed, ID 6891"}},
			{51, lineRow{"2025-12-10T00:00:01Z", "re0.edge01.bjm01", "fpc3", 0, "", "fpc3 dcpfe: JPRDS_NH:jprds_nh_alloc(),631: JNH[0] failed to grab new region for NH#007"}},
			{52, lineRow{"2025-07-13T22:53:14Z", "re0.edge01.bjm01", "xntpd", 16015, "", "NTP Server 1.2.3.4 is Unreachable"}},
			{59, lineRow{"2025-10-24T20:21:27Z", "vmx01", "jlaunchd", 0, "", "System reaching processes ceiling high watermark: Contact to system administrator to clean up unnecessary processes or increase maxproc ceiling. Further process fork request may be denied."}},
		}},
		{file: "pfe-fabric.log", clock: march2026(), lines: 7, checks: []lineWant{
			// PFE lines: " : %PFE-5:", no process, no tag.
			{1, lineRow{"2026-01-18T02:59:26.012Z", "SELLB-ER4", "", 0, "", "fpc1 Performing action cmalarm for error /fpc/1/pfe/0/cm/0/XMCHIP(0)/0/XMCHIP_CMERROR_FI_INT_REG_LINK_SANITY_CHECK_MINOR (0x70138) in module: XMCHIP(0) with scope: pfe category: functional level: minor"}},
			{2, lineRow{"2026-01-21T06:59:32.626Z", "SELLB-ER4", "", 0, "", "fpc1 PFE 0: 'PFE Disable' action performed. Bringing down ifd ge-1/2/1 267"}},
			// Trailing space in the source: trimmed from Message only.
			{3, lineRow{"2026-03-11T23:52:28Z", "xn-paoeq1-bo101", "", 0, "", "fpc10 XMCHIP(0): XMCHIP(0): FI: Reorder cell timeout - Stream 40, Count 1"}},
			{4, lineRow{"2026-03-12T01:46:51Z", "xn-paoeq1-bo101", "", 0, "", "fpc0 CMTFPC: Fabric request time out pfe 0 plane 5 fab_stream 40, attempting recovery"}},
			{6, lineRow{"2026-01-15T08:18:57Z", "re0.vmx01", "fpc1", 0, "", "NH: hold packet out failed, ID 6891"}},
		}},
		// MX960 in Indochina Time (the ops note's alarm times are ICT),
		// April 2022: the device's zone moves every time by 7 hours.
		{file: "re-crash-context.log", clock: DeviceClock{
			Now:      time.Date(2022, 4, 8, 10, 59, 0, 0, mustZone(tb, "Asia/Bangkok")),
			Location: mustZone(tb, "Asia/Bangkok"),
		}, lines: 3, checks: []lineWant{
			{1, lineRow{"2022-04-03T01:27:50Z", "DC-L36-GTWY04", "sshd", 30062, "", "Failed password for mpcl from 106.51.66.192 port 54888 ssh2"}},
			// sshd: without a PID, then a tag.
			{2, lineRow{"2022-04-03T01:27:50Z", "DC-L36-GTWY04", "sshd", 0, "SSHD_LOGIN_FAILED", "Login failed for user 'mpcl' from host '106.51.66.192'"}},
			{3, lineRow{"2022-04-03T01:27:51Z", "DC-L36-GTWY04", "inetd", 9988, "", "/usr/sbin/sshd[30062]: exited, status 255"}},
		}},
	}
}

func TestParseLineSamples(t *testing.T) {
	for _, c := range logSamples(t) {
		t.Run(c.file, func(t *testing.T) {
			lines := readLogSample(t, c.file)
			if len(lines) != c.lines {
				t.Errorf("%d lines, want %d: update the table", len(lines), c.lines)
			}
			name := c.logName
			if name == "" {
				name = "messages"
			}
			parsed := make([]devices.LogLine, len(lines))
			nParsed := 0
			for i, raw := range lines {
				l := ParseLine(name, raw, c.clock)
				parsed[i] = l
				if l.Raw != raw || l.File != name {
					t.Errorf("line %d: Raw/File not kept: %+v", i+1, l)
				}
				if _, known := c.unparsed[i+1]; l.Parsed == known {
					t.Errorf("line %d: Parsed = %v, want %v: %q", i+1, l.Parsed, !known, raw)
				}
				if l.Parsed {
					nParsed++
				}
				if !l.Time.IsZero() && l.Time.Location() != time.UTC {
					t.Errorf("line %d: time in %v, want UTC", i+1, l.Time.Location())
				}
			}
			t.Logf("%s: %d of %d lines parsed", c.file, nParsed, len(lines))
			for _, w := range c.checks {
				if w.n < 1 || w.n > len(lines) {
					t.Errorf("check of line %d: the file has %d lines", w.n, len(lines))
					continue
				}
				if got := rowOfLine(parsed[w.n-1]); got != w.want {
					t.Errorf("line %d %q:\n got %+v\nwant %+v", w.n, lines[w.n-1], got, w.want)
				}
			}
			if len(c.checks) < min(3, len(lines)) {
				t.Errorf("only %d lines checked, want at least 3", len(c.checks))
			}
		})
	}
}

// TestEveryLogSampleIsTested fails when a .log file is added to the
// samples without a case in logSamples, or a case names a missing file.
func TestEveryLogSampleIsTested(t *testing.T) {
	covered := make(map[string]bool)
	for _, c := range logSamples(t) {
		covered[c.file] = true
	}
	present := make(map[string]bool)
	for _, name := range junossamples.Names(t, "logs", "*.log") {
		present[name] = true
		if !covered[name] {
			t.Errorf("log sample %s has no case in logSamples", name)
		}
	}
	for name := range covered {
		if !present[name] && !junossamples.Absent(t, "logs", name) {
			t.Errorf("case for %s, but no such file in testdata/logs or ../shared/junos-samples/logs", name)
		}
	}
	junossamples.CheckCopies(t, "logs", "*.log")
}

func TestParseLineDating(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tokyo := mustZone(t, "Asia/Tokyo")
	bangkok := mustZone(t, "Asia/Bangkok")
	jan2 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	const body = " re0 mgd[1]: UI_COMMIT: x"
	tests := []struct {
		name  string
		raw   string
		clock DeviceClock
		want  string // RFC 3339 UTC; "" = zero
	}{
		{"december read in january", "Dec 31 23:59:59" + body, DeviceClock{Now: jan2}, "2025-12-31T23:59:59Z"},
		{"less than a day ahead is this year", "Jan  2 23:30:00" + body, DeviceClock{Now: jan2}, "2026-01-02T23:30:00Z"},
		{"more than a day ahead is last year", "Jan  3 01:00:00" + body, DeviceClock{Now: jan2}, "2025-01-03T01:00:00Z"},
		{"same time as the clock", "Jan  2 00:00:00" + body, DeviceClock{Now: jan2}, "2026-01-02T00:00:00Z"},
		// Issue 19: a line a little ahead of the clock across the new
		// year is next year's: written after current-time was read, or
		// before the clock stepped back over midnight.
		{"new year's line read just before midnight", "Jan  1 00:00:01" + body,
			DeviceClock{Now: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}, "2027-01-01T00:00:01Z"},
		{"new year's line after the clock stepped back an hour", "Jan  1 00:00:30" + body,
			DeviceClock{Now: time.Date(2026, 12, 31, 23, 5, 0, 0, time.UTC)}, "2027-01-01T00:00:30Z"},
		{"the old year's last line just before midnight", "Dec 31 23:59:00" + body,
			DeviceClock{Now: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)}, "2026-12-31T23:59:00Z"},
		{"the old year's last line just after midnight", "Dec 31 23:59:00" + body,
			DeviceClock{Now: time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC)}, "2026-12-31T23:59:00Z"},
		{"new year's line in the device zone", "Jan  1 00:00:05" + body,
			DeviceClock{Now: time.Date(2026, 12, 31, 22, 59, 59, 0, time.UTC), Location: mustZone(t, "Europe/Amsterdam")}, "2026-12-31T23:00:05Z"},
		// 02:00 UTC on Jan 1 is still Dec 31 2025 in New York: the year
		// comes from the device's zone, not from UTC.
		{"year from the device zone (behind UTC)", "Dec 31 20:00:00" + body,
			DeviceClock{Now: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC), Location: ny}, "2026-01-01T01:00:00Z"},
		{"year from the device zone (ahead of UTC)", "Jan  1 00:30:00" + body,
			DeviceClock{Now: time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC), Location: tokyo}, "2025-12-31T15:30:00Z"},
		{"summer time", "Jul  4 12:00:00" + body,
			DeviceClock{Now: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), Location: ny}, "2025-07-04T16:00:00Z"},
		{"winter time", "Jan  4 12:00:00" + body,
			DeviceClock{Now: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), Location: ny}, "2025-01-04T17:00:00Z"},
		{"Feb 29 goes back to the last leap year", "Feb 29 12:00:00" + body,
			DeviceClock{Now: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}, "2024-02-29T12:00:00Z"},
		{"Feb 29 in a leap year", "Feb 29 12:00:00" + body,
			DeviceClock{Now: time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)}, "2028-02-29T12:00:00Z"},
		{"explicit year wins over the clock", "Jan 18 02:59:24.466 2026  SELLB-ER4 alarmd[1]: x",
			DeviceClock{Now: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)}, "2026-01-18T02:59:24.466Z"},
		{"explicit year in the device zone", "Jan 18 02:59:24.466 2026  SELLB-ER4 alarmd[1]: x",
			DeviceClock{Now: time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC), Location: bangkok}, "2026-01-17T19:59:24.466Z"},
		{"ISO offset honoured, zone ignored", "2020-03-31T08:41:59+02:00" + body, DeviceClock{Now: jan2, Location: ny}, "2020-03-31T06:41:59Z"},
		{"ISO negative offset", "<13>2020-03-31T08:41:59.5-05:30" + body, DeviceClock{Now: jan2}, "2020-03-31T14:11:59.5Z"},
		{"ISO Z with fractions", "2020-03-31T08:41:59.123456Z" + body, DeviceClock{Now: jan2, Location: ny}, "2020-03-31T08:41:59.123456Z"},
		{"ISO without offset is device time", "2020-03-31T08:41:59" + body, DeviceClock{Now: jan2, Location: bangkok}, "2020-03-31T01:41:59Z"},
		{"microseconds", "Jan  1 10:00:00.000123" + body, DeviceClock{Now: jan2}, "2026-01-01T10:00:00.000123Z"},
		{"no clock: year-less lines stay undated", "Jan  1 10:00:00" + body, DeviceClock{}, ""},
		{"no clock: an explicit year still dates", "Jan  1 10:00:00 2024 re0 mgd[1]: x", DeviceClock{}, "2024-01-01T10:00:00Z"},
		{"leap second carried", "Jun 30 23:59:60" + body, DeviceClock{Now: time.Date(2016, 7, 1, 0, 0, 0, 0, time.UTC)}, "2016-07-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ParseLine("messages", tt.raw, tt.clock)
			if !l.Parsed {
				t.Fatalf("not parsed: %q", tt.raw)
			}
			if got := rowOfLine(l).Time; got != tt.want {
				t.Errorf("time %q, want %q", got, tt.want)
			}
			if !l.Time.IsZero() && l.Time.Location() != time.UTC {
				t.Errorf("time in %v, want UTC", l.Time.Location())
			}
		})
	}
}

func TestParseLineShapes(t *testing.T) {
	clock := DeviceClock{Now: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name, raw string
		want      lineRow
	}{
		{"known lower-case tag", "Mar 12 10:00:00 re0 chassisd[2190]: mcontrol_ore_alive_set: alive set 0x1",
			lineRow{"2026-03-12T10:00:00Z", "re0", "chassisd", 2190, "mcontrol_ore_alive_set", "alive set 0x1"}},
		{"lower-case word_word is text", "Mar 12 10:00:00 re0 rpd[1]: bgp_recv: read failed",
			lineRow{"2026-03-12T10:00:00Z", "re0", "rpd", 1, "", "bgp_recv: read failed"}},
		{"tag needs a blank after its colon", "Mar 12 10:00:00 re0 rpd[1]: RPD_X:y z",
			lineRow{"2026-03-12T10:00:00Z", "re0", "rpd", 1, "", "RPD_X:y z"}},
		{"tag alone", "Mar 12 10:00:00 re0 rpd[1]: RPD_TASK_BEGIN:",
			lineRow{"2026-03-12T10:00:00Z", "re0", "rpd", 1, "RPD_TASK_BEGIN", ""}},
		{"priority with tag", "Mar 12 10:00:00 re0 mgd[5]: %INTERACT-6-UI_CMDLINE_READ_LINE: User 'a', command 'show log'",
			lineRow{"2026-03-12T10:00:00Z", "re0", "mgd", 5, "UI_CMDLINE_READ_LINE", "User 'a', command 'show log'"}},
		{"priority facility with a dash", "Mar 12 10:00:00 re0 mgd[5]: %CHANGE-LOG-5-UI_COMMIT: done",
			lineRow{"2026-03-12T10:00:00Z", "re0", "mgd", 5, "UI_COMMIT", "done"}},
		{"priority without tag then tag", "Mar 12 10:00:00 re0 mgd[5]: %DAEMON-4: UI_COMMIT: done",
			lineRow{"2026-03-12T10:00:00Z", "re0", "mgd", 5, "UI_COMMIT", "done"}},
		{"not a priority marker", "Mar 12 10:00:00 re0 mgd[5]: %x-4: y",
			lineRow{"2026-03-12T10:00:00Z", "re0", "mgd", 5, "", "%x-4: y"}},
		{"tabs and trailing CR", "Mar\t12 10:00:00\tre0\tmgd[5]:\tUI_COMMIT:\tdone\r",
			lineRow{"2026-03-12T10:00:00Z", "re0", "mgd", 5, "UI_COMMIT", "done"}},
		{"member RE host", "Mar 12 10:00:00 member0-re1 chassisd[9]: CHASSISD_RE_INIT_INVALID_RE_SLOT: re_init: re 1",
			lineRow{"2026-03-12T10:00:00Z", "member0-re1", "chassisd", 9, "CHASSISD_RE_INIT_INVALID_RE_SLOT", "re_init: re 1"}},
		{"compact MX PFE", "Mar 12 10:00:00 mx80 tfeb0 TFEB: link up",
			lineRow{"2026-03-12T10:00:00Z", "mx80", "tfeb0", 0, "", "TFEB: link up"}},
		{"timestamp only", "Mar 12 10:00:00",
			lineRow{"2026-03-12T10:00:00Z", "", "", 0, "", ""}},
		{"RFC 5424 structured-data", `<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="regress"] User 'regress' exiting configuration mode`,
			lineRow{"2007-02-15T09:17:15.719Z", "router1", "mgd", 3046, "UI_DBASE_LOGOUT_EVENT", "User 'regress' exiting configuration mode"}},
		{"RFC 5424 escaped bracket, nil fields", `<165>1 2007-02-15T09:17:15Z - - - - [a b="x\]y"][c] hi`,
			lineRow{"2007-02-15T09:17:15Z", "", "", 0, "", "hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ParseLine("messages", tt.raw, clock)
			if !l.Parsed {
				t.Fatalf("not parsed: %q", tt.raw)
			}
			if got := rowOfLine(l); got != tt.want {
				t.Errorf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestParseLineMastershipFile: /var/log/mastership has no host field, so
// a sentence whose second word ends in ':' stays a sentence there.
func TestParseLineMastershipFile(t *testing.T) {
	clock := DeviceClock{Now: time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		file, raw string
		want      lineRow
		parsed    bool
	}{
		{"mastership", "Jan 12 21:50:34 new state: giveup", lineRow{"2026-01-12T21:50:34Z", "", "", 0, "", "new state: giveup"}, true},
		{"/var/log/mastership", "Jan 12 21:50:34 new state: giveup", lineRow{"2026-01-12T21:50:34Z", "", "", 0, "", "new state: giveup"}, true},
		{"mastership", "Jan 12 21:50:05 clear-log[865]: logfile cleared", lineRow{"2026-01-12T21:50:05Z", "", "clear-log", 865, "", "logfile cleared"}, true},
		{"mastership", "Jan 12 21:50:34 E_NO_ORE: no other RE", lineRow{"2026-01-12T21:50:34Z", "", "", 0, "E_NO_ORE", "no other RE"}, true},
		{"mastership", "12:00:00 re0 mgd[1]: x", lineRow{}, false},
		// The same text in messages reads as host and process: there
		// that is the usual shape.
		{"messages", "Jan 12 21:50:34 new state: giveup", lineRow{"2026-01-12T21:50:34Z", "new", "state", 0, "", "giveup"}, true},
	}
	for _, tt := range tests {
		l := ParseLine(tt.file, tt.raw, clock)
		if l.Parsed != tt.parsed || rowOfLine(l) != tt.want {
			t.Errorf("%s %q:\n got %v %+v\nwant %v %+v", tt.file, tt.raw, l.Parsed, rowOfLine(l), tt.parsed, tt.want)
		}
	}
}

// TestParseLineUnparsed lists shapes that are not log lines: they come
// back with Parsed false and Raw and File kept.
func TestParseLineUnparsed(t *testing.T) {
	clock := DeviceClock{Now: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}
	for _, raw := range []string{
		"",
		"   ",
		"hello world",
		"<28>",
		"<28>hello",
		"<1234>Jan 12 21:50:18 x",
		"Jan",
		"jan 12 21:50:18 lower-case month",
		"Jan 32 21:50:18 no such day",
		"Feb 30 21:50:18 no such day",
		"Jan 12 24:00:00 no such hour",
		"Jan 12 21:60:00 no such minute",
		"Jan 12 21:50 no seconds",
		"Jan 123 21:50:18 x",
		"Jan 12 21:50:18x glued",
		"Jan 12 21:50:18.1234567890 too many fractions",
		"Feb 29 12:00:00 2025 host p[1]: no Feb 29 in 2025",
		"12:00:00 time of day and free text",
		"12:00:00",
		"1969-12-31T23:59:59Z host p[1]: before 1970",
		"0001-01-01T00:00:00Z host p[1]: x",
		"2020-13-01T00:00:00Z host p[1]: no month 13",
		"Aborted! This command can only be used on the master routing engine.",
		"<165>1 2007-02-15T09:17:15Z router1 mgd 3046 UI_X [unterminated",
		"<165>1 2007-02-15T09:17:15Z router1 mgd",
	} {
		l := ParseLine("messages", raw, clock)
		want := devices.LogLine{File: "messages", Raw: raw}
		if l != want {
			t.Errorf("%q: got %+v, want unparsed", raw, l)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, name := range junossamples.Names(f, "logs", "*.log") {
		for _, line := range readLogSample(f, name) {
			f.Add(line, int64(1773964800), uint8(0))
		}
	}
	for _, s := range []string{
		"", "<", "<1>", "Jan  1 00:00:00", "Feb 29 00:00:00 h p[1]: X_Y: z", "12:00:00 h p: m",
		"2020-03-31T08:41:59+00:00 h p[1]: m", "<1>1 2020-03-31T08:41:59Z h a 1 M [x] m",
		"Jan 18 02:59:24.466 2026  h : %PFE-3: fpc1 x", "Mar 14 00:21:12 A_B: c",
	} {
		f.Add(s, int64(0), uint8(1))
		f.Add(s, int64(1773964800), uint8(0x84))
	}
	zones := []*time.Location{nil, time.UTC, time.FixedZone("X", 14*3600), time.FixedZone("Y", -12*3600), mustZone(f, "America/New_York")}
	f.Fuzz(func(t *testing.T, raw string, now int64, zone uint8) {
		// Keep the clock within years routers run in; ParseLine's contract
		// assumes a real device clock.
		const span = 200 * 365 * 86400 // 1970 to 2170
		now = (now%span + span) % span
		clock := DeviceClock{Now: time.Unix(now, 0), Location: zones[int(zone&0x7f)%len(zones)]}
		name := "messages"
		if zone&0x80 != 0 {
			name = "mastership"
		}
		l := ParseLine(name, raw, clock)
		if l.Raw != raw || l.File != name {
			t.Fatalf("Raw/File changed: %+v", l)
		}
		if l2 := ParseLine(name, raw, clock); l2 != l {
			t.Fatalf("not deterministic: %+v vs %+v", l, l2)
		}
		if !l.Parsed {
			if l != (devices.LogLine{File: name, Raw: raw}) {
				t.Fatalf("unparsed line with fields: %+v", l)
			}
			return
		}
		if l.Time.IsZero() {
			// Only the dateless shape (a bare time of day) has no date.
			if _, _, ok := scanClock(stripPRI(trimBlanks(raw))); !ok {
				t.Fatalf("parsed with zero Time: %q → %+v", raw, l)
			}
		} else if l.Time.Location() != time.UTC {
			t.Fatalf("time not UTC: %v", l.Time)
		}
		if l.Message != strings.TrimSpace(l.Message) {
			t.Fatalf("message not trimmed: %q", l.Message)
		}
		for _, s := range []string{l.Host, l.Process, l.Tag} {
			if strings.ContainsAny(s, " \t") {
				t.Fatalf("field with a blank: %+v", l)
			}
		}
		if l.PID < 0 {
			t.Fatalf("negative PID: %+v", l)
		}
	})
}

// BenchmarkParseLine parses the sample lines round-robin and reports
// lines per second.
func BenchmarkParseLine(b *testing.B) {
	var lines []string
	for _, name := range junossamples.Names(b, "logs", "*.log") {
		lines = append(lines, readLogSample(b, name)...)
	}
	clock := march2026()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		_ = ParseLine("messages", lines[n%len(lines)], clock)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
}

func ExampleParseLine() {
	clock := DeviceClock{Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	l := ParseLine("messages", "Dec 31 23:59:59  re0 mgd[7729]: UI_COMMIT: User 'luke' requested 'commit' operation", clock)
	fmt.Println(l.Time, l.Host, l.Process, l.PID, l.Tag)
	fmt.Println(l.Message)
	// Output:
	// 2025-12-31 23:59:59 +0000 UTC re0 mgd 7729 UI_COMMIT
	// User 'luke' requested 'commit' operation
}
