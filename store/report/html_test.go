package report

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

var updateHTML = flag.Bool("update", false, "rewrite the golden HTML files in testdata/html")

// htmlT0 is the start of the hand-built HTML scenario; its times are
// offsets from it.
var htmlT0 = time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)

// The device-supplied strings the scenario smuggles in: a log line with
// markup, a log line a spreadsheet would run, an error message with an
// element that would fetch a URL if it were not escaped.
const (
	hostileScript    = `<script>alert(1)</script>`
	hostileHyperlink = `=HYPERLINK("http://evil.example/","click")`
	hostileImg       = `<img src=x onerror=alert(1)>`
)

// flapDevice and friends name the devices of htmlFixture.
const (
	flapDevice     = "ams1-mx960-1"
	switchDevice   = "lon1-mx480-2"
	timeoutDevice  = "par2-mx480-1"
	healthyDevice  = "ams1-mx480-1"
	neverDevice    = "sjc1-mx960-1"
	flapAlarmDesc  = "PEM 0 Not Powered"
	flapSinceAlarm = 40 * time.Second
)

// htmlFixture is the fixed fleet of the golden test and the browser test,
// in the window 08:00–12:00 UTC:
//
//   - ams1-mx960-1, dual RE, re1 master: PEM 0 goes Not Powered (Major) at
//     09:10:00; 40 s later re1 drops out of the alive set and re0 takes
//     over as master; re1 comes back as backup at 09:18, drops again at
//     09:41:10 and is back at 09:47:30. One hardware finding, critical.
//     Its log holds a <script> line and a =HYPERLINK line.
//   - lon1-mx480-2: re0, the master, crashes at 10:20:05; re1 becomes
//     master, re0 returns as backup; a kernel core is written. One
//     software finding, critical.
//   - par2-mx480-1: the latest poll timed out; no snapshot; the error
//     message carries an <img> element.
//   - ams1-mx480-1: healthy.
//   - sjc1-mx960-1: in the inventory, never polled.
func htmlFixture() Fleet {
	at := func(d time.Duration) time.Time { return htmlT0.Add(d) }
	h, m, s := time.Hour, time.Minute, time.Second
	dual := func(master string, alive ...string) []devices.RouteEngine {
		var out []devices.RouteEngine
		for _, name := range []string{"re0", "re1"} {
			re := devices.RouteEngine{Name: name, MastershipState: "backup", Status: "OK", Model: "RE-S-1800x4"}
			if name == master {
				re.MastershipState = "master"
			}
			if !slices.Contains(alive, name) {
				continue
			}
			out = append(out, re)
		}
		return out
	}
	poll := func(dev, host, site string, started time.Time, res []devices.RouteEngine, alarms ...devices.Alarm) *devices.Poll {
		return &devices.Poll{
			Device: dev, Host: host, Site: site, Started: started, Finished: started.Add(2 * s),
			Outcome: devices.OutcomeOK, ExpectedREs: 2,
			Snapshot: &devices.Snapshot{Device: dev, PolledAt: started, RouteEngines: res, Alarms: alarms, AlarmsRead: true},
		}
	}
	tr := func(dev, re string, t time.Time, from, to string, evidence ...string) devices.Transition {
		return devices.Transition{Device: dev, RE: re, Time: t, From: from, To: to, Sources: []string{"re-table", "log:mastership"}, Evidence: evidence}
	}
	ev := func(dev string, kind devices.EventKind, t time.Time, re, change, subject, class, raw string) devices.Event {
		return devices.Event{Device: dev, Kind: kind, Time: t, RE: re, Change: change, Subject: subject, Class: class, Rule: "builtin:" + string(kind),
			Line: devices.LogLine{Raw: raw, File: "messages", Time: t}}
	}

	// ams1-mx960-1: the flapping device.
	pemAt := at(1*h + 10*m)
	dropAt := pemAt.Add(flapSinceAlarm)
	pem := devices.Alarm{Source: devices.AlarmChassis, Time: pemAt, Class: "Major", Type: "Chassis", Description: flapAlarmDesc}
	lossComm := devices.Alarm{Source: devices.AlarmChassis, Time: dropAt.Add(1 * s), Class: "Minor", Type: "Chassis", Description: "Loss of communication with Backup RE"}
	pemLine := "Mar 14 09:10:00  re0-ams1-mx960-1 alarmd[2030]: Alarm set: Pwr supply color=RED, class=CHASSIS, reason=PEM 0 Not Powered"
	dropLine := "Mar 14 09:10:40 event = E_NO_ORE, state = master, param = 0x0"
	flap := Device{
		Name: flapDevice, Host: "192.0.2.11", Site: "ams1",
		Latest: poll(flapDevice, "192.0.2.11", "ams1", at(3*h+55*m+3*s), dual("re0", "re0", "re1")),
		Transitions: []devices.Transition{
			tr(flapDevice, "re0", dropAt, devices.REBackup, devices.REMaster, "Mar 14 09:10:40 new state = master"),
			tr(flapDevice, "re1", dropAt, devices.REMaster, devices.REGone, dropLine),
			tr(flapDevice, "re1", at(1*h+18*m), devices.REGone, devices.REBackup, "Mar 14 09:18:00 event = E_ORE_B, state = master, param = 0x0"),
			tr(flapDevice, "re1", at(1*h+41*m+10*s), devices.REBackup, devices.REGone, "Mar 14 09:41:10 event = E_NO_ORE, state = master, param = 0x0"),
			tr(flapDevice, "re1", at(1*h+47*m+30*s), devices.REGone, devices.REBackup, "Mar 14 09:47:30 event = E_ORE_B, state = master, param = 0x0"),
		},
		Alarms: []devices.AlarmRecord{
			{Device: flapDevice, Alarm: pem, FirstSeen: at(1*h + 15*m + 3*s), LastSeen: at(2*h + 5*m + 3*s), ClearedAt: at(2*h + 7*m)},
			{Device: flapDevice, Alarm: lossComm, FirstSeen: at(1*h + 15*m + 3*s), LastSeen: at(1*h + 15*m + 3*s), ClearedAt: at(1*h + 18*m + 2*s)},
			{Device: flapDevice, Alarm: devices.Alarm{Source: devices.AlarmSystem, Time: at(1*h + 41*m + 11*s), Class: "Minor", Type: "Chassis", Description: "Loss of communication with Backup RE"},
				FirstSeen: at(1*h + 45*m + 3*s), LastSeen: at(1*h + 45*m + 3*s), ClearedAt: at(1*h + 47*m + 31*s)},
		},
		Events: []devices.Event{
			ev(flapDevice, devices.EventAlarmSet, pemAt, "", "set", flapAlarmDesc, "Major", pemLine),
			ev(flapDevice, devices.EventAliveSet, dropAt, "re1", "left", "", "", dropLine),
			ev(flapDevice, devices.EventMastership, dropAt, "re0", "master", "", "", "Mar 14 09:10:40 new state = master"),
			ev(flapDevice, devices.EventFRU, dropAt.Add(2*s), "re1", "", "Routing Engine 1", "",
				"Mar 14 09:10:42  re0-ams1-mx960-1 chassisd[1822]: CHASSISD_FRU_OFFLINE_NOTICE: Taking FRU Routing Engine 1 offline: power failure"),
			ev(flapDevice, devices.EventLinkFlap, at(1*h+12*m), "", "down", "xe-0/0/3", "",
				"Mar 14 09:12:00  re0-ams1-mx960-1 mib2d[1911]: SNMP_TRAP_LINK_DOWN: ifName xe-0/0/3 "+hostileScript),
			ev(flapDevice, devices.EventAliveSet, at(1*h+18*m), "re1", "joined", "", "", "Mar 14 09:18:00 event = E_ORE_B, state = master, param = 0x0"),
			ev(flapDevice, devices.EventCommit, at(1*h+30*m), "", "", "", "",
				"Mar 14 09:30:00  re0-ams1-mx960-1 mgd[4242]: UI_COMMIT: User 'noc' requested 'commit' operation (comment: "+hostileHyperlink+")"),
			ev(flapDevice, devices.EventAliveSet, at(1*h+41*m+10*s), "re1", "left", "", "", "Mar 14 09:41:10 event = E_NO_ORE, state = master, param = 0x0"),
			ev(flapDevice, devices.EventAliveSet, at(1*h+47*m+30*s), "re1", "joined", "", "", "Mar 14 09:47:30 event = E_ORE_B, state = master, param = 0x0"),
		},
		Findings: []devices.Finding{{
			Device: flapDevice, RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical,
			Transitions: 4, First: dropAt, Last: at(1*h + 47*m + 30*s),
			Evidence: []string{
				pemLine,
				dropLine,
				"re-table: re1 master→gone (missing from get-route-engine-information)",
				`alarm: Major "PEM 0 Not Powered" at 2026-03-14T09:10:00Z`,
			},
			Alarms:      []devices.Alarm{pem, lossComm},
			OtherCauses: []devices.Cause{devices.CauseNetwork},
			Remedy:      "PEM 0 lost power 40s before re1 dropped out: check the PEM's feed and reseat or replace PEM 0, then confirm re1 stays in the alive set.",
		}},
	}

	// lon1-mx480-2: a crash and a master switchover.
	crashAt := at(2*h + 20*m + 5*s)
	coreLine := "Mar 14 10:26:00  lon1-mx480-2 savecore: writing core to /var/crash/vmcore.0"
	backupActive := devices.Alarm{Source: devices.AlarmChassis, Time: crashAt.Add(2 * s), Class: "Minor", Type: "Chassis", Description: "Backup RE Active"}
	sw := Device{
		Name: switchDevice, Host: "192.0.2.21", Site: "lon1",
		Latest: poll(switchDevice, "192.0.2.21", "lon1", at(3*h+55*m+4*s), dual("re1", "re0", "re1"), backupActive),
		Transitions: []devices.Transition{
			tr(switchDevice, "re0", crashAt, devices.REMaster, devices.REGone, "re-table: re0 master→gone"),
			tr(switchDevice, "re1", crashAt.Add(2*s), devices.REBackup, devices.REMaster, "Mar 14 10:20:07 new state = master"),
			tr(switchDevice, "re0", at(2*h+24*m+30*s), devices.REGone, devices.REBackup, "re-table: re0 gone→backup"),
		},
		Alarms: []devices.AlarmRecord{{Device: switchDevice, Alarm: backupActive, FirstSeen: at(2*h + 25*m + 4*s), LastSeen: at(3*h + 55*m + 4*s)}},
		Events: []devices.Event{
			ev(switchDevice, devices.EventMastership, crashAt.Add(2*s), "re1", "master", "", "", "Mar 14 10:20:07 new state = master"),
			ev(switchDevice, devices.EventCoreDump, at(2*h+26*m), "re0", "", "the kernel", "", coreLine),
		},
		Findings: []devices.Finding{{
			Device: switchDevice, RE: "re0", Cause: devices.CauseSoftware, Severity: devices.SeverityCritical,
			Transitions: 2, First: crashAt, Last: at(2*h + 24*m + 30*s),
			Evidence: []string{coreLine, `alarm: Minor "Backup RE Active" at 2026-03-14T10:20:07Z`, "re-table: re0 gone→backup"},
			Alarms:   []devices.Alarm{backupActive},
			Remedy:   "re0 crashed (kernel core vmcore.0): open a JTAC case with the core file and check the release notes of the running Junos version.",
		}},
	}

	failed := &devices.Poll{
		Device: timeoutDevice, Host: "192.0.2.30", Site: "par2", Started: at(3*h + 55*m), Finished: at(3*h + 55*m + 30*s),
		Outcome: devices.OutcomeTimeout, ErrorKind: string(devices.OutcomeTimeout), ExpectedREs: 2,
		Error: "get-route-engine-information: rpc on 192.0.2.30:830: context deadline exceeded " + hostileImg,
	}
	return Fleet{
		Generated: at(4*h + 5*s),
		Since:     htmlT0,
		Until:     at(4 * h),
		Devices: []Device{
			{Name: healthyDevice, Host: "192.0.2.12", Site: "ams1",
				Latest: poll(healthyDevice, "192.0.2.12", "ams1", at(3*h+55*m+2*s), dual("re0", "re0", "re1"))},
			flap,
			sw,
			{Name: timeoutDevice, Host: "192.0.2.30", Site: "par2", Latest: failed},
			{Name: neverDevice, Host: "192.0.2.40", Site: "sjc1"},
		},
	}
}

func renderString(t testing.TB, f Fleet) string {
	t.Helper()
	var b bytes.Buffer
	if err := RenderHTML(&b, f); err != nil {
		t.Fatalf("RenderHTML: %v", err)
	}
	return b.String()
}

// TestRenderHTMLGolden pins the whole report of the fixed scenario; after a
// deliberate change, rewrite it with
//
//	go test ./store/report -run Golden -update
//
// and look at the diff (and at the page: see html_browser_test.go).
func TestRenderHTMLGolden(t *testing.T) {
	got := []byte(renderString(t, htmlFixture()))
	path := filepath.Join("testdata", "html", "report.golden.html")
	if *updateHTML {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendered report (run with -update to accept):\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line where want and got part.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant: %.300s\ngot:  %.300s", i+1, w, g)
		}
	}
	return "(equal lines, different bytes)"
}

// tagRE finds the tags the template wrote: device text is escaped, so a
// "<" followed by a letter can only come from the template.
var (
	tagRE  = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	attrRE = regexp.MustCompile(`\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?`)
)

// urlAttrs are the attributes through which a page can fetch or navigate.
var urlAttrs = map[string]bool{
	"src": true, "href": true, "xlink:href": true, "srcset": true, "action": true, "formaction": true,
	"poster": true, "data": true, "background": true, "cite": true, "ping": true, "manifest": true,
}

// checkSelfContained fails t when out could make a browser fetch
// anything: a URL attribute other than data: or a #fragment, a script,
// a CSS url() or @import, or a meta refresh.
func checkSelfContained(t *testing.T, out string) {
	t.Helper()
	for _, tag := range tagRE.FindAllString(out, -1) {
		name, rest, _ := strings.Cut(tag[1:], " ")
		if strings.EqualFold(name, "script") || strings.HasPrefix(strings.ToLower(name), "script>") {
			t.Errorf("the report has a script: %.200s", tag)
		}
		for _, m := range attrRE.FindAllStringSubmatch(" "+rest, -1) {
			attr := strings.ToLower(m[1])
			val := strings.Trim(m[2], `"'`)
			if attr == "http-equiv" {
				t.Errorf("the report has a meta http-equiv: %.200s", tag)
			}
			if strings.HasPrefix(attr, "on") {
				t.Errorf("the report has an event handler: %.200s", tag)
			}
			if urlAttrs[attr] && !strings.HasPrefix(val, "data:") && !strings.HasPrefix(val, "#") {
				t.Errorf("%s=%q leaves the file: %.200s", attr, val, tag)
			}
		}
	}
	lower := strings.ToLower(out)
	for _, bad := range []string{"url(", "@import", "<iframe", "<object", "<embed", "<base"} {
		if strings.Contains(lower, bad) {
			t.Errorf("the report contains %q", bad)
		}
	}
	if !strings.Contains(out, `<link rel="icon" href="data:,">`) {
		t.Error("the report has no data: favicon, so browsers will ask for /favicon.ico")
	}
}

func TestRenderHTMLSelfContainedAndEscaped(t *testing.T) {
	out := renderString(t, htmlFixture())
	checkSelfContained(t, out)

	// The only URL text in the page is the hostile line's, escaped.
	rest := strings.ReplaceAll(out, "http://evil.example/", "")
	for _, u := range []string{"http://", "https://", "ftp://"} {
		if strings.Contains(rest, u) {
			t.Errorf("the report contains %q outside the hostile fixture text", u)
		}
	}
	for _, raw := range []string{hostileScript, hostileImg, hostileHyperlink, `"http://evil`} {
		if strings.Contains(out, raw) {
			t.Errorf("device text %q reached the page unescaped", raw)
		}
	}
	for _, esc := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"&lt;img src=x onerror=alert(1)&gt;",
		"=HYPERLINK(&#34;http://evil.example/&#34;,&#34;click&#34;)",
	} {
		if !strings.Contains(out, esc) {
			t.Errorf("the report does not show the escaped device text %q", esc)
		}
	}
	for _, bad := range []string{"NaN", "+Inf", "-Inf", "<nil>", "%!", "ZgotmplZ", "0001-01-01"} {
		if strings.Contains(out, bad) {
			t.Errorf("the report contains %q", bad)
		}
	}
}

func TestRenderHTMLContent(t *testing.T) {
	f := htmlFixture()
	out := renderString(t, f)
	has := func(what, s string) {
		t.Helper()
		if !strings.Contains(out, s) {
			t.Errorf("%s: the report does not contain %q", what, s)
		}
	}
	hasNot := func(what, s string) {
		t.Helper()
		if strings.Contains(out, s) {
			t.Errorf("%s: the report contains %q", what, s)
		}
	}
	has("header window", `<time datetime="2026-03-14T08:00:00Z">2026-03-14T08:00:00Z</time>`)
	has("header generated", `2026-03-14T12:00:05Z`)
	for name, n := range map[string]int{"ok": 3, "timeout": 1, "never polled": 1, "partial": 0} {
		has("outcome count "+name, fmt.Sprintf(`%s</span><b>%d</b>`, name, n))
	}
	has("cause count", `cause-hardware"></i>hardware</span><b>1</b>`)
	has("cause count", `cause-software"></i>software</span><b>1</b>`)
	has("severity count", `sev-critical"></i>critical</span><b>2</b>`)

	// Devices with findings get a section and a timeline; the others do not.
	for _, d := range []string{flapDevice, switchDevice} {
		has("timeline", fmt.Sprintf(`<svg class="timeline" data-device="%s"`, d))
		has("section", fmt.Sprintf(`<section class="device" id="dev-%s" data-device="%s">`, d, d))
	}
	for _, d := range []string{healthyDevice, timeoutDevice, neverDevice} {
		hasNot("timeline", fmt.Sprintf(`data-device="%s"`, d))
		has("compact row", fmt.Sprintf(`<tr id="dev-%s"><td>%s</td>`, d, d))
	}
	if n := strings.Count(out, `<svg class="timeline"`); n != 2 {
		t.Errorf("%d timelines, want 2", n)
	}
	if n := strings.Count(out, `<svg class="closeup"`); n != 2 {
		t.Errorf("%d close-ups, want 2", n)
	}
	// Attention: the two findings, the timeout and the never-polled device;
	// worst first.
	attn := out[strings.Index(out, `<table class="attn">`):]
	attn = attn[:strings.Index(attn, `</table>`)]
	var order []string
	for _, m := range regexp.MustCompile(`<a href="#dev-([^"]+)">`).FindAllStringSubmatch(attn, -1) {
		order = append(order, m[1])
	}
	if got, want := strings.Join(order, " "), strings.Join([]string{flapDevice, switchDevice, timeoutDevice, neverDevice}, " "); got != want {
		t.Errorf("attention order %q, want %q", got, want)
	}
	// The sequence says in words what the close-up shows.
	has("sequence alarm", `<td class="off">−40s</td><td class="what">Major alarm set: PEM 0 Not Powered`)
	has("sequence drop", `<td class="off">0s</td><td class="what">re1: master → gone`)
	has("finding alarm offset", `Major PEM 0 Not Powered (set 2026-03-14 09:10:00, −40s from the flap)`)
	// The timeline marks (the contract of html.go).
	has("re1 gone", `<rect class="gone" data-re="re1" data-from="2026-03-14T09:10:40Z" data-to="2026-03-14T09:18:00Z"`)
	has("re0 master", `<rect class="alive" data-re="re0" data-state="master" data-from="2026-03-14T09:10:40Z" data-to="2026-03-14T12:00:00Z"`)
	has("master change", `<path class="master-change" data-re="re0" data-time="2026-03-14T09:10:40Z"`)
	has("alarm", `<rect class="alarm major" data-time="2026-03-14T09:10:00Z" data-cleared="2026-03-14T10:07:00Z"`)
	has("active alarm", `<rect class="alarm minor" data-time="2026-03-14T10:20:07Z" data-cleared=""`)
	has("evidence", `<circle class="evidence hardware" data-time="2026-03-14T09:10:00Z" data-kind="alarm-set"`)
	has("cited evidence", `<circle class="evidence hardware cited" data-time="2026-03-14T09:10:00Z"`)
}

// TestRenderHTMLAxesAlign checks that every timeline has the same width
// and plot area, so their axes line up.
func TestRenderHTMLAxesAlign(t *testing.T) {
	out := renderString(t, htmlFixture())
	re := regexp.MustCompile(`<svg class="(?:timeline|closeup)"[^>]* width="([^"]+)"`)
	ms := re.FindAllStringSubmatch(out, -1)
	if len(ms) != 4 {
		t.Fatalf("%d SVGs, want 4", len(ms))
	}
	for _, m := range ms {
		if m[1] != px(tlWidth).String() {
			t.Errorf("SVG width %s, want %v", m[1], tlWidth)
		}
	}
}

// TestRenderHTMLOddInput renders fleets no store should produce and checks
// the page stays sane: no error, no panic, no NaN.
func TestRenderHTMLOddInput(t *testing.T) {
	base := htmlFixture()
	at := func(d time.Duration) time.Time { return htmlT0.Add(d) }
	cases := map[string]func(f *Fleet){
		"empty fleet":   func(f *Fleet) { *f = Fleet{} },
		"zero window":   func(f *Fleet) { f.Since, f.Until = time.Time{}, time.Time{} },
		"since = until": func(f *Fleet) { f.Until = f.Since },
		"inverted":      func(f *Fleet) { f.Since, f.Until = f.Until, f.Since },
		"huge window": func(f *Fleet) {
			f.Since = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
			f.Until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		},
		"finding without transitions or poll": func(f *Fleet) {
			f.Devices = append(f.Devices, Device{Name: "lone", Findings: []devices.Finding{{RE: "re1", Cause: devices.CauseUnknown, Severity: devices.SeverityWarning}}})
		},
		"finding with RE-less, time-less data": func(f *Fleet) {
			f.Devices = append(f.Devices, Device{
				Name:        "odd",
				Latest:      &devices.Poll{Device: "odd", Outcome: devices.OutcomePartial, Snapshot: &devices.Snapshot{}},
				Findings:    []devices.Finding{{First: at(-time.Hour), Last: at(99 * time.Hour), Cause: "gremlins", Severity: "meh"}},
				Transitions: []devices.Transition{{RE: "re0", Time: at(50 * time.Hour), From: "weird", To: devices.REMaster}, {RE: "re0"}},
				Alarms:      []devices.AlarmRecord{{Alarm: devices.Alarm{Class: "Info"}}, {Alarm: devices.Alarm{Class: "Major", Time: at(time.Hour)}, ClearedAt: at(-time.Hour)}},
				Events:      []devices.Event{{Kind: "mystery"}, {Kind: devices.EventPanic, Time: at(-5 * time.Hour)}, {Kind: devices.EventPanic, Time: at(500 * time.Hour)}},
			})
		},
		"unknown outcome": func(f *Fleet) {
			f.Devices = append(f.Devices, Device{Name: "future", Latest: &devices.Poll{Device: "future", Outcome: "quantum"}})
		},
		"duplicate and odd names": func(f *Fleet) {
			f.Devices = append(f.Devices, Device{Name: "a b"}, Device{Name: "a_b"}, Device{Name: `"><x`}, Device{Name: ""})
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := base
			f.Devices = append([]Device(nil), base.Devices...)
			mutate(&f)
			out := renderString(t, f)
			checkSelfContained(t, out)
			for _, bad := range []string{"NaN", "+Inf", "-Inf", "<nil>", "%!", "ZgotmplZ"} {
				if strings.Contains(out, bad) {
					t.Errorf("the report contains %q", bad)
				}
			}
			ids := regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(out, -1)
			seen := map[string]bool{}
			for _, m := range ids {
				if seen[m[1]] {
					t.Errorf("id %q twice", m[1])
				}
				seen[m[1]] = true
			}
		})
	}
}

// bigFleet is n devices, the first withFindings of them flapping with a
// full load of events (MaxEventsPerDevice), the rest quiet: the size of a
// large operator's fleet on a bad day.
func bigFleet(n, withFindings int) Fleet {
	base := htmlFixture()
	flap := base.Devices[1]
	healthy := base.Devices[0]
	f := Fleet{Generated: base.Generated, Since: base.Since, Until: base.Until}
	for i := range n {
		name := fmt.Sprintf("%s%d-mx960-%04d", []string{"ams", "lon", "fra", "par", "sjc", "nyc"}[i%6], 1+i%3, i)
		var d Device
		if i < withFindings {
			d = flap
			d.Events = nil
			for j := range MaxEventsPerDevice {
				e := flap.Events[j%len(flap.Events)]
				e.Time = f.Since.Add(time.Duration(j) * (f.Until.Sub(f.Since) / MaxEventsPerDevice))
				d.Events = append(d.Events, e)
			}
			d.EventsDropped = 1000
		} else {
			d = healthy
		}
		d.Name = name
		f.Devices = append(f.Devices, d)
	}
	return f
}

// maxReportBytes is what a 2,000-device report may weigh: small enough to
// mail and to open instantly.
const maxReportBytes = 3 << 20

func TestRenderHTML2000Devices(t *testing.T) {
	f := bigFleet(2000, 10)
	start := time.Now()
	out := renderString(t, f)
	elapsed := time.Since(start)
	t.Logf("2,000 devices (10 with findings, %d events each): %d bytes (%.2f MB) in %v",
		MaxEventsPerDevice, len(out), float64(len(out))/(1<<20), elapsed)
	if dir := os.Getenv("MASTERSHIP_ARTIFACTS"); dir != "" {
		// Kept for a human to open: the size and the scroll of a big fleet.
		path := filepath.Join(dir, "report-2000.html")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	if len(out) > maxReportBytes {
		t.Errorf("report is %d bytes, want at most %d", len(out), maxReportBytes)
	}
	if n := strings.Count(out, `<svg class="timeline"`); n != 10 {
		t.Errorf("%d timelines, want 10", n)
	}
	if n := strings.Count(out, "<tr id="); n != 1990 {
		t.Errorf("%d compact rows, want 1990", n)
	}
}

func BenchmarkRenderHTML2000(b *testing.B) {
	f := bigFleet(2000, 10)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := RenderHTML(&buf, f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/report")
}

// FuzzRenderHTML throws odd windows and times at the renderer: it must
// never fail, panic or print a NaN.
func FuzzRenderHTML(f *testing.F) {
	f.Add(int64(0), int64(3600), int64(600), int64(60), int64(-30), uint8(3))
	f.Add(int64(100), int64(100), int64(100), int64(0), int64(0), uint8(0))
	f.Add(int64(500), int64(100), int64(math.MaxInt32), int64(-math.MaxInt32), int64(7), uint8(255))
	f.Fuzz(func(t *testing.T, since, until, tr, dur, alarm int64, kinds uint8) {
		at := func(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
		d := Device{Name: "fz", Latest: &devices.Poll{Outcome: devices.OutcomeOK, Snapshot: &devices.Snapshot{
			RouteEngines: []devices.RouteEngine{{Name: "re0", MastershipState: "master"}}}}}
		states := []string{devices.REMaster, devices.REBackup, devices.REGone, "?"}
		for i := range int(kinds % 8) {
			d.Transitions = append(d.Transitions, devices.Transition{
				RE: []string{"re0", "re1"}[i%2], Time: at(tr + int64(i)*dur),
				From: states[int(kinds>>i)%4], To: states[(int(kinds>>i)+1)%4],
			})
			d.Events = append(d.Events, devices.Event{Kind: devices.EventAliveSet, Time: at(tr + int64(i)*alarm), Line: devices.LogLine{Raw: "line"}})
		}
		d.Alarms = []devices.AlarmRecord{{Alarm: devices.Alarm{Class: "Major", Time: at(alarm)}, ClearedAt: at(alarm + dur)}}
		d.Findings = []devices.Finding{{RE: "re1", First: at(tr), Last: at(tr + dur), Alarms: []devices.Alarm{{Class: "Major", Time: at(alarm)}}}}
		var b bytes.Buffer
		if err := RenderHTML(&b, Fleet{Since: at(since), Until: at(until), Devices: []Device{d}}); err != nil {
			t.Fatal(err)
		}
		if s := b.String(); strings.Contains(s, "NaN") || strings.Contains(s, "+Inf") || strings.Contains(s, "-Inf") {
			t.Fatal("NaN or Inf in the report")
		}
	})
}

// TestRenderHTMLMaintenance: a finding inside a maintenance window is
// shown with its window's note and a badge, and the findings figure no
// longer reads as an alarm when every finding is in maintenance.
func TestRenderHTMLMaintenance(t *testing.T) {
	f := htmlFixture()
	const note = "window 7 by alice: RE swap"
	for i := range f.Devices {
		for j := range f.Devices[i].Findings {
			f.Devices[i].Findings[j].Maintenance = true
			f.Devices[i].Findings[j].MaintenanceNote = note
		}
	}
	out := renderString(t, f)
	if n := strings.Count(out, `<span class="badge muted maintenance" title="`+note+`">in maintenance</span>`); n != 2 {
		t.Errorf("%d maintenance badges, want one per finding (2)", n)
	}
	if !strings.Contains(out, `<p class="maintenance-note">In a maintenance window: `+note+`. Shown, not alerted.</p>`) {
		t.Error("the finding does not say which maintenance window it is in")
	}
	if !strings.Contains(out, `<div class="kpi warn"><b>2</b><span>findings, 2 in maintenance</span></div>`) {
		t.Errorf("findings figure not marked as in maintenance:\n%s", out[strings.Index(out, `<div class="kpis">`):][:900])
	}
	plain := renderString(t, htmlFixture())
	if strings.Contains(plain, "in maintenance") {
		t.Error("a report with no finding in maintenance mentions maintenance")
	}
}
