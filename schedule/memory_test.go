package schedule

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
)

// countingStore is the real SQLite store with a count of the calls the
// memory saves; every call goes through to it.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingStore) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
}

// took returns the calls since the last took.
func (c *countingStore) took() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingStore) LogCursor(ctx context.Context, device, file string) (devices.LogCursor, bool, error) {
	c.count("LogCursor")
	return c.Store.LogCursor(ctx, device, file)
}

func (c *countingStore) LatestREPoll(ctx context.Context, device string) (*devices.Poll, error) {
	c.count("LatestREPoll")
	return c.Store.LatestREPoll(ctx, device)
}

func (c *countingStore) SaveConfig(ctx context.Context, device string, cfg devices.RedundancyConfig, at time.Time) error {
	c.count("SaveConfig")
	return c.Store.SaveConfig(ctx, device, cfg, at)
}

func (c *countingStore) AlarmRecords(ctx context.Context, f store.Filter) ([]devices.AlarmRecord, error) {
	c.count("AlarmRecords")
	return c.Store.AlarmRecords(ctx, f)
}

func (c *countingStore) LatestPollID(ctx context.Context, device string) (int64, error) {
	c.count("LatestPollID")
	return c.Store.(store.PollIDReader).LatestPollID(ctx, device)
}

// TestSteadyStatePollWritesOnlyWhatChanged: over real SSH into a real
// SQLite store, an auditor that has polled an unchanged router neither
// reads its last RE table, log cursors, configuration or (absent) alarm
// records back nor writes the configuration again; what it remembers is exactly what the
// store holds; a poll stored by someone else (a check in another process)
// makes it read the store again; and a new alarm or log line is stored as
// before.
func TestSteadyStatePollWritesOnlyWhatChanged(t *testing.T) {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	const name = "ams1-mx960-1"
	fleet, err := junossim.Start(t.Context(), junossim.Scenario{Devices: []junossim.Device{{Name: name, Model: "mx960", Topology: junossim.TopologyDual}}},
		junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	router := fleet.Router(name)
	invPath := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(invPath); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(invPath)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "m.db")
	real, err := store.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { real.Close() })
	st := &countingStore{Store: real, calls: map[string]int{}}
	auditor := func() *Auditor {
		hist, err := NewHistorian(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		return &Auditor{Poller: &Poller{Now: clock.Now, Cursors: st, Refresh: &Refresher{}, Readiness: NewReadinessMemory()},
			Store: st, Historian: hist}
	}
	a := auditor()
	db, err := sql.Open("sqlite", dbPath) // a reader of our own, to count rows
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows := func(table string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	poll := func(a *Auditor, at time.Duration) (devices.Poll, map[string]int) {
		t.Helper()
		clock.Set(start.Add(at))
		st.took()
		res, err := a.Audit(t.Context(), inv.Devices)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Polls) != 1 || res.Polls[0].Outcome != devices.OutcomeOK {
			t.Fatalf("poll at %v: %+v", at, res.Polls)
		}
		return res.Polls[0], st.took()
	}
	// remembersTheStore: every cursor the auditor remembers is the one
	// the store returns, field for field.
	remembersTheStore := func(when string) {
		t.Helper()
		a.memory.mu.Lock()
		mem := a.memory.byDevice[name]
		a.memory.mu.Unlock()
		if mem == nil || len(mem.cursors) != 2 {
			t.Fatalf("%s: memory %+v, want both log cursors", when, mem)
		}
		stored, err := real.LatestREPoll(t.Context(), name)
		if err != nil || stored == nil || mem.rePoll == nil || stored.ID != mem.rePoll.ID ||
			!reflect.DeepEqual(stored.Snapshot.RouteEngines, mem.rePoll.Snapshot.RouteEngines) ||
			!stored.Snapshot.PolledAt.Equal(mem.rePoll.Snapshot.PolledAt) || !stored.Snapshot.DeviceTime.Equal(mem.rePoll.Snapshot.DeviceTime) {
			t.Errorf("%s: stored RE poll %+v (%v), remembered %+v", when, stored, err, mem.rePoll)
		}
		for file, want := range mem.cursors {
			got, ok, err := real.LogCursor(t.Context(), name, file)
			if err != nil || !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: stored cursor of %s %+v (%v, %v), remembered %+v", when, file, got, ok, err, want)
			}
		}
	}

	// AlarmRecords: the judgement at the end of every audit reads them
	// once; the poll's record of the alarm lifecycle once more.
	const judged = 1
	_, calls := poll(a, 0)
	if calls["LogCursor"] < 2 || calls["SaveConfig"] != 1 || calls["AlarmRecords"] != judged+1 || calls["LatestREPoll"] != 1 {
		t.Fatalf("first poll: %v, want the cursors, the configuration and the alarm records from the store", calls)
	}
	remembersTheStore("first poll")
	configs := rows("configs")

	for i := 1; i <= 2; i++ {
		_, calls = poll(a, time.Duration(i)*time.Minute)
		if calls["LogCursor"] != 0 || calls["SaveConfig"] != 0 || calls["AlarmRecords"] != judged || calls["LatestREPoll"] != 0 {
			t.Errorf("steady-state poll %d: %v, want no RE table, cursor, configuration or alarm record read or written", i, calls)
		}
		if calls["LatestPollID"] != 2 {
			t.Errorf("steady-state poll %d: %v, want two poll-ID seeks (poll start, save)", i, calls)
		}
	}
	if n := rows("configs"); n != configs {
		t.Errorf("configs rows %d after the steady-state polls, want %d", n, configs)
	}

	// A log line: messages is read from the remembered cursor, and the
	// line is stored once.
	text := "mgd[4242]: UI_CMDLINE_READ_LINE: User 'ops', command 'show chassis alarms'"
	clock.Set(start.Add(3*time.Minute + time.Second))
	if err := router.Apply(junossim.Event{Kind: junossim.EventLog, Text: text}); err != nil {
		t.Fatal(err)
	}
	lines := rows("log_lines")
	p, calls := poll(a, 4*time.Minute)
	if calls["LogCursor"] != 0 {
		t.Errorf("poll after a log line: %v, want the cursor from memory", calls)
	}
	if p.Snapshot == nil || len(p.Snapshot.Logs) != 1 || p.Snapshot.Logs[0].Raw == "" {
		t.Fatalf("poll after one log line took %+v, want that line", p.Snapshot)
	}
	if n := rows("log_lines"); n != lines+1 {
		t.Errorf("log_lines %d after one new line, want %d", n, lines+1)
	}
	remembersTheStore("poll after a log line")

	// Another auditor (a check in another process) stores a poll: the
	// next poll reads the store again.
	poll(auditor(), 5*time.Minute)
	_, calls = poll(a, 6*time.Minute)
	if calls["LogCursor"] < 2 || calls["AlarmRecords"] != judged+1 || calls["SaveConfig"] != 1 || calls["LatestREPoll"] != 1 {
		t.Errorf("poll after another's: %v, want the store read again", calls)
	}
	_, calls = poll(a, 7*time.Minute)
	if calls["LogCursor"] != 0 || calls["LatestREPoll"] != 0 {
		t.Errorf("second poll after another's: %v, want the memory again", calls)
	}
	remembersTheStore("poll after another's")

	// An alarm: stored as before, and its record read at the next poll.
	if err := router.Apply(junossim.Event{Kind: junossim.EventAlarmSet, Class: "Minor", Type: "Chassis",
		Description: "Loss of communication with Backup RE", ShortDescription: "Backup RE comm loss"}); err != nil {
		t.Fatal(err)
	}
	poll(a, 8*time.Minute)
	recs, err := real.AlarmRecords(t.Context(), store.Filter{Devices: []string{name}})
	if err != nil || len(recs) != 1 || !recs[0].ClearedAt.IsZero() {
		t.Fatalf("alarm records after an alarm: %+v, %v; want one active", recs, err)
	}
	_, calls = poll(a, 9*time.Minute)
	if calls["AlarmRecords"] != judged+1 {
		t.Errorf("poll of a device with an alarm record: %v, want the records read", calls)
	}
	recs, err = real.AlarmRecords(t.Context(), store.Filter{Devices: []string{name}})
	if err != nil || len(recs) != 1 || !recs[0].LastSeen.After(start.Add(8*time.Minute)) {
		t.Errorf("alarm record after the next poll: %+v, %v; want its last seen moved", recs, err)
	}
	if n := rows("configs"); n != configs {
		t.Errorf("configs rows %d at the end, want %d (the configuration never changed)", n, configs)
	}
}
