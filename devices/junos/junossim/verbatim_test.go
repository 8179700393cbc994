package junossim

import (
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// TestVerbatimLine retimes real sample lines: the stamp keeps the
// sample's shape, the host becomes the router's, the text stays as it was.
func TestVerbatimLine(t *testing.T) {
	at := time.Date(2025, 3, 19, 9, 5, 7, 171e6, time.UTC)
	for _, tc := range []struct {
		file, in, want string
	}{
		// logs/alarms.log: a plain day and milliseconds.
		{LogMessages, "Mar 3 18:07:36.171 jtac-mx480-r2014-re0 alarmd[2030]: Alarm set: CB color=RED, class=CHASSIS, reason=CB 0 19.44 MHz clock failure",
			"Mar 19 09:05:07.171 rtr alarmd[2030]: Alarm set: CB color=RED, class=CHASSIS, reason=CB 0 19.44 MHz clock failure"},
		// logs/alarms.log: milliseconds and the year, two blanks.
		{LogMessages, "Jan 18 02:59:24.466 2026  SELLB-ER4 chassisd[27847]: %DAEMON-3-CHASSISD_FPC_ASIC_ERROR: <FPC 1> ASIC Error detected errorno 0x00070138 (null)",
			"Mar 19 09:05:07.171 2025  rtr chassisd[27847]: %DAEMON-3-CHASSISD_FPC_ASIC_ERROR: <FPC 1> ASIC Error detected errorno 0x00070138 (null)"},
		// logs/alarms.log: the wire's <PRI> is not in a file.
		{LogMessages, "<28>Jul  8 23:04:13  vmx01 craftd[4817]:  Major alarm set, Host 0 me0 : Ethernet Link Down",
			"Mar 19 09:05:07  rtr craftd[4817]:  Major alarm set, Host 0 me0 : Ethernet Link Down"},
		// logs/fpc-fru.log: no host in the sample, and none written.
		{LogMessages, "Mar 14 00:21:12 CHASSISD_FRU_OFFLINE_NOTICE: Taking FPC 10 offline: Offlined by cli command",
			"Mar 19 09:05:07 CHASSISD_FRU_OFFLINE_NOTICE: Taking FPC 10 offline: Offlined by cli command"},
		// logs/internal-link.log: a time and no date.
		{LogMessages, "22:37:56 SRX3K /kernel: %KERN-3: rdp keepalive expired, connection dropped - src 0x0f100001:1011 dest 0x0110011c:1032",
			"Mar 19 09:05:07 rtr /kernel: %KERN-3: rdp keepalive expired, connection dropped - src 0x0f100001:1011 dest 0x0110011c:1032"},
		// logs/mastership-file.log: no host at all.
		{LogMastership, "Jan 12 21:50:34 event = E_CMD_R, state = master, param = 0x0",
			"Mar 19 09:05:07 event = E_CMD_R, state = master, param = 0x0"},
	} {
		v, err := ParseVerbatimLine(tc.in, tc.file)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := v.Render(at, time.UTC, "rtr", tc.file); got != tc.want {
			t.Errorf("%q\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "no stamp here", "Foo 12 21:50:34 x y", "Jan 12 25:50:34 host text", "Jan 12 21:50:34 host"} {
		if _, err := ParseVerbatimLine(bad, LogMessages); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestVerbatimLogEvent writes a log event's lines at the event's time,
// spaced as the sample spaced them, under the host of the RE named.
func TestVerbatimLogEvent(t *testing.T) {
	start := time.Date(2025, 3, 19, 9, 0, 0, 0, time.UTC)
	clock := NewClock(start)
	on := true
	d := Device{Name: "rtr1", REHostnames: &on, Events: []Event{{At: 10 * time.Minute, Kind: EventLog, RE: "re1", Lines: []string{
		"Feb 11 18:10:13 re0-abc /kernel: em0: Link is Down",
		"Feb 11 18:10:15 re0-abc /kernel: em0: Link is up 100 Mbps Half Duplex",
	}}, {At: 11 * time.Minute, Kind: EventLog, File: LogMastership, Lines: []string{
		"Jan 12 21:50:18 failed to receive keepalives from other RE for the last 60 sec",
		"Jan 12 21:50:23 failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec",
	}}}}
	r, err := NewRouter(d, 1, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(start.Add(10*time.Minute + time.Second))
	msgs, _ := r.Log(LogMessages)
	if got := msgs[len(msgs)-1]; got != "Mar 19 09:10:00 re1-rtr1 /kernel: em0: Link is Down" {
		t.Errorf("first line %q", got)
	}
	clock.Set(start.Add(12 * time.Minute))
	msgs, _ = r.Log(LogMessages)
	if got := msgs[len(msgs)-1]; got != "Mar 19 09:10:02 re1-rtr1 /kernel: em0: Link is up 100 Mbps Half Duplex" {
		t.Errorf("second line %q", got)
	}
	ms, _ := r.Log(LogMastership)
	want := []string{"Mar 19 09:11:00 failed to receive keepalives from other RE for the last 60 sec",
		"Mar 19 09:11:05 failed to send RE info/keepalive: errno=22, total=6 in the last 20 sec"}
	if got := ms[len(ms)-2:]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mastership lines %q, want %q", got, want)
	}
}

// TestNoMastershipLog: a router without /var/log/mastership answers for
// it as Junos does for a file it cannot find, and its state changes write
// nothing there.
func TestNoMastershipLog(t *testing.T) {
	start := time.Date(2025, 3, 19, 9, 0, 0, 0, time.UTC)
	clock := NewClock(start)
	off := false
	r, err := NewRouter(Device{Name: "srx1", Topology: TopologySRXCluster, MastershipLog: &off, Events: []Event{
		{At: time.Minute, Kind: EventREDown, RE: "node1"}, {At: 2 * time.Minute, Kind: EventREUp, RE: "node1"},
		{At: 3 * time.Minute, Kind: EventRotateLogs, File: LogMessages}}}, 1, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(start.Add(5 * time.Minute))
	if _, ok := r.Log(LogMastership); ok {
		t.Error("the mastership file exists")
	}
	for _, op := range []string{"get-log", "file-show"} {
		body := "<" + op + "><filename>/var/log/mastership</filename></" + op + ">"
		if rep := string(r.ReplyTo(op, "1", []byte(body))); !strings.Contains(rep, "could not resolve file: /var/log/mastership") {
			t.Errorf("%s: %s", op, rep)
		}
	}
	if msgs, ok := r.Log(LogMessages); !ok || len(msgs) == 0 {
		t.Error("no messages file")
	}
	for _, ev := range []Event{{Kind: EventKeepaliveLoss}, {Kind: EventLog, File: LogMastership, Text: "new state = master"}} {
		d := Device{Name: "srx2", Topology: TopologySRXCluster, MastershipLog: &off, Events: []Event{ev}}
		if err := (Scenario{Devices: []Device{d}}).Validate(); err == nil || !strings.Contains(err.Error(), "mastership_log: false") {
			t.Errorf("%s: %v", ev.Kind, err)
		}
	}
}

// TestPlatformREs: an EX Virtual Chassis and a PTX answer with the RE
// hardware of their captures.
func TestPlatformREs(t *testing.T) {
	for _, tc := range []struct {
		d                     Device
		model, serial, reason string
	}{
		{Device{Name: "ex1", Topology: TopologyEXVC}, "RE-EX2300-24P", "BUILTIN", ReasonPowerCycle},
		{Device{Name: "ptx1", Model: "ptx5000"}, "RE-DUO-2600", "P737A-", ReasonNormal},
	} {
		r, err := NewRouter(tc.d, 1, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep := string(r.Reply("get-route-engine-information", "1"))
		for _, want := range []string{"<model>" + tc.model + "</model>", "<serial-number>" + tc.serial, "<last-reboot-reason>" + tc.reason,
			"<slot>1</slot>", "<mastership-state>backup</mastership-state>"} {
			if !strings.Contains(rep, want) {
				t.Errorf("%s: no %s in\n%s", tc.d.Name, want, rep)
			}
		}
		if strings.Contains(rep, "multi-routing-engine") {
			t.Errorf("%s: a multi-routing-engine reply", tc.d.Name)
		}
		if err := r.Switchover(""); err != nil {
			t.Errorf("%s: switchover: %v", tc.d.Name, err)
		}
	}
}

// TestStoryFieldsValidate checks the labelled-story fields: state,
// maintenance windows, silences, verbatim lines.
func TestStoryFieldsValidate(t *testing.T) {
	from := time.Date(2025, 3, 19, 9, 0, 0, 0, time.UTC)
	good := Device{Name: "a", State: "CRITICAL",
		Maintenance: []MaintenanceWindow{{Cron: "CRON_TZ=Europe/Berlin 0 2 * * 0", Duration: 2 * time.Hour}, {From: from, Until: from.Add(time.Hour)}},
		Silences:    []Silence{{At: time.Minute, For: time.Hour, Reason: "RE swap"}},
		Expect:      []Expectation{{RE: "re1", Cause: devices.CauseHardware, Severity: devices.SeverityCritical, Maintenance: true}}}
	if err := (Scenario{Devices: []Device{good}}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    Device
		want string
	}{
		{Device{Name: "a", State: "BAD"}, "state"},
		{Device{Name: "a", Maintenance: []MaintenanceWindow{{Cron: "0 2 * * *"}}}, "maintenance[0].duration"},
		{Device{Name: "a", Maintenance: []MaintenanceWindow{{From: from.Add(time.Hour), Until: from}}}, "maintenance[0].until"},
		{Device{Name: "a", Maintenance: []MaintenanceWindow{{Cron: "0 2 * * *", Duration: time.Hour, From: from}}}, "not both"},
		{Device{Name: "a", Maintenance: []MaintenanceWindow{{}}}, "empty maintenance window"},
		{Device{Name: "a", Silences: []Silence{{For: time.Hour}}}, "silences[0].reason"},
		{Device{Name: "a", Events: []Event{{Kind: EventLog, Text: "x", Lines: []string{"Jan 12 21:50:34 h x"}}}}, "not both"},
		{Device{Name: "a", Events: []Event{{Kind: EventLog, Lines: []string{"no stamp"}}}}, "lines[0]"},
		{Device{Name: "a", Events: []Event{{Kind: EventLog, Lines: []string{"Jan 12 21:50:34 h x", "Jan 12 21:50:30 h y"}}}}, "older than the first"},
		{Device{Name: "a", Events: []Event{{Kind: EventLog, RE: "re7", Text: "x"}}}, "log re"},
	} {
		err := (Scenario{Devices: []Device{tc.d}}).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.d, err, tc.want)
		}
	}
}

// TestInventoryMaintenance: a device's maintenance windows go into the
// inventory the fleet writes.
func TestInventoryMaintenance(t *testing.T) {
	from := time.Date(2025, 3, 19, 9, 0, 0, 0, time.UTC)
	sc := Scenario{Devices: []Device{{Name: "a", Maintenance: []MaintenanceWindow{
		{Cron: "CRON_TZ=Europe/Berlin 0 2 * * 0", Duration: 2 * time.Hour}, {From: from, Until: from.Add(90 * time.Minute)}}}, {Name: "b"}}}
	f, err := Start(t.Context(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := f.Inventory()
	if err != nil {
		t.Fatal(err)
	}
	want := `    maintenance:
      - cron: CRON_TZ=Europe/Berlin 0 2 * * 0
        duration: 2h0m0s
      - from: "2025-03-19T09:00:00Z"
        until: "2025-03-19T10:30:00Z"
`
	if !strings.Contains(string(inv), want) || strings.Count(string(inv), "maintenance:") != 1 {
		t.Errorf("inventory:\n%s\nwant in it:\n%s", inv, want)
	}
}
