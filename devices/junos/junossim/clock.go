package junossim

import (
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
