package schedule

// Switchover readiness (issue 16), the poll's side: when to read the
// routing task replication state ("show task replication"), which is read
// rarely, and the verdict rebuilt at each poll from what the poll read,
// the replication state last read and the last switchover of the ledger.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos"
	"github.com/mastership/mastership/devices/readiness"
	"github.com/mastership/mastership/netconf"
	"github.com/mastership/mastership/store"
)

// replicationRetry is how soon a failed replication read is tried again:
// sooner than the interval, so one timeout does not leave the condition
// unknown for an hour, but not at every poll of a device that refuses it.
const replicationRetry = 5 * time.Minute

// ReadinessMemory is what the poller remembers between polls of each
// device about its last replication read: when it was, what it said, and
// the RE table and redundancy configuration it was read against, to see
// the triggers (a reboot, a switchover, a commit) that call for another
// read before the interval is up. Safe for concurrent use. A Poller
// without one reads the replication state at every poll (check).
type ReadinessMemory struct {
	mu      sync.Mutex
	devices map[string]replicationRead
}

// NewReadinessMemory returns an empty memory: every device's first poll
// reads the replication state.
func NewReadinessMemory() *ReadinessMemory {
	return &ReadinessMemory{devices: make(map[string]replicationRead)}
}

// replicationRead is one device's last read.
type replicationRead struct {
	at    time.Time
	state []devices.ReplicationState // nil: the read failed
	// What the device looked like then: the masters, each RE's boot
	// time (poll time minus up-time) and the GRES/NSR configuration.
	masters []string
	booted  map[string]time.Time
	config  devices.RedundancyConfig
}

func (m *ReadinessMemory) get(device string) (replicationRead, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.devices[device]
	return r, ok
}

func (m *ReadinessMemory) put(device string, r replicationRead) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.devices[device] = r
}

// bootTimes is each RE's boot time as this poll sees it.
func bootTimes(snap *devices.Snapshot, now time.Time) map[string]time.Time {
	out := make(map[string]time.Time)
	for _, re := range snap.RouteEngines {
		if re.UpTime != nil {
			out[re.Name] = now.Add(-*re.UpTime)
		}
	}
	return out
}

// bootSlack absorbs the rounding of up-times (Junos gives seconds) and
// the time between the RE table's read and the poll's clock.
const bootSlack = time.Minute

// replicationTrigger says why the replication state must be read at this
// poll, "" when the last read still stands.
func replicationTrigger(last replicationRead, ok bool, snap *devices.Snapshot, interval time.Duration, now time.Time) string {
	switch {
	case !ok:
		return "first read"
	case last.state == nil && now.Sub(last.at) >= min(interval, replicationRetry):
		return "the last read failed"
	case now.Sub(last.at) >= interval:
		return "interval"
	}
	if masters := snap.Masters(); len(masters) > 0 && !slices.Equal(masters, last.masters) {
		return "switchover"
	}
	for name, boot := range bootTimes(snap, now) {
		prev, seen := last.booted[name]
		if !seen || boot.Sub(prev) > bootSlack {
			return "reboot of " + name
		}
	}
	for _, l := range snap.Logs {
		if l.Tag == "UI_COMMIT" || l.Tag == "UI_COMMIT_COMPLETED" {
			return "commit"
		}
	}
	if snap.Config != nil && snap.Config.Known && *snap.Config != last.config {
		return "configuration changed"
	}
	return ""
}

// needsReplication reports whether the device's verdict can use the
// replication state at all: a router with two REs of one chassis that has
// GRES configured (without it the verdict is already "GRES off").
func needsReplication(snap *devices.Snapshot) bool {
	if len(snap.RouteEngines) < 2 {
		return false
	}
	for _, re := range snap.RouteEngines {
		if strings.HasPrefix(cmp.Or(re.Member, re.Name), "node") {
			return false // an SRX cluster: not applicable
		}
	}
	return snap.Config == nil || !snap.Config.Known || snap.Config.GracefulSwitchover
}

// readReplication fills snap.Replication, reading the replication state
// again only when the interval is up or a trigger fired, and otherwise
// carrying the last read. A failed read is not the poll's failure: it
// makes the GRES readiness condition unknown, and is only logged.
func (p *Poller) readReplication(ctx context.Context, sess *netconf.Session, d inventory.Device, snap *devices.Snapshot) {
	if !needsReplication(snap) {
		return
	}
	now := p.Now().UTC()
	interval := d.Readiness.Interval
	if interval <= 0 {
		interval = inventory.DefaultReadinessInterval
	}
	var last replicationRead
	ok := false
	if p.Readiness != nil {
		last, ok = p.Readiness.get(d.Name)
	}
	why := replicationTrigger(last, ok, snap, interval, now)
	if why == "" {
		snap.Replication, snap.ReplicationAt = last.state, last.at
		return
	}
	read := replicationRead{at: now, masters: snap.Masters(), booted: bootTimes(snap, now)}
	if snap.Config != nil {
		read.config = *snap.Config
	}
	state, err := p.replicationState(ctx, sess)
	if err != nil {
		p.logger().Warn("replication state not read: switchover readiness of GRES unknown", "device", d.Name, "why", why, "error", err)
	} else {
		p.logger().Debug("replication state read", "device", d.Name, "why", why)
		read.state = state
		snap.Replication, snap.ReplicationAt = state, now
	}
	if p.Readiness != nil {
		p.Readiness.put(d.Name, read)
	}
}

func (p *Poller) replicationState(ctx context.Context, sess *netconf.Session) ([]devices.ReplicationState, error) {
	reply, err := sess.RPC(ctx, junos.RPCReplicationState)
	if err != nil {
		return nil, fmt.Errorf("get-routing-task-replication-state: %w", err)
	}
	state, err := junos.DecodeReplicationState(reply.Raw)
	if err != nil && !keptData(err) {
		return nil, fmt.Errorf("get-routing-task-replication-state: decode reply: %w", err)
	}
	return state, nil
}

// masterReplication is the state the master RE gave, the first one when
// none says Master.
func masterReplication(states []devices.ReplicationState) *devices.ReplicationState {
	for i := range states {
		if states[i].REMode == "Master" {
			return &states[i]
		}
	}
	if len(states) > 0 {
		return &states[0]
	}
	return nil
}

// switchoverLookback is how far back the ledger is read for the last
// switchover: Junos's interval between graceful switchovers is at most
// 300 s, so an older one cannot fail the condition.
const switchoverLookback = time.Hour

// Readiness is the switchover readiness verdict of d at its poll p, which
// has been stored and judged (the ledger has its switchovers): what the
// poll read, the replication state it carried, and the last switchover in
// the ledger. A ledger that cannot be read makes that condition unknown.
func Readiness(ctx context.Context, st store.Store, d inventory.Device, p devices.Poll, now time.Time) readiness.Verdict {
	in := readiness.Input{ExpectedREs: p.ExpectedREs}
	if s := p.Snapshot; s != nil {
		in.RouteEngines = s.RouteEngines
		in.Software = s.Software
		in.Config = s.Config
		in.Replication = masterReplication(s.Replication)
		in.Alarms, in.AlarmsRead = s.Alarms, s.AlarmsRead
	}
	if in.RouteEngines != nil {
		sws, err := st.Switchovers(ctx, store.Filter{Devices: []string{d.Name}, Since: now.Add(-switchoverLookback)})
		if err == nil {
			in.SwitchoverKnown = true
			for _, sw := range sws {
				if sw.Time.After(in.LastSwitchover) {
					in.LastSwitchover = sw.Time
				}
			}
		}
	}
	return readiness.Assess(in, readiness.Settings{MinBackupUptime: d.Readiness.MinBackupUptime}, now)
}
