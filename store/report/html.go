package report

// This file renders the fleet report as one self-contained HTML file:
// inline CSS and inline SVG, no script, and no URL that leaves the file
// (the favicon is a data: URL so a browser does not even ask for
// /favicon.ico). Every string a device supplied — log lines, alarm texts,
// error messages — goes through html/template and is escaped.
//
// The timelines are part of a contract: tests (html_browser_test.go) and
// anyone scraping the report find their elements by these classes and
// data attributes, so change them only together with the tests.
//
//	<section class="device" id="dev-NAME" data-device="NAME">
//	    a device with findings, expanded.
//	<svg class="timeline" data-device="NAME" data-since=T data-until=T>
//	    the device's timeline on the report's window [Fleet.Since,
//	    Fleet.Until]; every timeline has the same width and plot area.
//	<svg class="closeup" data-device="NAME" data-finding="I" data-since=T data-until=T>
//	    finding I's close-up (I counts the device's findings from 0): the
//	    same elements as a timeline, on an axis around the flap's onset
//	    (closeupWindow), where seconds between cause and drop are visible.
//	<rect class="alive" data-re="re1" data-state="master|backup|alive" data-from=T data-to=T>
//	    the RE in the alive set from..to (alive: role not reported).
//	<rect class="gone" data-re="re1" data-from=T data-to=T>
//	    the RE out of the alive set from..to.
//	<rect class="unknown" data-re="re1" data-from=T data-to=T>
//	    no data on the RE (no transitions and no snapshot).
//	<path class="master-change" data-re="re0" data-time=T>
//	    the RE became master (a transition To == master).
//	<rect class="alarm major|minor|other" data-time=T data-cleared=T|"">
//	    an alarm from when it was set to when it cleared, or to the end of
//	    the window while active (data-cleared empty).
//	<circle class="evidence CATEGORY" data-time=T data-kind=KIND>
//	    a classified log line; its <title> child holds the raw line.
//	    CATEGORY is hardware, network, software, configuration,
//	    mastership or other; "cited" is added in a close-up when the
//	    finding quotes the line as evidence.
//	<rect class="finding-band" data-finding="I" data-from=T data-to=T>
//	    on a timeline, the stretch finding I covers.
//	<line class="guide major|minor|other|flap" data-time=T>
//	    on a close-up, a dashed line across all lanes at an alarm's set
//	    time or at the flap's first transition.
//
// T is RFC 3339 in UTC, to the second. Marks outside an axis's window
// are drawn at its edges on a timeline; a close-up leaves out the point
// marks (evidence, master changes) and the alarms that fall outside its
// own window.
// Spans shorter than minSpanPx are drawn minSpanPx wide.

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
)

//go:embed html_template.html
var htmlTemplateText string

// htmlTemplate is parsed once; a parsed template is immutable and safe
// for concurrent use.
var htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))

// RenderHTML writes f as a self-contained HTML report to w. It reads no
// clock and does no I/O but the writes to w, so the same Fleet always
// gives the same bytes.
func RenderHTML(w io.Writer, f Fleet) error {
	if err := htmlTemplate.Execute(w, buildPage(f)); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	return nil
}

// The view types below are what the template reads: every string already
// formatted and every coordinate computed, so the template holds no
// logic beyond loops and conditionals.

type pageView struct {
	Generated, Since, Until, WindowLen string
	WindowNote                         string
	Summary                            summaryView
	Attention                          []attentionRow
	Detailed                           []deviceView
	Quiet                              []quietRow
	QuietAttention                     int
	// NotReady are the devices that would not survive a switchover now,
	// or whose readiness could not be checked, worst first.
	NotReady []readinessRow
	// ReadyCount is how many multi-RE devices are ready.
	ReadyCount int
}

// readinessRow is one device of the switchover readiness section.
type readinessRow struct {
	Name, Anchor, Site string
	Verdict, Class     string
	Reasons            []string
	CheckedAt          string
}

type countView struct {
	Name  string
	Count int
	Class string
}

type summaryView struct {
	Devices, Attention, Findings       int
	InMaintenance                      int // findings inside a maintenance window: shown, not raised
	PollsFailed, NeverPolled, AliveLow int
	MajorAlarms                        int
	Outcomes                           []countView
	Causes, Severities                 []countView
}

type attentionRow struct {
	Name, Anchor, Site    string
	State, StateClass     string
	Outcome, OutcomeClass string
	Master, Alive         string
	Findings              int
	Why                   string
	Readiness, ReadyClass string
	stateRank             int
}

type quietRow struct {
	Name, Anchor, Site    string
	State, StateClass     string
	Outcome, OutcomeClass string
	Master, Alive         string
	Major, Minor          int
	Readiness, ReadyClass string
}

type deviceView struct {
	Name, Anchor, Host, Site string
	State, StateClass        string
	Outcome, OutcomeClass    string
	PolledAt                 string
	Master, Alive            string
	Major, Minor             int
	Why                      string
	Findings                 []findingView
	Timeline                 timelineView
	Transitions, Events      int
	EventsDropped            int
	stateRank                int
}

type findingView struct {
	Index                 int
	RE, Cause, Severity   string
	Transitions           int
	First, Last, Duration string
	Remedy, OtherCauses   string
	Evidence              []string
	Alarms                []string
	// Maintenance: the flap overlaps a maintenance window, so it raised
	// no alert; the note says which window (issue 15).
	Maintenance     bool
	MaintenanceNote string
	Closeup         *timelineView
	CloseupWhole    bool // the close-up holds the whole flap, not only its onset
	Sequence        []seqRow
	SequenceMore    int
}

// seqRow is one line of a finding's sequence: what happened around the
// flap, in order, with its offset from the flap's first transition.
type seqRow struct {
	Time, Offset, What, Raw, Class string
	Cited                          bool
}

type timelineView struct {
	Class, Device, Finding string
	Since, Until           string
	Label                  string
	Width, Height          px
	PlotLeft, PlotRight    px
	PlotWidth              px
	LabelX                 px
	Lanes                  []laneView
	AlarmLane, EventLane   laneView
	Bands                  []bandView
	Spans                  []spanView
	Masters                []markView
	Alarms                 []alarmView
	Events                 []eventView
	Guides                 []guideView
	Ticks                  []tickView
	AxisY                  px
	TickLabelY             px
	NoEvents, NoAlarms     bool
}

type laneView struct {
	Label string
	Y, H  px
	TextY px
}

type bandView struct {
	Finding, From, To, Title string
	X, W, Y, H               px
}

type spanView struct {
	Class, RE, State, From, To, Title string
	X, Y, W, H                        px
}

type markView struct {
	RE, Time, Title, Path string
	// Class is "master-change", plus "planned" or "unplanned" when the
	// switchover ledger has this change of master.
	Class string
}

type alarmView struct {
	Class, Time, Cleared, Title string
	X, Y, W, H                  px
}

type eventView struct {
	Class, Time, Kind, Title string
	X, Y, R                  px
}

type guideView struct {
	Class, Time, Title string
	X, Y1, Y2          px
}

type tickView struct {
	X, Y1, Y2 px
	Label     string
	End       bool // anchored at its end: centred, it would overflow the SVG
}

// isoUTC is the report's time format: RFC 3339 in UTC, to the second.
func isoUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// clockUTC is a time as the device sections print it: UTC to the second,
// with a space rather than RFC 3339's T and Z, which read worse in prose.
func clockUTC(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// outcomeNever is the summary's outcome word for a device never polled,
// counted beside the real outcomes.
const outcomeNever = "never polled"

// outcomeOrder, causeOrder and severityOrder are the rows of the summary's
// counts, in the order operators read them. They are functions rather than
// package variables so that nothing can change them.
func outcomeOrder() []devices.Outcome {
	return []devices.Outcome{
		devices.OutcomeOK, devices.OutcomePartial, devices.OutcomeTimeout, devices.OutcomeRefused,
		devices.OutcomeAuth, devices.OutcomeHostKey, devices.OutcomeProtocol, devices.OutcomeRPCError,
		devices.OutcomeTooLarge,
	}
}

func causeOrder() []devices.Cause {
	return []devices.Cause{devices.CauseHardware, devices.CauseNetwork, devices.CauseSoftware, devices.CauseConfiguration, devices.CauseUnknown}
}

func severityOrder() []devices.Severity {
	return []devices.Severity{devices.SeverityCritical, devices.SeverityWarning}
}

// outcomeClass is the CSS class of an outcome badge.
func outcomeClass(o string) string {
	switch o {
	case string(devices.OutcomeOK):
		return "good"
	case string(devices.OutcomePartial):
		return "warn"
	case outcomeNever:
		return "muted"
	default:
		return "bad"
	}
}

// stateClass is the CSS class of a Nagios state badge, and stateRank the
// order of the attention table: critical first, then the devices that
// could not be polled, then warnings.
func stateClass(s string) string {
	switch s {
	case "OK":
		return "good"
	case "WARNING":
		return "warn"
	case "CRITICAL":
		return "bad"
	default:
		return "muted"
	}
}

func stateRank(s string) int {
	switch s {
	case "CRITICAL":
		return 0
	case "UNKNOWN":
		return 1
	case "WARNING":
		return 2
	default:
		return 3
	}
}

// deviceFacts is what the tables show of a device's latest poll.
type deviceFacts struct {
	state, outcome, why string
	master, alive       string
	major, minor        int
	polled              bool
	failed              bool
	aliveLow            bool
}

func facts(d Device) deviceFacts {
	if d.Latest == nil {
		return deviceFacts{state: "UNKNOWN", outcome: outcomeNever, why: "never polled", master: "-", alive: "-"}
	}
	p := *d.Latest
	a := devices.Assess(p, p.ExpectedREs, d.Findings)
	fc := deviceFacts{state: a.State.String(), outcome: string(p.Outcome), polled: true, master: "-", alive: "-"}
	if fc.outcome == "" {
		fc.outcome = "unknown"
	}
	fc.failed = p.Outcome != devices.OutcomeOK
	why := a.Reasons
	if p.Snapshot == nil || len(p.Snapshot.RouteEngines) == 0 {
		// Assess gives only the kind; the message is what the operator
		// needs to act on.
		if p.Error != "" {
			why = append(slices.Clip(why), p.Error)
		}
	}
	fc.why = strings.Join(why, "; ")
	if s := p.Snapshot; s != nil {
		if m := s.Masters(); len(m) > 0 {
			fc.master = strings.Join(m, ",")
		}
		alive := s.AliveSet()
		names := "none"
		if len(alive) > 0 {
			names = strings.Join(alive, ",")
		}
		if len(s.RouteEngines) > 0 {
			fc.alive = fmt.Sprintf("%s (%d/%d)", names, len(alive), a.ExpectedREs)
			fc.aliveLow = len(alive) < a.ExpectedREs
		}
		fc.major, fc.minor = s.AlarmCounts()
	}
	return fc
}

// anchors gives every device a unique, URL-safe element id, so links
// from the attention table need no escaping to match.
type anchors map[string]bool

func (seen anchors) of(name string) string {
	var b strings.Builder
	b.WriteString("dev-")
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	id := b.String()
	for n := 2; seen[id]; n++ {
		id = b.String() + "-" + strconv.Itoa(n)
	}
	seen[id] = true
	return id
}

func buildPage(f Fleet) pageView {
	since, until := f.Since, f.Until
	pv := pageView{
		Generated: isoUTC(f.Generated),
		Since:     isoUTC(since),
		Until:     isoUTC(until),
	}
	switch {
	case until.Before(since):
		pv.WindowNote = "the window is inverted (until before since); timelines use it swapped"
		since, until = until, since
	case until.Equal(since):
		pv.WindowNote = "the window is empty (since equals until); timelines collapse to a point"
	default:
		pv.WindowLen = shortDuration(until.Sub(since))
	}

	s := &pv.Summary
	s.Devices = len(f.Devices)
	outcomes := map[string]int{}
	causes := map[devices.Cause]int{}
	sevs := map[devices.Severity]int{}
	ids := anchors{}
	for _, d := range f.Devices {
		fc := facts(d)
		anchor := ids.of(d.Name)
		ready, readyClass := readinessCell(d.Readiness)
		if d.Readiness != nil {
			switch d.Readiness.Verdict {
			case readiness.Ready:
				pv.ReadyCount++
			case readiness.NotReady, readiness.Unknown:
				row := readinessRow{Name: d.Name, Anchor: anchor, Site: d.Site, Verdict: ready, Class: readyClass,
					CheckedAt: clockUTC(d.Readiness.CheckedAt)}
				for _, r := range d.Readiness.Reasons {
					row.Reasons = append(row.Reasons, r.Text)
				}
				for _, r := range d.Readiness.Unknown {
					row.Reasons = append(row.Reasons, "unknown: "+r.Text)
				}
				pv.NotReady = append(pv.NotReady, row)
			}
		}
		outcomes[fc.outcome]++
		if !fc.polled {
			s.NeverPolled++
		} else if fc.failed && fc.outcome != string(devices.OutcomePartial) {
			s.PollsFailed++
		}
		if fc.aliveLow {
			s.AliveLow++
		}
		if fc.major > 0 {
			s.MajorAlarms++
		}
		for _, fd := range d.Findings {
			causes[fd.Cause]++
			sevs[fd.Severity]++
			if fd.Maintenance {
				s.InMaintenance++
			}
		}
		s.Findings += len(d.Findings)
		if fc.state != "OK" {
			s.Attention++
			pv.Attention = append(pv.Attention, attentionRow{
				Name: d.Name, Anchor: anchor, Site: d.Site,
				State: fc.state, StateClass: stateClass(fc.state),
				Outcome: fc.outcome, OutcomeClass: outcomeClass(fc.outcome),
				Master: fc.master, Alive: fc.alive,
				Findings: len(d.Findings), Why: fc.why,
				Readiness: ready, ReadyClass: readyClass,
				stateRank: stateRank(fc.state),
			})
		}
		if len(d.Findings) == 0 {
			if fc.state != "OK" {
				pv.QuietAttention++
			}
			pv.Quiet = append(pv.Quiet, quietRow{
				Name: d.Name, Anchor: anchor, Site: d.Site,
				State: fc.state, StateClass: stateClass(fc.state),
				Outcome: fc.outcome, OutcomeClass: outcomeClass(fc.outcome),
				Master: fc.master, Alive: fc.alive, Major: fc.major, Minor: fc.minor,
				Readiness: ready, ReadyClass: readyClass,
			})
			continue
		}
		pv.Detailed = append(pv.Detailed, buildDevice(d, fc, anchor, since, until))
	}

	for _, o := range outcomeOrder() {
		s.Outcomes = append(s.Outcomes, countView{Name: string(o), Count: outcomes[string(o)], Class: outcomeClass(string(o))})
		delete(outcomes, string(o))
	}
	never := outcomes[outcomeNever]
	delete(outcomes, outcomeNever)
	// Outcome words this renderer does not know (a newer store) are shown
	// as they are rather than dropped from the counts.
	var others []string
	for o := range outcomes {
		others = append(others, o)
	}
	slices.Sort(others)
	for _, o := range others {
		s.Outcomes = append(s.Outcomes, countView{Name: o, Count: outcomes[o], Class: "bad"})
	}
	s.Outcomes = append(s.Outcomes, countView{Name: outcomeNever, Count: never, Class: "muted"})
	for _, c := range causeOrder() {
		s.Causes = append(s.Causes, countView{Name: string(c), Count: causes[c], Class: "cause-" + string(c)})
		delete(causes, c)
	}
	for c, n := range causes { // a cause this renderer does not know
		s.Causes = append(s.Causes, countView{Name: string(c), Count: n, Class: "cause-unknown"})
	}
	slices.SortStableFunc(s.Causes[len(causeOrder()):], func(a, b countView) int { return strings.Compare(a.Name, b.Name) })
	for _, v := range severityOrder() {
		s.Severities = append(s.Severities, countView{Name: string(v), Count: sevs[v], Class: "sev-" + string(v)})
		delete(sevs, v)
	}
	for v, n := range sevs {
		s.Severities = append(s.Severities, countView{Name: string(v), Count: n, Class: "sev-other"})
	}
	slices.SortStableFunc(s.Severities[len(severityOrder()):], func(a, b countView) int { return strings.Compare(a.Name, b.Name) })

	slices.SortStableFunc(pv.Attention, func(a, b attentionRow) int {
		if a.stateRank != b.stateRank {
			return a.stateRank - b.stateRank
		}
		return b.Findings - a.Findings
	})
	slices.SortStableFunc(pv.Detailed, func(a, b deviceView) int { return a.stateRank - b.stateRank })
	return pv
}

func buildDevice(d Device, fc deviceFacts, anchor string, since, until time.Time) deviceView {
	dv := deviceView{
		Name: d.Name, Anchor: anchor, Host: d.Host, Site: d.Site,
		State: fc.state, StateClass: stateClass(fc.state),
		Outcome: fc.outcome, OutcomeClass: outcomeClass(fc.outcome),
		Master: fc.master, Alive: fc.alive, Major: fc.major, Minor: fc.minor,
		Why:         fc.why,
		Transitions: len(d.Transitions), Events: len(d.Events),
		EventsDropped: d.EventsDropped,
		stateRank:     stateRank(fc.state),
	}
	if d.Latest != nil {
		dv.PolledAt = clockUTC(d.Latest.Started)
	}
	dv.Timeline = buildTimeline(d, timelineOpts{since: since, until: until, class: "timeline"})
	for i, fd := range d.Findings {
		dv.Findings = append(dv.Findings, buildFinding(d, i, fd))
	}
	return dv
}

func buildFinding(d Device, i int, f devices.Finding) findingView {
	fv := findingView{
		Index: i, RE: f.RE, Cause: string(f.Cause), Severity: string(f.Severity),
		Transitions: f.Transitions, First: clockUTC(f.First), Last: clockUTC(f.Last),
		Remedy: f.Remedy, Evidence: f.Evidence,
		Maintenance: f.Maintenance, MaintenanceNote: f.MaintenanceNote,
	}
	if !f.First.IsZero() && !f.Last.IsZero() && !f.Last.Before(f.First) {
		fv.Duration = shortDuration(f.Last.Sub(f.First))
	}
	var other []string
	for _, c := range f.OtherCauses {
		other = append(other, string(c))
	}
	fv.OtherCauses = strings.Join(other, ", ")
	for _, a := range devices.DedupeAlarms(f.Alarms) {
		s := a.Class + " " + a.Description
		if !a.Time.IsZero() {
			s += " (set " + clockUTC(a.Time)
			if !f.First.IsZero() {
				s += ", " + offset(a.Time, f.First) + " from the flap"
			}
			s += ")"
		}
		fv.Alarms = append(fv.Alarms, s)
	}

	cited := citedEvents(d.Events, f.Evidence)
	var citedTimes []time.Time
	for i, e := range d.Events {
		if cited[i] {
			citedTimes = append(citedTimes, e.Time)
		}
	}
	lo, hi, whole, ok := closeupWindow(f, citedTimes)
	if !ok {
		return fv
	}
	fv.CloseupWhole = whole
	tl := buildTimeline(d, timelineOpts{
		since: lo, until: hi, class: "closeup", finding: strconv.Itoa(i),
		dropOutside: true, cited: cited, guides: &f,
	})
	fv.Closeup = &tl
	// The sequence covers the whole flap even when the close-up shows
	// only its onset.
	seqHi := hi
	if !f.Last.IsZero() && f.Last.Add(30*time.Second).After(seqHi) {
		seqHi = f.Last.Add(30 * time.Second)
	}
	fv.Sequence, fv.SequenceMore = sequence(d, f, lo, seqHi, cited)
	return fv
}

// citedEvents marks the events whose raw line the finding quotes as
// evidence: those are the lines that decided its cause.
func citedEvents(events []devices.Event, evidence []string) map[int]bool {
	quoted := make(map[string]bool, len(evidence))
	for _, e := range evidence {
		quoted[e] = true
	}
	out := map[int]bool{}
	for i, e := range events {
		if e.Line.Raw != "" && quoted[e.Line.Raw] {
			out[i] = true
		}
	}
	return out
}

// maxSequence bounds a finding's sequence table; the close-up and the
// device's timeline still show everything.
const maxSequence = 40

// sequence lists what happened on the device inside [lo, hi] — alarms set
// and cleared, transitions, log events — plus the cited events outside
// it, oldest first, each with its offset from the flap's first
// transition: the table that says "the PEM alarm came 40 s before re1
// left" in words.
func sequence(d Device, f devices.Finding, lo, hi time.Time, cited map[int]bool) ([]seqRow, int) {
	type item struct {
		t     time.Time
		order int
		row   seqRow
	}
	var items []item
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(lo) && !t.After(hi) }
	for _, sp := range alarmSpans(d.Alarms, newAxis(lo, hi, 0, tlPlotWidth), false) {
		cls := alarmClass(sp.Alarm)
		if in(sp.From) {
			items = append(items, item{sp.From, 0, seqRow{What: sp.Alarm.Class + " alarm set: " + sp.Alarm.Description, Class: "alarm-" + cls}})
		}
		if in(sp.Cleared) {
			items = append(items, item{sp.Cleared, 0, seqRow{What: sp.Alarm.Class + " alarm cleared: " + sp.Alarm.Description, Class: "cleared"}})
		}
	}
	for _, t := range d.Transitions {
		if in(t.Time) {
			items = append(items, item{t.Time, 1, seqRow{What: t.RE + ": " + t.From + " → " + t.To, Class: "transition to-" + normState(t.To)}})
		}
	}
	for i, e := range d.Events {
		if e.Time.IsZero() || !(in(e.Time) || cited[i]) {
			continue
		}
		what := string(e.Kind)
		for _, p := range []string{e.RE, e.Change, e.Subject} {
			// "alarm-set set" says nothing the kind did not.
			if p != "" && !strings.HasSuffix(what, "-"+p) {
				what += " " + p
			}
		}
		items = append(items, item{e.Time, 2, seqRow{What: what, Raw: e.Line.Raw, Class: "event", Cited: cited[i]}})
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return a.order - b.order
	})
	more := 0
	if len(items) > maxSequence {
		more = len(items) - maxSequence
		items = items[:maxSequence]
	}
	ref := f.First
	if ref.IsZero() {
		ref = f.Last
	}
	out := make([]seqRow, 0, len(items))
	for _, it := range items {
		r := it.row
		r.Time = it.t.UTC().Format("15:04:05")
		r.Offset = offset(it.t, ref)
		out = append(out, r)
	}
	return out, more
}

// alarmClass is an alarm's colour class.
func alarmClass(a devices.Alarm) string {
	switch {
	case a.IsMajor():
		return "major"
	case a.IsMinor():
		return "minor"
	default:
		return "other"
	}
}

// ledgerMatch is how far a transition to master and its ledger row may
// be apart: the ledger pairs the merged transitions, whose time a later,
// more precise source may have moved.
const ledgerMatch = 2 * time.Minute

// ledgerEntry is the switchover of the ledger in which re became master
// at about t.
func ledgerEntry(sws []devices.Switchover, re string, t time.Time) (devices.Switchover, bool) {
	for _, sw := range sws {
		if d := sw.Time.Sub(t); sw.NewMaster == re && d >= -ledgerMatch && d <= ledgerMatch {
			return sw, true
		}
	}
	return devices.Switchover{}, false
}

// readinessCell is a device's switchover readiness as the tables show
// it: the verdict word and its class, "–" when there is none or it does
// not apply.
func readinessCell(v *readiness.Verdict) (text, class string) {
	if v == nil || v.Verdict == readiness.NotApplicable || v.Verdict == "" {
		return "–", "nil"
	}
	return string(v.Verdict), "ready-" + string(v.Verdict)
}

// timelineOpts says which window a timeline shows and how.
type timelineOpts struct {
	since, until time.Time
	class        string // "timeline" or "closeup"
	finding      string // data-finding of a close-up
	// dropOutside leaves out point marks and alarms outside the window
	// instead of clamping them to its edges: on a close-up, a mark at the
	// edge would claim a time it does not have.
	dropOutside bool
	cited       map[int]bool     // events the finding quotes
	guides      *devices.Finding // draw guides for this finding
}

func buildTimeline(d Device, o timelineOpts) timelineView {
	a := newAxis(o.since, o.until, tlGutter, tlPlotWidth)
	tv := timelineView{
		Class: o.class, Device: d.Name, Finding: o.finding,
		Since: isoUTC(a.since), Until: isoUTC(a.until),
		Width: tlWidth, PlotLeft: tlGutter, PlotRight: tlGutter + tlPlotWidth, PlotWidth: tlPlotWidth,
		LabelX: tlGutter - 8,
	}
	tv.Label = "Timeline of " + d.Name + " from " + tv.Since + " to " + tv.Until
	if o.class == "closeup" {
		tv.Label = "Close-up of finding " + o.finding + " on " + d.Name + " from " + tv.Since + " to " + tv.Until
	}
	pointX := func(t time.Time) (float64, bool) {
		if o.dropOutside && !a.contains(t) {
			return 0, false
		}
		return a.x(t), true
	}
	lane := func(label string, y, h float64) laneView {
		return laneView{Label: label, Y: px(y), H: px(h), TextY: px(y + h/2 + 4)}
	}

	y := tlTop
	res := laneREs(d)
	var gone []spanView // drawn last, over the alive spans they may touch
	for _, re := range res {
		tv.Lanes = append(tv.Lanes, lane(re, y, tlLaneH))
		for _, sp := range laneSpans(re, d.Transitions, a.since, a.until, initialState(re, d.Latest)) {
			x, w := a.extent(sp.From, sp.To, minSpanPx)
			v := spanView{
				RE: re, State: sp.State, From: isoUTC(sp.From), To: isoUTC(sp.To),
				X: px(x), Y: px(y), W: px(w), H: px(tlLaneH),
				Title: fmt.Sprintf("%s %s %s → %s (%s)", re, sp.State, clockUTC(sp.From), clockUTC(sp.To), shortDuration(sp.To.Sub(sp.From))),
			}
			switch {
			case inAliveSet(sp.State):
				v.Class = "alive"
				tv.Spans = append(tv.Spans, v)
			case sp.State == devices.REGone:
				v.Class = "gone"
				v.State = "" // the class says it all
				gone = append(gone, v)
			default:
				v.Class = "unknown"
				v.State = ""
				tv.Spans = append(tv.Spans, v)
			}
		}
		for _, t := range d.Transitions {
			if t.RE != re || normState(t.To) != devices.REMaster || normState(t.From) == devices.REMaster {
				continue
			}
			x, ok := pointX(t.Time)
			if !ok {
				continue
			}
			top, bottom := y-4, y+tlLaneH+2
			class, title := "master-change", fmt.Sprintf("%s became master at %s (was %s)", re, clockUTC(t.Time), t.From)
			if sw, ok := ledgerEntry(d.Switchovers, re, t.Time); ok {
				if sw.Planned {
					class += " planned"
					title += ": planned switchover"
					if sw.Command != "" {
						title += " (" + sw.Command + ")"
					}
				} else {
					class += " unplanned"
					title += ": unplanned switchover"
					if sw.Cause != "" {
						title += ", cause " + string(sw.Cause)
					}
				}
			}
			tv.Masters = append(tv.Masters, markView{
				RE: re, Time: isoUTC(t.Time), Class: class,
				Title: title,
				// A downward triangle above the lane and a stem through it.
				Path: "M" + px(x-5).String() + " " + px(top-6).String() + "h10l-5 6z" +
					"M" + px(x).String() + " " + px(top).String() + "V" + px(bottom).String(),
			})
		}
		y += tlLaneH + tlLaneGap
	}
	tv.Spans = append(tv.Spans, gone...)

	alarms := alarmSpans(d.Alarms, a, o.dropOutside)
	rows := alarmRowCount(alarms)
	alarmH := float64(rows)*tlAlarmRowH + float64(rows-1)*tlAlarmGap
	tv.AlarmLane = lane("alarms", y, alarmH)
	tv.NoAlarms = len(alarms) == 0
	for _, sp := range alarms {
		x, w := a.extent(sp.From, sp.To, minSpanPx+1)
		cls := alarmClass(sp.Alarm)
		until := "still active"
		if !sp.Cleared.IsZero() {
			until = "cleared " + clockUTC(sp.Cleared)
		}
		tv.Alarms = append(tv.Alarms, alarmView{
			Class: cls, Time: isoUTC(sp.From), Cleared: isoUTC(sp.Cleared),
			X: px(x), Y: px(y + float64(sp.Row)*(tlAlarmRowH+tlAlarmGap)), W: px(w), H: px(tlAlarmRowH),
			Title: fmt.Sprintf("%s alarm: %s — set %s, %s", sp.Alarm.Class, sp.Alarm.Description, clockUTC(sp.From), until),
		})
	}
	y += alarmH + tlLaneGap

	tv.EventLane = lane("log", y, tlEventH)
	for i, e := range d.Events {
		if e.Time.IsZero() { // no timestamp: nowhere to draw it
			continue
		}
		x, ok := pointX(e.Time)
		if !ok {
			continue
		}
		cls := eventCategory(e.Kind)
		r := 3.5
		if o.cited[i] {
			cls += " cited"
			r = 4.5
		}
		line := e.Line.Raw
		if line == "" {
			line = "(no log line)"
		}
		tv.Events = append(tv.Events, eventView{
			Class: cls, Time: isoUTC(e.Time), Kind: string(e.Kind),
			X: px(x), Y: px(y + tlEventH/2), R: px(r),
			Title: clockUTC(e.Time) + "  " + string(e.Kind) + "\n" + line,
		})
	}
	tv.NoEvents = len(tv.Events) == 0
	y += tlEventH + tlLaneGap

	// Grid lines and guides run from the top lane to the axis.
	tv.AxisY = px(y)
	for _, tk := range ticks(a) {
		tv.Ticks = append(tv.Ticks, tickView{
			X: px(tk.X), Y1: px(tlTop - 2), Y2: px(y + 4), Label: tk.Label,
			End: tk.X > tlGutter+tlPlotWidth-tlRightPad-float64(len(tk.Label))*3,
		})
	}
	tv.TickLabelY = px(y + 16)
	tv.Height = px(y + tlAxisH)

	if o.class == "timeline" {
		for i, f := range d.Findings {
			from, to := f.First, f.Last
			if from.IsZero() {
				from = to
			}
			if to.IsZero() || to.Before(from) {
				to = from
			}
			if from.IsZero() {
				continue
			}
			x, w := a.extent(from, to, minSpanPx+2)
			tv.Bands = append(tv.Bands, bandView{
				Finding: strconv.Itoa(i), From: isoUTC(from), To: isoUTC(to),
				X: px(x), W: px(w), Y: px(tlTop - 2), H: px(y - tlTop + 2),
				Title: fmt.Sprintf("finding %d: %s %s, %s → %s", i, f.RE, f.Cause, clockUTC(from), clockUTC(to)),
			})
		}
	}
	if f := o.guides; f != nil {
		addGuide := func(cls string, t time.Time, title string) {
			if t.IsZero() || !a.contains(t) {
				return
			}
			tv.Guides = append(tv.Guides, guideView{Class: cls, Time: isoUTC(t), Title: title, X: px(a.x(t)), Y1: px(tlTop - 2), Y2: px(y)})
		}
		for _, al := range devices.DedupeAlarms(f.Alarms) {
			addGuide(alarmClass(al), al.Time, fmt.Sprintf("%s alarm set: %s at %s (%s from the flap)", al.Class, al.Description, clockUTC(al.Time), offset(al.Time, f.First)))
		}
		addGuide("flap", f.First, fmt.Sprintf("%s first transition at %s", f.RE, clockUTC(f.First)))
	}
	return tv
}
