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
// names are part of the user contract (DESIGN.md).
type deviceView struct {
	Device       string          `json:"device"`
	Host         string          `json:"host"`
	Site         string          `json:"site,omitempty"`
	State        devices.State   `json:"state"`
	Summary      string          `json:"summary"`
	Reasons      []string        `json:"reasons"`
	PolledAt     time.Time       `json:"polled_at"`
	Outcome      devices.Outcome `json:"outcome"`
	Error        *errorView      `json:"error"`
	Master       *string         `json:"master"`
	AliveSet     []string        `json:"alive_set"`
	ExpectedREs  int             `json:"res_expected"`
	RouteEngines []reView        `json:"route_engines"`
	Alarms       []alarmView     `json:"alarms"`
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

func newDeviceView(p devices.Poll, a devices.Assessment) deviceView {
	v := deviceView{
		Device: p.Device, Host: p.Host, Site: p.Site,
		State: a.State, Summary: a.Summary, Reasons: append([]string{}, a.Reasons...),
		PolledAt: p.Started.UTC(), Outcome: p.Outcome,
		AliveSet: []string{}, ExpectedREs: a.ExpectedREs,
		RouteEngines: []reView{}, Alarms: []alarmView{},
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
	for _, al := range devices.DedupeAlarms(s.Alarms) {
		av := alarmView{Class: al.Class, Type: al.Type, Description: al.Description, Source: string(al.Source)}
		if !al.Time.IsZero() {
			t := al.Time.UTC()
			av.Time = &t
		}
		v.Alarms = append(v.Alarms, av)
	}
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
	fmt.Fprintln(tw, "DEVICE\tSITE\tOUTCOME\tSTATE\tMASTER\tALIVE SET\tMAJOR\tMINOR\tWHY")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", v.Device, dash(v.Site), v.Outcome, v.State, master, alive, major, minor, dash(oneLine(why, 90)))
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
