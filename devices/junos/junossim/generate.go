package junossim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mastership/mastership/devices"
)

// sites are fleet locations, named like real PoPs.
var sites = []string{"ams1", "fra1", "lon1", "par2", "mad1", "waw1", "nyc3", "iad2", "chi1", "dfw1", "sjc1", "sea1", "sin1", "hkg2", "tyo1", "syd1"}

// versions are Junos releases a real fleet runs side by side.
var versions = []string{"21.4R3-S5.4", "22.2R3-S3.3", "22.4R3.25", "23.2R2-S1.3", "20.4R3-S4.8"}

// Generate returns a fleet of n healthy routers: mostly dual-RE MX, some
// single-RE MX204, about one in ten on chunked (1.1) framing. Nothing is
// wrong with any of them, so an audit of the fleet is all ok. The same n
// and seed give the same scenario.
func Generate(n int, seed int64) Scenario {
	rnd := rand.New(rand.NewPCG(uint64(seed), 0x6a756e6f7373696d))
	sc := Scenario{Seed: seed, Devices: make([]Device, 0, n)}
	counts := map[string]int{}
	for i := range n {
		site := sites[i%len(sites)]
		d := Device{Topology: TopologyDual, Framing: "1.0", Site: site}
		switch p := rnd.IntN(100); {
		case p < 20:
			d.Topology, d.Model = TopologySingle, "mx204"
		case p < 50:
			d.Model = "mx480"
		case p < 60:
			d.Model = "mx10003"
		default:
			d.Model = "mx960"
		}
		if rnd.IntN(10) == 0 {
			d.Framing = "1.1"
		}
		d.Version = versions[rnd.IntN(len(versions))]
		key := site + "-" + d.Model
		counts[key]++
		d.Name = fmt.Sprintf("%s-%d", key, counts[key])
		d.Tags = []string{"sim", d.Model}
		sc.Devices = append(sc.Devices, d)
	}
	return sc
}

// DemoScenario is the fleet of `mastership demo`: a few healthy routers of
// each shape and one of each problem an operator meets. Four routers had
// their backup RE flap in the hour before the demo starts, one per cause,
// so that a single audit finds them all in the logs: their events are at
// negative offsets, applied (at their own times) on the first look.
func DemoScenario() Scenario {
	h := time.Hour
	m := time.Minute
	lossOfComm := func(at time.Duration) Event {
		return Event{At: at, Kind: EventAlarmSet, Source: devices.AlarmChassis, Class: "Minor", Type: "Chassis",
			Description: "Loss of communication with Backup RE", ShortDescription: "Backup RE comm loss"}
	}
	clearComm := func(at time.Duration) Event {
		return Event{At: at, Kind: EventAlarmClear, Description: "Loss of communication with Backup RE"}
	}
	return Scenario{
		Seed:     1,
		Defaults: Defaults{Version: "21.4R3-S5.4"},
		Devices: []Device{
			{Name: "ams1-mx204-1", Model: "mx204", Topology: TopologySingle, Site: "ams1",
				Tags: []string{"edge", "mx204"}},
			// Switchover readiness (issue 16): two routers that look
			// healthy but would not survive a switchover. This one's
			// BGP state is still being copied to the backup.
			{Name: "ams1-mx960-1", Model: "mx960", Topology: TopologyDual, Site: "ams1",
				Tags:        []string{"core", "mx960"},
				Replication: &ReplicationSpec{Incomplete: []string{"BGP"}}},
			// Upgraded, but the backup was left on the old release.
			{Name: "ams1-mx480-1", Model: "mx480", Topology: TopologyDual, Framing: "1.1", Site: "ams1",
				Tags: []string{"core", "mx480"}, Version: "22.4R3.25",
				REVersions: map[string]string{"re1": "21.4R3-S5.4"}},
			// The MX-VC capture has member0's RE1 as master after a
			// switchover: normal, and not a problem to report.
			{Name: "fra1-mxvc-1", Model: "mx960", Topology: TopologyMXVC, Site: "fra1",
				Tags: []string{"core", "mx960", "vc"},
				REStates: map[string]RESpec{
					"member0-re0": {MastershipState: "backup", UpTime: 16*24*h + 13*h},
					"member0-re1": {MastershipState: "master", UpTime: 18*24*h + 22*h},
				}},
			{Name: "fra1-srx4600-1", Model: "srx4600", Topology: TopologySRXCluster, Site: "fra1",
				Tags: []string{"firewall", "srx4600"}, Timezone: "Europe/Berlin"},
			{Name: "lon1-mx960-2", Model: "mx960", Topology: TopologyDual, Site: "lon1",
				Tags: []string{"core", "mx960"}, Timezone: "Europe/London",
				Alarms: []AlarmSpec{{Source: devices.AlarmChassis, Class: "Major", Type: "Chassis",
					Description: "PEM 0 Not Powered", ShortDescription: "PEM 0 No Power", SetAfter: -2 * h}}},
			// The backup RE is gone: it is missing from the reply
			// (MANIFEST pitfall 7), and the master raises the symptom
			// alarm seen on the MX480 JTAC lab capture.
			{Name: "lon1-mx480-2", Model: "mx480", Topology: TopologyDual, Site: "lon1",
				Tags: []string{"core", "mx480"}, Timezone: "Europe/London",
				REStates: map[string]RESpec{"re1": {Status: StatusAbsent}},
				Alarms: []AlarmSpec{{Source: devices.AlarmChassis, Class: "Minor", Type: "Chassis",
					Description: "Loss of communication with Backup RE", ShortDescription: "Backup RE comm loss",
					SetAfter: -3 * h}}},
			{Name: "par2-mx960-1", Model: "mx960", Topology: TopologyDual, Site: "par2",
				Tags: []string{"core", "mx960"},
				Alarms: []AlarmSpec{{Source: devices.AlarmSystem, Class: "Minor", Type: "Configuration",
					Description: "Rescue configuration is not set", ShortDescription: "no-rescue", SetAfter: -30 * 24 * h}}},
			{Name: "par2-mx480-1", Model: "mx480", Topology: TopologyDual, Site: "par2",
				Tags: []string{"core", "mx480"}, Faults: &Faults{Refuse: true}},
			// RE0 panicked and rebooted 47 days ago; both REs are up now,
			// like the MX10003 capture.
			{Name: "nyc3-mx10003-1", Model: "mx10003", Topology: TopologyDual, Site: "nyc3",
				Tags: []string{"core", "mx10003"}, Timezone: "America/New_York",
				REStates: map[string]RESpec{
					"re0": {UpTime: 47*24*h + 5*h, LastRebootReason: ReasonPanic},
					"re1": {UpTime: 326*24*h + 2*h, LastRebootReason: "0x2000:hypervisor reboot"},
				}},
			{Name: "nyc3-mx960-1", Model: "mx960", Topology: TopologyDual, Site: "nyc3",
				Tags: []string{"core", "mx960"}, Faults: &Faults{WrongHostKey: true}},
			{Name: "sjc1-mx960-1", Model: "mx960", Topology: TopologyDual, Site: "sjc1",
				Tags: []string{"core", "mx960"}, Faults: &Faults{HangAfterHello: true}},
			{Name: "sjc1-mx204-1", Model: "mx204", Topology: TopologySingle, Site: "sjc1",
				Tags: []string{"edge", "mx204"}, Faults: &Faults{RejectAuth: true}},
			// Healthy at start; the backup RE drops out after two minutes
			// and comes back after five, for demos of the daemon.
			{Name: "sin1-mx960-1", Model: "mx960", Topology: TopologyDual, Site: "sin1",
				Tags: []string{"core", "mx960"}, Timezone: "Asia/Singapore",
				Events: []Event{
					{At: 2 * time.Minute, Kind: EventREDown, RE: "re1"},
					{At: 2*time.Minute + 25*time.Second, Kind: EventAlarmSet, Source: devices.AlarmChassis,
						Class: "Minor", Type: "Chassis", Description: "Loss of communication with Backup RE",
						ShortDescription: "Backup RE comm loss"},
					{At: 5 * time.Minute, Kind: EventREUp, RE: "re1", Reason: ReasonPowerCycle},
					{At: 5*time.Minute + 40*time.Second, Kind: EventAlarmClear,
						Description: "Loss of communication with Backup RE"},
				}},
			// Hardware: PEM 2 lost power 48 minutes ago (its Major alarm
			// is still active) and re1 dropped out twice since.
			{Name: "lon1-mx960-3", Model: "mx960", Topology: TopologyDual, Site: "lon1",
				Tags: []string{"core", "mx960"}, Timezone: "Europe/London",
				Events: []Event{
					{At: -48 * m, Kind: EventAlarmSet, Source: devices.AlarmChassis, Class: "Major", Type: "Chassis",
						Description: "PEM 2 Not Powered", ShortDescription: "PEM 2 No Power"},
					{At: -48 * m, Kind: EventFRU, FRU: "PEM 2", Action: "power-off"},
					{At: -46 * m, Kind: EventREDown, RE: "re1"},
					lossOfComm(-46*m + 20*time.Second),
					{At: -42 * m, Kind: EventREUp, RE: "re1"},
					clearComm(-41 * m),
					{At: -30 * m, Kind: EventREDown, RE: "re1"},
					lossOfComm(-30*m + 20*time.Second),
					{At: -26 * m, Kind: EventREUp, RE: "re1"},
					clearComm(-25 * m),
				}},
			// Network: the internal link em0 flapped, keepalives were
			// lost, and re1 left the alive set for four minutes.
			{Name: "fra1-mx480-2", Model: "mx480", Topology: TopologyDual, Site: "fra1",
				Tags: []string{"core", "mx480"}, Timezone: "Europe/Berlin",
				Events: []Event{
					{At: -35 * m, Kind: EventInternalLinkFlap, Interface: "em0"},
					{At: -35*m + 10*time.Second, Kind: EventInternalLinkFlap, Interface: "em0"},
					{At: -34 * m, Kind: EventKeepaliveLoss, Duration: time.Minute},
					{At: -33 * m, Kind: EventREDown, RE: "re1"},
					{At: -29 * m, Kind: EventREUp, RE: "re1"},
				}},
			// Software: the backup RE panicked twice within the hour.
			{Name: "nyc3-mx960-2", Model: "mx960", Topology: TopologyDual, Site: "nyc3",
				Tags: []string{"core", "mx960"}, Timezone: "America/New_York",
				Events: []Event{
					{At: -50 * m, Kind: EventPanic, RE: "re1", Text: "page fault"},
					{At: -20 * m, Kind: EventPanic, RE: "re1", Text: "vm_fault: pager read error"},
				}},
			// Configuration: a commit lowered keepalive-time to 10 s, and
			// within minutes re1 dropped out of the alive set twice: with
			// keepalives that short, a busy backup misses them.
			{Name: "par2-mx960-2", Model: "mx960", Topology: TopologyDual, Site: "par2",
				Tags: []string{"core", "mx960"}, Timezone: "Europe/Paris",
				Events: []Event{
					{At: -25 * m, Kind: EventCommit, User: "jsmith", Comment: "lower keepalive-time for RE maintenance",
						Redundancy: &RedundancySpec{KeepaliveTime: ptr(10 * time.Second)}},
					{At: -23 * m, Kind: EventREDown, RE: "re1"},
					{At: -21 * m, Kind: EventREUp, RE: "re1"},
					{At: -15 * m, Kind: EventREDown, RE: "re1"},
					{At: -13 * m, Kind: EventREUp, RE: "re1"},
				}},
		},
	}
}

func ptr[T any](v T) *T { return &v }
