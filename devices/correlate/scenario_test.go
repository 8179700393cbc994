package correlate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices"
)

// The labelled suite: testdata/scenarios/*.yaml, one device history each
// with the findings an operator would expect. The format is documented in
// testdata/scenarios/README.md.

type scenario struct {
	Description string                  `yaml:"description"`
	Device      string                  `yaml:"device"`
	LogOffset   yamlSpan                `yaml:"log_offset"` // the device's UTC offset, for checking line clocks
	Settings    *scenarioSettings       `yaml:"settings"`
	Fleet       map[string]scenarioConf `yaml:"fleet"`
	Polls       []scenarioPoll          `yaml:"polls"`
	// ExpectTransitions is the number of merged transitions, when given.
	ExpectTransitions *int              `yaml:"expect_transitions"`
	Expect            []scenarioFinding `yaml:"expect"`
}

type scenarioSettings struct {
	FlapMin        *int      `yaml:"flap_min"`
	FlapWindow     *yamlSpan `yaml:"flap_window"`
	EvidenceWindow *yamlSpan `yaml:"evidence_window"`
	CommitLookback *yamlSpan `yaml:"commit_lookback"`
	MergeTolerance *yamlSpan `yaml:"merge_tolerance"`
}

type scenarioPoll struct {
	At           time.Time       `yaml:"at"`
	DeviceTime   *time.Time      `yaml:"device_time"`
	RouteEngines []scenarioRE    `yaml:"route_engines"`
	Alarms       []scenarioAlarm `yaml:"alarms"`
	Logs         []scenarioLog   `yaml:"logs"`
	Config       *scenarioConf   `yaml:"config"`
}

type scenarioRE struct {
	Name   string     `yaml:"name"`
	Member string     `yaml:"member"`
	Slot   *int       `yaml:"slot"`
	State  string     `yaml:"state"`
	Status string     `yaml:"status"`
	Up     *yamlSpan  `yaml:"up"`
	Booted *time.Time `yaml:"booted"`
	Reason string     `yaml:"reason"`
}

type scenarioAlarm struct {
	Time        time.Time `yaml:"time"`
	Class       string    `yaml:"class"`
	Type        string    `yaml:"type"`
	Description string    `yaml:"description"`
	Source      string    `yaml:"source"`
	Member      string    `yaml:"member"`
}

type scenarioLog struct {
	Time    time.Time `yaml:"time"`
	Kind    string    `yaml:"kind"`
	RE      string    `yaml:"re"`
	Change  string    `yaml:"change"`
	Subject string    `yaml:"subject"`
	Class   string    `yaml:"class"`
	File    string    `yaml:"file"`
	Host    string    `yaml:"host"`
	Tag     string    `yaml:"tag"`
	Message string    `yaml:"message"`
	Line    string    `yaml:"line"`
}

type scenarioConf struct {
	GracefulSwitchover         bool     `yaml:"graceful_switchover"`
	KeepaliveTime              yamlSpan `yaml:"keepalive_time"`
	FailoverOnLossOfKeepalives bool     `yaml:"failover_on_loss_of_keepalives"`
	FailoverOnDiskFailure      bool     `yaml:"failover_on_disk_failure"`
	CommitSynchronize          bool     `yaml:"commit_synchronize"`
	NonstopRouting             bool     `yaml:"nonstop_routing"`
}

type scenarioFinding struct {
	RE          string   `yaml:"re"`
	Cause       string   `yaml:"cause"`
	Severity    string   `yaml:"severity"`
	Transitions int      `yaml:"transitions"`
	OtherCauses []string `yaml:"other_causes"`
	Remedy      string   `yaml:"remedy"`   // a substring of the remedy
	Evidence    []string `yaml:"evidence"` // substrings, each in some evidence line
	NoEvidence  []string `yaml:"no_evidence"`
}

// yamlSpan is a duration written as Go writes it ("90s", "4h43m") with
// an optional leading day count, as Junos writes up-times ("9d22h").
type yamlSpan time.Duration

func (s *yamlSpan) UnmarshalYAML(n *yaml.Node) error {
	d, err := parseSpan(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = yamlSpan(d)
	return nil
}

func parseSpan(v string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(v, 'd'); i > 0 {
		n, err := strconv.Atoi(v[:i])
		if err != nil {
			return 0, fmt.Errorf("span %q: %w", v, err)
		}
		days, v = time.Duration(n)*24*time.Hour, v[i+1:]
	}
	if v == "" {
		return days, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("span: %w", err)
	}
	return days + d, nil
}

// loadScenario reads and checks one scenario file: unknown keys, an
// unknown event kind, a log line whose clock disagrees with its time, or
// an RE with both up and booted are errors, so the suite cannot quietly
// test something other than what it says.
func loadScenario(path string) (*scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var sc scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if sc.Device == "" || sc.Description == "" || len(sc.Polls) == 0 {
		return nil, fmt.Errorf("%s: device, description and polls are required", path)
	}
	kinds := []devices.EventKind{
		devices.EventAliveSet, devices.EventMastership, devices.EventKeepaliveLoss, devices.EventIPCLoss,
		devices.EventAlarmSet, devices.EventAlarmCleared, devices.EventFRU, devices.EventInternalLink,
		devices.EventLinkFlap, devices.EventCommit, devices.EventCoreDump, devices.EventPanic,
	}
	for i, p := range sc.Polls {
		if i > 0 && !p.At.After(sc.Polls[i-1].At) {
			return nil, fmt.Errorf("%s: poll %d at %v is not after the one before", path, i+1, p.At)
		}
		for _, r := range p.RouteEngines {
			if r.Up != nil && r.Booted != nil {
				return nil, fmt.Errorf("%s: poll %d: %s has both up and booted", path, i+1, r.Name)
			}
		}
		for _, l := range p.Logs {
			if !slices.Contains(kinds, devices.EventKind(l.Kind)) {
				return nil, fmt.Errorf("%s: poll %d: unknown event kind %q", path, i+1, l.Kind)
			}
			if l.Time.After(p.deviceTime()) {
				return nil, fmt.Errorf("%s: poll %d: line at %v is after the poll", path, i+1, l.Time)
			}
			if clock := lineClock(l.Line); clock != "" {
				want := l.Time.Add(time.Duration(sc.LogOffset)).UTC().Format("15:04:05")
				if clock != want {
					return nil, fmt.Errorf("%s: poll %d: line says %s, its time %v says %s: %q", path, i+1, clock, l.Time, want, l.Line)
				}
			}
		}
	}
	return &sc, nil
}

// lineClock is the first HH:MM:SS in a log line, "" if none.
func lineClock(s string) string {
	for i := 0; i+8 <= len(s); i++ {
		c := s[i : i+8]
		if isDigits(c[0:2]) && c[2] == ':' && isDigits(c[3:5]) && c[5] == ':' && isDigits(c[6:8]) && (i == 0 || !isDigits(s[i-1:i])) {
			return c
		}
	}
	return ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (p scenarioPoll) deviceTime() time.Time {
	if p.DeviceTime != nil {
		return p.DeviceTime.UTC()
	}
	return p.At.UTC()
}

func (sc *scenario) settings() Settings {
	s := DefaultSettings()
	if o := sc.Settings; o != nil {
		if o.FlapMin != nil {
			s.FlapMin = *o.FlapMin
		}
		for _, f := range []struct {
			from *yamlSpan
			to   *time.Duration
		}{{o.FlapWindow, &s.FlapWindow}, {o.EvidenceWindow, &s.EvidenceWindow}, {o.CommitLookback, &s.CommitLookback}, {o.MergeTolerance, &s.MergeTolerance}} {
			if f.from != nil {
				*f.to = time.Duration(*f.from)
			}
		}
	}
	return s
}

func (c scenarioConf) config() devices.RedundancyConfig {
	return devices.RedundancyConfig{
		Known: true, GracefulSwitchover: c.GracefulSwitchover, KeepaliveTime: time.Duration(c.KeepaliveTime),
		FailoverOnLossOfKeepalives: c.FailoverOnLossOfKeepalives, FailoverOnDiskFailure: c.FailoverOnDiskFailure,
		CommitSynchronize: c.CommitSynchronize, NonstopRouting: c.NonstopRouting,
	}
}

func (sc *scenario) snapshot(p scenarioPoll) *devices.Snapshot {
	now := p.deviceTime()
	s := &devices.Snapshot{Device: sc.Device, PolledAt: p.At.UTC(), DeviceTime: now}
	for _, r := range p.RouteEngines {
		x := devices.RouteEngine{Name: r.Name, Member: r.Member, Slot: r.Slot, MastershipState: r.State, Status: r.Status, LastRebootReason: r.Reason}
		switch {
		case r.Up != nil:
			x.UpTime = durp(time.Duration(*r.Up))
		case r.Booted != nil:
			x.UpTime = durp(now.Sub(*r.Booted))
		}
		s.RouteEngines = append(s.RouteEngines, x)
	}
	for _, a := range p.Alarms {
		source := devices.AlarmChassis
		if a.Source != "" {
			source = devices.AlarmSource(a.Source)
		}
		s.Alarms = append(s.Alarms, devices.Alarm{Source: source, Member: a.Member, Time: a.Time.UTC(), Class: a.Class, Type: a.Type, Description: a.Description})
	}
	if p.Config != nil {
		c := p.Config.config()
		s.Config = &c
	}
	return s
}

func (sc *scenario) events(p scenarioPoll) []devices.Event {
	var out []devices.Event
	for _, l := range p.Logs {
		file := l.File
		if file == "" {
			file = "messages"
		}
		out = append(out, devices.Event{
			Device: sc.Device, Kind: devices.EventKind(l.Kind), Time: l.Time.UTC(), RE: l.RE, Change: l.Change,
			Subject: l.Subject, Class: l.Class, Rule: "scenario",
			Line: devices.LogLine{File: file, Raw: l.Line, Time: l.Time.UTC(), Host: l.Host, Tag: l.Tag, Message: l.Message, Parsed: true},
		})
	}
	return out
}

// replay runs a scenario through the pipeline the agent runs: per poll,
// TableTransitions against the last poll with RE data, EventTransitions
// on the lines read at that poll, UpdateAlarms; then Drift over the fleet
// and Findings over the whole history.
func (sc *scenario) replay() (History, []devices.Transition, Settings) {
	s := sc.settings()
	var h History
	var last *devices.Snapshot
	var config *devices.RedundancyConfig
	for _, p := range sc.Polls {
		cur := sc.snapshot(p)
		evs := sc.events(p)
		h.Transitions = append(h.Transitions, TableTransitions(last, cur)...)
		if len(cur.RouteEngines) > 0 {
			last = cur
		}
		h.Transitions = append(h.Transitions, EventTransitions(evs, cur.RouteEngines)...)
		h.Alarms = UpdateAlarms(h.Alarms, cur.Alarms, cur.PolledAt, evs)
		for i := range h.Alarms {
			if h.Alarms[i].Device == "" {
				h.Alarms[i].Device = sc.Device
			}
		}
		h.Events = append(h.Events, evs...)
		if cur.Config != nil {
			config = cur.Config
		}
	}
	if config != nil && len(sc.Fleet) > 0 {
		fleet := map[string]devices.RedundancyConfig{sc.Device: *config}
		for name, c := range sc.Fleet {
			fleet[name] = c.config()
		}
		h.ConfigDrift = Drift(fleet)[sc.Device]
	}
	return h, MergeTransitions(h.Transitions, s.MergeTolerance), s
}

func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 24 {
		t.Fatalf("%d scenarios, want at least 24", len(paths))
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			sc, err := loadScenario(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := sc.settings().Validate(); err != nil {
				t.Fatalf("settings: %v", err)
			}
			h, merged, s := sc.replay()
			got := Findings(sc.Device, h, s)
			defer func() {
				// CORRELATE_DUMP=1 go test -run TestScenarios -v shows the reasoning of passing scenarios too.
				if t.Failed() || os.Getenv("CORRELATE_DUMP") != "" {
					t.Logf("scenario: %s", strings.TrimSpace(sc.Description))
					for _, tr := range merged {
						t.Logf("transition %s %s %s→%s %v %q", tr.Time.Format(time.RFC3339), tr.RE, tr.From, tr.To, tr.Sources, tr.Evidence)
					}
					for _, f := range got {
						t.Logf("finding %s %s %s %d %s..%s others %v\n  remedy %s\n  evidence %q\n  alarms %v", f.RE, f.Cause, f.Severity, f.Transitions, stamp(f.First), stamp(f.Last), f.OtherCauses, f.Remedy, f.Evidence, f.Alarms)
					}
				}
			}()
			if sc.ExpectTransitions != nil && len(merged) != *sc.ExpectTransitions {
				t.Errorf("%d merged transitions, want %d", len(merged), *sc.ExpectTransitions)
			}
			if len(got) != len(sc.Expect) {
				t.Fatalf("%d findings, want %d", len(got), len(sc.Expect))
			}
			for i, want := range sc.Expect {
				f := got[i]
				var others []string
				for _, c := range f.OtherCauses {
					others = append(others, string(c))
				}
				if f.RE != want.RE || string(f.Cause) != want.Cause || string(f.Severity) != want.Severity || f.Transitions != want.Transitions || !slices.Equal(others, want.OtherCauses) {
					t.Errorf("finding %d: %s %s %s %d others %v, want %s %s %s %d others %v", i+1,
						f.RE, f.Cause, f.Severity, f.Transitions, others,
						want.RE, want.Cause, want.Severity, want.Transitions, want.OtherCauses)
				}
				if !strings.Contains(f.Remedy, want.Remedy) {
					t.Errorf("finding %d: remedy %q lacks %q", i+1, f.Remedy, want.Remedy)
				}
				all := strings.Join(f.Evidence, "\n")
				for _, e := range want.Evidence {
					if !strings.Contains(all, e) {
						t.Errorf("finding %d: evidence lacks %q", i+1, e)
					}
				}
				for _, e := range want.NoEvidence {
					if strings.Contains(all, e) {
						t.Errorf("finding %d: evidence has %q, which is outside the window or noise", i+1, e)
					}
				}
				if f.Device != sc.Device || f.First.After(f.Last) || f.Remedy == "" {
					t.Errorf("finding %d: %+v", i+1, f)
				}
			}

			// The same history in any order judges the same.
			for i := range 5 {
				r := rand.New(rand.NewPCG(uint64(i), 4))
				g := History{Transitions: slices.Clone(h.Transitions), Events: slices.Clone(h.Events), Alarms: slices.Clone(h.Alarms), ConfigDrift: h.ConfigDrift}
				r.Shuffle(len(g.Transitions), func(a, b int) { g.Transitions[a], g.Transitions[b] = g.Transitions[b], g.Transitions[a] })
				r.Shuffle(len(g.Events), func(a, b int) { g.Events[a], g.Events[b] = g.Events[b], g.Events[a] })
				r.Shuffle(len(g.Alarms), func(a, b int) { g.Alarms[a], g.Alarms[b] = g.Alarms[b], g.Alarms[a] })
				if again := Findings(sc.Device, g, s); !reflect.DeepEqual(again, got) {
					t.Fatalf("shuffled history judged differently")
				}
			}
		})
	}
}

func TestLoadScenarioRejects(t *testing.T) {
	tests := map[string]string{
		"unknown key": "description: x\ndevice: d\npolls:\n  - at: 2026-03-14T10:00:00Z\n    colour: red\n",
		"unknown kind": "description: x\ndevice: d\npolls:\n  - at: 2026-03-14T10:00:00Z\n    logs:\n" +
			"      - {time: 2026-03-14T09:59:00Z, kind: weather, line: x}\n",
		"line clock disagrees": "description: x\ndevice: d\npolls:\n  - at: 2026-03-14T10:00:00Z\n    logs:\n" +
			"      - {time: 2026-03-14T09:59:00Z, kind: commit, line: \"Mar 14 09:58:00 r mgd[1]: UI_COMMIT\"}\n",
		"polls out of order": "description: x\ndevice: d\npolls:\n  - at: 2026-03-14T10:00:00Z\n  - at: 2026-03-14T09:00:00Z\n",
		"up and booted": "description: x\ndevice: d\npolls:\n  - at: 2026-03-14T10:00:00Z\n    route_engines:\n" +
			"      - {name: re0, up: 1h, booted: 2026-03-14T09:00:00Z}\n",
		"bad span": "description: x\ndevice: d\nlog_offset: 7x\npolls:\n  - at: 2026-03-14T10:00:00Z\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.yaml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := loadScenario(path); err == nil {
				t.Fatalf("loaded, want an error")
			}
		})
	}
}
