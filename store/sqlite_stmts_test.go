package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func TestStmtCache(t *testing.T) {
	s := openSQLiteTest(t).(*sqliteStore)
	ctx := context.Background()
	c := newStmtCache(s.reader, 2)
	defer func() {
		if err := c.close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()

	// Concurrent first uses all get the one statement kept.
	const q1 = `SELECT COUNT(*) FROM polls WHERE device = ?`
	got := make([]any, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			st, err := c.get(ctx, q1)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = st
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] == nil || got[i] != got[0] {
			t.Fatalf("get %d = %p, get 0 = %p: want one statement", i, got[i], got[0])
		}
	}

	if st, err := c.get(ctx, `SELECT 2`); err != nil || st == nil {
		t.Fatalf("second text: %v, %v", st, err)
	}
	// Full: a third text is not kept, the first two still are.
	if st, err := c.get(ctx, `SELECT 3`); err != nil || st != nil {
		t.Errorf("third text in a cache of two = %v, %v; want nil, nil", st, err)
	}
	if st, err := c.get(ctx, q1); err != nil || st != got[0] {
		t.Errorf("first text again = %p, %v; want %p", st, err, got[0])
	}
	if n := len(c.stmts); n != 2 {
		t.Errorf("cache holds %d statements, want 2", n)
	}

	// A bad text is an error and is not kept; so is a canceled context.
	other := newStmtCache(s.reader, 2)
	if _, err := other.get(ctx, `SELECT FROM nowhere`); err == nil {
		t.Error("bad SQL prepared")
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := other.get(canceled, `SELECT 4`); !errors.Is(err, context.Canceled) {
		t.Errorf("get(canceled) = %v, want context.Canceled", err)
	}
	if n := len(other.stmts); n != 0 {
		t.Errorf("failed gets kept %d statements", n)
	}

	if err := c.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(ctx, q1); err == nil {
		t.Error("get after close succeeded")
	}
}

// The history readers keep one statement per query shape for one-device
// and all-device filters, and none for longer device lists.
func TestSQLiteFilteredStatementsKept(t *testing.T) {
	st := openSQLiteTest(t)
	s := st.(*sqliteStore)
	ctx := context.Background()
	for _, d := range []string{"mx1", "mx2", "mx3"} {
		if err := st.SaveTransitions(ctx, []devices.Transition{{Device: d, RE: "re0", Time: base,
			From: devices.REMaster, To: devices.REBackup, Sources: []string{"re-table"}}}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	read := func(f Filter) {
		t.Helper()
		if _, err := st.Events(ctx, f); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AlarmRecords(ctx, f); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Findings(ctx, f); err != nil {
			t.Fatal(err)
		}
		ts, err := st.Transitions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := len(f.Devices)
		if want == 0 {
			want = 3
		}
		if len(ts) != want {
			t.Errorf("Transitions(%+v) = %d, want %d", f, len(ts), want)
		}
	}

	for i := range 20 {
		read(Filter{Devices: []string{fmt.Sprintf("mx%d", i%3+1)}, Since: base.Add(-time.Hour)})
	}
	if n := len(s.filtered.stmts); n != 4 {
		t.Errorf("after one-device reads: %d statements kept, want 4 (one per reader)", n)
	}
	read(Filter{})
	if n := len(s.filtered.stmts); n != 8 {
		t.Errorf("after all-device reads: %d statements kept, want 8", n)
	}
	read(Filter{Devices: []string{"mx1", "mx2"}})
	read(Filter{Devices: []string{"mx1", "mx2", "mx3"}, Limit: 10})
	if n := len(s.filtered.stmts); n != 8 {
		t.Errorf("after several-device reads: %d statements kept, want still 8", n)
	}

	// A full cache runs the text unprepared, with the same results.
	full := newStmtCache(s.reader, 0)
	kept := s.filtered
	s.filtered = full
	read(Filter{Devices: []string{"mx2"}, Since: base.Add(-time.Hour)})
	s.filtered = kept
	if err := full.close(); err != nil {
		t.Fatal(err)
	}
}

// A reader's callback may use the store, even the same kept statement:
// it runs on another reader connection.
func TestSQLiteFilteredStatementNested(t *testing.T) {
	st := openSQLiteTest(t)
	ctx := context.Background()
	var ts []devices.Transition
	for i := range 3 {
		ts = append(ts, devices.Transition{Device: "mx1", RE: "re0", Time: base.Add(time.Duration(i) * time.Hour),
			From: devices.REMaster, To: devices.REBackup, Sources: []string{"re-table"}})
	}
	if err := st.SaveTransitions(ctx, ts, time.Minute); err != nil {
		t.Fatal(err)
	}
	f := Filter{Devices: []string{"mx1"}}
	n := 0
	err := st.EachTransition(ctx, f, func(*devices.Transition) error {
		inner, err := st.Transitions(ctx, f)
		if err != nil {
			return err
		}
		if len(inner) != 3 {
			return fmt.Errorf("inner read: %d transitions, want 3", len(inner))
		}
		n++
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("EachTransition = %d rows, %v; want 3, nil", n, err)
	}
}

// After Close, the readers fail instead of reviving a statement.
func TestSQLiteReadAfterClose(t *testing.T) {
	st := mustOpen(t, tempDBPath(t))
	ctx := context.Background()
	f := Filter{Devices: []string{"mx1"}}
	if _, err := st.Transitions(ctx, f); err != nil {
		t.Fatal(err)
	}
	mustClose(t, st)
	if _, err := st.Transitions(ctx, f); err == nil {
		t.Error("Transitions after Close succeeded")
	}
	if _, _, err := st.LogCursor(ctx, "mx1", "messages"); err == nil {
		t.Error("LogCursor after Close succeeded")
	}
}
