package schedule

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

// deviceMemory is what an auditor stored last about each device: the log
// cursors, the configuration in effect and whether the device has any
// alarm record. A steady-state poll of an unchanged router otherwise reads
// all of it back from the store only to find it as it was, and writes the
// same configuration again (issue 17: the store was most of a persistent
// poll's CPU).
//
// A device's memory holds only while the device's latest stored poll is
// the one this auditor stored with it (store.PollIDReader, one index
// seek, asked when the next poll starts and again before it is saved): a
// check, an audit in another process or another agent sharing the store
// that stores a poll of the device makes the store be read again, as it
// was before. Taking the log cursors from a memory that no longer held
// is not harmless: lines read again from an older cursor were stored
// twice (TestSharedAgentsMatchOneAgent). Pruning never deletes what is
// remembered: log cursors are kept, the configuration in effect is kept,
// and a device with no alarm record has nothing to prune.
//
// The zero value is ready to use; it is safe for concurrent use.
type deviceMemory struct {
	mu       sync.Mutex
	byDevice map[string]*remembered
}

// remembered is one device's memory, as the store holds it after the
// auditor's last save. It is never changed once shared: a save replaces
// it.
type remembered struct {
	pollID int64 // the device's latest poll, stored by this auditor
	// rePoll is that poll as far as the historian reads it back
	// (LatestREPoll: the RE table and when it was read, as stored), when
	// it had an RE table; nil otherwise.
	rePoll *devices.Poll
	// cursors are the stored cursors this auditor read or wrote, in the
	// form LogCursor returns them, by file.
	cursors map[string]devices.LogCursor
	// config is the JSON of the configuration stored in effect at
	// configAt; "" when unknown.
	config   string
	configAt time.Time
	// noAlarms: the store holds no alarm record of the device.
	noAlarms bool
}

// get returns d's memory when it still holds: nil when there is none, or
// when the store cannot tell or says another poll of d was stored since.
func (m *deviceMemory) get(ctx context.Context, st store.Store, device string) *remembered {
	ids, ok := st.(store.PollIDReader)
	if !ok {
		return nil
	}
	m.mu.Lock()
	r := m.byDevice[device]
	m.mu.Unlock()
	if r == nil {
		return nil // a first poll: no need to ask
	}
	id, err := ids.LatestPollID(ctx, device)
	if err != nil || id != r.pollID {
		return nil // the store is read as before, and tells the error
	}
	return r
}

// put records what the auditor's save of device left in the store.
func (m *deviceMemory) put(device string, r *remembered) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byDevice == nil {
		m.byDevice = make(map[string]*remembered)
	}
	m.byDevice[device] = r
}

// forget drops device's memory: what the store holds is not known.
func (m *deviceMemory) forget(device string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byDevice, device)
}

// storedREPoll is what the historian reads of p (a poll with an RE
// table) when LatestREPoll returns it once saved: the snapshot's PolledAt
// and RE table, in the store's precision (UTC, up-times in whole
// seconds). The device time is not stored, so correlate.TableTransitions
// measures both polls by PolledAt, and so must the copy.
func storedREPoll(p devices.Poll) *devices.Poll {
	snap := &devices.Snapshot{Device: p.Device, PolledAt: utcOrZero(p.Snapshot.PolledAt)}
	for _, re := range p.Snapshot.RouteEngines {
		if re.Slot != nil {
			re.Slot = new(*re.Slot)
		}
		if re.UpTime != nil {
			re.UpTime = new(*re.UpTime / time.Second * time.Second)
		}
		if re.StartTime != nil {
			re.StartTime = new(re.StartTime.UTC())
		}
		if re.TemperatureC != nil {
			re.TemperatureC = new(*re.TemperatureC)
		}
		if re.CPUTemperatureC != nil {
			re.CPUTemperatureC = new(*re.CPUTemperatureC)
		}
		snap.RouteEngines = append(snap.RouteEngines, re)
	}
	return &devices.Poll{ID: p.ID, Device: p.Device, Snapshot: snap}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// storedCursor is c as LogCursor returns it once saved: in UTC, without
// Appended (a property of one read, not stored).
func storedCursor(device string, c devices.LogCursor) devices.LogCursor {
	return devices.LogCursor{Device: device, File: c.File, Tail: slices.Clone(c.Tail), LastTime: utcOrZero(c.LastTime),
		Lines: c.Lines, Head: c.Head, Size: c.Size, ModTime: utcOrZero(c.ModTime)}
}

// configJSON is what SaveConfig compares with the configuration in effect.
func configJSON(cfg devices.RedundancyConfig) string {
	b, err := json.Marshal(cfg)
	if err != nil {
		return "" // unknown: SaveConfig is called and tells
	}
	return string(b)
}

// rememberingCursors answers a poll's cursor reads from the device's
// memory where it has them and from the store otherwise, and keeps what
// the store said, so the save can remember it.
type rememberingCursors struct {
	inner  CursorSource
	device string
	from   *remembered                  // the memory the poll started with; nil: none
	known  map[string]devices.LogCursor // from.cursors; read only

	mu   sync.Mutex
	read map[string]devices.LogCursor // what inner returned, by file
}

func (c *rememberingCursors) LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error) {
	if device == c.device {
		if cur, ok := c.known[file]; ok {
			cur.Tail = slices.Clone(cur.Tail)
			return cur, true, nil
		}
	}
	cur, ok, err := c.inner.LogCursor(ctx, device, file)
	if err == nil && ok && device == c.device {
		c.mu.Lock()
		if c.read == nil {
			c.read = make(map[string]devices.LogCursor)
		}
		c.read[file] = storedCursor(device, cur)
		c.mu.Unlock()
	}
	return cur, ok, err
}

// cursorsRead is every stored cursor of the device the poll saw: read
// from the store, and from memory too when withKnown (the memory still
// held when the poll was stored).
func (c *rememberingCursors) cursorsRead(withKnown bool) map[string]devices.LogCursor {
	out := make(map[string]devices.LogCursor)
	if c == nil {
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if withKnown {
		for f, cur := range c.known {
			out[f] = cur
		}
	}
	for f, cur := range c.read {
		out[f] = cur
	}
	return out
}
