package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// switchoverSuite is the contract of the switchover ledger (issue 15).
func switchoverSuite() []suiteTest {
	return []suiteTest{
		{"ReplaceSwitchovers", suiteReplaceSwitchovers},
		{"SwitchoversFilter", suiteSwitchoversFilter},
		{"SwitchoversRejected", suiteSwitchoversRejected},
	}
}

// switchoversOf is a planned switchover to re1 and, 40 minutes later, an
// unplanned one back to re0 whose cause a finding named.
func switchoversOf(device string) []devices.Switchover {
	return []devices.Switchover{
		{Device: device, Time: base, OldMaster: "re0", NewMaster: "re1", Planned: true,
			Command: "request chassis routing-engine master switch by lab",
			Evidence: []string{
				"Mar 14 09:26:50 re0-mx1 mgd[4711]: UI_CMDLINE_READ_LINE: User 'lab', command 'request chassis routing-engine master switch '",
				"Mar 14 09:26:53 event = E_ORE_B, state = backup, param = 0x0",
			}},
		{Device: device, Time: base.Add(40 * time.Minute), OldMaster: "re1", NewMaster: "re0",
			Cause: devices.CauseSoftware, Evidence: []string{"re-table: re1 up-time fell"}},
	}
}

func mustSwitchovers(t *testing.T, st Store, f Filter) []devices.Switchover {
	t.Helper()
	got, err := st.Switchovers(context.Background(), f)
	if err != nil {
		t.Fatalf("Switchovers(%+v): %v", f, err)
	}
	return got
}

func mustReplaceSwitchovers(t *testing.T, st Store, device string, since time.Time, sws []devices.Switchover) {
	t.Helper()
	if err := st.ReplaceSwitchovers(context.Background(), device, since, sws); err != nil {
		t.Fatalf("ReplaceSwitchovers(%s): %v", device, err)
	}
}

func suiteReplaceSwitchovers(t *testing.T, open opener) {
	st := open(t)
	sws := switchoversOf("mx1")
	mustReplaceSwitchovers(t, st, "mx1", time.Time{}, sws)
	if got := mustSwitchovers(t, st, Filter{}); !reflect.DeepEqual(got, sws) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, sws)
	}
	// Judging again gives the same rows: nothing changes.
	mustReplaceSwitchovers(t, st, "mx1", time.Time{}, sws)
	if got := mustSwitchovers(t, st, Filter{}); !reflect.DeepEqual(got, sws) {
		t.Fatalf("replaced with the same\n got %+v\nwant %+v", got, sws)
	}
	// A window that starts after the first: the first stays as stored,
	// the second is replaced (its cause changed), a new one is added.
	later := sws[1]
	later.Cause = devices.CauseHardware
	third := devices.Switchover{Device: "mx1", Time: base.Add(50 * time.Minute), OldMaster: "re0", NewMaster: "re1"} // no evidence: read back as nil
	mustReplaceSwitchovers(t, st, "mx1", base.Add(time.Minute), []devices.Switchover{later, third})
	want := []devices.Switchover{sws[0], later, third}
	if got := mustSwitchovers(t, st, Filter{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("replaced in a window\n got %+v\nwant %+v", got, want)
	}
	// An empty ledger for the window deletes what is in it, and only for
	// this device.
	mustReplaceSwitchovers(t, st, "mx2", time.Time{}, switchoversOf("mx2"))
	mustReplaceSwitchovers(t, st, "mx1", base.Add(time.Minute), nil)
	if got := mustSwitchovers(t, st, Filter{Devices: []string{"mx1"}}); !reflect.DeepEqual(got, sws[:1]) {
		t.Fatalf("emptied window\n got %+v\nwant %+v", got, sws[:1])
	}
	if got := mustSwitchovers(t, st, Filter{Devices: []string{"mx2"}}); len(got) != 2 {
		t.Fatalf("another device's ledger changed: %+v", got)
	}
}

func suiteSwitchoversFilter(t *testing.T, open opener) {
	st := open(t)
	mx1, ptx := switchoversOf("mx1"), switchoversOf("ptx1")
	ptx[0].Time = base.Add(time.Minute)
	mustReplaceSwitchovers(t, st, "ptx1", time.Time{}, ptx)
	mustReplaceSwitchovers(t, st, "mx1", time.Time{}, mx1)
	for _, c := range []struct {
		f    Filter
		want []devices.Switchover
	}{
		// Ordered by time, then device.
		{Filter{}, []devices.Switchover{mx1[0], ptx[0], mx1[1], ptx[1]}},
		{Filter{Devices: []string{"ptx1"}}, ptx},
		{Filter{Since: base.Add(time.Minute)}, []devices.Switchover{ptx[0], mx1[1], ptx[1]}},
		{Filter{Until: base.Add(time.Minute)}, mx1[:1]},
		{Filter{Limit: 1, Devices: []string{"ptx1", "mx1"}}, mx1[:1]},
		{Filter{Devices: []string{"nobody"}}, nil},
	} {
		if got := mustSwitchovers(t, st, c.f); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Switchovers(%+v)\n got %+v\nwant %+v", c.f, got, c.want)
		}
	}
	var n int
	if err := st.EachSwitchover(context.Background(), Filter{}, func(*devices.Switchover) error { n++; return nil }); err != nil || n != 4 {
		t.Errorf("EachSwitchover: %d rows, %v", n, err)
	}
}

func suiteSwitchoversRejected(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	good := switchoversOf("mx1")
	for _, c := range []struct {
		name, device string
		sws          []devices.Switchover
		want         string
	}{
		{"no device", "", good, "no device name"},
		{"another device's", "mx2", good, `of device "mx1"`},
		{"no new master", "mx1", []devices.Switchover{{Time: base, OldMaster: "re0"}}, "no new master"},
		{"no time", "mx1", []devices.Switchover{{OldMaster: "re0", NewMaster: "re1"}}, "no time"},
		{"twice", "mx1", []devices.Switchover{good[0], good[0]}, `two switchovers to "re1"`},
	} {
		err := st.ReplaceSwitchovers(ctx, c.device, time.Time{}, c.sws)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// A refused ledger stores nothing.
	if got := mustSwitchovers(t, st, Filter{}); len(got) != 0 {
		t.Errorf("stored after refusals: %+v", got)
	}
}
