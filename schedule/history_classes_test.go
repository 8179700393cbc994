package schedule

import (
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/syslog"
)

// TestRecordRETableRebootEvidence is issue 15's class 3 through the
// historian and the store: the agent's first poll of a router reads a
// mastership log in which the backup left and came back, and an RE table
// in which it booted 3 minutes ago after its watchdog fired. The finding,
// judged from stored history, is software (it was unknown when the table
// was only compared with a previous poll, and this poll had none).
func TestRecordRETableRebootEvidence(t *testing.T) {
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 10, 5, 0, 0, time.UTC)
	clock := syslog.DeviceClock{Now: now}
	var logs []devices.LogLine
	for _, raw := range []string{
		// The shape of logs/mastership-file.log's "event = E_CMD_R, state =
		// master, param = 0x0", with the codes of Juniper's "Determining Why
		// Mastership Switched".
		"Mar 14 10:00:20 event = E_NO_ORE, state = master, param = 0x0",
		"Mar 14 10:04:10 event = E_ORE_B, state = master, param = 0x0",
	} {
		logs = append(logs, syslog.ParseLine("mastership", raw, clock))
	}
	up0, up1 := 40*24*time.Hour, 3*time.Minute
	p := devices.Poll{
		Device: "mx1", Started: now, Finished: now.Add(2 * time.Second), Outcome: devices.OutcomeOK,
		Snapshot: &devices.Snapshot{
			Device: "mx1", PolledAt: now.Add(2 * time.Second), DeviceTime: now, Logs: logs,
			RouteEngines: []devices.RouteEngine{
				{Name: "re0", MastershipState: "master", Status: "OK", UpTime: &up0, LastRebootReason: "0x1:power cycle/failure"},
				{Name: "re1", MastershipState: "backup", Status: "OK", UpTime: &up1, LastRebootReason: "0x2:watchdog"},
			},
		},
	}
	if err := hist.Record(t.Context(), nil, p); err != nil {
		t.Fatal(err)
	}
	found, err := hist.Judge(t.Context(), []string{"mx1"}, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	fs := found["mx1"]
	if len(fs) != 1 || fs[0].RE != "re1" || fs[0].Cause != devices.CauseSoftware {
		t.Fatalf("findings %+v, want re1 software", fs)
	}
}
