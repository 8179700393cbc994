package junossim

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// docExample returns the scenario example of the package documentation
// (the indented block that starts with "seed:"), so that the documented
// format is the tested one.
func docExample(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for line := range strings.SplitSeq(string(src), "\n") {
		if text, ok := strings.CutPrefix(line, "//\t"); ok {
			b.WriteString(text + "\n")
			continue
		}
		if strings.HasPrefix(b.String(), "seed:") {
			return []byte(b.String())
		}
		b.Reset()
	}
	t.Fatal("no scenario example in doc.go")
	return nil
}

func TestDocExampleParses(t *testing.T) {
	sc, err := ParseScenario(docExample(t), "doc.go")
	if err != nil {
		t.Fatalf("documented example does not parse: %v", err)
	}
	if len(sc.Devices) != 3 || sc.Seed != 7 || len(sc.Polls) != 4 || sc.StartTime.IsZero() {
		t.Fatalf("parsed %+v", sc)
	}
	devs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	d := devs[0]
	if d.Topology != TopologyDual || d.Framing != "1.0" || d.Site != "ams1" || d.Version != "21.4R3-S5.4" ||
		d.Faults == nil || d.Faults.Latency != 20*time.Millisecond {
		t.Errorf("defaults not applied: %+v", d)
	}
	if d.REStates["re1"].Status != StatusAbsent || d.REStates["re0"].UpTime != 240*time.Hour {
		t.Errorf("re_states = %+v", d.REStates)
	}
	if len(d.Events) != 6 || d.Events[0].At != 30*time.Second || d.Events[0].Kind != EventREUp {
		t.Errorf("events = %+v", d.Events)
	}
	if len(d.Alarms) != 1 || d.Alarms[0].SetAfter != -3*time.Hour {
		t.Errorf("alarms = %+v", d.Alarms)
	}
	if len(d.Expect) != 1 || d.Expect[0].Cause != "hardware" || *d.AliveSetLog != true || d.LogMaxLines != 5000 ||
		*d.Redundancy.KeepaliveTime != 300*time.Second {
		t.Errorf("expect %+v, logs and redundancy defaults %+v", d.Expect, d.Redundancy)
	}
	if d2 := devs[1]; len(d2.Events) != 14 || d2.SyslogArchive != ArchiveWorldReadable || d2.Expect == nil || len(d2.Expect) != 0 || *d2.Redundancy.GracefulSwitchover {
		t.Errorf("second device: %+v", d2)
	}
	if f := devs[2].Faults; f == nil || !f.HangAfterHello || f.Latency != 0 {
		t.Errorf("device faults should replace the defaults: %+v", f)
	}
	if devs[2].Topology != TopologySingle {
		t.Errorf("topology = %q", devs[2].Topology)
	}
	// Every documented event applies without error.
	for _, dev := range devs {
		var errs []string
		r, err := NewRouter(dev, sc.Seed, NewClock(sc.ClockStart()).Now, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range dev.Events {
			if dev.Name == "ams1-mx204-1" {
				break
			}
			if err := r.Apply(ev); err != nil && ev.Kind != EventAlarmClear && ev.Kind != EventREUp {
				errs = append(errs, string(ev.Kind)+": "+err.Error())
			}
		}
		if len(errs) > 0 {
			t.Errorf("%s: %v", dev.Name, errs)
		}
	}
}

func TestUnknownKeyIsAnErrorWithLine(t *testing.T) {
	src := `defaults:
  site: ams1
devices:
  - name: r1
    faults:
      refuze: true
  - name: r2
    re_states:
      re1: {statuss: absent}
`
	_, err := ParseScenario([]byte(src), "fleet.yaml")
	if err == nil {
		t.Fatal("misspelt keys accepted")
	}
	for _, want := range []string{`fleet.yaml:6:7: unknown key "refuze"`, `fleet.yaml:9:13: unknown key "statuss"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestInvalidValuesReportTheirLine(t *testing.T) {
	src := `devices:
  - name: r1
  - name: r2
    topology: dual-ish
  - name: r3
    framing: "2.0"
    events:
      - at: 30s
        kind: swtchover
      - at: 40s
        kind: reboot
        re: re9
  - name: r1
`
	_, err := ParseScenario([]byte(src), "f.yaml")
	if err == nil {
		t.Fatal("invalid scenario accepted")
	}
	for _, want := range []string{
		`f.yaml:4: devices[1].topology: unknown topology "dual-ish"`,
		`f.yaml:6: devices[2].framing`,
		`f.yaml:9: devices[2].events[0].kind: unknown event kind "swtchover"`,
		`f.yaml:12: devices[2].events[1].re`,
		`f.yaml:13: devices[3].name: device name "r1" already used by devices[0]`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseScenario([]byte("devices: 3\n"), "g.yaml"); err == nil || !strings.Contains(err.Error(), "g.yaml") {
		t.Errorf("type error = %v", err)
	}
	if _, err := ParseScenario([]byte(""), "e.yaml"); err == nil {
		t.Error("empty scenario accepted")
	}
}

func TestLoadScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte("devices:\n  - {name: r1, framing: 1.1, topology: mx-vc}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	// An unquoted 1.1 is a YAML float; it must still read as "1.1".
	if sc.Devices[0].Framing != "1.1" {
		t.Errorf("framing = %q", sc.Devices[0].Framing)
	}
	if _, err := LoadScenario(path + ".missing"); err == nil {
		t.Error("missing file accepted")
	}
}

func TestGenerate(t *testing.T) {
	sc := Generate(1000, 42)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sc, Generate(1000, 42)) {
		t.Error("Generate is not deterministic")
	}
	count := map[string]int{}
	for _, d := range sc.Devices {
		count[string(d.Topology)]++
		count["framing "+d.Framing]++
		if d.Faults != nil || len(d.Alarms) > 0 || len(d.Events) > 0 || len(d.REStates) > 0 {
			t.Fatalf("generated device %s is not plainly healthy: %+v", d.Name, d)
		}
		if d.Site == "" || !strings.HasPrefix(d.Name, d.Site+"-mx") {
			t.Fatalf("name %q / site %q", d.Name, d.Site)
		}
	}
	if count["dual"] < 600 || count["single"] < 100 || count["framing 1.1"] < 50 || count["framing 1.1"] > 200 {
		t.Errorf("mix = %v", count)
	}
	// Saved with yaml.v3 and read back, it is the same scenario.
	out, err := yaml.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseScenario(out, "generated.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sc) {
		t.Error("generated scenario does not round-trip through YAML")
	}
}

func TestDemoScenario(t *testing.T) {
	sc := DemoScenario()
	devs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) < 12 {
		t.Fatalf("demo has %d routers, want at least 12", len(devs))
	}
	has := map[string]bool{}
	for _, d := range devs {
		if d.Site == "" || len(d.Tags) == 0 {
			t.Errorf("%s lacks site or tags", d.Name)
		}
		has[string(d.Topology)] = true
		if d.Framing == "1.1" {
			has["1.1"] = true
		}
		if f := d.Faults; f != nil {
			has["refuse"] = has["refuse"] || f.Refuse
			has["wrong_host_key"] = has["wrong_host_key"] || f.WrongHostKey
			has["hang"] = has["hang"] || f.HangAfterHello
			has["reject_auth"] = has["reject_auth"] || f.RejectAuth
		}
		if d.REStates["re1"].Status == StatusAbsent {
			has["backup gone"] = true
		}
		for _, a := range d.Alarms {
			has[a.Class+": "+a.Description] = true
		}
	}
	for _, want := range []string{"single", "dual", "mx-vc", "srx-cluster", "1.1", "refuse", "wrong_host_key", "hang",
		"reject_auth", "backup gone", "Major: PEM 0 Not Powered", "Minor: Loss of communication with Backup RE",
		"Minor: Rescue configuration is not set"} {
		if !has[want] {
			t.Errorf("demo lacks %s", want)
		}
	}
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.Name
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != len(devs) {
		t.Error("duplicate names")
	}
}

func TestInvalidNewFieldsReportTheirLine(t *testing.T) {
	src := `polls: [0s, 5m, 5m]
devices:
  - name: r1
    log_max_lines: -1
    redundancy: {keepalive_time: 1s}
    expect:
      - {re: re7, cause: hardwar, severity: major}
    events:
      - {at: -5m, kind: fru, fru: PSU 1}
      - {at: 1m, kind: fru, fru: FPC 1, action: over-temp}
      - {at: 2m, kind: rotate-logs, file: syslog}
      - {at: 3m, kind: link-flap, interface: "xe 0"}
      - {at: 4m, kind: internal-link-flap, interface: xe-0/0/0}
      - {at: 5m, kind: commit, user: "o'brien", redundancy: {keepalive_time: 20000s}}
      - {at: 6m, kind: log}
      - {at: 7m, kind: core-dump, process: "/sbin/rpd"}
      - {at: 8m, kind: link-flap, duration: -1s}
  - name: s1
    topology: single
    events:
      - {at: 1m, kind: keepalive-loss}
`
	_, err := ParseScenario([]byte(src), "n.yaml")
	if err == nil {
		t.Fatal("invalid scenario accepted")
	}
	for _, want := range []string{
		`n.yaml:1: polls[2]: poll offsets must increase`,
		`n.yaml:4: devices[0].log_max_lines`,
		`n.yaml:5: devices[0].redundancy.keepalive_time`,
		`n.yaml:7: devices[0].expect[0].re: no RE "re7"`,
		`n.yaml:7: devices[0].expect[0].cause: cause "hardwar"`,
		`n.yaml:7: devices[0].expect[0].severity: severity "major"`,
		`n.yaml:9: devices[0].events[0].fru: fru "PSU 1"`,
		`n.yaml:10: devices[0].events[1].action: over-temp is about a Routing Engine`,
		`n.yaml:11: devices[0].events[2].file: file "syslog"`,
		`n.yaml:12: devices[0].events[3].interface`,
		`n.yaml:13: devices[0].events[4].interface: internal RE link "xe-0/0/0"`,
		`n.yaml:14: devices[0].events[5].user`,
		`n.yaml:14: devices[0].events[5].redundancy.keepalive_time`,
		`n.yaml:15: devices[0].events[6].text: log needs text`,
		`n.yaml:16: devices[0].events[7].process`,
		`n.yaml:17: devices[0].events[8].duration: negative duration`,
		`n.yaml:21: devices[1].events[0].kind: keepalive-loss needs another RE`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "negative at") {
		t.Error("a negative at is a story before the start, not an error")
	}
}

func TestScenarioDefaultsForLogsAndRedundancy(t *testing.T) {
	src := `start_time: 2025-12-31T22:40:00Z
polls: [0s, 5m]
defaults:
  alive_set_log: false
  log_max_lines: 100
  redundancy: {graceful_switchover: false, keepalive_time: 60s}
devices:
  - name: r1
    expect: []
  - name: r2
    alive_set_log: true
    log_max_lines: 7
    redundancy: {keepalive_time: 0s}
    expect:
      - {re: re1, cause: unknown, severity: warning}
`
	sc, err := ParseScenario([]byte(src), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !sc.ClockStart().Equal(time.Date(2025, 12, 31, 22, 40, 0, 0, time.UTC)) || len(sc.Polls) != 2 || sc.Polls[1] != 5*time.Minute {
		t.Errorf("start %v polls %v", sc.ClockStart(), sc.Polls)
	}
	devs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := devs[0], devs[1]
	if *r1.AliveSetLog || r1.LogMaxLines != 100 || *r1.Redundancy.KeepaliveTime != time.Minute || *r1.Redundancy.GracefulSwitchover {
		t.Errorf("r1 = %+v %+v", r1, r1.Redundancy)
	}
	if !*r2.AliveSetLog || r2.LogMaxLines != 7 || *r2.Redundancy.KeepaliveTime != 0 || *r2.Redundancy.GracefulSwitchover {
		t.Errorf("r2 = %+v %+v", r2, r2.Redundancy)
	}
	if r1.Expect == nil || len(r1.Expect) != 0 || len(r2.Expect) != 1 {
		t.Errorf("expect: %v / %v", r1.Expect, r2.Expect)
	}
	if (Scenario{}).ClockStart().IsZero() {
		t.Error("no default start")
	}
}

func TestRotationFieldsAreValidated(t *testing.T) {
	src := `devices:
  - name: r1
    syslog_archive: readable
    archive_refusal: silence
    events:
      - {at: 1m, kind: replace-log}
      - {at: 2m, kind: rotate-logs, keep: 3}
      - {at: 3m, kind: replace-log, keep: 2, file: syslog}
`
	_, err := ParseScenario([]byte(src), "f.yaml")
	if err == nil {
		t.Fatal("invalid scenario accepted")
	}
	for _, want := range []string{
		`f.yaml:3: devices[0].syslog_archive: syslog_archive "readable": want world-readable or no-world-readable`,
		`f.yaml:4: devices[0].archive_refusal: archive_refusal "silence": want access-denied or could-not-resolve`,
		`f.yaml:6: devices[0].events[0].keep: replace-log needs keep`,
		`f.yaml:7: devices[0].events[1].keep: keep is for replace-log, not rotate-logs`,
		`f.yaml:8: devices[0].events[2].file: file "syslog": want messages or mastership`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseScenario([]byte("devices:\n  - name: r1\n    syslog_archive: world-readable\n    events:\n      - {at: 1m, kind: replace-log, keep: 1}\n"), "ok.yaml"); err != nil {
		t.Errorf("valid scenario refused: %v", err)
	}
}
