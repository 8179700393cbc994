package syslog

import (
	"time"

	"github.com/mastership/mastership/devices"
)

// zoneSlack is how far a line may seem to fall outside the span it was
// written in (after the previous read's newest line, up to the device's
// clock now) or before the line above it: lines written while the poll
// runs, after current-time was read, and a log's own small disorder.
const zoneSlack = 2 * time.Minute

// ParseNewLines parses lines, the new lines of file that follow lastRead
// (TakeInfo.LastRead), which the previous poll dated at lastTime (the
// cursor's LastTime), on the device's clock now.
//
// Syslog stamps carry no zone: a device writes them in its zone of the
// moment. When the zone changed between the two polls (set system
// time-zone), the lines written before the change are in the old zone,
// and reading them in the new one would move them by the difference
// (issue 19). The change shows in lastRead itself: read in the current
// zone it no longer falls at lastTime, and the difference, a whole number
// of quarter hours, gives the old zone's offset. The new lines are then
// an old-zone run followed by a new-zone run, since a log is written in
// time order; the split taken is the latest one under which every dated
// line falls in the span it was written in (from lastTime to clock.Now,
// within zoneSlack) and no line goes back before the one above it. When
// none does, or nothing changed, every line is parsed in clock's zone, as
// ParseLine does. The text of the lines is never changed, and which
// lines are new is the cursor's business, so a zone change neither loses
// nor repeats a line.
//
// When the change came long before the poll, so that both readings of a
// line fit the span (a poll interval longer than the zone difference),
// the old zone is kept as long as it fits: the split can be wrong by the
// zone difference for the lines in that overlap, never by more.
func ParseNewLines(file string, lines []string, lastRead string, lastTime time.Time, clock DeviceClock) []devices.LogLine {
	out := make([]devices.LogLine, len(lines))
	for i, l := range lines {
		out[i] = ParseLine(file, l, clock)
	}
	old, ok := previousZone(file, lastRead, lastTime, clock)
	if !ok || len(lines) == 0 {
		return out
	}
	before := make([]devices.LogLine, len(lines))
	for i, l := range lines {
		before[i] = ParseLine(file, l, DeviceClock{Now: clock.Now, Location: old})
	}
	if k := zoneSplit(before, out, lastTime, clock.Now); k > 0 {
		copy(out[:k], before[:k])
	}
	return out
}

// previousZone is the zone lastRead was written in, when it is not
// clock's: the offset that puts it back at lastTime.
func previousZone(file, lastRead string, lastTime time.Time, clock DeviceClock) (*time.Location, bool) {
	if lastRead == "" || lastTime.IsZero() || clock.Now.IsZero() {
		return nil, false
	}
	now := ParseLine(file, lastRead, clock).Time
	if now.IsZero() {
		return nil, false
	}
	shift := now.Sub(lastTime) // old offset minus new offset
	if shift == 0 || shift%(15*time.Minute) != 0 || shift > 26*time.Hour || shift < -26*time.Hour {
		return nil, false // the same zone, or not a zone's difference
	}
	_, off := now.In(clock.location()).Zone()
	return time.FixedZone("", off+int(shift/time.Second)), true
}

// zoneSplit is the largest k such that old[:k] followed by cur[k:] is a
// plausible run of lines (see ParseNewLines); 0 when none but k = 0 is.
// It runs in one pass each way over the lines.
func zoneSplit(old, cur []devices.LogLine, from, until time.Time) int {
	n := len(cur)
	in := func(t time.Time) bool {
		return !t.Before(from.Add(-zoneSlack)) && !t.After(until.Add(zoneSlack))
	}
	// prefix[k]: old[:k] is plausible; lastOld[k] its newest dated time.
	prefix := make([]bool, n+1)
	lastOld := make([]time.Time, n+1)
	prefix[0] = true
	for i := range n {
		lastOld[i+1] = lastOld[i]
		t := old[i].Time
		if t.IsZero() {
			prefix[i+1] = prefix[i]
			continue
		}
		prefix[i+1] = prefix[i] && in(t) && (lastOld[i].IsZero() || !t.Before(lastOld[i].Add(-zoneSlack)))
		lastOld[i+1] = t
	}
	// suffix[k]: cur[k:] is plausible; firstCur[k] its oldest dated time.
	suffix := make([]bool, n+1)
	firstCur := make([]time.Time, n+1)
	suffix[n] = true
	for i := n - 1; i >= 0; i-- {
		firstCur[i] = firstCur[i+1]
		t := cur[i].Time
		if t.IsZero() {
			suffix[i] = suffix[i+1]
			continue
		}
		suffix[i] = suffix[i+1] && in(t) && (firstCur[i+1].IsZero() || !firstCur[i+1].Before(t.Add(-zoneSlack)))
		firstCur[i] = t
	}
	for k := n; k > 0; k-- {
		if !prefix[k] || !suffix[k] {
			continue
		}
		if a, b := lastOld[k], firstCur[k]; !a.IsZero() && !b.IsZero() && b.Before(a.Add(-zoneSlack)) {
			continue
		}
		return k
	}
	return 0
}
