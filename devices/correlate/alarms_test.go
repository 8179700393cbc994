package correlate

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func TestClassifyAlarm(t *testing.T) {
	tests := []struct {
		typ, desc string
		want      alarmRole
	}{
		// Symptoms: about the other RE's presence or communication.
		{"Chassis", "Loss of communication with Backup RE", roleSymptom},
		{"Chassis", "Backup RE Active", roleSymptom},
		{"Chassis", "Host 1 Absent", roleSymptom},
		{"Chassis", "RE 1 Removed", roleSymptom},
		{"Chassis", "Routing Engine 0 not online", roleSymptom},
		// FRUs, in the spellings real devices use.
		{"Chassis", "PEM 0 Not Powered", roleHardware},
		{"Chassis", "FPC0: PEM 0 Not Powered", roleHardware},
		{"Chassis", "PEM 1 Fan Failed", roleHardware},
		{"Chassis", "FPC 1 Major Errors", roleHardware},
		{"Chassis", "CB 0 19.44 MHz clock failure", roleHardware},
		{"Chassis", "Check CB 2 Fabric Chip 0", roleHardware},
		{"Chassis", "CB 1 Fabric Chip 0 Not Online", roleHardware},
		{"Chassis", "Plane 0 not online", roleHardware},
		{"Chassis", "Fan Tray 0 Failure", roleHardware},
		{"Chassis", "RE 0 Over Temperature", roleHardware},
		{"System", "PEM 3 Fan Failed", roleHardware}, // EX puts chassis alarms in the system table
		// Neither.
		{"License", "BGP Routing Protocol(2) usage requires a license", roleOther},
		{"Configuration", "Rescue configuration is not set", roleOther},
		{"Autorecovery", "Autorecovery information needs to be saved", roleOther},
		{"Chassis", "RE 0 /var partition usage is high", roleOther},
		{"Chassis", "Host 0 me0 : Ethernet Link Down", roleOther},
		{"Chassis", "FPC Management1 Ethernet Link Down", roleOther},
		{"", "", roleOther},
	}
	for _, tt := range tests {
		if got := classifyAlarm(tt.typ, tt.desc); got != tt.want {
			t.Errorf("classifyAlarm(%q, %q) = %v, want %v", tt.typ, tt.desc, got, tt.want)
		}
	}
}

func TestFruName(t *testing.T) {
	tests := map[string]string{
		"PEM 0 Not Powered":            "PEM 0",
		"FPC0: PEM 0 Not Powered":      "PEM 0",
		"Fan Tray 2 Fan 1 Failed":      "Fan Tray 2",
		"Routing Engine 1 temperature": "Routing Engine 1",
		"CB 0 19.44 MHz clock failure": "CB 0",
		"Temperature Hot":              "Temperature",
		"Backup RE Active":             "",
		"commit complete":              "",
	}
	for in, want := range tests {
		if got := fruName(in); got != want {
			t.Errorf("fruName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpan(t *testing.T) {
	tests := map[time.Duration]string{
		0:                              "0s",
		45 * time.Second:               "45s",
		3 * time.Minute:                "3m",
		6*time.Minute + 25*time.Second: "6m25s",
		4*time.Hour + 43*time.Minute + 40*time.Second: "4h43m",
		9 * dayLen:                               "9d",
		9*dayLen + 22*time.Hour + 27*time.Minute: "9d22h",
		-90 * time.Second:                        "-1m30s",
	}
	for in, want := range tests {
		if got := span(in); got != want {
			t.Errorf("span(%v) = %q, want %q", in, got, want)
		}
	}
}

func alarm(clock, class, desc string) devices.Alarm {
	return devices.Alarm{Source: devices.AlarmChassis, Time: at(clock), Class: class, Type: "Chassis", Description: desc}
}

func TestUpdateAlarmsLifecycle(t *testing.T) {
	pem := alarm("10:02:11", "Major", "PEM 0 Not Powered")
	cb := alarm("09:00:00", "Minor", "CB 2 Removed")
	loss := alarm("10:02:40", "Minor", "Loss of communication with Backup RE")
	systemCopy := pem
	systemCopy.Source = devices.AlarmSystem

	// Poll 1: three alarms, PEM in both tables.
	recs := UpdateAlarms(nil, []devices.Alarm{systemCopy, loss, pem, cb}, at("10:05:00"), nil)
	if len(recs) != 3 {
		t.Fatalf("poll 1: %d records, want 3 (PEM once): %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.FirstSeen != at("10:05:00") || r.LastSeen != at("10:05:00") || !r.ClearedAt.IsZero() {
			t.Errorf("poll 1: %q seen %v..%v cleared %v", r.Alarm.Description, r.FirstSeen, r.LastSeen, r.ClearedAt)
		}
		if r.Alarm.Description == "PEM 0 Not Powered" && r.Alarm.Source != devices.AlarmChassis {
			t.Errorf("poll 1: PEM kept from %s, want the chassis table", r.Alarm.Source)
		}
	}
	for i := range recs {
		recs[i].Device = "mx960-a" // the caller names the device on the first poll
	}

	// Poll 2: CB cleared by a craftd line before the poll; Loss of
	// communication cleared with no line; PEM still there.
	events := []devices.Event{
		{Kind: devices.EventAlarmCleared, Time: at("10:07:51"), Subject: "CB 2 Removed",
			Line: devices.LogLine{Raw: "Mar 14 10:07:51  xn-paoeq1-bo101 craftd[16834]: %DAEMON-4: Minor alarm cleared, CB 2 Removed"}},
		// A clear of an older raising of the same text does not count.
		{Kind: devices.EventAlarmCleared, Time: at("08:59:00"), Subject: "CB 2 Removed"},
		// An alarmd line with no Subject matches on its reason.
		{Kind: devices.EventAlarmCleared, Time: at("10:09:00"), Line: devices.LogLine{Message: "Alarm cleared: CB id=33555062, color=YELLOW, class=CHASSIS, reason=CB  2 Removed"}},
	}
	recs = UpdateAlarms(recs, []devices.Alarm{pem}, at("10:10:00"), events)
	got := map[string]devices.AlarmRecord{}
	for _, r := range recs {
		got[r.Alarm.Description] = r
		if r.Device != "mx960-a" {
			t.Errorf("poll 2: %q lost its device: %q", r.Alarm.Description, r.Device)
		}
	}
	if r := got["PEM 0 Not Powered"]; r.LastSeen != at("10:10:00") || r.FirstSeen != at("10:05:00") || !r.ClearedAt.IsZero() {
		t.Errorf("PEM: %+v", r)
	}
	if r := got["CB 2 Removed"]; r.ClearedAt != at("10:07:51") {
		t.Errorf("CB cleared at %v, want the craftd line's 10:07:51", r.ClearedAt)
	}
	if r := got["Loss of communication with Backup RE"]; r.ClearedAt != at("10:10:00") {
		t.Errorf("Loss of communication cleared at %v, want the poll", r.ClearedAt)
	}

	// Poll 3: nothing. Cleared records stay as they were; PEM clears now.
	recs = UpdateAlarms(recs, nil, at("10:15:00"), nil)
	for _, r := range recs {
		switch r.Alarm.Description {
		case "CB 2 Removed":
			if r.ClearedAt != at("10:07:51") {
				t.Errorf("CB: a cleared record changed: %+v", r)
			}
		case "PEM 0 Not Powered":
			if r.ClearedAt != at("10:15:00") {
				t.Errorf("PEM: %+v", r)
			}
		}
	}

	// Poll 4: the PEM alarm with its old alarm-time is back: the clear was
	// a bad poll, the record reopens; a new raising is a new record.
	again := alarm("10:16:00", "Major", "PEM 0 Not Powered")
	recs = UpdateAlarms(recs, []devices.Alarm{pem, again}, at("10:20:00"), nil)
	var pems []devices.AlarmRecord
	for _, r := range recs {
		if r.Alarm.Description == "PEM 0 Not Powered" {
			pems = append(pems, r)
		}
	}
	if len(pems) != 2 || !pems[0].ClearedAt.IsZero() || pems[0].FirstSeen != at("10:05:00") || pems[1].FirstSeen != at("10:20:00") {
		t.Fatalf("PEM records after it came back: %+v", pems)
	}
}

func TestUpdateAlarmsDeterministic(t *testing.T) {
	prev := []devices.AlarmRecord{
		{Device: "d", Alarm: alarm("09:00:00", "Minor", "Backup RE Active"), FirstSeen: at("09:05:00"), LastSeen: at("09:55:00")},
		{Device: "d", Alarm: alarm("09:10:00", "Minor", "FPC 1 Minor Errors"), FirstSeen: at("09:15:00"), LastSeen: at("09:55:00")},
		{Device: "d", Alarm: alarm("08:00:00", "Minor", "CB 2 Removed"), FirstSeen: at("08:05:00"), LastSeen: at("08:10:00"), ClearedAt: at("08:12:00")},
	}
	seen := []devices.Alarm{alarm("09:00:00", "Minor", "Backup RE Active"), alarm("09:58:00", "Major", "FPC 1 Major Errors"), alarm("09:58:00", "Major", "PEM 0 Not Powered")}
	events := []devices.Event{
		{Kind: devices.EventAlarmCleared, Time: at("09:57:00"), Subject: "FPC 1 Minor Errors"},
		{Kind: devices.EventAlarmCleared, Time: at("09:56:00"), Subject: "fpc 1   minor errors"},
	}
	want := UpdateAlarms(prev, seen, at("10:00:00"), events)
	for i := range 20 {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		p, s, e := slices.Clone(prev), slices.Clone(seen), slices.Clone(events)
		r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		r.Shuffle(len(e), func(i, j int) { e[i], e[j] = e[j], e[i] })
		if got := UpdateAlarms(p, s, at("10:00:00"), e); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	for _, r := range want {
		if r.Alarm.Description == "FPC 1 Minor Errors" && r.ClearedAt != at("09:56:00") {
			t.Errorf("FPC 1 Minor Errors cleared at %v, want the first clear line, 09:56:00 (case and spaces folded)", r.ClearedAt)
		}
	}
}
