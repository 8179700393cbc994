package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mastership/mastership/devices"
)

// deviceView is one device's poll and verdict as users see it: the
// `check --json` object, and one element of `audit --format json`. Field
// names are part of the user contract (docs/domain.md).
type deviceView struct {
	Device       string           `json:"device"`
	Host         string           `json:"host"`
	Site         string           `json:"site,omitempty"`
	State        devices.State    `json:"state"`
	Summary      string           `json:"summary"`
	Reasons      []string         `json:"reasons"`
	PolledAt     time.Time        `json:"polled_at"`
	Outcome      devices.Outcome  `json:"outcome"`
	Error        *errorView       `json:"error"`
	Master       *string          `json:"master"`
	AliveSet     []string         `json:"alive_set"`
	ExpectedREs  int              `json:"res_expected"`
	RouteEngines []reView         `json:"route_engines"`
	Alarms       []alarmView      `json:"alarms"`
	Transitions  []transitionView `json:"transitions"`
	Findings     []findingView    `json:"findings"`
	// UnparsedLogLines counts the device's stored log lines that matched
	// no syslog shape: kept and counted, never silently dropped.
	UnparsedLogLines int `json:"unparsed_log_lines"`
	// Notes are facts about the poll that change nothing in its state
	// (devices.Notes): a log file the platform does not keep.
	Notes []string `json:"notes"`
	// Maintenance names the maintenance window open when the device was
	// polled, and its end; empty when none was.
	Maintenance string `json:"maintenance,omitempty"`
	// Switchovers is the device's switchover ledger in the correlation
	// horizon (issue 15), oldest first.
	Switchovers []switchoverView `json:"switchovers"`
	// Readiness is the switchover readiness verdict (issue 16), absent
	// where it does not apply.
	Readiness *readinessView `json:"readiness,omitempty"`

	// PollSeconds is how long the poll took (issue 18): check --via
	// gives it as poll_time from the daemon's document.
	PollSeconds float64 `json:"poll_seconds"`
}

// switchoverView is one change of master, as report --kind switchovers
// shows it.
type switchoverView struct {
	Time      time.Time     `json:"time"`
	OldMaster string        `json:"old_master"`
	NewMaster string        `json:"new_master"`
	Planned   bool          `json:"planned"`
	Command   string        `json:"command"`
	Cause     devices.Cause `json:"cause"`
	Evidence  []string      `json:"evidence"`
}

// withSwitchovers adds the device's switchover ledger.
func (v deviceView) withSwitchovers(sws []devices.Switchover) deviceView {
	for _, sw := range sws {
		v.Switchovers = append(v.Switchovers, switchoverView{Time: sw.Time.UTC(), OldMaster: sw.OldMaster,
			NewMaster: sw.NewMaster, Planned: sw.Planned, Command: sw.Command, Cause: sw.Cause,
			Evidence: append([]string{}, sw.Evidence...)})
	}
	return v
}

type transitionView struct {
	Time   time.Time `json:"time"`
	RE     string    `json:"re"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Source []string  `json:"source"`
}

type findingView struct {
	RE          string          `json:"re"`
	Cause       devices.Cause   `json:"cause"`
	Severity    string          `json:"severity"`
	Transitions int             `json:"transitions"`
	First       time.Time       `json:"first"`
	Last        time.Time       `json:"last"`
	Evidence    []string        `json:"evidence"`
	Alarms      []alarmView     `json:"alarms"`
	OtherCauses []devices.Cause `json:"other_causes"`
	Remedy      string          `json:"remedy"`
	// Maintenance: the flap overlaps a maintenance window (issue 15).
	Maintenance     bool   `json:"maintenance"`
	MaintenanceNote string `json:"maintenance_note,omitempty"`
}

type errorView struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

type reView struct {
	Name             string `json:"name"`
	Slot             *int   `json:"slot"`
	MastershipState  string `json:"mastership_state"`
	Status           string `json:"status"`
	UpTimeSeconds    *int64 `json:"up_time_seconds"`
	LastRebootReason string `json:"last_reboot_reason"`
}

type alarmView struct {
	Time        *time.Time `json:"time"`
	Class       string     `json:"class"`
	Type        string     `json:"type"`
	Description string     `json:"description"`
	Source      string     `json:"source"`
}

// withHistory adds the device's recent transitions and open findings.
func (v deviceView) withHistory(ts []devices.Transition, fs []devices.Finding) deviceView {
	for _, t := range ts {
		v.Transitions = append(v.Transitions, transitionView{Time: t.Time.UTC(), RE: t.RE, From: t.From, To: t.To, Source: append([]string{}, t.Sources...)})
	}
	for _, f := range fs {
		fv := findingView{RE: f.RE, Cause: f.Cause, Severity: string(f.Severity), Transitions: f.Transitions,
			First: f.First.UTC(), Last: f.Last.UTC(), Evidence: append([]string{}, f.Evidence...),
			Alarms: alarmViews(f.Alarms), OtherCauses: append([]devices.Cause{}, f.OtherCauses...), Remedy: f.Remedy,
			Maintenance: f.Maintenance, MaintenanceNote: f.MaintenanceNote}
		v.Findings = append(v.Findings, fv)
	}
	return v
}

func alarmViews(alarms []devices.Alarm) []alarmView {
	out := []alarmView{}
	for _, al := range devices.DedupeAlarms(alarms) {
		av := alarmView{Class: al.Class, Type: al.Type, Description: al.Description, Source: string(al.Source)}
		if !al.Time.IsZero() {
			t := al.Time.UTC()
			av.Time = &t
		}
		out = append(out, av)
	}
	return out
}

func newDeviceView(p devices.Poll, a devices.Assessment) deviceView {
	v := deviceView{
		Device: p.Device, Host: p.Host, Site: p.Site,
		State: a.State, Summary: a.Summary, Reasons: append([]string{}, a.Reasons...),
		PolledAt: p.Started.UTC(), Outcome: p.Outcome,
		AliveSet: []string{}, ExpectedREs: a.ExpectedREs,
		RouteEngines: []reView{}, Alarms: []alarmView{},
		Transitions: []transitionView{}, Findings: []findingView{},
		Notes:       append([]string{}, devices.Notes(p)...),
		Switchovers: []switchoverView{},
		PollSeconds: p.Finished.Sub(p.Started).Seconds(),
	}
	if p.Error != "" {
		v.Error = &errorView{Kind: p.ErrorKind, Message: p.Error}
	}
	s := p.Snapshot
	if s == nil {
		return v
	}
	v.AliveSet = append(v.AliveSet, s.AliveSet()...)
	if m := s.Masters(); len(m) > 0 {
		joined := strings.Join(m, ",")
		v.Master = &joined
	}
	for _, re := range s.RouteEngines {
		rv := reView{Name: re.Name, Slot: re.Slot, MastershipState: re.MastershipState, Status: re.Status, LastRebootReason: re.LastRebootReason}
		if re.UpTime != nil {
			secs := int64(re.UpTime.Seconds())
			rv.UpTimeSeconds = &secs
		}
		v.RouteEngines = append(v.RouteEngines, rv)
	}
	v.Alarms = alarmViews(s.Alarms)
	return v
}

// alarmCounts counts the view's (already de-duplicated) alarms by class.
func (v deviceView) alarmCounts() (major, minor int) {
	for _, al := range v.Alarms {
		switch strings.ToLower(al.Class) {
		case "major":
			major++
		case "minor":
			minor++
		}
	}
	return major, minor
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeTable prints one row per device, in the operator's words.
func writeTable(w io.Writer, views []deviceView) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSITE\tOUTCOME\tSTATE\tMASTER\tALIVE SET\tMAJOR\tMINOR\tFINDINGS\tWHY")
	for _, v := range views {
		major, minor := v.alarmCounts()
		master := "-"
		if v.Master != nil {
			master = *v.Master
		}
		alive := "-"
		if len(v.AliveSet) > 0 {
			alive = fmt.Sprintf("%s (%d/%d)", strings.Join(v.AliveSet, ","), len(v.AliveSet), v.ExpectedREs)
		}
		// The other columns already say master and alive set: the last
		// one gives only what raised the state, or the poll's error.
		why := strings.Join(v.Reasons, "; ")
		if v.Error != nil {
			why = v.Error.Message
		}
		var found []string
		for _, f := range v.Findings {
			found = append(found, fmt.Sprintf("%s %s/%s", f.RE, f.Cause, f.Severity))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", v.Device, dash(v.Site), v.Outcome, v.State, master, alive, major, minor, dash(strings.Join(found, ", ")), dash(oneLine(why, 90)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table cell on one line and within n runes: device
// errors can be long and multi-line.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// perfdata is the Nagios performance data of one verdict.
func perfdata(v deviceView, took time.Duration) string {
	major, minor := v.alarmCounts()
	crit := ""
	if v.ExpectedREs > 0 {
		crit = fmt.Sprintf("%d:", v.ExpectedREs)
	}
	return fmt.Sprintf("alive_res=%d;;%s;0 expected_res=%d major_alarms=%d minor_alarms=%d poll_time=%.3fs",
		len(v.AliveSet), crit, v.ExpectedREs, major, minor, took.Seconds())
}

// writeFindings prints every finding of the audit with its cause, remedy
// and the first lines of its evidence, under the fleet table.
func writeFindings(w io.Writer, views []deviceView) {
	first := true
	for _, v := range views {
		for _, f := range v.Findings {
			if first {
				fmt.Fprintln(w, "\nFindings:")
				first = false
			}
			fmt.Fprintf(w, "  %s %s: %s, %s, %d transitions %s to %s\n", v.Device, f.RE, f.Cause, f.Severity,
				f.Transitions, f.First.Format(time.RFC3339), f.Last.Format(time.RFC3339))
			fmt.Fprintf(w, "    remedy: %s\n", f.Remedy)
			for i, e := range f.Evidence {
				if i == 4 {
					fmt.Fprintf(w, "    … %d more evidence lines (mastership check %s --json)\n", len(f.Evidence)-i, v.Device)
					break
				}
				fmt.Fprintf(w, "    evidence: %s\n", oneLine(e, 160))
			}
		}
	}
}
