package schedule

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// TestDeviceClocks is issue 19's clock acceptance, one scenario per case
// (devices/junos/junossim/testdata/clocks): routers whose clock steps an
// hour forward or back between two polls, differs from the agent's by
// hours, changes time zone, or crosses the new year, audited over SSH by
// the real poller, store and historian on a simulated clock. None may
// give a reboot, transition, flap or finding; the polls after a step
// carry the clock note, and only those; every revenue-port link-flap line
// the routers wrote is stored exactly once (as its event), at the instant
// the router stamped it: its clock at that moment, in UTC, whatever its
// zone was, and in the right year.
func TestDeviceClocks(t *testing.T) {
	for _, tc := range []struct {
		file string
		// notes: the device and poll offsets whose poll notes the step,
		// with the note's start.
		notes map[string]map[time.Duration]string
	}{
		{file: "step-forward", notes: map[string]map[time.Duration]string{
			"ams1-mx960-step": {15 * time.Minute: "device clock stepped +1h between polls"}}},
		{file: "step-back", notes: map[string]map[time.Duration]string{
			"ams1-mx960-back": {15 * time.Minute: "device clock stepped -1h between polls"}}},
		{file: "offset"},
		{file: "zone-change"},
		{file: "dst"}, // summer time begins: the zone's offset changes by itself
		{file: "year-boundary", notes: map[string]map[time.Duration]string{
			"ams1-mx480-nye-back": {15 * time.Minute: "device clock stepped -1h between polls"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			runClockScenario(t, filepath.Join("..", "devices", "junos", "junossim", "testdata", "clocks", tc.file+".yaml"), tc.notes)
		})
	}
}

func runClockScenario(t *testing.T, file string, wantNotes map[string]map[time.Duration]string) {
	f := startScenario(t, file)
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Poller: &Poller{Now: f.clock.Now, Cursors: st}, Store: st, Historian: hist, Concurrency: 4}
	var last Result
	for _, at := range f.sc.Polls {
		f.clock.Set(f.start.Add(at))
		if last, err = a.Audit(t.Context(), f.devs); err != nil {
			t.Fatalf("audit at %v: %v", at, err)
		}
		for _, p := range last.Polls {
			if p.Outcome != devices.OutcomeOK {
				t.Fatalf("audit at %v: %s: outcome %s: %s", at, p.Device, p.Outcome, p.Error)
			}
			note := ""
			if p.Snapshot != nil {
				note = p.Snapshot.ClockNote
			}
			want := wantNotes[p.Device][at]
			if (want == "") != (note == "") || !strings.HasPrefix(note, want) {
				t.Errorf("audit at %v: %s: clock note %q, want %q", at, p.Device, note, want)
			}
		}
	}
	names := make([]string, 0, len(f.devs))
	for _, d := range f.devs {
		names = append(names, d.Name)
	}
	filter := storeFilter(names)

	ts, err := st.Transitions(t.Context(), filter)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		t.Errorf("%s: transition %s %s→%s at %v (%v): the clock moved, nothing happened", tr.Device, tr.RE, tr.From, tr.To, tr.Time, tr.Evidence)
	}
	fs, err := st.Findings(t.Context(), filter)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fs {
		t.Errorf("%s: finding %s %s %s", fd.Device, fd.RE, fd.Cause, fd.Severity)
	}
	for name, found := range last.Findings {
		if len(found) > 0 {
			t.Errorf("%s: the last audit judged %d findings", name, len(found))
		}
	}
	// The notes are stored with the polls, as check and the reports
	// read them.
	stored := map[string]int{}
	if err := st.EachPoll(t.Context(), filter, func(p *devices.Poll) error {
		if p.Snapshot != nil && p.Snapshot.ClockNote != "" {
			stored[p.Device]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if stored[name] != len(wantNotes[name]) {
			t.Errorf("%s: %d polls stored with a clock note, want %d", name, stored[name], len(wantNotes[name]))
		}
	}

	evs, err := st.Events(t.Context(), filter)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.sc.Devices {
		d := d
		want := linkFlapLines(d, f.start)
		router := f.fleet.Router(d.Name)
		written, _ := router.Log(junossim.LogMessages)
		var got []string
		for _, e := range evs {
			if e.Device == d.Name && e.Kind == devices.EventLinkFlap {
				got = append(got, e.Time.UTC().Format(time.RFC3339)+" "+linkWords(e.Line.Raw))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: stored link-flap lines (device time, what):\n  %s\nwant\n  %s", d.Name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		// And the router wrote each of them once: nothing stored that
		// the log does not hold, nothing it holds left out.
		var inLog int
		for _, l := range written {
			if strings.Contains(l, "SNMP_TRAP_LINK_") {
				inLog++
			}
		}
		if inLog != len(want) {
			t.Errorf("%s: the router's messages holds %d link-flap lines, the scenario %d", d.Name, inLog, len(want))
		}
	}
}

// linkFlapLines is what a scenario device's link-flap events should be
// stored as: "<time> DOWN|UP <interface>", the time the router's clock
// read when it wrote the line (ClockSpec: offset, then each step from
// its moment on), in UTC, sorted.
func linkFlapLines(d junossim.Device, start time.Time) []string {
	clockAt := func(t time.Time) time.Time {
		if d.Clock == nil {
			return t
		}
		t2 := t.Add(d.Clock.Offset)
		for _, s := range d.Clock.Steps {
			if !start.Add(s.At).After(t) {
				t2 = t2.Add(s.By)
			}
		}
		return t2
	}
	var out []string
	for _, e := range d.Events {
		if e.Kind != "link-flap" {
			continue
		}
		down := start.Add(e.At)
		out = append(out,
			fmt.Sprintf("%s DOWN %s", clockAt(down).UTC().Format(time.RFC3339), e.Interface),
			fmt.Sprintf("%s UP %s", clockAt(down.Add(e.Duration)).UTC().Format(time.RFC3339), e.Interface))
	}
	slices.Sort(out)
	return out
}

// linkWords is "DOWN xe-0/0/1" for a mib2d link trap line.
func linkWords(raw string) string {
	what := "UP"
	if strings.Contains(raw, "SNMP_TRAP_LINK_DOWN") {
		what = "DOWN"
	}
	_, ifName, _ := strings.Cut(raw, "ifName ")
	return what + " " + strings.TrimSpace(ifName)
}
