package junossim

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossamples"
)

// TestCorpusFilesAreWellFormed checks the labelled corpus that
// schedule's TestCorpus runs: at least 40 valid stories, each told in a
// comment that names its sample files, each router with an expect block
// and a state, every quoted line found, as it is, in a sample the story
// names (a line of a shape no sample holds must cite its documentation),
// and every cause, platform and kind of story covered.
func TestCorpusFilesAreWellFormed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("%d stories, want at least 40", len(files))
	}
	samples, haveSamples := junossamples.SharedDir(t, "")
	causes := map[devices.Cause]bool{}
	platforms := map[string]bool{}
	kinds := map[string]bool{}
	states := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseScenario(raw, f)
		if err != nil {
			t.Error(err)
			continue
		}
		name := filepath.Base(f)
		if !bytes.HasPrefix(raw, []byte("# ")) {
			t.Errorf("%s: the story is not told in a comment at the top", name)
		}
		var cited []string
		for _, l := range strings.Split(string(raw), "\n") {
			if rest, ok := strings.CutPrefix(l, "# samples: "); ok {
				cited = strings.Split(rest, ", ")
			}
		}
		if len(cited) == 0 {
			t.Errorf("%s: no \"# samples:\" line names the sample files", name)
		}
		var lines []string // every line of the cited samples
		for _, c := range cited {
			if !haveSamples {
				break
			}
			b, err := os.ReadFile(filepath.Join(samples, c))
			if err != nil {
				t.Errorf("%s: cited sample: %v", name, err)
				continue
			}
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
		if len(sc.Polls) < 2 || len(sc.Polls) > 8 || sc.StartTime.IsZero() {
			t.Errorf("%s: polls %v (want 2 to 8), start_time %v", name, sc.Polls, sc.StartTime)
		}
		if sc.Pending != "" {
			kinds["pending"] = true
		}
		for _, d := range sc.Devices {
			d = d.withDefaults(sc.Defaults)
			if d.Expect == nil || d.State == "" {
				t.Errorf("%s: %s needs an expect block and a state", name, d.Name)
			}
			states[d.State] = true
			platform := string(d.Topology)
			if strings.HasPrefix(d.Model, "ptx") {
				platform = "ptx"
			}
			platforms[platform] = true
			if len(d.Expect) == 0 {
				kinds["healthy"] = true
			}
			for _, e := range d.Expect {
				causes[e.Cause] = true
				if e.Maintenance {
					kinds["maintenance"] = true
				}
			}
			if len(d.Maintenance) > 0 {
				kinds["maintenance window"] = true
			}
			if len(d.Silences) > 0 {
				kinds["silence"] = true
			}
			if d.MastershipLog != nil && !*d.MastershipLog {
				kinds["no mastership log"] = true
			}
			for i, ev := range d.Events {
				switch ev.Kind {
				case EventSwitchover:
					kinds["switchover"] = true
				case EventReboot:
					if ev.Reason != "" {
						kinds["reboot reason"] = true
					}
				}
				if ev.Kind != EventLog {
					continue
				}
				if ev.Text != "" {
					if ev.Cite == "" && !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, ev.Text) }) && haveSamples {
						t.Errorf("%s: %s events[%d]: text %q is in no cited sample and cites no documentation", name, d.Name, i, ev.Text)
					}
					if ev.Cite != "" {
						kinds["documented shape"] = true
					}
				}
				for _, l := range ev.Lines {
					if haveSamples && !slices.Contains(lines, l) {
						t.Errorf("%s: %s events[%d]: %q is not a line of the cited samples %v", name, d.Name, i, l, cited)
					}
				}
			}
		}
	}
	if !haveSamples {
		t.Log(junossamples.SkipUnattributed + ": the quoted lines were not checked against the samples")
	}
	for _, c := range []devices.Cause{devices.CauseHardware, devices.CauseNetwork, devices.CauseSoftware, devices.CauseConfiguration, devices.CauseUnknown} {
		if !causes[c] {
			t.Errorf("no story expects cause %s", c)
		}
	}
	for _, p := range []string{"dual", "mx-vc", "ex-vc", "srx-cluster", "ptx", "single"} {
		if !platforms[p] {
			t.Errorf("no story on the %s platform", p)
		}
	}
	for _, k := range []string{"healthy", "maintenance", "maintenance window", "silence", "switchover", "reboot reason", "no mastership log", "documented shape"} {
		if !kinds[k] {
			t.Errorf("no story of kind %q", k)
		}
	}
	for _, s := range []string{"OK", "WARNING", "CRITICAL"} {
		if !states[s] {
			t.Errorf("no story expects state %s", s)
		}
	}
}
