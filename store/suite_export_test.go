package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// exportSuite is the contract of ExportStore: the streaming readers agree
// with their slice twins and page without repeats or gaps.
func exportSuite() []suiteTest {
	return []suiteTest{
		{"EachPollPagesInOrder", suiteEachPollPages},
		{"EachPollFilter", suiteEachPollFilter},
		{"EachStopsAtCallbackError", suiteEachStops},
	}
}

// savePolls saves n polls: devices d0..d(k-1) in turn, one second apart,
// every third one failed; it returns them in start order.
func savePolls(t *testing.T, st Store, n, k int) []devices.Poll {
	t.Helper()
	out := make([]devices.Poll, 0, n)
	for i := range n {
		dev := fmt.Sprintf("d%d", i%k)
		started := base.Add(time.Duration(i) * time.Second)
		p := fullPoll(dev, 0, started)
		if i%3 == 2 {
			p = failedPoll(dev, 0, started)
		}
		mustSave(t, st, &p)
		out = append(out, p)
	}
	return out
}

func collectPolls(t *testing.T, st Store, f Filter) []devices.Poll {
	t.Helper()
	var got []devices.Poll
	if err := st.EachPoll(context.Background(), f, func(p *devices.Poll) error {
		got = append(got, *p)
		return nil
	}); err != nil {
		t.Fatalf("EachPoll(%+v): %v", f, err)
	}
	return got
}

func suiteEachPollPages(t *testing.T, open opener) {
	st := open(t)
	// More than two pages, with two polls sharing a start time at a page
	// boundary: keyset paging must neither repeat nor skip them.
	want := savePolls(t, st, 2*pollPage+7, 5)
	same := fullPoll("d9", 0, want[pollPage-1].Started)
	mustSave(t, st, &same)
	want = append(want[:pollPage], append([]devices.Poll{same}, want[pollPage:]...)...)

	got := collectPolls(t, st, Filter{})
	if len(got) != len(want) {
		t.Fatalf("EachPoll gave %d polls, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("poll %d: ID %d, want %d (order by start time, then ID)", i, got[i].ID, want[i].ID)
		}
		diffPoll(t, want[i], got[i])
	}
}

func suiteEachPollFilter(t *testing.T, open opener) {
	st := open(t)
	all := savePolls(t, st, 40, 4)
	since, until := all[10].Started, all[30].Started
	got := collectPolls(t, st, Filter{Devices: []string{"d1", "d3"}, Since: since, Until: until})
	var want []devices.Poll
	for _, p := range all {
		if (p.Device == "d1" || p.Device == "d3") && !p.Started.Before(since) && p.Started.Before(until) {
			want = append(want, p)
		}
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("filtered EachPoll gave %d polls, want %d", len(got), len(want))
	}
	for i := range want {
		diffPoll(t, want[i], got[i])
	}
	if got := collectPolls(t, st, Filter{Limit: 3}); len(got) != 3 || got[2].ID != all[2].ID {
		t.Errorf("EachPoll with Limit 3 gave %d polls", len(got))
	}
}

func suiteEachStops(t *testing.T, open opener) {
	st := open(t)
	savePolls(t, st, 10, 2)
	ctx := context.Background()
	stop := errors.New("reader went away")
	calls := 0
	err := st.EachPoll(ctx, Filter{}, func(*devices.Poll) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("EachPoll: err %v after %d calls, want the callback's own error after 1", err, calls)
	}
	ts := []devices.Transition{
		{Device: "d0", RE: "re1", Time: base, From: devices.REBackup, To: devices.REGone, Sources: []string{"re-table"}},
		{Device: "d0", RE: "re1", Time: base.Add(time.Minute), From: devices.REGone, To: devices.REBackup, Sources: []string{"re-table"}},
	}
	if err := st.SaveTransitions(ctx, ts, time.Second); err != nil {
		t.Fatal(err)
	}
	calls = 0
	err = st.EachTransition(ctx, Filter{}, func(*devices.Transition) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("EachTransition: err %v after %d calls, want the callback's own error after 1", err, calls)
	}
}
