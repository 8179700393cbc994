package junossim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mastership/mastership/devices"
)

// Topology names how a router's Routing Engines are arranged.
type Topology string

const (
	// TopologySingle is one RE with no slot or mastership elements, like an
	// MX204 or MX80 (MANIFEST pitfall 7).
	TopologySingle Topology = "single"
	// TopologyDual is re0 and re1 in a plain reply.
	TopologyDual Topology = "dual"
	// TopologyMXVC is an MX Virtual Chassis: member0 and member1 with two
	// REs each, wrapped in multi-routing-engine-results.
	TopologyMXVC Topology = "mx-vc"
	// TopologySRXCluster is an SRX chassis cluster: node0 and node1, one RE
	// each, with no slot and no mastership-state, as the real capture.
	TopologySRXCluster Topology = "srx-cluster"
)

// Scenario is a simulated fleet: defaults plus one entry per router. See the
// package documentation for the YAML form.
type Scenario struct {
	// Seed varies the generated details (up-times, serial numbers) so that
	// two fleets with the same names need not look identical.
	Seed     int64    `yaml:"seed,omitempty"`
	Defaults Defaults `yaml:"defaults,omitempty"`
	Devices  []Device `yaml:"devices"`
}

// Defaults apply to every device that leaves the field empty. Faults and
// Tags are replaced as a whole, not merged, when a device sets them.
type Defaults struct {
	Model    string   `yaml:"model,omitempty"`
	Version  string   `yaml:"version,omitempty"`
	Topology Topology `yaml:"topology,omitempty"`
	Framing  string   `yaml:"framing,omitempty"`
	Timezone string   `yaml:"timezone,omitempty"`
	Site     string   `yaml:"site,omitempty"`
	Tags     []string `yaml:"tags,omitempty,flow"`
	Faults   *Faults  `yaml:"faults,omitempty"`
}

// Device is one simulated router in a scenario.
type Device struct {
	Name     string   `yaml:"name"`
	Model    string   `yaml:"model,omitempty"`   // "mx960", "mx204", "srx4600", ...
	Version  string   `yaml:"version,omitempty"` // "21.4R3-S5.4"
	Topology Topology `yaml:"topology,omitempty"`
	// Framing is "1.0" (end-of-message ]]>]]>) or "1.1" (chunked).
	Framing string `yaml:"framing,omitempty"`
	// Timezone is an IANA zone for the text of start-time and alarm-time,
	// because real replies carry local abbreviations (PST, CET, MSK).
	Timezone string            `yaml:"timezone,omitempty"`
	Site     string            `yaml:"site,omitempty"`
	Tags     []string          `yaml:"tags,omitempty,flow"`
	REStates map[string]RESpec `yaml:"re_states,omitempty"`
	Alarms   []AlarmSpec       `yaml:"alarms,omitempty"`
	Events   []Event           `yaml:"events,omitempty"`
	Faults   *Faults           `yaml:"faults,omitempty"`
}

// RESpec overrides the initial state of one Routing Engine, keyed by its
// name (re0, re1, member1-re0, node1).
type RESpec struct {
	// Status is rendered as given ("OK", "Testing", "Failed"), except
	// "absent", which leaves the RE out of the reply altogether.
	Status string `yaml:"status,omitempty"`
	// MastershipState is rendered as given: "master", "backup", "Present".
	MastershipState string `yaml:"mastership_state,omitempty"`
	// UpTime is the RE's up-time when the simulation starts.
	UpTime           time.Duration `yaml:"up_time,omitempty"`
	LastRebootReason string        `yaml:"last_reboot_reason,omitempty"`
}

// AlarmSpec is an alarm active from SetAfter on.
type AlarmSpec struct {
	// Source is the RPC that reports the alarm: chassis (default) or system.
	Source devices.AlarmSource `yaml:"source,omitempty"`
	// Member is the multi-routing-engine item (member0, node1) that reports
	// it; empty means the first member. Ignored for single and dual.
	Member           string `yaml:"member,omitempty"`
	Class            string `yaml:"class"` // Major, Minor
	Type             string `yaml:"type"`  // Chassis, Configuration, System, ...
	Description      string `yaml:"description"`
	ShortDescription string `yaml:"short_description,omitempty"`
	// SetAfter is when the alarm is raised, from the start of the
	// simulation. Zero or negative means active from the start, with an
	// alarm-time that many seconds before it.
	SetAfter time.Duration `yaml:"set_after,omitempty"`
}

// EventKind is what a timeline event does.
type EventKind string

const (
	EventSwitchover EventKind = "switchover"  // master and backup of re's pair swap
	EventREDown     EventKind = "re-down"     // re goes away (absent, or Status)
	EventREUp       EventKind = "re-up"       // re comes back, freshly booted
	EventReboot     EventKind = "reboot"      // re reboots; a master hands over first
	EventAlarmSet   EventKind = "alarm-set"   // raise the alarm described
	EventAlarmClear EventKind = "alarm-clear" // clear alarms with Description
)

var eventKinds = []EventKind{EventSwitchover, EventREDown, EventREUp, EventReboot, EventAlarmSet, EventAlarmClear}

// Event is one state change at a moment of the simulation.
type Event struct {
	// At is the offset from the start of the simulation.
	At   time.Duration `yaml:"at"`
	Kind EventKind     `yaml:"kind"`
	// RE names the Routing Engine for switchover (either RE of the pair;
	// empty: the pair of the first master), re-down, re-up and reboot.
	RE string `yaml:"re,omitempty"`
	// Reason is the new last-reboot-reason for reboot and re-up.
	Reason string `yaml:"reason,omitempty"`
	// Status is what re-down leaves behind: "absent" (default: missing from
	// the reply) or a status to render, such as "Failed".
	Status string `yaml:"status,omitempty"`
	// Alarm fields, for alarm-set and alarm-clear (which matches on
	// Description, and on Source and Member when given).
	Source           devices.AlarmSource `yaml:"source,omitempty"`
	Member           string              `yaml:"member,omitempty"`
	Class            string              `yaml:"class,omitempty"`
	Type             string              `yaml:"type,omitempty"`
	Description      string              `yaml:"description,omitempty"`
	ShortDescription string              `yaml:"short_description,omitempty"`
}

// Faults make a device misbehave the way real networks do.
type Faults struct {
	// Refuse: nothing listens on the device's port; connects get
	// ECONNREFUSED.
	Refuse bool `yaml:"refuse,omitempty"`
	// RejectAuth: SSH authentication always fails.
	RejectAuth bool `yaml:"reject_auth,omitempty"`
	// WrongHostKey: the written known_hosts holds a different key from the
	// one the server presents, as after an RE replacement.
	WrongHostKey bool `yaml:"wrong_host_key,omitempty"`
	// HangAfterHello: the server sends its hello and then never answers.
	HangAfterHello bool `yaml:"hang_after_hello,omitempty"`
	// StallMidReply: replies stop half way.
	StallMidReply bool `yaml:"stall_mid_reply,omitempty"`
	// SilentAfterAccept: TCP accepts but SSH never starts.
	SilentAfterAccept bool `yaml:"silent_after_accept,omitempty"`
	// Latency delays every reply.
	Latency time.Duration `yaml:"latency,omitempty"`
}

// Names of the REs of each topology, in reply order.
func reNames(t Topology) []string {
	switch t {
	case TopologySingle:
		return []string{"re0"}
	case TopologyDual:
		return []string{"re0", "re1"}
	case TopologyMXVC:
		return []string{"member0-re0", "member0-re1", "member1-re0", "member1-re1"}
	case TopologySRXCluster:
		return []string{"node0", "node1"}
	}
	return nil
}

// members returns the multi-routing-engine item names, or nil for a plain
// reply.
func members(t Topology) []string {
	switch t {
	case TopologyMXVC:
		return []string{"member0", "member1"}
	case TopologySRXCluster:
		return []string{"node0", "node1"}
	}
	return nil
}

// ExpectedREs is the number of Routing Engines a healthy router of the
// topology has; it goes into the inventory as expected_res.
func (t Topology) ExpectedREs() int { return len(reNames(t)) }

// Valid reports whether t is one of the known topologies.
func (t Topology) Valid() bool { return len(reNames(t)) > 0 }

// defaultModel is the chassis a topology gets when the scenario names none.
func defaultModel(t Topology) string {
	switch t {
	case TopologySingle:
		return "mx204"
	case TopologySRXCluster:
		return "srx4600"
	}
	return "mx960"
}

// DefaultVersion is the Junos release of devices that name none.
const DefaultVersion = "21.4R3-S5.4"

// withDefaults returns the device with the scenario defaults and built-in
// defaults filled in.
func (d Device) withDefaults(def Defaults) Device {
	pick := func(v, dv string) string {
		if v != "" {
			return v
		}
		return dv
	}
	d.Topology = Topology(pick(string(d.Topology), string(def.Topology)))
	if d.Topology == "" {
		d.Topology = TopologyDual
	}
	d.Model = pick(d.Model, pick(def.Model, defaultModel(d.Topology)))
	d.Version = pick(d.Version, pick(def.Version, DefaultVersion))
	d.Framing = pick(d.Framing, pick(def.Framing, "1.0"))
	d.Timezone = pick(d.Timezone, def.Timezone)
	d.Site = pick(d.Site, def.Site)
	if d.Tags == nil {
		d.Tags = slices.Clone(def.Tags)
	}
	if d.Faults == nil && def.Faults != nil {
		f := *def.Faults
		d.Faults = &f
	}
	return d
}

// Resolved returns the devices with defaults applied, after validating the
// scenario.
func (sc Scenario) Resolved() ([]Device, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	out := make([]Device, len(sc.Devices))
	for i, d := range sc.Devices {
		out[i] = d.withDefaults(sc.Defaults)
	}
	return out, nil
}

// Validate checks the scenario; errors name the device and field.
func (sc Scenario) Validate() error {
	return sc.validate(func(path string) string { return path })
}

// namePattern keeps device names usable as inventory names, file names and
// log fields.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// validate checks the scenario. where turns a path such as
// "devices[2].events[0]" into the prefix the error starts with, so that
// ParseScenario can say file:line.
func (sc Scenario) validate(where func(path string) string) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where(path), fmt.Sprintf(format, args...)))
	}
	if len(sc.Devices) == 0 {
		bad("devices", "no devices")
	}
	if sc.Defaults.Topology != "" && !sc.Defaults.Topology.Valid() {
		bad("defaults.topology", "unknown topology %q (want single, dual, mx-vc or srx-cluster)", sc.Defaults.Topology)
	}
	seen := make(map[string]int, len(sc.Devices))
	for i, raw := range sc.Devices {
		p := fmt.Sprintf("devices[%d]", i)
		if !namePattern.MatchString(raw.Name) {
			bad(p+".name", "device name %q: want letters, digits, '.', '_' or '-'", raw.Name)
		} else if j, dup := seen[raw.Name]; dup {
			bad(p+".name", "device name %q already used by devices[%d]", raw.Name, j)
		}
		seen[raw.Name] = i
		d := raw.withDefaults(sc.Defaults)
		if !d.Topology.Valid() {
			bad(p+".topology", "unknown topology %q (want single, dual, mx-vc or srx-cluster)", d.Topology)
			continue
		}
		if d.Framing != "1.0" && d.Framing != "1.1" {
			bad(p+".framing", "framing %q: want \"1.0\" or \"1.1\"", d.Framing)
		}
		if d.Timezone != "" {
			if _, err := time.LoadLocation(d.Timezone); err != nil {
				bad(p+".timezone", "timezone %q: %v", d.Timezone, err)
			}
		}
		if strings.ContainsAny(d.Version, " \t\n/<>&\"") || d.Version == "" {
			bad(p+".version", "version %q is not a Junos release name", d.Version)
		}
		names := reNames(d.Topology)
		for re, st := range raw.REStates {
			if !slices.Contains(names, re) {
				bad(p+".re_states."+re, "no RE %q in a %s router (have %s)", re, d.Topology, strings.Join(names, ", "))
			}
			if st.UpTime < 0 {
				bad(p+".re_states."+re+".up_time", "negative up_time")
			}
		}
		mems := members(d.Topology)
		checkMember := func(path, m string) {
			if m != "" && !slices.Contains(mems, m) {
				bad(path, "no member %q in a %s router", m, d.Topology)
			}
		}
		for j, a := range raw.Alarms {
			ap := fmt.Sprintf("%s.alarms[%d]", p, j)
			validAlarm(ap, a.Source, a.Class, a.Description, bad)
			checkMember(ap+".member", a.Member)
		}
		for j, ev := range raw.Events {
			ep := fmt.Sprintf("%s.events[%d]", p, j)
			if ev.At < 0 {
				bad(ep+".at", "negative at")
			}
			switch ev.Kind {
			case EventSwitchover:
				if d.Topology != TopologyDual && d.Topology != TopologyMXVC {
					bad(ep+".kind", "switchover needs a dual or mx-vc router, not %s", d.Topology)
				}
				if ev.RE != "" && !slices.Contains(names, ev.RE) {
					bad(ep+".re", "no RE %q in a %s router", ev.RE, d.Topology)
				}
			case EventREDown, EventREUp, EventReboot:
				if !slices.Contains(names, ev.RE) {
					bad(ep+".re", "%s needs re: one of %s", ev.Kind, strings.Join(names, ", "))
				}
				if ev.Kind == EventREDown && d.Topology == TopologySingle {
					bad(ep+".kind", "re-down on a single-RE router leaves nothing to answer")
				}
			case EventAlarmSet:
				validAlarm(ep, ev.Source, ev.Class, ev.Description, bad)
				checkMember(ep+".member", ev.Member)
			case EventAlarmClear:
				if ev.Description == "" {
					bad(ep+".description", "alarm-clear needs the description of the alarm")
				}
				checkMember(ep+".member", ev.Member)
			default:
				bad(ep+".kind", "unknown event kind %q (want %s)", ev.Kind, joinKinds())
			}
		}
		if f := d.Faults; f != nil && f.Latency < 0 {
			bad(p+".faults.latency", "negative latency")
		}
	}
	return errors.Join(errs...)
}

func joinKinds() string {
	s := make([]string, len(eventKinds))
	for i, k := range eventKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func validAlarm(path string, src devices.AlarmSource, class, desc string, bad func(string, string, ...any)) {
	if src != "" && src != devices.AlarmChassis && src != devices.AlarmSystem {
		bad(path+".source", "alarm source %q: want chassis or system", src)
	}
	if class == "" {
		bad(path+".class", "alarm needs a class (Major, Minor)")
	}
	if desc == "" {
		bad(path+".description", "alarm needs a description")
	}
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(data, path)
}

// ParseScenario parses and validates a scenario. Unknown keys are errors
// (a misspelt fault would otherwise silently make a healthy router);
// every error starts with filename:line.
func ParseScenario(data []byte, filename string) (Scenario, error) {
	if filename == "" {
		filename = "scenario"
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Scenario{}, fmt.Errorf("%s: empty scenario: no devices", filename)
		}
		return Scenario{}, fmt.Errorf("%s: %w", filename, err)
	}
	lines := map[string]int{}
	var errs []error
	checkKeys(&root, reflect.TypeFor[Scenario](), "", filename, lines, &errs)
	if len(errs) > 0 {
		return Scenario{}, errors.Join(errs...)
	}
	var sc Scenario
	// yaml.v3's Node.Decode cannot be strict; checkKeys above did that.
	if err := root.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", filename, err)
	}
	err := sc.validate(func(path string) string {
		// Walk up the path until a recorded node is found, so an error
		// about a field that was left out points at its device.
		for p := path; ; {
			if l, ok := lines[p]; ok {
				return filename + ":" + strconv.Itoa(l) + ": " + path
			}
			i := strings.LastIndexAny(p, ".[")
			if i < 0 {
				return filename + ": " + path
			}
			p = p[:i]
		}
	})
	if err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// checkKeys rejects mapping keys that name no field of t, reporting
// file:line:column, and records the line of every path it visits.
func checkKeys(n *yaml.Node, t reflect.Type, path, file string, lines map[string]int, errs *[]error) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkKeys(c, t, path, file, lines, errs)
		}
		return
	}
	if path != "" {
		lines[path] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // the decoder reports the type mismatch with its line
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" {
				checkKeys(v, t, path, file, lines, errs)
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s:%d:%d: unknown key %q in %s (known: %s)",
					file, k.Line, k.Column, k.Value, describe(path), strings.Join(sortedKeys(fields), ", ")))
				continue
			}
			checkKeys(v, ft, join(k.Value), file, lines, errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkKeys(n.Content[i+1], t.Elem(), join(n.Content[i].Value), file, lines, errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range n.Content {
			checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), file, lines, errs)
		}
	}
}

func describe(path string) string {
	if path == "" {
		return "the scenario"
	}
	return path
}

// yamlFields maps the YAML keys of a struct to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func sortedKeys(m map[string]reflect.Type) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
