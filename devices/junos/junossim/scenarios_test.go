package junossim

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func scenarioFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("%d scenario files, want at least 20", len(files))
	}
	return files
}

// TestScenarioFilesAreWellFormed loads every scenario: valid, a story in a
// comment at the top, polls to audit at, and an expect block on every
// device.
func TestScenarioFilesAreWellFormed(t *testing.T) {
	causes := map[devices.Cause]int{}
	for _, f := range scenarioFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(raw, []byte("# ")) || bytes.Count(raw, []byte("\n# ")) < 2 {
				t.Error("the story is not told in a comment at the top")
			}
			sc, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Polls) < 2 || sc.StartTime.IsZero() {
				t.Errorf("polls %v, start_time %v", sc.Polls, sc.StartTime)
			}
			for _, d := range sc.Devices {
				if d.Expect == nil {
					t.Errorf("%s has no expect block (write expect: [] for a healthy router)", d.Name)
				}
				for _, e := range d.Expect {
					causes[e.Cause]++
				}
			}
		})
	}
	for _, c := range []devices.Cause{devices.CauseHardware, devices.CauseNetwork, devices.CauseSoftware,
		devices.CauseConfiguration, devices.CauseUnknown} {
		if causes[c] == 0 {
			t.Errorf("no scenario expects cause %s", c)
		}
	}
}

// step is how finely TestScenarioStories watches the routers.
const step = 10 * time.Second

type transition struct {
	at           time.Time
	masterChange bool
	// aliveChange: the RE entered or left the alive set (a planned
	// switchover never does).
	aliveChange bool
}

type stamped struct {
	at   time.Time
	file string
	line string
}

// TestScenarioStories runs every scenario and checks that it tells the
// story its expect block claims, by the rules of docs/domain.md: a flap is two
// or more transitions of one RE within an hour; it is critical with a
// master change or a Major alarm, else a warning; its cause is the most
// specific evidence within 5 minutes of its transitions (hardware, then
// software, then network, then configuration), else unknown. The check
// watches the simulator itself (the RE state every 10 s, every log line)
// rather than polls, so it proves the scenario, not the agent; every log
// line must also have a real shape.
func TestScenarioStories(t *testing.T) {
	for _, f := range scenarioFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			devs, err := sc.Resolved()
			if err != nil {
				t.Fatal(err)
			}
			fleetConfig := majorityConfig(devs)
			for _, d := range devs {
				runStory(t, sc, d, fleetConfig)
			}
		})
	}
}

func majorityConfig(devs []Device) map[devices.RedundancyConfig]int {
	count := map[devices.RedundancyConfig]int{}
	for _, d := range devs {
		if d.Topology == TopologyDual || d.Topology == TopologyMXVC {
			count[d.Redundancy.apply(builtinRedundancy(d.Topology))]++
		}
	}
	return count
}

func runStory(t *testing.T, sc Scenario, d Device, fleetConfig map[devices.RedundancyConfig]int) {
	t.Helper()
	on := true
	d.AliveSetLog = &on // the check reads the RE state, not these lines
	clock := NewClock(sc.ClockStart())
	r, err := NewRouter(d, sc.Seed, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		alive, master bool
		boot          time.Time
	}
	prev := map[string]seen{}
	trans := map[string][]transition{}
	var majors []devices.Alarm
	var lines []stamped
	have := map[string]bool{}
	end := sc.Polls[len(sc.Polls)-1]
	for off := time.Duration(0); off <= end; off += step {
		clock.Set(sc.ClockStart().Add(off))
		now := clock.Now()
		for _, st := range r.REs() {
			cur := seen{alive: (&reState{REState: st}).alive(), master: (&reState{REState: st}).IsMaster(), boot: st.BootTime}
			p, ok := prev[st.Name]
			prev[st.Name] = cur
			if !ok {
				continue
			}
			mc := p.master != cur.master
			switch {
			case !p.boot.Equal(cur.boot) && p.alive && cur.alive:
				// A reboot between two looks: out and back in.
				trans[st.Name] = append(trans[st.Name], transition{at: cur.boot, masterChange: mc}, transition{at: cur.boot})
			case p.alive != cur.alive || mc:
				trans[st.Name] = append(trans[st.Name], transition{at: now, masterChange: mc, aliveChange: p.alive != cur.alive})
			}
		}
		for _, a := range r.Alarms() {
			if a.IsMajor() && !slices.ContainsFunc(majors, func(m devices.Alarm) bool { return m == a }) {
				majors = append(majors, a)
			}
		}
		for _, file := range []string{LogMessages, LogMastership} {
			ls, _ := r.Log(file)
			for _, l := range ls {
				if have[file+l] {
					continue
				}
				have[file+l] = true
				if lineShape(file, l) == "" {
					t.Errorf("%s: %s line of no known shape: %q", d.Name, file, l)
				}
				lines = append(lines, stamped{at: lineTime(t, l, now, r.loc), file: file, line: l})
			}
		}
	}

	var got []Expectation
	for _, name := range reNames(d.Topology) {
		ts := trans[name]
		first, last, ok := flapSpan(ts)
		if !ok {
			continue
		}
		// The switchover ledger: a flap made only of master changes an
		// operator asked for (a switchover command up to 5 minutes
		// before each) is planned, not a finding.
		if !slices.ContainsFunc(ts, func(tr transition) bool { return !plannedChange(tr, lines) }) {
			continue
		}
		sev := devices.SeverityWarning
		for _, tr := range ts {
			if tr.masterChange {
				sev = devices.SeverityCritical
			}
		}
		lo, hi := first.Add(-5*time.Minute), last.Add(5*time.Minute)
		for _, a := range majors {
			if !a.Time.Before(lo) && !a.Time.After(hi) {
				sev = devices.SeverityCritical
			}
		}
		cause := classify(lines, lo, hi, r, d, fleetConfig)
		got = append(got, Expectation{RE: name, Cause: cause, Severity: sev})
	}
	want := slices.Clone(d.Expect)
	key := func(a, b Expectation) int { return strings.Compare(a.RE, b.RE) }
	slices.SortFunc(got, key)
	slices.SortFunc(want, key)
	if !slices.Equal(got, want) {
		t.Errorf("%s: the story shows %+v, expect says %+v", d.Name, got, want)
	}
}

var switchoverCommandLine = regexp.MustCompile(`UI_CMDLINE_READ_LINE: .*command 'request chassis routing-engine master (acquire|release|switch)( [a-z-]+)* ?'|event = E_CMD_[ARSF]\b`)

// plannedChange: a master change, the RE staying in the alive set, with a
// switchover command at most 5 minutes before it.
func plannedChange(tr transition, lines []stamped) bool {
	if !tr.masterChange || tr.aliveChange {
		return false
	}
	return slices.ContainsFunc(lines, func(l stamped) bool {
		return !l.at.After(tr.at) && tr.at.Sub(l.at) <= 5*time.Minute && switchoverCommandLine.MatchString(l.line) &&
			!strings.Contains(l.line, "switch check")
	})
}

// flapSpan finds two or more transitions within an hour.
func flapSpan(ts []transition) (first, last time.Time, ok bool) {
	for i := range ts {
		for j := len(ts) - 1; j > i; j-- {
			if ts[j].at.Sub(ts[i].at) <= time.Hour {
				return ts[i].at, ts[j].at, true
			}
		}
	}
	return time.Time{}, time.Time{}, false
}

var (
	symptomAlarm = regexp.MustCompile(`Loss of communication with Backup RE|Backup RE Active`)
	hardwareLine = regexp.MustCompile(`alarmd\[\d+\]: Alarm set|CHASSISD_`)
	softwareLine = regexp.MustCompile(`dumpd\[\d+\]: Core|/kernel: panic:`)
	networkLine  = regexp.MustCompile(`/kernel: em\d|ifName em\d|rdp keepalive expired|failed to receive keepalives|E_NO_IPC`)
	commitLine   = regexp.MustCompile(`UI_COMMIT:`)
)

func classify(lines []stamped, lo, hi time.Time, r *Router, d Device, fleetConfig map[devices.RedundancyConfig]int) devices.Cause {
	has := map[devices.Cause]bool{}
	for _, l := range lines {
		if l.at.Before(lo) || l.at.After(hi) {
			continue
		}
		switch {
		case hardwareLine.MatchString(l.line) && !symptomAlarm.MatchString(l.line):
			has[devices.CauseHardware] = true
		case softwareLine.MatchString(l.line):
			has[devices.CauseSoftware] = true
		case networkLine.MatchString(l.line):
			has[devices.CauseNetwork] = true
		case commitLine.MatchString(l.line):
			has[devices.CauseConfiguration] = true
		}
	}
	if (d.Topology == TopologyDual || d.Topology == TopologyMXVC) && len(fleetConfig) > 1 {
		mine := r.Redundancy()
		for c, n := range fleetConfig {
			if n > fleetConfig[mine] && c != mine {
				has[devices.CauseConfiguration] = true
			}
		}
	}
	for _, c := range []devices.Cause{devices.CauseHardware, devices.CauseSoftware, devices.CauseNetwork, devices.CauseConfiguration} {
		if has[c] {
			return c
		}
	}
	return devices.CauseUnknown
}

// lineTime reads a line's timestamp in the router's zone, taking the year
// from now as the agent must: a date after now belongs to last year.
func lineTime(t *testing.T, line string, now time.Time, loc *time.Location) time.Time {
	t.Helper()
	if len(line) < len(stampLayout) {
		t.Fatalf("short line %q", line)
	}
	local := now.In(loc)
	ts, err := time.ParseInLocation("2006 "+stampLayout, itoa(int64(local.Year()))+" "+line[:len(stampLayout)], loc)
	if err != nil {
		t.Fatalf("timestamp of %q: %v", line, err)
	}
	if ts.After(now.Add(24 * time.Hour)) {
		ts = ts.AddDate(-1, 0, 0)
	}
	return ts
}

// TestDemoStories checks the demo routers whose stories happened before
// the demo starts: replayed from an hour and ten minutes earlier, each
// shows the finding an audit at the start should report.
func TestDemoStories(t *testing.T) {
	want := map[string][]Expectation{
		"lon1-mx960-3": {{RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical}},
		"fra1-mx480-2": {{RE: "re1", Cause: devices.CauseNetwork, Severity: devices.SeverityWarning}},
		"nyc3-mx960-2": {{RE: "re1", Cause: devices.CauseSoftware, Severity: devices.SeverityWarning}},
		"par2-mx960-2": {{RE: "re1", Cause: devices.CauseConfiguration, Severity: devices.SeverityWarning}},
	}
	demo := DemoScenario()
	devs, err := demo.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	const shift = 70 * time.Minute
	replay := Scenario{Seed: demo.Seed, Polls: []time.Duration{0, shift}}
	fleet := majorityConfig(devs)
	found := 0
	for _, d := range devs {
		past := slices.ContainsFunc(d.Events, func(e Event) bool { return e.At < 0 })
		exp, ok := want[d.Name]
		if past != ok {
			t.Errorf("%s: events before the start = %v, want %v", d.Name, past, ok)
		}
		if !ok {
			continue
		}
		found++
		d.Events = slices.Clone(d.Events)
		for i := range d.Events {
			d.Events[i].At += shift
		}
		d.Expect = exp
		runStory(t, replay, d, fleet)

		// And at the start itself the logs already hold the story.
		clock := NewClock(replay.ClockStart())
		orig, _ := DemoScenario().Resolved()
		r, err := NewRouter(orig[slices.IndexFunc(orig, func(o Device) bool { return o.Name == d.Name })], demo.Seed, clock.Now, nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := r.Log(LogMessages)
		ms, _ := r.Log(LogMastership)
		if len(msgs)+len(ms) < 6 {
			t.Errorf("%s: at the start the logs hold only %q %q", d.Name, msgs, ms)
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d demo stories", found, len(want))
	}
}
