package report

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
	"github.com/mastership/mastership/store"
)

// Source is the part of the store a report reads.
type Source interface {
	store.ExportStore
	LatestPolls(ctx context.Context) ([]devices.Poll, error)
	Runs(ctx context.Context, limit int) ([]devices.Run, error)
	// Readinesses are the switchover readiness verdicts (issue 16).
	Readinesses(ctx context.Context, f store.Filter) ([]store.Readiness, error)
}

// Kind names what a report exports.
type Kind string

const (
	KindDevices     Kind = "devices"     // the latest poll of every device
	KindFindings    Kind = "findings"    // flaps with cause, severity, evidence, remedy
	KindTransitions Kind = "transitions" // every change of an RE's state
	KindAlarms      Kind = "alarms"      // alarm records: first seen, last seen, cleared
	KindEvents      Kind = "events"      // classified log lines
	KindPolls       Kind = "polls"       // every poll
	KindRuns        Kind = "runs"        // every fleet audit

	// The switchover ledger (issue 15).
	KindSwitchovers Kind = "switchovers" // every change of master, planned or not

	// Switchover readiness (issue 16).
	KindReadiness Kind = "readiness" // each dual-RE router's last verdict
)

// Kinds lists the kinds in the order help texts show them.
func Kinds() []Kind {
	return []Kind{KindDevices, KindFindings, KindTransitions, KindAlarms, KindEvents, KindPolls, KindRuns,
		KindSwitchovers, KindReadiness}
}

// Header returns the fixed columns of kind: the CSV header and the JSON
// keys, in order. They are a user contract (documented in docs/reports.md):
// columns may be added at the end, never renamed or reordered.
func Header(k Kind) ([]string, bool) {
	t, ok := tables[k]
	if !ok {
		return nil, false
	}
	return t.header, true
}

// cell is one value of a row: text is what CSV writes (empty when
// unknown), value what JSON writes (nil when unknown, numbers as numbers,
// lists as arrays).
type cell struct {
	text  string
	value any
}

func str(s string) cell {
	if s == "" {
		return cell{}
	}
	return cell{text: s, value: s}
}

func num(n int) cell { return cell{text: strconv.Itoa(n), value: n} }

// positive is n when it is known (> 0), else unknown.
func positive(n int) cell {
	if n <= 0 {
		return cell{}
	}
	return num(n)
}

func id(n int64) cell {
	if n == 0 {
		return cell{}
	}
	return cell{text: strconv.FormatInt(n, 10), value: n}
}

func boolean(b bool) cell { return cell{text: strconv.FormatBool(b), value: b} }

// stamp is t in UTC RFC 3339 to the second (sub-second durations have
// their own column), unknown when zero.
func stamp(t time.Time) cell {
	if t.IsZero() {
		return cell{}
	}
	s := t.UTC().Format(time.RFC3339)
	return cell{text: s, value: s}
}

// list joins xs with sep for CSV and keeps them an array for JSON; an
// empty list is an empty cell and an empty array (known to be empty).
func list(xs []string, sep string) cell {
	if xs == nil {
		xs = []string{}
	}
	return cell{text: strings.Join(xs, sep), value: xs}
}

// emitFunc receives one row; the slice is reused after it returns.
type emitFunc func(row []cell) error

// table is one kind: its header and how its rows are read.
type table struct {
	header []string
	// rows streams the rows of q. site gives a device's site.
	rows func(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error
	// timeBound says whether --since/--until apply to the kind.
	timeBound bool
}

var tables = map[Kind]table{
	KindDevices: {
		header: []string{"device", "host", "site", "polled_at", "outcome", "error", "master", "alive_set",
			"res_expected", "major_alarms", "minor_alarms", "notes"},
		rows: deviceRows,
	},
	KindFindings: {
		header: []string{"device", "site", "re", "cause", "severity", "transitions", "first_transition",
			"last_transition", "alarms", "evidence", "remedy",
			// Issue 15: inside a maintenance window (raised no alert).
			"maintenance"},
		rows:      findingRows,
		timeBound: true,
	},
	KindTransitions: {
		header:    []string{"device", "site", "re", "time", "from", "to", "sources", "evidence"},
		rows:      transitionRows,
		timeBound: true,
	},
	KindAlarms: {
		header: []string{"device", "site", "member", "class", "type", "description", "alarm_time", "source",
			"first_seen", "last_seen", "cleared"},
		rows:      alarmRows,
		timeBound: true,
	},
	KindEvents: {
		header:    []string{"device", "site", "time", "kind", "re", "change", "subject", "class", "rule", "file", "line"},
		rows:      eventRows,
		timeBound: true,
	},
	KindPolls: {
		header: []string{"run_id", "device", "host", "site", "started", "finished", "duration_ms", "outcome",
			"error_kind", "error", "master", "alive_set", "res_expected", "major_alarms", "minor_alarms"},
		rows:      pollRows,
		timeBound: true,
	},
	KindRuns: {
		header:    []string{"run_id", "started", "finished", "duration_ms", "devices", "ok", "failed", "interrupted", "unstored"},
		rows:      runRows,
		timeBound: true,
	},
	// The switchover ledger (issue 15).
	KindSwitchovers: {
		header:    []string{"device", "site", "time", "old_master", "new_master", "planned", "command", "cause", "evidence"},
		rows:      switchoverRows,
		timeBound: true,
	},
	// Switchover readiness (issue 16): reasons are "code: text", one
	// per line in CSV.
	KindReadiness: {
		header:    []string{"device", "site", "checked_at", "verdict", "reasons"},
		rows:      readinessRows,
		timeBound: true,
	},
}

// Query selects what a report holds. The zero value is everything.
type Query struct {
	// Devices restricts the report to these devices; empty means all. A
	// caller that resolved a selection (--site, --tag) to no device must
	// not call with an empty list (that would mean all).
	Devices []string
	// Since and Until bound time as Since <= t < Until (each kind filters
	// on its own time: a finding's or alarm's span overlaps the range);
	// zero is open.
	Since, Until time.Time
	// Cause restricts findings (and the HTML report's findings) to one
	// cause.
	Cause devices.Cause
}

func (q Query) filter() store.Filter {
	return store.Filter{Devices: q.Devices, Since: q.Since, Until: q.Until, Cause: q.Cause}
}

func (q Query) wants(device string) bool {
	return len(q.Devices) == 0 || slices.Contains(q.Devices, device)
}

func deviceRows(ctx context.Context, src Source, q Query, _ func(string) string, emit emitFunc) error {
	polls, err := src.LatestPolls(ctx)
	if err != nil {
		return err
	}
	row := make([]cell, 12)
	for i := range polls {
		p := &polls[i]
		if !q.wants(p.Device) {
			continue
		}
		row = append(row[:0], str(p.Device), str(p.Host), str(p.Site), stamp(p.Started), str(string(p.Outcome)),
			str(p.Error))
		row = appendState(row, p)
		row = append(row, list(devices.Notes(*p), "; "))
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

// appendState adds master, alive_set, res_expected, major_alarms and
// minor_alarms: what the poll saw, unknown when it decoded nothing.
func appendState(row []cell, p *devices.Poll) []cell {
	s := p.Snapshot
	if s == nil {
		return append(row, cell{}, cell{}, positive(p.ExpectedREs), cell{}, cell{})
	}
	major, minor := s.AlarmCounts()
	return append(row, list(s.Masters(), " "), list(s.AliveSet(), " "), positive(p.ExpectedREs), num(major), num(minor))
}

func findingRows(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error {
	row := make([]cell, 0, 12)
	var alarms []string
	return src.EachFinding(ctx, q.filter(), func(f *devices.Finding) error {
		alarms = alarms[:0]
		for _, al := range devices.DedupeAlarms(f.Alarms) {
			alarms = append(alarms, strings.TrimSpace(al.Class+" "+al.Description))
		}
		row = append(row[:0], str(f.Device), str(site(f.Device)), str(f.RE), str(string(f.Cause)),
			str(string(f.Severity)), num(f.Transitions), stamp(f.First), stamp(f.Last), list(alarms, "; "),
			list(f.Evidence, "\n"), str(f.Remedy), boolean(f.Maintenance))
		return emit(row)
	})
}

func transitionRows(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error {
	row := make([]cell, 0, 8)
	return src.EachTransition(ctx, q.filter(), func(t *devices.Transition) error {
		row = append(row[:0], str(t.Device), str(site(t.Device)), str(t.RE), stamp(t.Time), str(t.From), str(t.To),
			list(t.Sources, " "), list(t.Evidence, "\n"))
		return emit(row)
	})
}

func alarmRows(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error {
	row := make([]cell, 0, 11)
	return src.EachAlarmRecord(ctx, q.filter(), func(r *devices.AlarmRecord) error {
		a := r.Alarm
		row = append(row[:0], str(r.Device), str(site(r.Device)), str(a.Member), str(a.Class), str(a.Type),
			str(a.Description), stamp(a.Time), str(string(a.Source)), stamp(r.FirstSeen), stamp(r.LastSeen),
			stamp(r.ClearedAt))
		return emit(row)
	})
}

func eventRows(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error {
	row := make([]cell, 0, 11)
	return src.EachEvent(ctx, q.filter(), func(e *devices.Event) error {
		row = append(row[:0], str(e.Device), str(site(e.Device)), stamp(e.Time), str(string(e.Kind)), str(e.RE),
			str(e.Change), str(e.Subject), str(e.Class), str(e.Rule), str(e.Line.File), str(e.Line.Raw))
		return emit(row)
	})
}

func pollRows(ctx context.Context, src Source, q Query, _ func(string) string, emit emitFunc) error {
	row := make([]cell, 0, 15)
	return src.EachPoll(ctx, q.filter(), func(p *devices.Poll) error {
		dur := cell{}
		if !p.Finished.IsZero() {
			dur = num(int(p.Finished.Sub(p.Started).Milliseconds()))
		}
		row = append(row[:0], id(p.RunID), str(p.Device), str(p.Host), str(p.Site), stamp(p.Started),
			stamp(p.Finished), dur, str(string(p.Outcome)), str(p.ErrorKind), str(p.Error))
		row = appendState(row, p)
		return emit(row)
	})
}

func runRows(ctx context.Context, src Source, q Query, _ func(string) string, emit emitFunc) error {
	runs, err := src.Runs(ctx, 0)
	if err != nil {
		return err
	}
	row := make([]cell, 0, 9)
	// Runs come newest first; a report reads oldest first like the others.
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if (!q.Since.IsZero() && r.Started.Before(q.Since)) || (!q.Until.IsZero() && !r.Started.Before(q.Until)) {
			continue
		}
		dur := cell{}
		if !r.Finished.IsZero() {
			dur = num(int(r.Finished.Sub(r.Started).Milliseconds()))
		}
		row = append(row[:0], id(r.ID), stamp(r.Started), stamp(r.Finished), dur, num(r.Devices), num(r.OK),
			num(r.Failed), boolean(r.Interrupted), num(r.Unstored))
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

func switchoverRows(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error {
	row := make([]cell, 0, 9)
	return src.EachSwitchover(ctx, q.filter(), func(sw *devices.Switchover) error {
		row = append(row[:0], str(sw.Device), str(site(sw.Device)), stamp(sw.Time), str(sw.OldMaster),
			str(sw.NewMaster), boolean(sw.Planned), str(sw.Command), str(string(sw.Cause)), list(sw.Evidence, "\n"))
		return emit(row)
	})
}

// readinessRows is each device's last switchover readiness verdict, by
// device; not-applicable devices (single-RE, SRX clusters) are left out.
func readinessRows(ctx context.Context, src Source, q Query, site func(string) string, emit emitFunc) error {
	rs, err := src.Readinesses(ctx, q.filter())
	if err != nil {
		return err
	}
	row := make([]cell, 0, 5)
	for _, r := range rs {
		if r.Verdict.Verdict == readiness.NotApplicable {
			continue
		}
		reasons := make([]string, 0, len(r.Reasons))
		for _, reason := range r.Reasons {
			reasons = append(reasons, reason.Code+": "+reason.Text)
		}
		s := r.Site
		if s == "" {
			s = site(r.Device)
		}
		row = append(row[:0], str(r.Device), str(s), stamp(r.CheckedAt), str(string(r.Verdict.Verdict)), list(reasons, "\n"))
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}
