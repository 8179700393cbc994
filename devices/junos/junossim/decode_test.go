package junossim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestAgentDecodesTheSimulator checks the simulator against the agent's
// own decoders: what the demo and the benchmarks poll must decode to the
// state the scenario set.
func TestAgentDecodesTheSimulator(t *testing.T) {
	now := time.Date(2025, 3, 19, 17, 12, 27, 0, time.UTC)
	clock := func() time.Time { return now }
	sc := junossim.Scenario{Devices: []junossim.Device{
		{Name: "dual", REStates: map[string]junossim.RESpec{"re1": {UpTime: 90 * time.Second, LastRebootReason: junossim.ReasonPanic}},
			Alarms: []junossim.AlarmSpec{
				{Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered", SetAfter: -time.Hour},
				{Source: devices.AlarmSystem, Class: "Minor", Type: "Configuration", Description: "Rescue configuration is not set"},
			}},
		{Name: "backup-gone", REStates: map[string]junossim.RESpec{"re1": {Status: junossim.StatusAbsent}}},
		{Name: "single", Topology: junossim.TopologySingle, Model: "mx204"},
		{Name: "vc", Topology: junossim.TopologyMXVC,
			Alarms: []junossim.AlarmSpec{{Member: "member1", Class: "Minor", Type: "Chassis", Description: "FPC 1 Minor Errors"}}},
		{Name: "srx", Topology: junossim.TopologySRXCluster, Model: "srx4600"},
	}}
	devs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	routers := map[string]*junossim.Router{}
	for _, d := range devs {
		r, err := junossim.NewRouter(d, 1, clock, nil)
		if err != nil {
			t.Fatal(err)
		}
		routers[d.Name] = r
	}

	for name, want := range map[string][]string{
		"dual":        {"re0:master", "re1:backup"},
		"backup-gone": {"re0:master"},
		"single":      {"re0:"},
		"vc":          {"member0-re0:master", "member0-re1:backup", "member1-re0:master", "member1-re1:backup"},
		"srx":         {"node0:", "node1:"},
	} {
		res, err := junos.DecodeRouteEngines(routers[name].Reply("get-route-engine-information", "1"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, re := range res {
			got = append(got, re.Name+":"+re.MastershipState)
			if !re.Alive() {
				t.Errorf("%s: %s not alive: %+v", name, re.Name, re)
			}
			if re.UpTime == nil || re.StartTime == nil {
				t.Errorf("%s: %s lacks up-time or start-time", name, re.Name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: REs %v, want %v", name, got, want)
		}
	}

	res, _ := junos.DecodeRouteEngines(routers["dual"].Reply("get-route-engine-information", "1"))
	if re1 := res[1]; *re1.UpTime != 90*time.Second || re1.LastRebootReason != junossim.ReasonPanic ||
		!re1.StartTime.Equal(now.Add(-90*time.Second)) || re1.Slot == nil || *re1.Slot != 1 {
		t.Errorf("re1 = %+v", re1)
	}
	res, _ = junos.DecodeRouteEngines(routers["single"].Reply("get-route-engine-information", "1"))
	if res[0].Slot != nil {
		t.Errorf("single RE has slot %v", *res[0].Slot)
	}

	alarms, err := junos.DecodeAlarms(routers["dual"].Reply("get-alarm-information", "1"), devices.AlarmChassis)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 1 || alarms[0].Description != "PEM 0 Not Powered" || !alarms[0].IsMajor() ||
		alarms[0].Type != "Chassis" || !alarms[0].Time.Equal(now.Add(-time.Hour)) {
		t.Errorf("chassis alarms = %+v", alarms)
	}
	alarms, err = junos.DecodeAlarms(routers["dual"].Reply("get-system-alarm-information", "1"), devices.AlarmSystem)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 1 || alarms[0].Description != "Rescue configuration is not set" || alarms[0].Source != devices.AlarmSystem {
		t.Errorf("system alarms = %+v", alarms)
	}
	alarms, err = junos.DecodeAlarms(routers["single"].Reply("get-alarm-information", "1"), devices.AlarmChassis)
	if err != nil || len(alarms) != 0 {
		t.Errorf("no-active-alarms: %v %+v", err, alarms)
	}
	alarms, err = junos.DecodeAlarms(routers["vc"].Reply("get-alarm-information", "1"), devices.AlarmChassis)
	if err != nil || len(alarms) != 1 || alarms[0].Member != "member1" {
		t.Errorf("vc alarms: %v %+v", err, alarms)
	}

	sw, err := junos.DecodeSoftware(routers["srx"].Reply("get-software-information", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sw) != 2 || sw[0].Member != "node0" || sw[1].Member != "node1" || sw[0].Hostname != "srx" ||
		sw[0].Model != "srx4600" || sw[0].Version != junossim.DefaultVersion {
		t.Errorf("software = %+v", sw)
	}

	up, err := junos.DecodeSystemUptime(routers["dual"].Reply("get-system-uptime-information", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if !up.CurrentTime.Equal(now) || up.BootTime == nil || up.UpTime == nil {
		t.Errorf("uptime = %+v", up)
	}
}
