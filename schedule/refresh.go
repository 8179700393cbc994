package schedule

import (
	"slices"
	"sync"
	"time"

	"github.com/mastership/mastership/devices"
)

// Issue 17: a steady-state poll asks only what may have changed. Software
// and the redundancy configuration change only at an upgrade (which
// reboots an RE) or a commit, so they are read at a device's first poll,
// after a reboot or a commit seen in data the poll has already read, and
// at least once per Refresh. In between, the poll carries what was read
// last, from a per-device cache kept in memory: a restarted daemon reads
// everything once, which is correct. Switchover readiness needs the same
// software and configuration, and asks the same cache (Refresher.Due,
// Refresher.Cached) so that both agree on when they were read.

// DefaultRefresh is how old software and configuration may get before a
// poll reads them again although nothing said they changed.
const DefaultRefresh = 24 * time.Hour

// Refreshed is what one device's last reading of software and
// configuration left: the data, when it was read, and the signals it was
// read under (RE up-times, last commit) to compare the next poll's with.
type Refreshed struct {
	Software []devices.Software
	Config   *devices.RedundancyConfig
	// ReadAt is when both were last read; zero: never.
	ReadAt time.Time
	// UpTimes are the RE up-times of the RE table at that poll, by RE name.
	UpTimes map[string]time.Duration
	// LastConfigured is the device's last-configured-time then.
	LastConfigured time.Time
}

// Signals is what a poll has already read that says whether software or
// configuration may have changed: the RE table, the last commit time
// (get-system-uptime-information), and the commit events of logs read.
type Signals struct {
	RouteEngines   []devices.RouteEngine
	LastConfigured time.Time
	// Committed is set when a log line read this poll is a commit.
	Committed bool
}

// Why a refresh is due; "" means it is not.
const (
	DueFirst   = "first poll"
	DueReboot  = "an RE rebooted"
	DueCommit  = "a commit"
	DueExpired = "older than the refresh interval"
)

// Due says whether software and configuration must be read at this poll,
// and why: it is pure. A missing cache (ok false) is a first poll. An RE
// whose up-time went down, or an RE not in the cached table at all, has
// rebooted (an upgrade reboots); a last-configured-time other than the
// cached one, or a commit event, is a commit; refresh <= 0 means
// DefaultRefresh.
func Due(c Refreshed, ok bool, sig Signals, now time.Time, refresh time.Duration) string {
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	switch {
	case !ok || c.ReadAt.IsZero():
		return DueFirst
	case rebooted(c.UpTimes, sig.RouteEngines):
		return DueReboot
	case sig.Committed || !sig.LastConfigured.Equal(c.LastConfigured):
		return DueCommit
	case now.Sub(c.ReadAt) >= refresh:
		return DueExpired
	}
	return ""
}

func rebooted(before map[string]time.Duration, res []devices.RouteEngine) bool {
	for _, re := range res {
		if re.UpTime == nil {
			continue // not reported: nothing to compare
		}
		was, seen := before[re.Name]
		if !seen || *re.UpTime < was {
			return true
		}
	}
	return false
}

// UpTimes returns the up-times an RE table reports, by RE name.
func UpTimes(res []devices.RouteEngine) map[string]time.Duration {
	out := make(map[string]time.Duration, len(res))
	for _, re := range res {
		if re.UpTime != nil {
			out[re.Name] = *re.UpTime
		}
	}
	return out
}

// Refresher is the per-device cache, safe for concurrent use by the polls
// of different devices. Its zero value is ready; a nil *Refresher caches
// nothing, so every poll reads everything (check, one-shot audits).
type Refresher struct {
	// Interval is the --refresh interval; zero means DefaultRefresh.
	Interval time.Duration

	mu      sync.Mutex
	devices map[string]Refreshed
}

// Cached returns what device's last refresh left.
func (r *Refresher) Cached(device string) (Refreshed, bool) {
	if r == nil {
		return Refreshed{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.devices[device]
	return c, ok
}

// Due is the package's Due for device with its cache and interval; with a
// nil Refresher it is always DueFirst.
func (r *Refresher) Due(device string, sig Signals, now time.Time) string {
	if r == nil {
		return DueFirst
	}
	c, ok := r.Cached(device)
	return Due(c, ok, sig, now, r.Interval)
}

// Store records a complete reading of software and configuration; a
// reading with either missing is not stored, so the next poll tries
// again.
func (r *Refresher) Store(device string, sw []devices.Software, cfg *devices.RedundancyConfig, sig Signals, at time.Time) {
	if r == nil || cfg == nil || len(sw) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.devices == nil {
		r.devices = map[string]Refreshed{}
	}
	c := *cfg
	r.devices[device] = Refreshed{Software: slices.Clone(sw), Config: &c, ReadAt: at,
		UpTimes: UpTimes(sig.RouteEngines), LastConfigured: sig.LastConfigured}
}

// Forget drops a device's cache, so its next poll reads everything.
func (r *Refresher) Forget(device string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.devices, device)
}
