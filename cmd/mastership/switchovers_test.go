package main

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/schedule"
	"github.com/mastership/mastership/store"
)

// switchCommand is the line an operator's typed switchover leaves in
// messages when interactive-commands is logged there: the
// UI_CMDLINE_READ_LINE shape "User 'x', command 'y '" with the words of
// Juniper's "request chassis routing-engine master switch" page.
const switchCommand = "mgd[4711]: UI_CMDLINE_READ_LINE: User 'lab', command 'request chassis routing-engine master switch '"

// TestSwitchoverLedgerEndToEnd is issue 15's switchover ledger over real
// SSH: one router switched over and back by an operator (planned, no
// finding), one whose master panics (unplanned, with the finding's
// cause). The agent audits them on the simulator's clock every 5 minutes
// into a database, then report --kind switchovers and check --json read
// the ledger from it.
func TestSwitchoverLedgerEndToEnd(t *testing.T) {
	// The story ends half an hour ago, so that check, on the real clock,
	// judges it inside its horizon.
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
	var polls []time.Duration
	for at := time.Duration(0); at <= 90*time.Minute; at += 5 * time.Minute {
		polls = append(polls, at)
	}
	sc := junossim.Scenario{StartTime: start, Polls: polls, Devices: []junossim.Device{
		{Name: "ams1-mx960-planned", Model: "mx960", Topology: junossim.TopologyDual, Site: "ams1", Events: []junossim.Event{
			{At: 40*time.Minute + 30*time.Second, Kind: junossim.EventLog, Text: switchCommand},
			{At: 41 * time.Minute, Kind: junossim.EventSwitchover},
			{At: 50*time.Minute + 30*time.Second, Kind: junossim.EventLog, Text: switchCommand},
			{At: 51 * time.Minute, Kind: junossim.EventSwitchover},
		}},
		{Name: "sgn1-mx960-crash", Model: "mx960", Topology: junossim.TopologyDual, Site: "sgn1", Events: []junossim.Event{
			{At: 40 * time.Minute, Kind: junossim.EventPanic, RE: "re0", Text: "page fault"},
		}},
	}}
	clock := junossim.NewClock(start)
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	inv := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(inv); err != nil {
		t.Fatal(err)
	}
	loaded, err := inventory.LoadInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "m.db")
	auditStory(t, db, clock, start, polls, loaded.Devices)

	r := runCLI(t, "report", "--db", db, "--kind", "switchovers", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || r.code != 0 {
		t.Fatalf("report: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got := strings.Join(rows[0], ","); got != "device,site,time,old_master,new_master,planned,command,cause,evidence" {
		t.Errorf("header = %s", got)
	}
	type row struct{ device, site, time, old, new, planned, command, cause string }
	var got []row
	for _, c := range rows[1:] {
		got = append(got, row{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]})
		if c[8] == "" {
			t.Errorf("switchover without evidence: %q", c)
		}
	}
	stamp := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }
	cmd := "request chassis routing-engine master switch by lab"
	want := []row{
		{"sgn1-mx960-crash", "sgn1", stamp(40 * time.Minute), "re0", "re1", "false", "", "software"},
		{"ams1-mx960-planned", "ams1", stamp(41 * time.Minute), "re0", "re1", "true", cmd, ""},
		{"ams1-mx960-planned", "ams1", stamp(51 * time.Minute), "re1", "re0", "true", cmd, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("switchovers\n got %q\nwant %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("switchover %d\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(rows[2][8], "UI_CMDLINE_READ_LINE") {
		t.Errorf("a planned switchover's evidence lacks the command line: %q", rows[2][8])
	}

	type checkJSON struct {
		State       string           `json:"state"`
		Findings    []map[string]any `json:"findings"`
		Switchovers []struct {
			Time      time.Time     `json:"time"`
			OldMaster string        `json:"old_master"`
			NewMaster string        `json:"new_master"`
			Planned   bool          `json:"planned"`
			Command   string        `json:"command"`
			Cause     devices.Cause `json:"cause"`
			Evidence  []string      `json:"evidence"`
		} `json:"switchovers"`
	}
	check := func(device string) checkJSON {
		t.Helper()
		r := runCLI(t, "check", device, "--inventory", inv, "--db", db, "--json")
		var v checkJSON
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("check %s: exit %d, %v\n%s%s", device, r.code, err, r.stdout, r.stderr)
		}
		return v
	}
	// Switched over and back by command: no finding, OK.
	v := check("ams1-mx960-planned")
	if v.State != "OK" || len(v.Findings) != 0 || len(v.Switchovers) != 2 {
		t.Errorf("planned: state %s, %d findings, switchovers %+v", v.State, len(v.Findings), v.Switchovers)
	} else if sw := v.Switchovers[0]; !sw.Planned || sw.Command != cmd || sw.OldMaster != "re0" || sw.NewMaster != "re1" ||
		!sw.Time.Equal(start.Add(41*time.Minute)) || len(sw.Evidence) == 0 {
		t.Errorf("planned switchover in check --json: %+v", sw)
	}
	// The master panicked: a critical finding, and an unplanned switchover
	// with its cause.
	v = check("sgn1-mx960-crash")
	if len(v.Findings) != 1 || len(v.Switchovers) != 1 {
		t.Fatalf("crash: %d findings, switchovers %+v", len(v.Findings), v.Switchovers)
	}
	if sw := v.Switchovers[0]; sw.Planned || sw.Command != "" || sw.Cause != devices.CauseSoftware || sw.NewMaster != "re1" {
		t.Errorf("unplanned switchover in check --json: %+v", sw)
	}
}

// auditStory audits devs at each poll time of the story on the
// simulator's clock, storing into db, as a daemon would have.
func auditStory(t *testing.T, db string, clock *junossim.Clock, start time.Time, polls []time.Duration, devs []inventory.Device) {
	t.Helper()
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hist, err := schedule.NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &schedule.Auditor{Poller: &schedule.Poller{Now: clock.Now, Cursors: st}, Store: st, Historian: hist, Concurrency: 4}
	for _, at := range polls {
		clock.Set(start.Add(at))
		res, err := a.Audit(t.Context(), devs)
		if err != nil {
			t.Fatalf("audit at %v: %v", at, err)
		}
		for _, p := range res.Polls {
			if p.Outcome != devices.OutcomeOK {
				t.Fatalf("audit at %v: %s: %s %s", at, p.Device, p.Outcome, p.Error)
			}
		}
	}
}
