package junossim_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/devices/readiness"
)

// TestReadinessReplies checks the replies switchover readiness reads
// against the agent's own decoders, for each not-ready router a scenario
// can describe.
func TestReadinessReplies(t *testing.T) {
	now := time.Date(2025, 3, 19, 17, 12, 27, 0, time.UTC)
	sc, err := junossim.ParseScenario([]byte(`
devices:
  - name: ready
  - name: mismatch
    version: 22.2R3.15
    re_versions: {re1: 21.4R3-S5.4}
  - name: gres-off
    redundancy: {graceful_switchover: false}
  - name: nsr-off
    redundancy: {nonstop_routing: false}
  - name: incomplete
    replication: {protocols: [OSPF, BGP, RSVP], incomplete: [BGP]}
  - name: vc
    topology: mx-vc
`), "readiness.yaml")
	if err != nil {
		t.Fatal(err)
	}
	devs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	routers := map[string]*junossim.Router{}
	for _, d := range devs {
		r, err := junossim.NewRouter(d, 1, func() time.Time { return now }, nil)
		if err != nil {
			t.Fatal(err)
		}
		routers[d.Name] = r
	}

	allREs := []byte(junos.RPCSoftwareAllREs)
	releases := func(name string) map[string]string {
		t.Helper()
		sw, err := junos.DecodeSoftware(routers[name].ReplyTo("get-software-information", "1", allREs))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := map[string]string{}
		for _, s := range sw {
			out[s.Member] = s.Version
		}
		return out
	}
	for name, want := range map[string]map[string]string{
		"ready":    {"re0": junossim.DefaultVersion, "re1": junossim.DefaultVersion},
		"mismatch": {"re0": "22.2R3.15", "re1": "21.4R3-S5.4"},
		"vc": {"member0-re0": junossim.DefaultVersion, "member0-re1": junossim.DefaultVersion,
			"member1-re0": junossim.DefaultVersion, "member1-re1": junossim.DefaultVersion},
	} {
		if got := releases(name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: releases %v, want %v", name, got, want)
		}
	}
	// The plain form still answers for the RE the session is on only.
	sw, err := junos.DecodeSoftware(routers["mismatch"].Reply("get-software-information", "1"))
	if err != nil || len(sw) != 1 || sw[0].Version != "22.2R3.15" {
		t.Errorf("plain show version: %+v, %v", sw, err)
	}

	complete := func(names ...string) []devices.ProtocolReplication {
		var out []devices.ProtocolReplication
		for _, n := range names {
			out = append(out, devices.ProtocolReplication{Protocol: n, Status: "Complete"})
		}
		return out
	}
	for name, want := range map[string]devices.ReplicationState{
		"ready":    {StatefulReplication: "Enabled", REMode: "Master", Protocols: complete("OSPF", "BGP", "LDP")},
		"gres-off": {StatefulReplication: "Disabled", REMode: "Master"},
		"nsr-off":  {StatefulReplication: "Enabled", REMode: "Master"},
		"incomplete": {StatefulReplication: "Enabled", REMode: "Master", Protocols: []devices.ProtocolReplication{
			{Protocol: "OSPF", Status: "Complete"}, {Protocol: "BGP", Status: "InProgress"}, {Protocol: "RSVP", Status: "Complete"}}},
	} {
		reply := routers[name].Reply("get-routing-task-replication-state", "7")
		got, err := junos.DecodeReplicationState(reply)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, reply)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s: got %+v\nwant %+v", name, got, want)
		}
	}
	if n := routers["ready"].RPCCount("get-routing-task-replication-state"); n != 1 {
		t.Errorf("RPCCount = %d after one request", n)
	}
	if n := routers["vc"].RPCCount("get-routing-task-replication-state"); n != 0 {
		t.Errorf("RPCCount = %d on a router never asked", n)
	}
}

// TestReadinessScenarioErrors: bad readiness fields name their place.
func TestReadinessScenarioErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"devices:\n  - name: a\n    re_versions: {re2: 21.4R3}\n", `re_versions.re2: no RE "re2"`},
		{"devices:\n  - name: a\n    re_versions: {re1: \"21 4\"}\n", `is not a Junos release name`},
		{"devices:\n  - name: a\n    replication: {incomplete: [ISIS]}\n", `replication.incomplete[0]: protocol "ISIS" is not among the replicated protocols (OSPF, BGP, LDP)`},
		{"devices:\n  - name: a\n    replication: {protocol: [ISIS]}\n", `bad.yaml:3:19: unknown key "protocol" in devices[0].replication; did you mean protocols?`},
	} {
		_, err := junossim.ParseScenario([]byte(c.yaml), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}

// TestDemoHasNotReadyRouters: the demo fleet shows switchover readiness
// with at least two routers that look healthy but are not ready.
func TestDemoHasNotReadyRouters(t *testing.T) {
	now := time.Date(2025, 3, 19, 17, 12, 27, 0, time.UTC)
	devs, err := junossim.DemoScenario().Resolved()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]readiness.Reason{
		"ams1-mx960-1": {Code: readiness.CodeReplicationIncomplete, Text: "replication to the backup incomplete: BGP InProgress"},
		"ams1-mx480-1": {Code: readiness.CodeReleaseMismatch, Text: "backup runs 21.4R3-S5.4, master 22.4R3.25"},
	}
	for _, d := range devs {
		w, ok := want[d.Name]
		if !ok {
			continue
		}
		r, err := junossim.NewRouter(d, 1, func() time.Time { return now }, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := junos.DecodeRouteEngines(r.Reply("get-route-engine-information", "1"))
		if err != nil {
			t.Fatal(err)
		}
		sw, err := junos.DecodeSoftware(r.ReplyTo("get-software-information", "2", []byte(junos.RPCSoftwareAllREs)))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := junos.DecodeReplicationState(r.Reply("get-routing-task-replication-state", "3"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := junos.DecodeRedundancyConfig(r.ReplyTo("get-configuration", "4", []byte(junos.RPCRedundancyConfig)))
		if err != nil {
			t.Fatal(err)
		}
		v := readiness.Assess(readiness.Input{RouteEngines: res, ExpectedREs: 2, Software: sw, Config: &cfg,
			Replication: &rep[0], AlarmsRead: true, SwitchoverKnown: true}, readiness.Settings{}, now)
		if v.Verdict != readiness.NotReady || len(v.Reasons) != 1 || v.Reasons[0] != w {
			t.Errorf("%s: %s %+v (unknown %+v), want [%+v]", d.Name, v.Verdict, v.Reasons, v.Unknown, w)
		}
		delete(want, d.Name)
	}
	if len(want) > 0 {
		t.Errorf("demo routers missing: %v", want)
	}
}
