package readiness

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/junossamples"
)

var t0 = time.Date(2024, 2, 19, 6, 0, 0, 0, time.UTC)

// Real replies the base input is decoded from.
const (
	sampleREs         = "get-route-engine-information.dual-re-mx.pyez.xml"
	sampleSoftware    = "get-software-information.mx960-dual-re-re0-re1.pyez.xml"
	sampleReplication = "get-routing-task-replication-state.gres-enabled.pyez.xml"
	sampleNoAlarms    = "get-alarm-information.no-active-alarms.ex4650.librenms-netconf.xml"
)

// redundancyReply is a get-configuration reply in the shape Junos sends
// for RPCRedundancyConfig, with every statement readiness needs.
const redundancyReply = `<rpc-reply xmlns:junos="http://xml.juniper.net/junos/22.2R3/junos"><configuration junos:commit-seconds="1700000000">` +
	`<chassis><redundancy><graceful-switchover/></redundancy></chassis>` +
	`<system><commit><synchronize/></commit></system>` +
	`<routing-options><nonstop-routing/></routing-options></configuration></rpc-reply>`

// withProtocols adds protocol rows to the real replication reply, in the
// inferred wrapped shape (see devices/junos/replication.go).
func withProtocols(reply string, rows ...[2]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("<task-protocol-replication><task-protocol-replication-name>" + r[0] +
			"</task-protocol-replication-name><task-protocol-replication-state>" + r[1] +
			"</task-protocol-replication-state></task-protocol-replication>")
	}
	return strings.Replace(reply, "</task-re-mode>", "</task-re-mode>"+b.String(), 1)
}

// replies are the raw replies an Input is decoded from; each test edits
// one of them the way a router in that condition would answer.
type replies struct {
	res, software, replication, alarms, config string
}

func realReplies(t *testing.T) replies {
	t.Helper()
	read := func(name string) string { return string(junossamples.Read(t, "rpc", name)) }
	return replies{
		res:         read(sampleREs),
		software:    read(sampleSoftware),
		replication: withProtocols(read(sampleReplication), [2]string{"OSPF", "Complete"}, [2]string{"BGP", "Complete"}),
		alarms:      read(sampleNoAlarms),
		config:      redundancyReply,
	}
}

func (r replies) input(t *testing.T) Input {
	t.Helper()
	res, err := junos.DecodeRouteEngines([]byte(r.res))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := junos.DecodeSoftware([]byte(r.software))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := junos.DecodeReplicationState([]byte(r.replication))
	if err != nil {
		t.Fatal(err)
	}
	alarms, err := junos.DecodeAlarms([]byte(r.alarms), devices.AlarmChassis)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := junos.DecodeRedundancyConfig([]byte(r.config))
	if err != nil {
		t.Fatal(err)
	}
	return Input{
		RouteEngines: res, ExpectedREs: 2, Software: sw, Config: &cfg,
		Replication: &rep[0], Alarms: alarms, AlarmsRead: true, SwitchoverKnown: true,
	}
}

func TestAssessReadyOnRealReplies(t *testing.T) {
	v := Assess(realReplies(t).input(t), Settings{}, t0)
	want := Verdict{Verdict: Ready, Reasons: []Reason{}, CheckedAt: t0}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got  %+v\nwant %+v", v, want)
	}
}

// TestAssessEachCondition fails one condition at a time, each in the way
// the router's reply would show it, and checks the one reason.
func TestAssessEachCondition(t *testing.T) {
	mixed := `<rpc-reply><multi-routing-engine-results>` +
		`<multi-routing-engine-item><re-name>re0</re-name><software-information><host-name>r</host-name><junos-version>22.2R3.15</junos-version></software-information></multi-routing-engine-item>` +
		`<multi-routing-engine-item><re-name>re1</re-name><software-information><host-name>r</host-name><junos-version>21.4R3-S5.4</junos-version></software-information></multi-routing-engine-item>` +
		`</multi-routing-engine-results></rpc-reply>`
	alarm := func(class, desc string) string {
		return `<rpc-reply><alarm-information><alarm-summary><active-alarm-count>1</active-alarm-count></alarm-summary>` +
			`<alarm-detail><alarm-time junos:seconds="1708322420">2024-02-19 06:00:20 UTC</alarm-time><alarm-class>` + class +
			`</alarm-class><alarm-description>` + desc + `</alarm-description><alarm-short-description>x</alarm-short-description>` +
			`<alarm-type>Chassis</alarm-type></alarm-detail></alarm-information></rpc-reply>`
	}
	cases := []struct {
		name  string
		edit  func(*replies)
		input func(*Input)
		want  Reason
	}{
		{name: "backup freshly booted", edit: func(r *replies) {
			r.res = strings.Replace(r.res, `junos:seconds="858408"`, `junos:seconds="192"`, 1)
		}, want: Reason{CodeBackupFresh, "backup re1 up 3m12s, less than 10m0s"}},
		{name: "backup failed", edit: func(r *replies) {
			i := strings.Index(r.res, "<mastership-state>backup</mastership-state>")
			r.res = r.res[:i] + strings.Replace(r.res[i:], "<status>OK</status>", "<status>Failed</status>", 1)
		}, want: Reason{CodeBackupDown, "backup re1 is not in the alive set (status Failed)"}},
		{name: "backup gone from the RE table", input: func(in *Input) {
			in.RouteEngines = in.RouteEngines[:1]
		}, want: Reason{CodeBackupDown, "no backup RE: only re0 in the RE table, 2 expected"}},
		{name: "release mismatch", edit: func(r *replies) { r.software = mixed },
			want: Reason{CodeReleaseMismatch, "backup runs 21.4R3-S5.4, master 22.2R3.15"}},
		{name: "GRES off", edit: func(r *replies) {
			r.config = strings.Replace(r.config, "<chassis><redundancy><graceful-switchover/></redundancy></chassis>", "", 1)
		}, want: Reason{CodeGRESOff, "GRES is not configured (chassis redundancy graceful-switchover)"}},
		{name: "GRES not ready", edit: func(r *replies) {
			r.replication = strings.Replace(r.replication, ">Enabled<", ">Disabled<", 1)
		}, want: Reason{CodeGRESNotReady, "GRES is configured but stateful replication says Disabled"}},
		{name: "NSR off", edit: func(r *replies) {
			r.config = strings.Replace(r.config, "<routing-options><nonstop-routing/></routing-options>", "", 1)
		}, want: Reason{CodeNSROff, "nonstop-routing is not configured (routing-options nonstop-routing)"}},
		{name: "replication incomplete", edit: func(r *replies) {
			r.replication = withProtocols(string(junossamples.Read(t, "rpc", sampleReplication)),
				[2]string{"OSPF", "Complete"}, [2]string{"BGP", "InProgress"}, [2]string{"LDP", "NotStarted"})
		}, want: Reason{CodeReplicationIncomplete, "replication to the backup incomplete: BGP InProgress, LDP NotStarted"}},
		{name: "commit synchronize missing", edit: func(r *replies) {
			r.config = strings.Replace(r.config, "<system><commit><synchronize/></commit></system>", "", 1)
		}, want: Reason{CodeCommitSyncOff, "commit synchronize is not configured: the backup's configuration can drift"}},
		{name: "RE disk alarm", edit: func(r *replies) { r.alarms = alarm("Major", "Host 1 disk 1 failure") },
			want: Reason{CodeREAlarm, "alarm about an RE: Host 1 disk 1 failure"}},
		{name: "RE temperature alarm", edit: func(r *replies) { r.alarms = alarm("Minor", "Routing Engine 1 Temperature Hot") },
			want: Reason{CodeREAlarm, "alarm about an RE: Routing Engine 1 Temperature Hot"}},
		{name: "recent switchover", input: func(in *Input) { in.LastSwitchover = t0.Add(-90 * time.Second) },
			want: Reason{CodeRecentSwitchover, "last switchover 1m30s ago: Junos allows the next graceful one after 4m0s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := realReplies(t)
			if c.edit != nil {
				c.edit(&r)
			}
			in := r.input(t)
			if c.input != nil {
				c.input(&in)
			}
			v := Assess(in, Settings{}, t0)
			if v.Verdict != NotReady || len(v.Reasons) != 1 || v.Reasons[0] != c.want {
				t.Errorf("got %s %+v (unknown %+v)\nwant not-ready [%+v]", v.Verdict, v.Reasons, v.Unknown, c.want)
			}
		})
	}
}

// TestAssessAlarmsNotAboutRE: consequences of a backup going away, and
// alarms about other parts, do not fail condition 5.
func TestAssessAlarmsNotAboutRE(t *testing.T) {
	for _, d := range []string{"Loss of communication with Backup RE", "Backup RE Active", "PEM 0 Not Powered", "FPC 1 Temperature Hot", "Rescue configuration is not set"} {
		if AboutRE(d) {
			t.Errorf("AboutRE(%q) = true", d)
		}
	}
	for _, d := range []string{"Host 0 Disk Error", "RE 0 Hard Disk Missing", "Host 1 Absent", "re1 temperature high"} {
		if !AboutRE(d) {
			t.Errorf("AboutRE(%q) = false", d)
		}
	}
}

func TestAssessVirtualChassisSwitchoverInterval(t *testing.T) {
	res, err := junos.DecodeRouteEngines(junossamples.Read(t, "rpc", "get-route-engine-information.mx-vc-multi-re.pyez.xml"))
	if err != nil {
		t.Fatal(err)
	}
	in := realReplies(t).input(t)
	in.RouteEngines = res
	in.Software = nil
	in.LastSwitchover = t0.Add(-270 * time.Second) // past 240 s, not 300 s
	v := Assess(in, Settings{}, t0)
	want := Reason{CodeRecentSwitchover, "last switchover 4m30s ago: Junos allows the next graceful one after 5m0s"}
	if v.Verdict != NotReady || !reflectContains(v.Reasons, want) {
		t.Errorf("got %s %+v, want %+v among reasons", v.Verdict, v.Reasons, want)
	}
	in.LastSwitchover = t0.Add(-301 * time.Second)
	if v := Assess(in, Settings{}, t0); reflectContains(v.Reasons, want) || slicesHasCode(v.Reasons, CodeRecentSwitchover) {
		t.Errorf("switchover 301 s ago still fails: %+v", v.Reasons)
	}
}

func reflectContains(rs []Reason, r Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func slicesHasCode(rs []Reason, code string) bool {
	for _, x := range rs {
		if x.Code == code {
			return true
		}
	}
	return false
}

// TestAssessMissingDataIsUnknown: each unread input makes its condition
// unknown, never a failure.
func TestAssessMissingDataIsUnknown(t *testing.T) {
	cases := []struct {
		name  string
		input func(*Input)
		code  string
	}{
		{"software not read", func(in *Input) { in.Software = nil }, CodeReleaseMismatch},
		{"backup's release missing", func(in *Input) { in.Software = in.Software[:1] }, CodeReleaseMismatch},
		{"configuration not read", func(in *Input) { in.Config = nil }, CodeGRESOff},
		{"configuration RPC failed", func(in *Input) { in.Config = &devices.RedundancyConfig{} }, CodeGRESOff},
		{"replication RPC failed", func(in *Input) { in.Replication = nil }, CodeGRESNotReady},
		{"alarms not read", func(in *Input) { in.AlarmsRead = false }, CodeREAlarm},
		{"history not read", func(in *Input) { in.SwitchoverKnown = false }, CodeRecentSwitchover},
		{"backup up-time not reported", func(in *Input) { in.RouteEngines[1].UpTime = nil }, CodeBackupFresh},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := realReplies(t).input(t)
			c.input(&in)
			v := Assess(in, Settings{}, t0)
			if v.Verdict != Unknown || len(v.Reasons) != 0 || len(v.Unknown) != 1 || v.Unknown[0].Code != c.code {
				t.Errorf("got %s reasons %+v unknown %+v, want unknown [%s]", v.Verdict, v.Reasons, v.Unknown, c.code)
			}
		})
	}
	// A failure wins over missing data.
	in := realReplies(t).input(t)
	in.Software = nil
	in.Config.NonstopRouting = false
	if v := Assess(in, Settings{}, t0); v.Verdict != NotReady || len(v.Unknown) != 1 {
		t.Errorf("got %s %+v %+v, want not-ready with one unknown", v.Verdict, v.Reasons, v.Unknown)
	}
	if v := Assess(Input{}, Settings{}, t0); v.Verdict != Unknown {
		t.Errorf("no RE table: %s", v.Verdict)
	}
}

func TestAssessNotApplicable(t *testing.T) {
	for _, name := range []string{
		"get-route-engine-information.mx80-single.pyez.xml",
		"get-route-engine-information.single-re-vmx.pyez.xml",
		"get-route-engine-information.srx-cluster-multi-re.junos_exporter.xml",
		"get-route-engine-information.srx210-cluster-multi-re.pyez.xml",
	} {
		t.Run(name, func(t *testing.T) {
			res, err := junos.DecodeRouteEngines(junossamples.Read(t, "rpc", name))
			if err != nil {
				t.Fatal(err)
			}
			// Nothing else read: not-applicable needs no other data.
			v := Assess(Input{RouteEngines: res, ExpectedREs: len(res)}, Settings{}, t0)
			if v.Verdict != NotApplicable || len(v.Reasons) != 0 || len(v.Unknown) != 0 {
				t.Errorf("got %+v", v)
			}
		})
	}
}

func TestAssessMinBackupUptimeSetting(t *testing.T) {
	in := realReplies(t).input(t)
	up := 20 * time.Minute
	in.RouteEngines[1].UpTime = &up
	if v := Assess(in, Settings{}, t0); v.Verdict != Ready {
		t.Errorf("20m with the default: %+v", v)
	}
	v := Assess(in, Settings{MinBackupUptime: time.Hour}, t0)
	if v.Verdict != NotReady || v.Reasons[0].Text != "backup re1 up 20m0s, less than 1h0m0s" {
		t.Errorf("20m with 1h: %+v", v)
	}
}

func TestSummary(t *testing.T) {
	nr := func(codes ...string) Verdict {
		v := Verdict{Verdict: NotReady}
		for _, c := range codes {
			v.Reasons = append(v.Reasons, Reason{Code: c})
		}
		return v
	}
	vs := []Verdict{
		{Verdict: Ready}, {Verdict: Ready}, {Verdict: NotApplicable}, {Verdict: Unknown},
		nr(CodeReleaseMismatch), nr(CodeReleaseMismatch, CodeNSROff), nr(CodeBackupDown),
	}
	want := "3 of 6 dual-RE routers not ready: 1 backup down, 2 release mismatch, 1 NSR off; 1 unknown"
	if got := Summary(vs); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := Summary([]Verdict{{Verdict: NotApplicable}}); got != "" {
		t.Errorf("no applicable device: %q", got)
	}
	if got := Summary([]Verdict{{Verdict: Ready}}); got != "0 of 1 dual-RE routers not ready" {
		t.Errorf("all ready: %q", got)
	}
}

func TestCodesHaveLabels(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range Codes() {
		if c.Code == "" || c.Text == "" || seen[c.Code] {
			t.Errorf("bad code %+v", c)
		}
		seen[c.Code] = true
		if Label(c.Code) != c.Text {
			t.Errorf("Label(%s) = %s", c.Code, Label(c.Code))
		}
	}
}

// FuzzAssessRouteEngines runs the verdict on whatever RE table a router
// can send: it must not panic, and must keep its invariants.
func FuzzAssessRouteEngines(f *testing.F) {
	for _, name := range []string{sampleREs, "get-route-engine-information.mx-vc-multi-re.pyez.xml", "get-route-engine-information.srx210-cluster-multi-re.pyez.xml"} {
		f.Add(junossamples.Read(f, "rpc", name), []byte(redundancyReply), int64(100))
	}
	f.Fuzz(func(t *testing.T, reRaw, cfgRaw []byte, ago int64) {
		res, err := junos.DecodeRouteEngines(reRaw)
		if err != nil {
			return
		}
		in := Input{RouteEngines: res, ExpectedREs: 2, AlarmsRead: true, SwitchoverKnown: true,
			LastSwitchover: t0.Add(-time.Duration(ago) * time.Second)}
		if cfg, err := junos.DecodeRedundancyConfig(cfgRaw); err == nil {
			in.Config = &cfg
		}
		v := Assess(in, Settings{}, t0)
		switch v.Verdict {
		case NotReady:
			if len(v.Reasons) == 0 {
				t.Fatal("not-ready without a reason")
			}
		case Ready, Unknown, NotApplicable:
			if len(v.Reasons) != 0 {
				t.Fatalf("%s with reasons %+v", v.Verdict, v.Reasons)
			}
		default:
			t.Fatalf("verdict %q", v.Verdict)
		}
		for _, r := range v.Reasons {
			if r.Text == "" || Label(r.Code) == r.Code {
				t.Fatalf("reason %+v", r)
			}
		}
	})
}
