package correlate

import (
	"cmp"
	"fmt"
	"time"

	"github.com/mastership/mastership/devices"
)

// pollSpan places two consecutive polls of a device on one clock, the
// current poll's device clock: curAt is cur.DeviceTime (cur.PolledAt
// when the device did not say), elapsed the time that passed between the
// polls and prevAt = curAt - elapsed.
//
// elapsed is the agent's (PolledAt to PolledAt), because the device clock
// can step between two polls (NTP after a long drift) while the agent's
// runs on: the previous poll's own DeviceTime, on the clock before the
// step, would move everything derived from it by the step (issue 19).
// Only when the agent's times are missing or do not move forward is the
// device's difference used, and failing both, nothing passed.
func pollSpan(prev, cur *devices.Snapshot) (prevAt, curAt time.Time, elapsed time.Duration) {
	curAt = cmp.Or(cur.DeviceTime, cur.PolledAt)
	switch {
	case !prev.PolledAt.IsZero() && !cur.PolledAt.IsZero() && cur.PolledAt.After(prev.PolledAt):
		elapsed = cur.PolledAt.Sub(prev.PolledAt)
	case !prev.DeviceTime.IsZero() && !cur.DeviceTime.IsZero() && cur.DeviceTime.After(prev.DeviceTime):
		elapsed = cur.DeviceTime.Sub(prev.DeviceTime)
	}
	return curAt.Add(-elapsed), curAt, elapsed
}

// ClockStep is a step of the device's clock between two polls, told from
// a reboot.
type ClockStep struct {
	// By is how far the device clock jumped, beyond the time that passed
	// on the agent's clock: +1h when it was set forward an hour.
	By time.Duration
	// Note is the sentence stored with the poll (devices.Notes).
	Note string
}

// DetectClockStep reports whether the device's clock stepped by more than
// rebootSlack between prev and cur, two consecutive polls of one device.
// The step is what the device's clock moved minus what the agent's
// (PolledAt) moved:
//   - from the devices' current-time (Snapshot.DeviceTime) when both
//     polls have it, provided an RE's up-time grew as the agent's clock
//     did (else the agent's clock is the one that jumped);
//   - else from the start-time of an RE whose up-time grew as the agent's
//     clock did (it did not reboot): Junos keeps up-time on a monotonic
//     clock and moves the boot time with the wall clock, so start-time
//     shifts by exactly the step. The master is asked first, since the
//     backup's clock can be wrong on its own (MANIFEST pitfall 4).
//
// Stored polls carry no DeviceTime, so the second way is the one the
// daemon takes between audits. Without the agent's times nothing is
// reported.
func DetectClockStep(prev, cur *devices.Snapshot) (ClockStep, bool) {
	if prev == nil || cur == nil || prev.PolledAt.IsZero() || cur.PolledAt.IsZero() || !cur.PolledAt.After(prev.PolledAt) {
		return ClockStep{}, false
	}
	elapsed := cur.PolledAt.Sub(prev.PolledAt)
	var by time.Duration
	var how string
	if !prev.DeviceTime.IsZero() && !cur.DeviceTime.IsZero() {
		if !upTimesCount(prev, cur, elapsed) {
			return ClockStep{}, false // the agent's clock moved, not the device's
		}
		by = cur.DeviceTime.Sub(prev.DeviceTime) - elapsed
		how = fmt.Sprintf("its current-time moved %s while the agent's clock moved %s", span(cur.DeviceTime.Sub(prev.DeviceTime)), span(elapsed))
	} else {
		re, shift, ok := startTimeShift(prev, cur, elapsed)
		if !ok {
			return ClockStep{}, false
		}
		by = shift
		how = fmt.Sprintf("%s start-time moved %s while its up-time grew as the agent's clock did (%s): not a reboot", re, signed(shift), span(elapsed))
	}
	by = by.Round(time.Second)
	if by <= rebootSlack && by >= -rebootSlack {
		return ClockStep{}, false
	}
	return ClockStep{By: by, Note: fmt.Sprintf("device clock stepped %s between polls (%s)", signed(by), how)}, true
}

// upTimesCount reports whether the up-times of the REs in both polls
// bear the agent's clock out: at least one grew within rebootSlack of
// elapsed, or none can tell (no RE with an up-time in both). When they
// grew as the device's clock did instead, it was the agent's clock that
// jumped.
func upTimesCount(prev, cur *devices.Snapshot, elapsed time.Duration) bool {
	before := indexREs(prev.RouteEngines)
	told := false
	for _, c := range cur.RouteEngines {
		pu, cu := upTime(before[c.Name]), upTime(c)
		if pu == nil || cu == nil {
			continue
		}
		told = true
		if grew := *cu - *pu; grew-elapsed <= rebootSlack && elapsed-grew <= rebootSlack {
			return true
		}
	}
	return !told
}

// startTimeShift is how far the start-time of an RE that did not reboot
// moved between two polls, for the master first, then the others in
// table order; false when no RE in both tables has both fields and an
// up-time that grew within rebootSlack of elapsed.
func startTimeShift(prev, cur *devices.Snapshot, elapsed time.Duration) (string, time.Duration, bool) {
	before := indexREs(prev.RouteEngines)
	order := make([]devices.RouteEngine, 0, len(cur.RouteEngines))
	for _, re := range cur.RouteEngines {
		if re.IsMaster() {
			order = append(order, re)
		}
	}
	for _, re := range cur.RouteEngines {
		if !re.IsMaster() {
			order = append(order, re)
		}
	}
	for _, c := range order {
		p, ok := before[c.Name]
		pu, cu := upTime(p), upTime(c)
		if !ok || pu == nil || cu == nil || p.StartTime == nil || c.StartTime == nil {
			continue
		}
		if grew := *cu - *pu; grew-elapsed > rebootSlack || elapsed-grew > rebootSlack {
			continue // rebooted, or an up-time that does not count real time
		}
		return c.Name, c.StartTime.Sub(*p.StartTime), true
	}
	return "", 0, false
}

// signed is span with a sign always: "+1h", "-1h".
func signed(d time.Duration) string {
	if d < 0 {
		return span(d)
	}
	return "+" + span(d)
}
