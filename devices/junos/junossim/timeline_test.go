package junossim

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// states renders "name:state:status" of the REs a poll would see.
func states(t *testing.T, r *Router) []string {
	t.Helper()
	rep := decodeReply(t, serve(r, "get-route-engine-information", "1"))
	var out []string
	for _, re := range rep.REInfo.REs {
		name := "re?"
		if re.Slot != nil {
			name = []string{"re0", "re1"}[*re.Slot]
		}
		out = append(out, name+":"+re.State+":"+re.Status)
	}
	return out
}

func upTime(t *testing.T, r *Router, slot int) int64 {
	t.Helper()
	rep := decodeReply(t, serve(r, "get-route-engine-information", "1"))
	for _, re := range rep.REInfo.REs {
		if re.Slot != nil && *re.Slot == slot {
			return re.UpTime.Seconds
		}
	}
	t.Fatalf("no RE in slot %d", slot)
	return 0
}

func TestEventAppliesOnlyAfterItsTime(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1",
		REStates: map[string]RESpec{"re1": {UpTime: time.Hour}},
		Events: []Event{
			{At: 30 * time.Second, Kind: EventReboot, RE: "re1", Reason: ReasonPanic},
		}}, clock)

	clock.Advance(29 * time.Second)
	if got := upTime(t, r, 1); got != 3600+29 {
		t.Fatalf("at 29s re1 up-time = %d, want %d (event not yet due)", got, 3600+29)
	}
	re1, _ := r.RE("re1")
	if re1.LastRebootReason != ReasonNormal {
		t.Errorf("at 29s last-reboot-reason = %q", re1.LastRebootReason)
	}

	// Polled 15 s after the event: up-time counts from the event's own
	// time, not from when the poll noticed it.
	clock.Advance(16 * time.Second)
	if got := upTime(t, r, 1); got != 15 {
		t.Fatalf("at 45s re1 up-time = %d, want 15", got)
	}
	re1, _ = r.RE("re1")
	if re1.LastRebootReason != ReasonPanic || !re1.BootTime.Equal(r.Start().Add(30*time.Second)) {
		t.Errorf("after reboot: %+v", re1)
	}
}

func TestTimelineOfAFlap(t *testing.T) {
	clock := newFakeClock()
	alarm := "Loss of communication with Backup RE"
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		// Out of order on purpose: the timeline sorts by At.
		{At: 5 * time.Minute, Kind: EventREUp, RE: "re1"},
		{At: 2 * time.Minute, Kind: EventREDown, RE: "re1"},
		{At: 2*time.Minute + 25*time.Second, Kind: EventAlarmSet, Class: "Minor", Type: "Chassis", Description: alarm},
		{At: 6 * time.Minute, Kind: EventAlarmClear, Description: alarm},
		{At: 10 * time.Minute, Kind: EventSwitchover},
		{At: 12 * time.Minute, Kind: EventReboot, RE: "re1"}, // the new master reboots: re0 takes over again
		{At: 15 * time.Minute, Kind: EventREDown, RE: "re0", Status: "Failed"},
	}}, clock)
	step := func(to time.Duration, want []string, alarms int) {
		t.Helper()
		clock.Advance(r.Start().Add(to).Sub(clock.Now()))
		if got := states(t, r); !slices.Equal(got, want) {
			t.Errorf("at %v: REs %v, want %v", to, got, want)
		}
		if got := len(r.Alarms()); got != alarms {
			t.Errorf("at %v: %d alarms, want %d", to, got, alarms)
		}
	}
	step(0, []string{"re0:master:OK", "re1:backup:OK"}, 0)
	step(2*time.Minute, []string{"re0:master:OK"}, 0)
	step(3*time.Minute, []string{"re0:master:OK"}, 1)
	step(5*time.Minute, []string{"re0:master:OK", "re1:backup:OK"}, 1)
	if got := upTime(t, r, 1); got != 0 {
		t.Errorf("re1 up-time right after re-up = %d", got)
	}
	re1, _ := r.RE("re1")
	if re1.LastRebootReason != ReasonNormal {
		t.Errorf("re-up reason = %q", re1.LastRebootReason)
	}
	step(6*time.Minute, []string{"re0:master:OK", "re1:backup:OK"}, 0)
	step(10*time.Minute, []string{"re0:backup:OK", "re1:master:OK"}, 0)
	step(12*time.Minute, []string{"re0:master:OK", "re1:backup:OK"}, 0)
	step(15*time.Minute, []string{"re0:backup:Failed", "re1:master:OK"}, 0)
}

func TestRuntimeSetters(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Topology: TopologyMXVC}, clock)
	if err := r.Switchover("member1-re1"); err != nil {
		t.Fatal(err)
	}
	got := r.REs()
	if got[2].MastershipState != "backup" || got[3].MastershipState != "master" || got[0].MastershipState != "master" {
		t.Errorf("after member1 switchover: %+v", got)
	}
	st, _ := r.RE("member0-re1")
	st.Status = StatusAbsent
	if err := r.SetREState("member0-re1", st); err != nil {
		t.Fatal(err)
	}
	if err := r.Switchover("member0-re0"); err == nil {
		t.Error("switchover with the backup absent should fail")
	}
	if err := r.SetREState("re7", REState{}); err == nil {
		t.Error("unknown RE accepted")
	}
	r.SetAlarm(devices.Alarm{Class: "Major", Type: "Chassis", Description: "FPC 1 Major Errors", Member: "member1"})
	if a := r.Alarms(); len(a) != 1 || a[0].Member != "member1" || !a[0].Time.Equal(clock.Now()) || a[0].Source != devices.AlarmChassis {
		t.Errorf("alarms = %+v", a)
	}
	if n := r.ClearAlarm(devices.AlarmSystem, "FPC 1 Major Errors"); n != 0 {
		t.Errorf("cleared %d system alarms, want 0", n)
	}
	if n := r.ClearAlarm("", "FPC 1 Major Errors"); n != 1 {
		t.Errorf("cleared %d alarms, want 1", n)
	}
	if err := r.Apply(Event{Kind: EventReboot, RE: "member0-re0", Reason: "0x2:watchdog"}); err != nil {
		t.Fatal(err)
	}
	st, _ = r.RE("member0-re0")
	if !st.BootTime.Equal(clock.Now()) || st.LastRebootReason != "0x2:watchdog" {
		t.Errorf("after Apply(reboot): %+v", st)
	}
}

// TestConcurrentPolls exercises the router from many goroutines, as many
// NETCONF sessions do; run with -race.
func TestConcurrentPolls(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		{At: time.Second, Kind: EventSwitchover}, {At: 2 * time.Second, Kind: EventSwitchover},
	}}, clock)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 50 {
				switch (i + j) % 4 {
				case 0:
					clock.Advance(100 * time.Millisecond)
				case 1:
					_ = r.Switchover("")
				case 2:
					r.SetAlarm(devices.Alarm{Class: "Minor", Description: "x"})
				}
				_ = serve(r, ops[j%len(ops)], "1")
			}
		})
	}
	wg.Wait()
	decodeReply(t, serve(r, "get-route-engine-information", "1"))
}

func TestNewRouterChecksTheDevice(t *testing.T) {
	if _, err := NewRouter(Device{Name: "r1", Events: []Event{{At: time.Second, Kind: "explode"}}}, 0, nil, nil); err == nil {
		t.Error("unknown event kind accepted")
	}
	if _, err := NewRouter(Device{Name: "r1", Events: []Event{{Kind: EventReboot, RE: "re2"}}}, 0, nil, nil); err == nil {
		t.Error("reboot of a missing RE accepted")
	}
	r, err := NewRouter(Device{Name: "r1"}, 0, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Topology() != TopologyDual || r.Model() != "mx960" || r.Version() != DefaultVersion || len(r.REs()) != 2 {
		t.Errorf("defaults: %s %s %s %v", r.Topology(), r.Model(), r.Version(), r.REs())
	}
}

func BenchmarkRouteEngineReply(b *testing.B) {
	r, err := NewRouter(Device{Name: "r1", Topology: TopologyMXVC}, 0, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r.Reply("get-route-engine-information", "1")
	}
}

// TestEventsBeforeTheStart: a story at negative offsets has happened, at
// its own times, by the first look.
func TestEventsBeforeTheStart(t *testing.T) {
	clock := newFakeClock()
	r := mustRouter(t, Device{Name: "r1", Events: []Event{
		{At: -40 * time.Minute, Kind: EventAlarmSet, Class: "Major", Type: "Chassis", Description: "PEM 0 Not Powered"},
		{At: -30 * time.Minute, Kind: EventPanic, RE: "re1"},
		{At: -20 * time.Minute, Kind: EventREDown, RE: "re1"},
		{At: -10 * time.Minute, Kind: EventREUp, RE: "re1"},
	}}, clock)
	if got := upTime(t, r, 1); got != 600 {
		t.Errorf("re1 up-time at the start = %d, want 600", got)
	}
	a := r.Alarms()
	if len(a) != 1 || !a[0].Time.Equal(r.Start().Add(-40*time.Minute)) {
		t.Errorf("alarms %+v", a)
	}
	lines, _ := r.Log(LogMessages)
	want := []string{"newsyslog", "alarmd", "craftd", "panic", "removed", "added", "removed", "added"}
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d %q lacks %q", i, lines[i], w)
		}
	}
	// The files began an hour before the story.
	if !strings.HasPrefix(lines[0], "Mar 18 17:00:00 ") {
		t.Errorf("first line %q", lines[0])
	}
}

// TestConcurrentLogReads reads and writes the logs from many goroutines
// while the timeline leaves lines for later; run with -race.
func TestConcurrentLogReads(t *testing.T) {
	clock := newFakeClock()
	var evs []Event
	for i := range 30 {
		at := time.Duration(i) * 20 * time.Second
		evs = append(evs, Event{At: at, Kind: EventInternalLinkFlap, Duration: 15 * time.Second},
			Event{At: at + time.Second, Kind: EventReboot, RE: "re1"}, Event{At: at + 2*time.Second, Kind: EventKeepaliveLoss})
		if i%10 == 9 {
			evs = append(evs, Event{At: at, Kind: EventRotateLogs})
		}
	}
	r := mustRouter(t, Device{Name: "r1", LogMaxLines: 50, Events: evs}, clock)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 40 {
				switch (i + j) % 4 {
				case 0:
					clock.Advance(7 * time.Second)
				case 1:
					r.ReplyTo("get-log", "1", []byte("<get-log><filename>messages</filename></get-log>"))
				case 2:
					r.ReplyTo("file-show", "1", []byte("<file-show><filename>/var/log/mastership</filename></file-show>"))
				default:
					_ = r.Switchover("")
				}
			}
		})
	}
	wg.Wait()
	for _, f := range []string{LogMessages, LogMastership} {
		lines, _ := r.Log(f)
		if len(lines) == 0 || len(lines) > 50 {
			t.Errorf("%s: %d lines", f, len(lines))
		}
		for i := 1; i < len(lines); i++ {
			if lines[i][:15] < lines[i-1][:15] {
				t.Errorf("%s out of time order: %q after %q", f, lines[i], lines[i-1])
			}
		}
	}
}
