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

// docExample returns the scenario example of the package documentation, so
// that the documented format is the tested one.
func docExample(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	in := false
	for line := range strings.SplitSeq(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "//\t"):
			in = true
			b.WriteString(strings.TrimPrefix(line, "//\t") + "\n")
		case in:
			return []byte(b.String())
		}
	}
	t.Fatal("no indented example in doc.go")
	return nil
}

func TestDocExampleParses(t *testing.T) {
	sc, err := ParseScenario(docExample(t), "doc.go")
	if err != nil {
		t.Fatalf("documented example does not parse: %v", err)
	}
	if len(sc.Devices) != 2 || sc.Seed != 7 {
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
	if f := devs[1].Faults; f == nil || !f.HangAfterHello || f.Latency != 0 {
		t.Errorf("device faults should replace the defaults: %+v", f)
	}
	if devs[1].Topology != TopologySingle {
		t.Errorf("topology = %q", devs[1].Topology)
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
