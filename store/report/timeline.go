package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// This file is the pure geometry of the HTML report's timelines: how a
// time maps to an x coordinate, which state each Routing Engine was in
// over the window, where alarms and log events sit. It knows nothing of
// HTML; html.go turns its results into SVG through the template.

// Timeline layout, in SVG user units (= CSS pixels: the SVG is drawn at
// its natural size). Every timeline has the same width and the same plot
// area, so the axes of all devices line up when scrolled past each other.
const (
	tlWidth     = 960.0 // whole SVG
	tlGutter    = 104.0 // left, for lane labels
	tlRightPad  = 16.0
	tlPlotWidth = tlWidth - tlGutter - tlRightPad
	tlTop       = 12.0 // room for the master-change triangles above the first lane
	tlLaneH     = 16.0 // one RE lane
	tlLaneGap   = 6.0
	tlAlarmRowH = 8.0 // one row of the alarm lane
	tlAlarmGap  = 3.0
	tlEventH    = 14.0 // the log-event lane
	tlAxisH     = 24.0 // ticks and their labels

	// minSpanPx is the width a span shorter than a pixel is drawn with: a
	// flap that lasted one second must still be seen.
	minSpanPx = 2.0
	// maxAlarmRows bounds the rows overlapping alarms are stacked in; more
	// overlap than that shares the last row rather than growing the lane.
	maxAlarmRows = 3
	// maxTicks bounds the tick labels on an axis.
	maxTicks = 8
)

// px is an SVG coordinate. Its String (what the template prints) has at
// most one decimal and never says NaN or Inf, so no input can produce an
// attribute a browser rejects.
type px float64

func (p px) String() string {
	v := float64(p)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// axis maps times of one window onto the horizontal pixels [left,
// left+width]. Times outside the window map to its edges (clamped), so a
// mark from before the window is drawn at the left edge, never outside
// the plot.
type axis struct {
	since, until time.Time
	left, width  float64
}

// newAxis returns the axis of [since, until]. An inverted window is
// swapped; an empty one (since == until) maps every time to the left edge
// rather than dividing by zero.
func newAxis(since, until time.Time, left, width float64) axis {
	if until.Before(since) {
		since, until = until, since
	}
	if !(width > 0) { // also catches NaN
		width = 0
	}
	return axis{since: since, until: until, left: left, width: width}
}

// span is the window's length; Sub saturates rather than overflowing for
// times far apart (zero time against now).
func (a axis) span() time.Duration { return a.until.Sub(a.since) }

// x is where t falls on the axis, clamped to the plot.
func (a axis) x(t time.Time) float64 {
	d := a.span()
	if d <= 0 || !t.After(a.since) {
		return a.left
	}
	if !t.Before(a.until) {
		return a.left + a.width
	}
	f := float64(t.Sub(a.since)) / float64(d)
	if math.IsNaN(f) || f < 0 {
		f = 0
	} else if f > 1 {
		f = 1
	}
	return a.left + f*a.width
}

// contains reports whether t is inside the window, ends included.
func (a axis) contains(t time.Time) bool {
	return !t.Before(a.since) && !t.After(a.until)
}

// extent returns the pixels [x1, x2) of the interval [from, to], at least
// minW wide: a short interval grows to the right, or to the left when it
// touches the plot's right edge.
func (a axis) extent(from, to time.Time, minW float64) (x1, w float64) {
	x1, x2 := a.x(from), a.x(to)
	if x2 < x1 {
		x1, x2 = x2, x1
	}
	if x2-x1 >= minW {
		return x1, x2 - x1
	}
	right := a.left + a.width
	x2 = x1 + minW
	if x2 > right {
		x2 = right
		x1 = max(a.left, right-minW)
	}
	return x1, x2 - x1
}

// RE lane states. The transitions' words (devices.REMaster, REBackup,
// REGone) are used as they are; stateAlive is in the alive set with the
// role unknown (a platform that reports no mastership), stateUnknown is
// no data at all (the device was never polled successfully).
const (
	stateAlive   = "alive"
	stateUnknown = "unknown"
)

// normState maps a transition's From/To onto the lane states; anything
// else a store might hold is unknown rather than guessed.
func normState(s string) string {
	switch strings.ToLower(s) {
	case devices.REMaster:
		return devices.REMaster
	case devices.REBackup:
		return devices.REBackup
	case devices.REGone:
		return devices.REGone
	default:
		return stateUnknown
	}
}

// inAliveSet reports whether a lane state counts as a member of the
// alive set.
func inAliveSet(state string) bool {
	return state == devices.REMaster || state == devices.REBackup || state == stateAlive
}

// reSpan is one stretch of time an RE spent in one state.
type reSpan struct {
	State    string
	From, To time.Time
}

// laneSpans returns the states RE re was in across [since, until], from
// its transitions (any order; those of other REs are ignored). Before its
// first transition an RE is in that transition's From state; an RE with
// no transitions is in state initial the whole window (the caller takes it
// from the latest poll). Consecutive spans in the same state are merged;
// a span of zero length is kept — two transitions in the same second are a
// flap too short to measure, not nothing — and drawn at minimum width.
// An inverted window is swapped.
func laneSpans(re string, trs []devices.Transition, since, until time.Time, initial string) []reSpan {
	if until.Before(since) {
		since, until = until, since
	}
	var own []devices.Transition
	for _, t := range trs {
		if t.RE == re {
			own = append(own, t)
		}
	}
	// Stable, so transitions in the same second keep the order the
	// correlation gave them.
	slices.SortStableFunc(own, func(a, b devices.Transition) int { return a.Time.Compare(b.Time) })

	state := initial
	if len(own) > 0 {
		state = normState(own[0].From)
	}
	var out []reSpan
	add := func(s reSpan) {
		if n := len(out); n > 0 && out[n-1].State == s.State {
			out[n-1].To = s.To
			return
		}
		out = append(out, s)
	}
	cur := since
	for _, t := range own {
		if t.Time.After(until) {
			break
		}
		if !t.Time.After(since) {
			// Before the window: it only decides the state the window opens in.
			state = normState(t.To)
			continue
		}
		add(reSpan{State: state, From: cur, To: t.Time})
		cur, state = t.Time, normState(t.To)
	}
	add(reSpan{State: state, From: cur, To: until})
	return out
}

// initialState is the lane state of an RE with no transitions: what the
// latest poll saw. A poll without a snapshot (failed, or never polled)
// knows nothing; an RE missing from a snapshot's RE table is not in the
// alive set.
func initialState(re string, latest *devices.Poll) string {
	if latest == nil || latest.Snapshot == nil {
		return stateUnknown
	}
	for _, r := range latest.Snapshot.RouteEngines {
		if r.Name != re {
			continue
		}
		switch {
		case !r.Alive():
			return devices.REGone
		case r.IsMaster():
			return devices.REMaster
		case strings.EqualFold(r.MastershipState, devices.REBackup):
			return devices.REBackup
		default:
			return stateAlive
		}
	}
	return devices.REGone
}

// laneREs returns the REs a device's timeline has a lane for: every RE
// named by a transition, a finding or the latest RE table, sorted.
func laneREs(d Device) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if d.Latest != nil && d.Latest.Snapshot != nil {
		for _, re := range d.Latest.Snapshot.RouteEngines {
			add(re.Name)
		}
	}
	for _, t := range d.Transitions {
		add(t.RE)
	}
	for _, f := range d.Findings {
		add(f.RE)
	}
	slices.Sort(out)
	return out
}

// alarmSpan is one alarm's life drawn on the alarm lane.
type alarmSpan struct {
	Alarm    devices.Alarm
	From, To time.Time
	Cleared  time.Time // zero while active
	Row      int
}

// alarmSpans returns the alarms' lives on axis a: from the alarm's own
// time (else when the agent first saw it) to when it cleared (else the end
// of the window: still active). Alarms reported by both alarm tables are
// drawn once. Overlapping alarms are stacked in rows (at most
// maxAlarmRows) so that a long Major alarm cannot hide a short Minor one;
// the rows are assigned in pixels, so alarms that merely touch at this
// scale are separated too. An alarm wholly outside the window is drawn at
// its edge, unless dropOutside leaves it out.
func alarmSpans(recs []devices.AlarmRecord, a axis, dropOutside bool) []alarmSpan {
	type key struct {
		member, class, desc string
		from                int64
	}
	seen := map[key]bool{}
	var out []alarmSpan
	for _, r := range recs {
		from := r.Alarm.Time
		if from.IsZero() {
			from = r.FirstSeen
		}
		if from.IsZero() {
			from = a.since
		}
		to := r.ClearedAt
		if to.IsZero() {
			to = a.until
		}
		if to.Before(from) {
			to = from
		}
		if dropOutside && (to.Before(a.since) || from.After(a.until)) {
			continue
		}
		k := key{r.Alarm.Member, strings.ToLower(r.Alarm.Class), r.Alarm.Description, from.Unix()}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, alarmSpan{Alarm: r.Alarm, From: from, To: to, Cleared: r.ClearedAt})
	}
	slices.SortStableFunc(out, func(x, y alarmSpan) int {
		return cmp.Or(x.From.Compare(y.From), y.To.Compare(x.To))
	})
	var rowEnd []float64 // right edge, in pixels, of the last span in each row
	for i := range out {
		x1, w := a.extent(out[i].From, out[i].To, minSpanPx)
		row := -1
		for r, end := range rowEnd {
			if end+1 <= x1 {
				row = r
				break
			}
		}
		if row < 0 && len(rowEnd) < maxAlarmRows {
			row = len(rowEnd)
			rowEnd = append(rowEnd, 0)
		}
		if row < 0 { // all rows busy: share the one that frees first
			row = 0
			for r, end := range rowEnd {
				if end < rowEnd[row] {
					row = r
				}
			}
		}
		rowEnd[row] = max(rowEnd[row], x1+w)
		out[i].Row = row
	}
	return out
}

// alarmRowCount is the number of rows alarmSpans used (at least one, so
// the lane keeps its place when there are no alarms).
func alarmRowCount(spans []alarmSpan) int {
	n := 1
	for _, s := range spans {
		n = max(n, s.Row+1)
	}
	return n
}

// tick is one labelled mark on an axis.
type tick struct {
	X     float64
	Label string
}

// tickSteps are the tick intervals an axis may use, smallest first.
func tickSteps() []time.Duration {
	return []time.Duration{
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
		24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
		91 * 24 * time.Hour, 364 * 24 * time.Hour,
	}
}

// ticks returns at most maxTicks round-valued UTC ticks inside the axis,
// labelled as briefly as the step allows (the header carries the full
// dates). An empty window has one tick, at its start.
func ticks(a axis) []tick {
	d := a.span()
	if d <= 0 {
		return []tick{{X: a.left, Label: a.since.UTC().Format("2006-01-02 15:04:05")}}
	}
	steps := tickSteps()
	step := steps[len(steps)-1]
	for _, s := range steps {
		if d/s < maxTicks {
			step = s
			break
		}
	}
	layout := "15:04"
	switch {
	case step < time.Minute:
		layout = "15:04:05"
	case step >= 24*time.Hour:
		layout = "2006-01-02"
	case d > 24*time.Hour:
		layout = "Jan 2 15:04"
	}
	// Truncate rounds relative to the zero time, which is a UTC midnight,
	// so steps of up to a day land on round UTC times.
	t := a.since.UTC().Truncate(step)
	if t.Before(a.since) {
		t = t.Add(step)
	}
	var out []tick
	for ; !t.After(a.until) && len(out) <= maxTicks; t = t.Add(step) {
		out = append(out, tick{X: a.x(t), Label: t.Format(layout)})
	}
	return out
}

// eventCategory groups event kinds for their colour on the timeline; it
// follows the finding causes the kinds are evidence for.
func eventCategory(k devices.EventKind) string {
	switch k {
	case devices.EventAlarmSet, devices.EventAlarmCleared, devices.EventFRU:
		return "hardware"
	case devices.EventKeepaliveLoss, devices.EventIPCLoss, devices.EventInternalLink, devices.EventLinkFlap:
		return "network"
	case devices.EventCoreDump, devices.EventPanic:
		return "software"
	case devices.EventCommit:
		return "configuration"
	case devices.EventAliveSet, devices.EventMastership:
		return "mastership"
	default:
		return "other"
	}
}

// closeupWindow is the window of a finding's close-up timeline, which
// shows the onset of the flap at a scale where seconds count: from the
// earliest of the finding's alarms and cited log events up to closeupLead
// before the first transition, to as long after it as the cause came
// before it (at least closeupTail, so the master change and the symptom
// alarms that follow are on it too), stretched to later cited evidence (a
// core written after the reboot) and to the whole flap when it ends soon
// after. whole says whether the flap's last transition is inside. ok is
// false when the finding has no times at all.
func closeupWindow(f devices.Finding, cited []time.Time) (since, until time.Time, whole, ok bool) {
	first, last := f.First, f.Last
	switch {
	case first.IsZero() && last.IsZero():
		return time.Time{}, time.Time{}, false, false
	case first.IsZero():
		first = last
	case last.IsZero():
		last = first
	}
	if last.Before(first) {
		first, last = last, first
	}
	lo, hi := first, first
	take := func(t time.Time) {
		switch {
		case t.IsZero():
		case t.Before(first):
			if !t.Before(first.Add(-closeupLead)) && t.Before(lo) {
				lo = t
			}
		case !t.After(last.Add(closeupLead)) && t.After(hi):
			hi = t
		}
	}
	for _, al := range f.Alarms {
		take(al.Time)
	}
	for _, t := range cited {
		take(t)
	}
	tail := max(closeupTail, first.Sub(lo))
	if end := first.Add(tail); end.After(hi) {
		hi = end
	}
	if !last.After(first.Add(3*tail)) && last.After(hi) {
		hi = last
	}
	pad := max(15*time.Second, hi.Sub(lo)/12)
	return lo.Add(-pad), hi.Add(pad), !last.After(hi), true
}

// closeupLead is how far from a flap the close-up reaches for its
// evidence; further away the onset itself would shrink to a sliver.
// closeupTail is the least it shows after the first transition.
const (
	closeupLead = 30 * time.Minute
	closeupTail = 2 * time.Minute
)

// offset formats t-ref compactly with its sign, "−40s", "+5m02s", "0s":
// the sequence of a finding reads as time relative to the flap.
func offset(t, ref time.Time) string {
	d := t.Sub(ref).Round(time.Second)
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
		if d < 0 { // -minDuration overflows
			d = time.Duration(math.MaxInt64)
		}
	}
	if d == 0 {
		return "0s"
	}
	return sign + shortDuration(d)
}

// shortDuration formats a non-negative duration as "40s", "5m02s",
// "3h05m", "2d04h".
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m" + pad2(int(d%time.Minute/time.Second)) + "s"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h" + pad2(int(d%time.Hour/time.Minute)) + "m"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d" + pad2(int(d%(24*time.Hour)/time.Hour)) + "h"
	}
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
