package junossim

import (
	"bytes"
	"context"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/netconf/netconftest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 19, 17, 12, 27, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Tiny local decode structs: tags without a namespace match by local name,
// as the agent's decoders must.
type secText struct {
	Seconds int64  `xml:"seconds,attr"`
	Text    string `xml:",chardata"`
}

type xRE struct {
	Slot      *int    `xml:"slot"`
	State     string  `xml:"mastership-state"`
	Priority  string  `xml:"mastership-priority"`
	Status    string  `xml:"status"`
	Model     string  `xml:"model"`
	Serial    string  `xml:"serial-number"`
	StartTime secText `xml:"start-time"`
	UpTime    secText `xml:"up-time"`
	Reason    string  `xml:"last-reboot-reason"`
	DRAM      string  `xml:"memory-dram-size"`
	SysMem    string  `xml:"memory-system-total"`
	Temp      struct {
		Celsius int    `xml:"celsius,attr"`
		Text    string `xml:",chardata"`
	} `xml:"temperature"`
}

type xREInfo struct {
	XMLName xml.Name `xml:"route-engine-information"`
	REs     []xRE    `xml:"route-engine"`
}

type xAlarm struct {
	Time  secText `xml:"alarm-time"`
	Class string  `xml:"alarm-class"`
	Desc  string  `xml:"alarm-description"`
	Short string  `xml:"alarm-short-description"`
	Type  string  `xml:"alarm-type"`
}

type xAlarmInfo struct {
	XMLName  xml.Name  `xml:"alarm-information"`
	Count    *int      `xml:"alarm-summary>active-alarm-count"`
	NoAlarms *struct{} `xml:"alarm-summary>no-active-alarms"`
	Alarms   []xAlarm  `xml:"alarm-detail"`
}

type xSoftware struct {
	Host    string `xml:"host-name"`
	Model   string `xml:"product-model"`
	Version string `xml:"junos-version"`
}

type xUptime struct {
	XMLName xml.Name `xml:"system-uptime-information"`
	Current secText  `xml:"current-time>date-time"`
	Booted  secText  `xml:"system-booted-time>date-time"`
	Length  secText  `xml:"system-booted-time>time-length"`
	UpTime  secText  `xml:"uptime-information>up-time"`
}

type xItem struct {
	Name     string      `xml:"re-name"`
	REInfo   *xREInfo    `xml:"route-engine-information"`
	Alarms   *xAlarmInfo `xml:"alarm-information"`
	Software *xSoftware  `xml:"software-information"`
	Uptime   *xUptime    `xml:"system-uptime-information"`
}

type xReply struct {
	XMLName   xml.Name    `xml:"rpc-reply"`
	MessageID string      `xml:"message-id,attr"`
	REInfo    *xREInfo    `xml:"route-engine-information"`
	Alarms    *xAlarmInfo `xml:"alarm-information"`
	Software  *xSoftware  `xml:"software-information"`
	Uptime    *xUptime    `xml:"system-uptime-information"`
	Items     []xItem     `xml:"multi-routing-engine-results>multi-routing-engine-item"`
	Error     *struct {
		Type     string `xml:"error-type"`
		Tag      string `xml:"error-tag"`
		Severity string `xml:"error-severity"`
		Message  string `xml:"error-message"`
		Bad      string `xml:"error-info>bad-element"`
	} `xml:"rpc-error"`
}

// decodeReply checks that a reply is one well-formed XML document shaped
// like a wire reply, and decodes it.
func decodeReply(t *testing.T, b []byte) xReply {
	t.Helper()
	if !bytes.HasPrefix(b, []byte(`<nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos="http://xml.juniper.net/junos/`)) {
		t.Fatalf("reply does not start with the wire envelope:\n%.200s", b)
	}
	for _, bad := range []string{"<?xml", "<cli>", "<banner>"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("reply contains %s, which Junos does not send over NETCONF", bad)
		}
	}
	// Strict tokenising of the whole message catches stray text after the
	// root and unbalanced tags that Unmarshal would skip.
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("reply is not well-formed XML: %v\n%s", err, b)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				t.Fatalf("text outside the root element: %q", tok)
			}
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("want one balanced root element, got %d roots, depth %d", roots, depth)
	}
	var r xReply
	if err := xml.Unmarshal(b, &r); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return r
}

func mustRouter(t *testing.T, d Device, clock *fakeClock) *Router {
	t.Helper()
	r, err := NewRouter(d.withDefaults(Defaults{}), 3, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func serve(r *Router, op, id string) []byte {
	return r.ServeNETCONF(context.Background(), &netconftest.Request{MessageID: id, Operation: op, User: User})
}

var ops = []string{
	"get-route-engine-information", "get-alarm-information", "get-system-alarm-information",
	"get-software-information", "get-system-uptime-information",
}

func TestEveryReplyIsWellFormed(t *testing.T) {
	for _, topo := range []Topology{TopologySingle, TopologyDual, TopologyMXVC, TopologySRXCluster} {
		for _, op := range ops {
			t.Run(string(topo)+"/"+op, func(t *testing.T) {
				clock := newFakeClock()
				r := mustRouter(t, Device{Name: "r1", Topology: topo, Version: "23.2R2-S1.3",
					Alarms: []AlarmSpec{{Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered"}}}, clock)
				rep := decodeReply(t, serve(r, op, "42"))
				if rep.MessageID != "42" {
					t.Errorf("message-id = %q, want 42", rep.MessageID)
				}
				multi := topo == TopologyMXVC || topo == TopologySRXCluster
				if got := len(rep.Items) > 0; got != multi {
					t.Errorf("multi-routing-engine-results present = %v, want %v", got, multi)
				}
			})
		}
	}
}

func TestPayloadNamespacesCarryTheRelease(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Version: "23.2R2-S1.3"}, clock)
	got := string(serve(r, "get-route-engine-information", "1"))
	for _, want := range []string{
		`xmlns:junos="http://xml.juniper.net/junos/23.2R2-S1.3/junos"`,
		`<route-engine-information xmlns="http://xml.juniper.net/junos/23.2R0/junos-chassis">`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("reply lacks %s", want)
		}
	}
	got = string(serve(r, "get-alarm-information", "1"))
	if !strings.Contains(got, `<alarm-information xmlns="http://xml.juniper.net/junos/23.2R0/junos-alarm">`) {
		t.Errorf("alarm reply lacks the junos-alarm namespace:\n%s", got)
	}
	for v, want := range map[string]string{"15.1F5": "15.1F5", "17.3R3-S8.1": "17.3R3", "20.4R3-S4.8": "20.4R0", "weird": "weird"} {
		if got := payloadRelease(v); got != want {
			t.Errorf("payloadRelease(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestRouteEnginesRoundTrip(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	r := mustRouter(t, Device{Name: "r1", Model: "mx960", Topology: TopologyDual, Timezone: "America/Los_Angeles",
		REStates: map[string]RESpec{
			"re0": {UpTime: 858432 * time.Second},
			"re1": {UpTime: 40 * time.Second, LastRebootReason: ReasonPanic},
		}}, clock)
	clock.Advance(10 * time.Second)
	rep := decodeReply(t, serve(r, "get-route-engine-information", "1"))
	if rep.REInfo == nil || len(rep.REInfo.REs) != 2 {
		t.Fatalf("want 2 route-engines, got %+v", rep.REInfo)
	}
	re0, re1 := rep.REInfo.REs[0], rep.REInfo.REs[1]
	if re0.Slot == nil || *re0.Slot != 0 || re1.Slot == nil || *re1.Slot != 1 {
		t.Errorf("slots: %v %v", re0.Slot, re1.Slot)
	}
	if re0.State != "master" || re1.State != "backup" || re0.Priority != "master (default)" || re0.Status != "OK" {
		t.Errorf("re0 = %+v", re0)
	}
	if re0.UpTime.Seconds != 858442 || re0.UpTime.Text != "9 days, 22 hours, 27 minutes, 22 seconds" {
		t.Errorf("re0 up-time = %+v", re0.UpTime)
	}
	if re1.UpTime.Seconds != 50 || re1.Reason != ReasonPanic {
		t.Errorf("re1 = %+v", re1)
	}
	if want := start.Add(-40 * time.Second).Unix(); re1.StartTime.Seconds != want {
		t.Errorf("re1 start-time = %d, want %d", re1.StartTime.Seconds, want)
	}
	if !strings.HasSuffix(re1.StartTime.Text, " PDT") {
		t.Errorf("start-time text %q lacks the local zone", re1.StartTime.Text)
	}
	if re0.Model != "RE-S-1800x4" || re0.Serial == "" || re0.DRAM != "32719 MB" {
		t.Errorf("re0 hardware = %+v", re0)
	}
}

func TestSingleAndClusterShapes(t *testing.T) {
	clock := newFakeClock()
	single := mustRouter(t, Device{Name: "edge1", Model: "mx204", Topology: TopologySingle}, clock)
	rep := decodeReply(t, serve(single, "get-route-engine-information", "1"))
	if len(rep.REInfo.REs) != 1 {
		t.Fatalf("single: %d REs", len(rep.REInfo.REs))
	}
	re := rep.REInfo.REs[0]
	if re.Slot != nil || re.State != "" || re.Priority != "" || re.Serial != "" || re.Reason != ReasonVJunos {
		t.Errorf("single RE should have no slot, mastership or serial (vmhost capture): %+v", re)
	}

	srx := mustRouter(t, Device{Name: "fw1", Topology: TopologySRXCluster, Model: "srx4600",
		REStates: map[string]RESpec{"node1": {Status: StatusAbsent}},
		Alarms:   []AlarmSpec{{Member: "node1", Class: "Minor", Type: "Configuration", Description: "Rescue configuration is not set"}},
	}, clock)
	rep = decodeReply(t, serve(srx, "get-route-engine-information", "1"))
	if len(rep.Items) != 1 || rep.Items[0].Name != "node0" {
		t.Fatalf("srx with node1 absent: items %+v", rep.Items)
	}
	n0 := rep.Items[0].REInfo.REs
	if len(n0) != 1 || n0[0].Slot != nil || n0[0].State != "" || n0[0].SysMem == "" || n0[0].DRAM != "" {
		t.Errorf("srx node RE = %+v", n0)
	}
	if err := srx.SetREState("node1", REState{Status: "OK"}); err != nil {
		t.Fatal(err)
	}
	rep = decodeReply(t, serve(srx, "get-alarm-information", "1"))
	if len(rep.Items) != 2 || rep.Items[0].Alarms.NoAlarms == nil || len(rep.Items[1].Alarms.Alarms) != 1 {
		t.Errorf("srx alarms per node: %+v", rep.Items)
	}

	vc := mustRouter(t, Device{Name: "vc1", Topology: TopologyMXVC}, clock)
	rep = decodeReply(t, serve(vc, "get-route-engine-information", "1"))
	var names []string
	for _, it := range rep.Items {
		for _, re := range it.REInfo.REs {
			names = append(names, it.Name+"-re"+strconv.Itoa(*re.Slot)+"/"+re.State)
		}
	}
	want := []string{"member0-re0/master", "member0-re1/backup", "member1-re0/master", "member1-re1/backup"}
	if !slices.Equal(names, want) {
		t.Errorf("mx-vc REs = %v, want %v", names, want)
	}
	for _, op := range []string{"get-software-information", "get-system-uptime-information"} {
		rep = decodeReply(t, serve(vc, op, "1"))
		if len(rep.Items) != 2 || rep.Items[1].Name != "member1" {
			t.Errorf("%s on mx-vc: items %+v", op, rep.Items)
		}
	}
}

func TestAbsentREIsMissing(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", REStates: map[string]RESpec{"re1": {Status: StatusAbsent}}}, clock)
	rep := decodeReply(t, serve(r, "get-route-engine-information", "1"))
	if len(rep.REInfo.REs) != 1 || *rep.REInfo.REs[0].Slot != 0 {
		t.Fatalf("want only slot 0, got %+v", rep.REInfo.REs)
	}
	if err := r.SetREState("re1", REState{Status: "Failed", MastershipState: "backup"}); err != nil {
		t.Fatal(err)
	}
	rep = decodeReply(t, serve(r, "get-route-engine-information", "1"))
	if len(rep.REInfo.REs) != 2 || rep.REInfo.REs[1].Status != "Failed" {
		t.Fatalf("a failed RE is shown with its status: %+v", rep.REInfo.REs)
	}
	// With every RE gone the router still answers every RPC.
	for _, re := range []string{"re0", "re1"} {
		if err := r.SetREState(re, REState{Status: StatusAbsent}); err != nil {
			t.Fatal(err)
		}
	}
	for _, op := range ops {
		decodeReply(t, serve(r, op, "1"))
	}
}

func TestAlarmsRoundTrip(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	r := mustRouter(t, Device{Name: "r1", Timezone: "Europe/Amsterdam", Alarms: []AlarmSpec{
		{Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered", ShortDescription: "PEM 0 No Power", SetAfter: -2 * time.Hour},
		{Class: "Minor", Type: "Chassis", Description: "Loss of communication with Backup RE"},
		{Source: devices.AlarmSystem, Class: "Minor", Type: "Configuration", Description: "Rescue configuration is not set"},
	}}, clock)
	rep := decodeReply(t, serve(r, "get-alarm-information", "1"))
	a := rep.Alarms
	if a == nil || a.Count == nil || *a.Count != 2 || a.NoAlarms != nil || len(a.Alarms) != 2 {
		t.Fatalf("chassis alarms = %+v", a)
	}
	// Newest first, as Junos lists them.
	if a.Alarms[0].Desc != "Loss of communication with Backup RE" || a.Alarms[0].Time.Seconds != start.Unix() {
		t.Errorf("first alarm = %+v", a.Alarms[0])
	}
	pem := a.Alarms[1]
	if pem.Class != "Major" || pem.Type != "Chassis" || pem.Short != "PEM 0 No Power" ||
		pem.Time.Seconds != start.Add(-2*time.Hour).Unix() || pem.Time.Text != "2025-03-19 16:12:27 CET" {
		t.Errorf("PEM alarm = %+v", pem)
	}
	rep = decodeReply(t, serve(r, "get-system-alarm-information", "1"))
	if len(rep.Alarms.Alarms) != 1 || rep.Alarms.Alarms[0].Type != "Configuration" {
		t.Errorf("system alarms = %+v", rep.Alarms)
	}
	r.ClearAlarm("", "PEM 0 Not Powered")
	r.ClearAlarm(devices.AlarmChassis, "Loss of communication with Backup RE")
	rep = decodeReply(t, serve(r, "get-alarm-information", "1"))
	if rep.Alarms.NoAlarms == nil || rep.Alarms.Count != nil || len(rep.Alarms.Alarms) != 0 {
		t.Errorf("no alarms should render <no-active-alarms/> alone: %+v", rep.Alarms)
	}
}

func TestEscaping(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1"}, clock)
	desc := `FPC 1 "MPC3E NG PQ & Flex Q" <major> errors`
	r.SetAlarm(devices.Alarm{Class: "Major", Type: "Chassis", Description: desc})
	id := `7" evil="1 & <x>`
	b := serve(r, "get-alarm-information", id)
	rep := decodeReply(t, b)
	if rep.MessageID != id {
		t.Errorf("message-id = %q, want %q", rep.MessageID, id)
	}
	if len(rep.Alarms.Alarms) != 1 || rep.Alarms.Alarms[0].Desc != desc {
		t.Errorf("alarm = %+v", rep.Alarms.Alarms)
	}
}

func TestUnknownRPC(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1"}, clock)
	b := serve(r, "get-chassis-<inventory>", "9")
	rep := decodeReply(t, b)
	e := rep.Error
	if e == nil {
		t.Fatalf("no rpc-error in\n%s", b)
	}
	if e.Type != "protocol" || e.Tag != "operation-failed" || e.Severity != "error" ||
		e.Message != "syntax error, expecting <rpc> or <command>" || e.Bad != "get-chassis-<inventory>" {
		t.Errorf("rpc-error = %+v", e)
	}
	if !bytes.Contains(b, []byte("<error-message>syntax error, expecting &lt;rpc&gt; or &lt;command&gt;</error-message>")) {
		t.Errorf("error-message not escaped as Junos does:\n%s", b)
	}
}

func TestSoftwareAndUptime(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "ams1-mx480-1", Model: "MX480", Version: "22.4R3.25",
		REStates: map[string]RESpec{"re0": {UpTime: 2905147 * time.Second}}}, clock)
	rep := decodeReply(t, serve(r, "get-software-information", "1"))
	if s := rep.Software; s == nil || s.Host != "ams1-mx480-1" || s.Model != "mx480" || s.Version != "22.4R3.25" {
		t.Errorf("software = %+v", rep.Software)
	}
	rep = decodeReply(t, serve(r, "get-system-uptime-information", "1"))
	u := rep.Uptime
	if u == nil || u.Current.Seconds != clock.Now().Unix() || u.Length.Seconds != 2905147 ||
		u.Length.Text != "4w5d 14:59" || u.UpTime.Text != "33 days, 14:59" {
		t.Errorf("uptime = %+v", u)
	}
}

func TestTimeTexts(t *testing.T) {
	for secs, want := range map[int64]string{
		858432:   "9 days, 22 hours, 27 minutes, 12 seconds",
		23071720: "267 days, 48 minutes, 40 seconds",
		17020:    "4 hours, 43 minutes, 40 seconds",
		385:      "6 minutes, 25 seconds",
		90061:    "1 day, 1 hour, 1 minute, 1 second",
		0:        "0 seconds",
	} {
		if got := uptimeText(secs); got != want {
			t.Errorf("uptimeText(%d) = %q, want %q", secs, got, want)
		}
	}
	for secs, want := range map[int64]string{2905147: "4w5d 14:59", 3866468: "6w2d 18:01", 93242: "1d 01:54", 14234: "03:57:14"} {
		if got := timeLengthText(secs); got != want {
			t.Errorf("timeLengthText(%d) = %q, want %q", secs, got, want)
		}
	}
	for secs, want := range map[int64]string{2905140: "33 days, 14:59", 3866460: "44 days, 18:01", 14220: "3:57", 300: "5 mins"} {
		if got := shortUptimeText(secs); got != want {
			t.Errorf("shortUptimeText(%d) = %q, want %q", secs, got, want)
		}
	}
	for c, want := range map[int]string{32: "32 degrees C / 89 degrees F", 36: "36 degrees C / 96 degrees F", 49: "49 degrees C / 120 degrees F"} {
		if got := celsiusText(c); got != want {
			t.Errorf("celsiusText(%d) = %q, want %q", c, got, want)
		}
	}
}
