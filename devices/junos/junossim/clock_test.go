package junossim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestRouterClock: a router whose clock runs 5 h behind the true time,
// changes zone at 7m and steps +1h at 12m shows its clock everywhere, as
// the agent's own decoders read it: current-time and its zone, start-time
// and system-booted-time moving with the step while up-time counts on,
// and log lines stamped by the clock and zone of the moment they were
// written.
func TestRouterClock(t *testing.T) {
	start := time.Date(2026, 3, 19, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	d := junossim.Device{Name: "r1", Clock: &junossim.ClockSpec{
		Offset: -5 * time.Hour,
		Steps:  []junossim.ClockStep{{At: 12 * time.Minute, By: time.Hour}},
		Zones:  []junossim.ZoneChange{{At: 7 * time.Minute, Timezone: "America/Los_Angeles"}},
	}, Events: []junossim.Event{
		{At: 5 * time.Minute, Kind: "log", Text: "rpd[2902]: RPD_ISIS_ADJUP: before"},
		{At: 10 * time.Minute, Kind: "log", Text: "rpd[2902]: RPD_ISIS_ADJUP: between"},
		{At: 15 * time.Minute, Kind: "log", Text: "rpd[2902]: RPD_ISIS_ADJUP: after"},
	}}
	r, err := junossim.NewRouter(d, 1, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	type look struct {
		now   time.Time
		zone  string
		boot  time.Time
		start time.Time
		up    time.Duration
	}
	read := func() look {
		u, err := junos.DecodeSystemUptime(r.Reply("get-system-uptime-information", "1"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := junos.DecodeRouteEngines(r.Reply("get-route-engine-information", "2"))
		if err != nil {
			t.Fatal(err)
		}
		name, _ := u.CurrentTime.In(u.Location).Zone()
		return look{u.CurrentTime, name, *u.BootTime, *res[0].StartTime, *res[0].UpTime}
	}
	first := read()
	if want := start.Add(-5 * time.Hour); !first.now.Equal(want) || first.zone != "UTC" {
		t.Errorf("current-time %v %s, want %v UTC (5h behind)", first.now, first.zone, want)
	}
	clock.Set(start.Add(9 * time.Minute))
	mid := read()
	if mid.zone != "PDT" || !mid.now.Equal(start.Add(-5*time.Hour+9*time.Minute)) {
		t.Errorf("after the zone change: %v %s, want the same clock in PDT", mid.now, mid.zone)
	}
	clock.Set(start.Add(20 * time.Minute))
	last := read()
	if want := start.Add(-4*time.Hour + 20*time.Minute); !last.now.Equal(want) {
		t.Errorf("after the step: current-time %v, want %v", last.now, want)
	}
	if grew := last.up - first.up; grew != 20*time.Minute {
		t.Errorf("up-time grew %v over 20 minutes, want 20m: up-time is not the wall clock", grew)
	}
	if moved := last.start.Sub(first.start); moved != time.Hour {
		t.Errorf("start-time moved %v, want the step, 1h", moved)
	}
	if moved := last.boot.Sub(first.boot); moved != time.Hour {
		t.Errorf("system-booted-time moved %v, want 1h", moved)
	}
	lines, _ := r.Log(junossim.LogMessages)
	var got []string
	for _, l := range lines {
		if strings.Contains(l, "RPD_ISIS_ADJUP") {
			got = append(got, l[:15])
		}
	}
	// 09:05 UTC true is 04:05 on the clock (UTC); 09:10 is 04:10 UTC,
	// shown 21:10 PDT the day before; 09:15 is 05:15 UTC after the step,
	// 22:15 PDT.
	want := []string{"Mar 19 04:05:00", "Mar 18 21:10:00", "Mar 18 22:15:00"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("log stamps %q, want %q", got, want)
	}
}

func TestClockValidation(t *testing.T) {
	src := `devices:
  - name: r1
    clock:
      offset: 1000h
      steps: [{at: 5m, by: 0s}, {at: 2m, by: 1h}]
      zones: [{at: -1m, timezone: Mars/Olympus}, {at: 1m}]
`
	_, err := junossim.ParseScenario([]byte(src), "clock.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"clock.yaml:4", "offset 1000h0m0s",
		"clock.yaml:5", "a step needs by:", "steps must be in time order",
		"clock.yaml:6", `timezone "Mars/Olympus"`, "negative at -1m0s", "a zone change needs timezone:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
