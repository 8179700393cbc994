package report

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// tl is a time in the timeline tests: minutes after 10:00 UTC.
func tl(min float64) time.Time {
	return time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC).Add(time.Duration(min * float64(time.Minute)))
}

func TestPxString(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {1.25, "1.3"}, {1.04, "1"}, {-0.01, "0"}, {math.Copysign(0, -1), "0"},
		{-3.5, "-3.5"}, {960, "960"}, {math.NaN(), "0"}, {math.Inf(1), "0"}, {math.Inf(-1), "0"},
	} {
		if got := px(c.in).String(); got != c.want {
			t.Errorf("px(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAxisX(t *testing.T) {
	a := newAxis(tl(0), tl(100), 100, 800)
	for _, c := range []struct {
		name string
		at   time.Time
		want float64
	}{
		{"start", tl(0), 100},
		{"middle", tl(50), 500},
		{"end", tl(100), 900},
		{"before the window clamps left", tl(-30), 100},
		{"after the window clamps right", tl(500), 900},
		{"zero time clamps left", time.Time{}, 100},
	} {
		if got := a.x(c.at); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: x = %v, want %v", c.name, got, c.want)
		}
	}
	// Degenerate windows never divide by zero.
	if got := newAxis(tl(5), tl(5), 100, 800).x(tl(10)); got != 100 {
		t.Errorf("empty window: x = %v, want the left edge", got)
	}
	inv := newAxis(tl(100), tl(0), 100, 800)
	if got := inv.x(tl(25)); got != 300 {
		t.Errorf("inverted window: x = %v, want 300 (swapped)", got)
	}
	huge := newAxis(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0, 800)
	if got := huge.x(tl(0)); math.IsNaN(got) || got < 0 || got > 800 {
		t.Errorf("huge window: x = %v, want inside the plot", got)
	}
	if got := newAxis(tl(0), tl(1), 0, math.NaN()).x(tl(0.5)); got != 0 {
		t.Errorf("NaN width: x = %v, want 0", got)
	}
}

func TestAxisExtent(t *testing.T) {
	a := newAxis(tl(0), tl(100), 100, 800)
	for _, c := range []struct {
		name     string
		from, to time.Time
		x, w     float64
	}{
		{"normal", tl(10), tl(20), 180, 80},
		{"zero width grows right", tl(50), tl(50), 500, 2},
		{"zero width at the right edge grows left", tl(100), tl(100), 898, 2},
		{"reversed", tl(20), tl(10), 180, 80},
		{"outside clamps to the edge", tl(-50), tl(-40), 100, 2},
		{"straddling the start", tl(-50), tl(10), 100, 80},
	} {
		x, w := a.extent(c.from, c.to, 2)
		if math.Abs(x-c.x) > 1e-9 || math.Abs(w-c.w) > 1e-9 {
			t.Errorf("%s: extent = (%v, %v), want (%v, %v)", c.name, x, w, c.x, c.w)
		}
	}
}

func TestLaneSpans(t *testing.T) {
	tr := func(re string, min float64, from, to string) devices.Transition {
		return devices.Transition{RE: re, Time: tl(min), From: from, To: to}
	}
	const (
		M = devices.REMaster
		B = devices.REBackup
		G = devices.REGone
	)
	for _, c := range []struct {
		name    string
		trs     []devices.Transition
		initial string
		want    []reSpan
	}{
		{
			name:    "no transitions: the latest poll's state",
			initial: B,
			want:    []reSpan{{B, tl(0), tl(60)}},
		},
		{
			name: "before the first transition, its From",
			trs:  []devices.Transition{tr("re1", 10, M, G), tr("re1", 20, G, B)},
			want: []reSpan{{M, tl(0), tl(10)}, {G, tl(10), tl(20)}, {B, tl(20), tl(60)}},
		},
		{
			name: "other REs' transitions are ignored",
			trs:  []devices.Transition{tr("re0", 5, B, M), tr("re1", 10, M, G)},
			want: []reSpan{{M, tl(0), tl(10)}, {G, tl(10), tl(60)}},
		},
		{
			name: "unsorted input is sorted",
			trs:  []devices.Transition{tr("re1", 20, G, B), tr("re1", 10, B, G)},
			want: []reSpan{{B, tl(0), tl(10)}, {G, tl(10), tl(20)}, {B, tl(20), tl(60)}},
		},
		{
			name: "a transition before the window sets the opening state",
			trs:  []devices.Transition{tr("re1", -10, B, G), tr("re1", 30, G, B)},
			want: []reSpan{{G, tl(0), tl(30)}, {B, tl(30), tl(60)}},
		},
		{
			name: "a transition after the window only gives its From",
			trs:  []devices.Transition{tr("re1", 90, G, B)},
			want: []reSpan{{G, tl(0), tl(60)}},
		},
		{
			name: "a flap within one second is kept as a zero-length span",
			trs:  []devices.Transition{tr("re1", 10, B, G), tr("re1", 10, G, B)},
			want: []reSpan{{B, tl(0), tl(10)}, {G, tl(10), tl(10)}, {B, tl(10), tl(60)}},
		},
		{
			name: "equal neighbours merge",
			trs:  []devices.Transition{tr("re1", 10, B, B), tr("re1", 20, B, G)},
			want: []reSpan{{B, tl(0), tl(20)}, {G, tl(20), tl(60)}},
		},
		{
			name: "an unknown word is unknown, not guessed",
			trs:  []devices.Transition{tr("re1", 10, "rebooting", M)},
			want: []reSpan{{stateUnknown, tl(0), tl(10)}, {M, tl(10), tl(60)}},
		},
		{
			name: "a transition at the window's end",
			trs:  []devices.Transition{tr("re1", 60, B, G)},
			want: []reSpan{{B, tl(0), tl(60)}, {G, tl(60), tl(60)}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := laneSpans("re1", c.trs, tl(0), tl(60), c.initial)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("laneSpans:\n got  %v\n want %v", got, c.want)
			}
		})
	}
	// An inverted window is swapped, not an empty result.
	if got := laneSpans("re1", nil, tl(60), tl(0), devices.REMaster); len(got) != 1 || !got[0].From.Equal(tl(0)) {
		t.Errorf("inverted window: %v", got)
	}
}

func TestInitialState(t *testing.T) {
	snap := &devices.Snapshot{RouteEngines: []devices.RouteEngine{
		{Name: "re0", MastershipState: "master", Status: "OK"},
		{Name: "re1", MastershipState: "backup", Status: "OK"},
		{Name: "re2", MastershipState: "present", Status: "OK"},
		{Name: "node0"},
	}}
	poll := &devices.Poll{Snapshot: snap}
	for re, want := range map[string]string{
		"re0": devices.REMaster, "re1": devices.REBackup, "re2": devices.REGone,
		"node0": stateAlive, "re9": devices.REGone,
	} {
		if got := initialState(re, poll); got != want {
			t.Errorf("initialState(%s) = %q, want %q", re, got, want)
		}
	}
	if got := initialState("re0", nil); got != stateUnknown {
		t.Errorf("never polled: %q, want unknown", got)
	}
	if got := initialState("re0", &devices.Poll{Outcome: devices.OutcomeTimeout}); got != stateUnknown {
		t.Errorf("failed poll: %q, want unknown", got)
	}
}

func TestAlarmSpans(t *testing.T) {
	a := newAxis(tl(0), tl(100), 0, 1000)
	const active = -1000.0 // cleared at: never
	rec := func(class string, set, cleared float64) devices.AlarmRecord {
		r := devices.AlarmRecord{Alarm: devices.Alarm{Class: class, Description: class + " alarm", Time: tl(set)}}
		if cleared != active {
			r.ClearedAt = tl(cleared)
		}
		return r
	}
	t.Run("rows", func(t *testing.T) {
		got := alarmSpans([]devices.AlarmRecord{
			rec("Major", 10, 50),     // row 0
			rec("Minor", 20, 30),     // overlaps: row 1
			rec("Minor", 60, active), // active, after both: row 0 again, to the end
			rec("Minor", 25, 28),     // overlaps two: row 2
			rec("Minor", 26, 27),     // all rows busy: the one that frees first
		}, a, false)
		rows := map[float64]int{}
		for _, s := range got {
			rows[s.From.Sub(tl(0)).Minutes()] = s.Row
		}
		want := map[float64]int{10: 0, 20: 1, 25: 2, 26: 2, 60: 0}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("rows by start minute = %v, want %v", rows, want)
		}
		for _, s := range got {
			if s.From.Equal(tl(60)) && !s.To.Equal(tl(100)) {
				t.Errorf("active alarm ends %v, want the window's end", s.To)
			}
		}
		if n := alarmRowCount(got); n != maxAlarmRows {
			t.Errorf("%d rows, want %d", n, maxAlarmRows)
		}
	})
	t.Run("both tables report it once", func(t *testing.T) {
		r := rec("Major", 10, 20)
		sys := r
		sys.Alarm.Source = devices.AlarmSystem
		if got := alarmSpans([]devices.AlarmRecord{r, sys}, a, false); len(got) != 1 {
			t.Errorf("%d spans, want 1", len(got))
		}
	})
	t.Run("no alarm time: first seen", func(t *testing.T) {
		r := devices.AlarmRecord{Alarm: devices.Alarm{Class: "Minor"}, FirstSeen: tl(40), ClearedAt: tl(30)}
		got := alarmSpans([]devices.AlarmRecord{r}, a, false)
		if len(got) != 1 || !got[0].From.Equal(tl(40)) || !got[0].To.Equal(tl(40)) {
			t.Errorf("got %+v, want from = to = first seen (cleared before set is clamped)", got)
		}
	})
	t.Run("outside the window", func(t *testing.T) {
		recs := []devices.AlarmRecord{rec("Major", -50, -40), rec("Minor", 150, active)}
		if got := alarmSpans(recs, a, false); len(got) != 2 {
			t.Errorf("clamping: %d spans, want 2", len(got))
		}
		if got := alarmSpans(recs, a, true); len(got) != 0 {
			t.Errorf("dropping: %d spans, want 0", len(got))
		}
	})
	if n := alarmRowCount(nil); n != 1 {
		t.Errorf("no alarms: %d rows, want 1 (the lane keeps its place)", n)
	}
}

func TestTicks(t *testing.T) {
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name         string
		since, until time.Time
		want         []string
	}{
		{"four hours", day.Add(8 * time.Hour), day.Add(12 * time.Hour), []string{"08:00", "09:00", "10:00", "11:00", "12:00"}},
		{"unaligned start", day.Add(8*time.Hour + 7*time.Minute), day.Add(9 * time.Hour), []string{"08:10", "08:20", "08:30", "08:40", "08:50", "09:00"}},
		{"three minutes", day.Add(10 * time.Hour), day.Add(10*time.Hour + 3*time.Minute), []string{"10:00:00", "10:00:30", "10:01:00", "10:01:30", "10:02:00", "10:02:30", "10:03:00"}},
		{"a day", day, day.Add(24 * time.Hour), []string{"00:00", "06:00", "12:00", "18:00", "00:00"}},
		{"a week", day, day.Add(7 * 24 * time.Hour), []string{"2026-03-14", "2026-03-15", "2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-20", "2026-03-21"}},
		{"two days", day, day.Add(48 * time.Hour), []string{"Mar 14 00:00", "Mar 14 12:00", "Mar 15 00:00", "Mar 15 12:00", "Mar 16 00:00"}},
		{"empty window", day, day, []string{"2026-03-14 00:00:00"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAxis(c.since, c.until, 0, 800)
			var got []string
			last := -1.0
			for _, tk := range ticks(a) {
				got = append(got, tk.Label)
				if tk.X < 0 || tk.X > 800 || tk.X < last {
					t.Errorf("tick %q at x=%v: outside the plot or out of order", tk.Label, tk.X)
				}
				last = tk.X
			}
			if len(got) > maxTicks+1 {
				t.Errorf("%d ticks, want at most %d", len(got), maxTicks+1)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("ticks %q, want %q", got, c.want)
			}
		})
	}
	// Windows of any length terminate with a bounded number of ticks.
	huge := ticks(newAxis(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0, 800))
	if len(huge) == 0 || len(huge) > maxTicks+1 {
		t.Errorf("huge window: %d ticks", len(huge))
	}
}

func TestCloseupWindow(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		name      string
		f         devices.Finding
		cited     []time.Time
		from, to  time.Time
		whole, ok bool
	}{
		{
			name: "the cause 40 s before: onset from the alarm, tail of two minutes",
			f:    devices.Finding{First: tl(10), Last: tl(50), Alarms: []devices.Alarm{{Time: tl(10).Add(-40 * s)}}},
			from: tl(10).Add(-40*s - 15*s), to: tl(12).Add(15 * s), ok: true,
		},
		{
			name: "a short flap is shown whole",
			f:    devices.Finding{First: tl(10), Last: tl(14)},
			from: tl(10).Add(-20 * s), to: tl(14).Add(20 * s), whole: true, ok: true,
		},
		{
			name:  "cited evidence after the flap stretches it; too far before is ignored",
			f:     devices.Finding{First: tl(10), Last: tl(11)},
			cited: []time.Time{tl(16), tl(-60)},
			from:  tl(10).Add(-30 * s), to: tl(16).Add(30 * s), whole: true, ok: true,
		},
		{
			name: "only Last",
			f:    devices.Finding{Last: tl(10)},
			from: tl(10).Add(-15 * s), to: tl(12).Add(15 * s), whole: true, ok: true,
		},
		{
			name: "inverted",
			f:    devices.Finding{First: tl(14), Last: tl(10)},
			from: tl(10).Add(-20 * s), to: tl(14).Add(20 * s), whole: true, ok: true,
		},
		{name: "no times", f: devices.Finding{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, to, whole, ok := closeupWindow(c.f, c.cited)
			if ok != c.ok || whole != c.whole || !from.Equal(c.from) || !to.Equal(c.to) {
				t.Errorf("closeupWindow = %v → %v whole %v ok %v, want %v → %v whole %v ok %v",
					from.Format(time.TimeOnly), to.Format(time.TimeOnly), whole, ok,
					c.from.Format(time.TimeOnly), c.to.Format(time.TimeOnly), c.whole, c.ok)
			}
		})
	}
}

func TestOffsetAndShortDuration(t *testing.T) {
	ref := tl(0)
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{ref, "0s"},
		{ref.Add(-40 * time.Second), "−40s"},
		{ref.Add(5*time.Minute + 2*time.Second), "+5m02s"},
		{ref.Add(3*time.Hour + 5*time.Minute), "+3h05m"},
		{ref.Add(-(50*time.Hour + 10*time.Minute)), "−2d02h"},
		{ref.Add(400 * time.Millisecond), "0s"},
	} {
		if got := offset(c.at, ref); got != c.want {
			t.Errorf("offset(%v) = %q, want %q", c.at.Sub(ref), got, c.want)
		}
	}
	// Saturated differences (zero time against a real one) do not panic
	// or go negative.
	if got := offset(time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); got == "" || got[0:len("−")] != "−" {
		t.Errorf("saturated offset = %q", got)
	}
}

func TestEventCategory(t *testing.T) {
	for k, want := range map[devices.EventKind]string{
		devices.EventAlarmSet: "hardware", devices.EventFRU: "hardware",
		devices.EventInternalLink: "network", devices.EventKeepaliveLoss: "network",
		devices.EventCoreDump: "software", devices.EventPanic: "software",
		devices.EventCommit: "configuration", devices.EventMastership: "mastership",
		"made-up": "other",
	} {
		if got := eventCategory(k); got != want {
			t.Errorf("eventCategory(%s) = %q, want %q", k, got, want)
		}
	}
}

// TestTimelineMarksSwitchovers: each "became master" mark says, from the
// switchover ledger, whether the change of master was planned (and by
// which command) or unplanned (and its cause); a change the ledger does
// not have stays a plain mark.
func TestTimelineMarksSwitchovers(t *testing.T) {
	t0 := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	tr := func(at time.Duration, re, from, to string) devices.Transition {
		return devices.Transition{Device: "mx1", RE: re, Time: t0.Add(at), From: from, To: to}
	}
	d := Device{Name: "mx1",
		Transitions: []devices.Transition{
			tr(10*time.Minute, "re0", "master", "backup"), tr(10*time.Minute, "re1", "backup", "master"),
			tr(30*time.Minute, "re1", "master", "gone"), tr(30*time.Minute, "re0", "backup", "master"),
			tr(50*time.Minute, "re0", "master", "backup"), tr(50*time.Minute, "re1", "gone", "master"),
		},
		Switchovers: []devices.Switchover{
			{Device: "mx1", Time: t0.Add(10*time.Minute + 20*time.Second), OldMaster: "re0", NewMaster: "re1", Planned: true,
				Command: "request chassis routing-engine master switch"},
			{Device: "mx1", Time: t0.Add(30 * time.Minute), OldMaster: "re1", NewMaster: "re0", Cause: devices.CauseSoftware},
		},
	}
	tv := buildTimeline(d, timelineOpts{since: t0, until: t0.Add(time.Hour), class: "timeline"})
	want := []struct{ re, class, title string }{
		{"re0", "master-change unplanned", "re0 became master at 2026-03-14 09:30:00 (was backup): unplanned switchover, cause software"},
		{"re1", "master-change", "re1 became master at 2026-03-14 09:50:00 (was gone)"}, // not in the ledger
		{"re1", "master-change planned", "re1 became master at 2026-03-14 09:10:00 (was backup): planned switchover (request chassis routing-engine master switch)"},
	}
	var got []string
	for _, m := range tv.Masters {
		got = append(got, m.RE+"|"+m.Class+"|"+m.Title)
	}
	var wantS []string
	for _, w := range want {
		wantS = append(wantS, w.re+"|"+w.class+"|"+w.title)
	}
	slices.Sort(got)
	slices.Sort(wantS)
	if !slices.Equal(got, wantS) {
		t.Errorf("marks\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantS, "\n"))
	}
}
