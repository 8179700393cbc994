package schedule

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// A poll goes through the spool whole: what the flusher stores is what
// the poller saw, the fields the model's JSON leaves out (up times, the
// alarms-read mark, the configuration, …) included.
func TestSpoolCarriesThePollWhole(t *testing.T) {
	devs := fleetDevices(t, junossim.Generate(1, 5))
	poller := &Poller{Now: time.Now, Timeout: 10 * time.Second}
	p := poller.Poll(t.Context(), devs[0])
	if p.Outcome != devices.OutcomeOK || p.Snapshot == nil || len(p.Snapshot.Logs) == 0 || !p.Snapshot.AlarmsRead {
		t.Fatalf("the simulated router's poll is not a full one: %s %s", p.Outcome, p.Error)
	}
	sp, err := OpenSpool(filepath.Join(t.TempDir(), "spool"), 1<<20, openStore(t), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if _, err := sp.SavePoll(0, devs[0], p); err != nil {
		t.Fatal(err)
	}
	groups, err := sp.j.Peek(10)
	if err != nil || len(groups) != 1 {
		t.Fatalf("peek: %d groups, %v", len(groups), err)
	}
	var rec pollRecord
	var logs logsRecord
	if err := decode(groups[0][0].Data, &rec); err != nil {
		t.Fatal(err)
	}
	if err := decode(groups[0][1].Data, &logs); err != nil {
		t.Fatal(err)
	}
	got := zoned(rec.Poll, rec.Zone)
	got.Snapshot.Logs, got.Snapshot.LogCursors = logs.Lines, logs.Cursors
	if z := p.Snapshot.DeviceZone; z != nil && (got.Snapshot.DeviceZone == nil || got.Snapshot.DeviceZone.String() != z.String()) {
		t.Errorf("device zone %v, want %v", got.Snapshot.DeviceZone, z)
	}
	got.Snapshot.DeviceZone = p.Snapshot.DeviceZone
	if !reflect.DeepEqual(got, p) {
		t.Errorf("the poll read back from the spool differs:\n got %+v\nwant %+v", *got.Snapshot, *p.Snapshot)
	}
}

// What one process spooled and could not flush, the next one flushes: the
// run it began and never finished is stored as interrupted, with its
// poll, and until then the poller reads the log cursors from the spool.
func TestSpoolReplaysAfterRestart(t *testing.T) {
	ctx := context.Background()
	devs := fleetDevices(t, junossim.Generate(1, 6))
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "spool")
	sp, err := OpenSpool(dir, 1<<20, st, hist, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	poller := &Poller{Now: time.Now, Timeout: 10 * time.Second, Cursors: sp}
	started := time.Now().UTC()
	key, err := sp.BeginRun(started)
	if err != nil {
		t.Fatal(err)
	}
	p := poller.Poll(ctx, devs[0])
	if p.Snapshot == nil || len(p.Snapshot.LogCursors) == 0 {
		t.Fatalf("poll without log cursors: %s %s", p.Outcome, p.Error)
	}
	if _, err := sp.SavePoll(key, devs[0], p); err != nil {
		t.Fatal(err)
	}
	want := p.Snapshot.LogCursors[0]
	cur, ok, err := sp.LogCursor(ctx, devs[0].Name, want.File)
	if err != nil || !ok || !reflect.DeepEqual(cur, want) {
		t.Fatalf("cursor before the flush = %+v %v %v, want the spooled one", cur, ok, err)
	}
	if _, ok, _ := st.LogCursor(ctx, devs[0].Name, want.File); ok {
		t.Fatal("the store has the cursor before any flush")
	}
	if err := sp.Close(); err != nil { // the process dies before flushing
		t.Fatal(err)
	}

	sp, err = OpenSpool(dir, 1<<20, st, hist, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if n := sp.Status().PollsWaiting; n != 1 {
		t.Fatalf("after the restart %d polls wait, want 1", n)
	}
	if err := sp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := sp.Status(); s.PollsWaiting != 0 || s.Records != 0 || s.Degraded() {
		t.Fatalf("after the flush: %+v", s)
	}
	runs, err := st.Runs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !runs[0].Interrupted || runs[0].Finished.IsZero() || runs[0].OK != 1 || !runs[0].Started.Equal(started) {
		t.Fatalf("runs = %+v, want the one begun, finished as interrupted with its ok poll", runs)
	}
	stored, err := st.LatestPoll(ctx, devs[0].Name)
	if err != nil || stored == nil || stored.RunID != runs[0].ID || !stored.Started.Equal(p.Started) {
		t.Fatalf("stored poll = %+v, %v; want the spooled one in run %d", stored, err, runs[0].ID)
	}
	if cur, ok, err := st.LogCursor(ctx, devs[0].Name, want.File); err != nil || !ok || cur.Lines != want.Lines {
		t.Fatalf("the store's cursor after the flush = %+v %v %v, want the spooled one", cur, ok, err)
	}
}

// Under --shared, an agent that cannot claim keeps the devices of the
// last slot it claimed in, and only those.
func TestSpoolHeldLastSlot(t *testing.T) {
	st := openStore(t)
	sp, err := OpenSpool(filepath.Join(t.TempDir(), "spool"), 1<<20, st, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	s1 := time.Date(2026, 12, 8, 4, 0, 0, 0, time.UTC)
	s2, s3 := s1.Add(time.Minute), s1.Add(2*time.Minute)
	sp.Claimed(s1, "a")
	sp.Claimed(s1, "b")
	sp.Claimed(s2, "a") // a later slot replaces the set
	for _, tc := range []struct {
		slot   time.Time
		device string
		want   bool
	}{{s3, "a", true}, {s3, "b", false}, {s3, "c", false}, {s2, "a", false}} {
		if got, err := sp.HeldLastSlot(tc.slot, tc.device); err != nil || got != tc.want {
			t.Errorf("HeldLastSlot(%s, %s) = %v, %v; want %v", tc.slot.Format("15:04"), tc.device, got, err, tc.want)
		}
	}
	// The claim of the outage's slot is written by the flush: a claim of
	// the same slot by this process is then its own.
	if err := sp.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if sp.Status().Records != 0 {
		t.Fatal("claim record not flushed")
	}
	mine, err := st.ClaimPoll(t.Context(), s3, "a")
	if err != nil || !mine {
		t.Fatalf("claim after the flush = %v, %v", mine, err)
	}
}
