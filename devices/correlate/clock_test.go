package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// clockSnap is a poll of a dual-RE device taken at agent time polled,
// whose device clock read device then, with each RE's up-time and the
// start-time the device showed for it (device minus up-time).
func clockSnap(polled, device time.Time, up0, up1 time.Duration) *devices.Snapshot {
	mk := func(name, state string, up time.Duration) devices.RouteEngine {
		r := re(name, state, "OK", up, "0x1:power cycle/failure")
		start := device.Add(-up)
		r.StartTime = &start
		return r
	}
	return &devices.Snapshot{Device: "d", PolledAt: polled, DeviceTime: device,
		RouteEngines: []devices.RouteEngine{mk("re0", "master", up0), mk("re1", "backup", up1)}}
}

// TestClockSteps: a device clock that steps, runs hours off the agent's
// or both, between two polls 5 minutes apart on the agent's clock, gives
// no transition (no false reboot) and, when it stepped, a ClockStep of
// the right size and sign. A real reboot under a step is still one.
func TestClockSteps(t *testing.T) {
	t0 := at("10:00:00")
	up0, up1 := 40*dayLen, 40*dayLen-time.Minute
	const poll = 5 * time.Minute
	for _, tt := range []struct {
		name       string
		offset     time.Duration // device clock minus agent clock at the first poll
		step       time.Duration // and how far it jumped before the second
		rebootRE1  bool
		storedPrev bool // prev read back from the store: no DeviceTime
		agentJump  time.Duration
		wantStep   time.Duration
	}{
		{name: "no step", wantStep: 0},
		{name: "step +1h", step: time.Hour, wantStep: time.Hour},
		{name: "step -1h", step: -time.Hour, wantStep: -time.Hour},
		{name: "step +1h, stored previous poll", step: time.Hour, storedPrev: true, wantStep: time.Hour},
		{name: "step -1h, stored previous poll", step: -time.Hour, storedPrev: true, wantStep: -time.Hour},
		{name: "clock 5h behind the agent's, steady", offset: -5 * time.Hour},
		{name: "clock 5h behind, steps +5h (NTP after a long drift)", offset: -5 * time.Hour, step: 5 * time.Hour, wantStep: 5 * time.Hour},
		{name: "a step of 90s is not reported", step: 90 * time.Second},
		{name: "re1 rebooted while the clock stepped +1h", step: time.Hour, rebootRE1: true, wantStep: time.Hour},
		{name: "re1 rebooted while the clock stepped -1h, stored", step: -time.Hour, rebootRE1: true, storedPrev: true, wantStep: -time.Hour},
		// The agent's clock jumped an hour while the device's did not:
		// the up-times grew 5 minutes, and they count from long before
		// the last poll. No reboot, and no step of the device's clock
		// either: its up-times moved as its clock did.
		{name: "the agent's clock jumped +1h", agentJump: time.Hour},
		{name: "the agent's clock jumped +1h, stored", agentJump: time.Hour, storedPrev: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prev := clockSnap(t0, t0.Add(tt.offset), up0, up1)
			curUp1 := up1 + poll
			if tt.rebootRE1 {
				curUp1 = 2 * time.Minute
			}
			cur := clockSnap(t0.Add(poll+tt.agentJump), t0.Add(tt.offset+tt.step+poll), up0+poll, curUp1)
			if tt.storedPrev {
				prev.DeviceTime = time.Time{}
			}
			got := TableTransitions(prev, cur)
			switch {
			case tt.rebootRE1 && len(got) != 2:
				t.Errorf("transitions = %q, want re1's reboot (backup→gone→backup)", briefs(got))
			case tt.rebootRE1:
				// The return is timed on the device's clock now: its
				// boot, 2 minutes before the poll.
				if want := cur.DeviceTime.Add(-2 * time.Minute); !got[1].Time.Equal(want) {
					t.Errorf("return at %v, want the boot at %v", got[1].Time, want)
				}
			case len(got) != 0:
				t.Errorf("transitions = %q, want none: the clock moved, no RE rebooted", briefs(got))
			}
			step, ok := DetectClockStep(prev, cur)
			if ok != (tt.wantStep != 0) || step.By != tt.wantStep {
				t.Fatalf("DetectClockStep = %+v, %v; want a step of %v", step, ok, tt.wantStep)
			}
			if ok && !strings.HasPrefix(step.Note, "device clock stepped "+signed(tt.wantStep)+" between polls (") {
				t.Errorf("note %q", step.Note)
			}
		})
	}
}

func TestDetectClockStepNeedsAgentTimes(t *testing.T) {
	t0 := at("10:00:00")
	prev := clockSnap(t0, t0, dayLen, dayLen)
	cur := clockSnap(t0.Add(5*time.Minute), t0.Add(time.Hour+5*time.Minute), dayLen+5*time.Minute, dayLen+5*time.Minute)
	for name, mutate := range map[string]func(){
		"no previous PolledAt":  func() { prev.PolledAt = time.Time{} },
		"agent clock went back": func() { cur.PolledAt = t0.Add(-time.Minute) },
	} {
		p, c := *prev, *cur
		mutate()
		if step, ok := DetectClockStep(prev, cur); ok {
			t.Errorf("%s: step %+v, want none: nothing to measure against", name, step)
		}
		*prev, *cur = p, c
	}
	if _, ok := DetectClockStep(nil, cur); ok {
		t.Error("a first poll has no step")
	}
}
