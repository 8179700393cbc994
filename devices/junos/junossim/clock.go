package junossim

import (
	"fmt"
	"sync"
	"time"
)

// Clock is a clock a test sets by hand, to drive a fleet's timelines
// without sleeping: pass its Now as Options.Clock (or to NewRouter), then
// Set or Advance it between polls. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t, forwards or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ClockStart is the instant a test's clock should start at for this
// scenario: its start_time, or else 2025-03-19 09:00:00 UTC, a fixed
// instant so that log timestamps are the same in every run.
func (sc Scenario) ClockStart() time.Time {
	if sc.StartTime.IsZero() {
		return time.Date(2025, 3, 19, 9, 0, 0, 0, time.UTC)
	}
	return sc.StartTime
}

// ClockSpec is a router's own clock, for the agent's handling of device
// clocks (issue 19): it can run off the true time (the injected clock),
// step as NTP steps it after a long drift, and change time zone. The
// scenario's start_time puts a story across midnight or the new year.
//
//	clock:
//	  offset: -5h                      # the router's clock minus the true time
//	  steps: [{at: 12m, by: 1h}]       # at start + at, the clock jumps by
//	  zones: [{at: 7m, timezone: America/Los_Angeles}]  # set system time-zone
//
// Everything the router shows follows its clock: current-time, the
// system-booted-time and start-time (its clock now minus the up-time:
// up-time counts on, the boot time moves with a step, as FreeBSD moves
// kern.boottime), alarm-time and commit times (its clock when they
// happened), log timestamps (its clock and zone when the line was
// written) and file times. Up-times and time-lengths are true durations.
type ClockSpec struct {
	Offset time.Duration `yaml:"offset,omitempty"`
	Steps  []ClockStep   `yaml:"steps,omitempty"`
	Zones  []ZoneChange  `yaml:"zones,omitempty"`
}

// ClockStep is the router's clock jumping By at start + At.
type ClockStep struct {
	At time.Duration `yaml:"at"`
	By time.Duration `yaml:"by"`
}

// ZoneChange is the router's time zone becoming Timezone (IANA) at start
// + At: lines written from then on are stamped in it.
type ZoneChange struct {
	At       time.Duration `yaml:"at"`
	Timezone string        `yaml:"timezone"`
}

// maxClockOffset bounds offsets and steps: a router's clock can be
// wrong by days, and a scenario that needs more is a typo.
const maxClockOffset = 30 * 24 * time.Hour

// validClock checks a device's clock: bounded offset and steps, steps
// and zone changes in time order, zones that load.
func validClock(path string, c *ClockSpec, bad func(path, format string, args ...any)) {
	if c == nil {
		return
	}
	if c.Offset > maxClockOffset || c.Offset < -maxClockOffset {
		bad(path+".offset", "offset %v: want at most %v either way", c.Offset, maxClockOffset)
	}
	for i, s := range c.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		switch {
		case s.By == 0:
			bad(sp+".by", "a step needs by: (1h, -1h, ...)")
		case s.By > maxClockOffset || s.By < -maxClockOffset:
			bad(sp+".by", "step %v: want at most %v either way", s.By, maxClockOffset)
		}
		if s.At < 0 {
			bad(sp+".at", "negative at %v: a step happens during the story", s.At)
		} else if i > 0 && s.At <= c.Steps[i-1].At {
			bad(sp+".at", "steps must be in time order (%v after %v)", s.At, c.Steps[i-1].At)
		}
	}
	for i, z := range c.Zones {
		zp := fmt.Sprintf("%s.zones[%d]", path, i)
		if z.Timezone == "" {
			bad(zp+".timezone", "a zone change needs timezone: (an IANA name such as America/Los_Angeles)")
		} else if _, err := time.LoadLocation(z.Timezone); err != nil {
			bad(zp+".timezone", "timezone %q: %v", z.Timezone, err)
		}
		if z.At < 0 {
			bad(zp+".at", "negative at %v: a zone change happens during the story", z.At)
		} else if i > 0 && z.At <= c.Zones[i-1].At {
			bad(zp+".at", "zone changes must be in time order (%v after %v)", z.At, c.Zones[i-1].At)
		}
	}
}

// deviceClock is a router's clock against the true time.
type deviceClock struct {
	offset time.Duration
	steps  []clockStepAt
	zones  []zoneAt
	base   *time.Location
}

type clockStepAt struct {
	at time.Time
	by time.Duration
}

type zoneAt struct {
	at  time.Time
	loc *time.Location
}

// newDeviceClock resolves c against the simulation's start; the zones
// were validated.
func newDeviceClock(c *ClockSpec, start time.Time, base *time.Location) (deviceClock, error) {
	dc := deviceClock{base: base}
	if c == nil {
		return dc, nil
	}
	dc.offset = c.Offset
	for _, s := range c.Steps {
		dc.steps = append(dc.steps, clockStepAt{start.Add(s.At), s.By})
	}
	for _, z := range c.Zones {
		loc, err := time.LoadLocation(z.Timezone)
		if err != nil {
			return dc, fmt.Errorf("clock zone %q: %w", z.Timezone, err)
		}
		dc.zones = append(dc.zones, zoneAt{start.Add(z.At), loc})
	}
	return dc, nil
}

// at is what the router's clock reads at true time t.
func (c deviceClock) at(t time.Time) time.Time {
	d := c.offset
	for _, s := range c.steps {
		if !s.at.After(t) {
			d += s.by
		}
	}
	return t.Add(d)
}

// zone is the router's time zone at true time t.
func (c deviceClock) zone(t time.Time) *time.Location {
	loc := c.base
	for _, z := range c.zones {
		if !z.at.After(t) {
			loc = z.loc
		}
	}
	return loc
}
