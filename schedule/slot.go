package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Aligned makes an "@every D" schedule fire at multiples of D since Go's
// zero time (time.Truncate; for a D that divides a day these are the same
// instants as multiples since the Unix epoch) instead of D after whenever
// the agent started, so that
// several agents sharing a fleet (each started at its own moment) agree
// on the audit times. Cron specs are aligned already and are returned
// unchanged.
func Aligned(sched cron.Schedule) cron.Schedule {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return alignedEvery{every.Delay}
	}
	return sched
}

type alignedEvery struct{ d time.Duration }

func (a alignedEvery) Next(t time.Time) time.Time { return t.Truncate(a.d).Add(a.d) }

// SlotOf returns the scheduled time an activation at now belongs to: the
// latest time of sched at or before now. The scheduler fires a moment
// after that time, so every agent on the same (aligned) schedule gets the
// same slot for the same audit. It looks back at most eight days; the zero
// time means sched never fired in that window.
func SlotOf(sched cron.Schedule, now time.Time) time.Time {
	for back := time.Minute; back <= 8*24*time.Hour; back *= 4 {
		t := sched.Next(now.Add(-back))
		if t.After(now) {
			continue // no activation in this window: look further back
		}
		// Walk forward to the last activation at or before now; the
		// window holds at most back/1s of them.
		for i := 0; i < 1<<20; i++ {
			next := sched.Next(t)
			if next.After(now) || !next.After(t) {
				return t
			}
			t = next
		}
		return t
	}
	return time.Time{}
}
