package schedule

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/devices/maintenance"
	"github.com/mastership/mastership/store"
)

// corpusDir holds the labelled corpus: stories built from the real log
// lines and replies of junos-samples, each with the findings and Nagios
// state the agent must reach.
var corpusDir = filepath.Join("..", "devices", "junos", "junossim", "testdata", "corpus")

// noFinding is the row and column of the confusion table for a flap that
// was expected but not found, or found but not expected, and for a
// healthy router judged healthy.
const noFinding = "no finding"

// corpusDevice is what the agent judged on one router of a story.
type corpusDevice struct {
	story, device string
	pending       string // the feature the story waits for, or empty
	notRun        string // why a pending story could not run at all
	want, got     []string
	// cells are (expected cause, judged cause) pairs, one per RE with an
	// expected or a judged finding, or one (no finding, no finding) for a
	// router with neither.
	cells               [][2]string
	wantState, gotState string
	findingsOK, stateOK bool
	evidence            []string
}

func (d corpusDevice) ok() bool { return d.notRun == "" && d.findingsOK && d.stateOK }

// TestCorpus runs every story of the labelled corpus end to end, as
// TestLabelledScenarios does (simulated routers over real SSH on loopback,
// a simulated clock, the real poller, store, rules and correlation), and
// prints a confusion table of expected against judged causes and Nagios
// states. Every story that is not pending must be judged exactly right:
// the findings (RE, cause, severity) and the state. A pending story waits
// for an agent feature still being built; it runs, is shown in the tables
// and logged, and does not fail the test.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("%d stories in %s, want at least 40", len(files), corpusDir)
	}
	var mu sync.Mutex
	var results []corpusDevice
	t.Run("story", func(t *testing.T) {
		for _, file := range files {
			name := strings.TrimSuffix(filepath.Base(file), ".yaml")
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				rs := runCorpusStory(t, name, file)
				mu.Lock()
				results = append(results, rs...)
				mu.Unlock()
			})
		}
	})
	slices.SortFunc(results, func(a, b corpusDevice) int {
		return strings.Compare(a.story+"/"+a.device, b.story+"/"+b.device)
	})
	report := corpusReport(results)
	t.Log("\n" + report)
	if dir := os.Getenv("MASTERSHIP_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "corpus-confusion.txt"), []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var judged, right int
	for _, r := range results {
		if r.pending == "" {
			judged++
			if r.ok() {
				right++
			}
		}
	}
	if judged == 0 || right != judged {
		t.Errorf("%d of %d routers of the stories that are not pending judged right, want 100%%", right, judged)
	}
}

// runCorpusStory runs one story and reports each router's judgement. A
// router judged wrong fails t unless the story is pending.
func runCorpusStory(t *testing.T, name, file string) []corpusDevice {
	sc, err := junossim.LoadScenario(file)
	if err != nil {
		t.Fatal(err)
	}
	pending := sc.Pending
	notRun := func(why string) []corpusDevice {
		if pending == "" {
			t.Fatalf("%s: %s", name, why)
		}
		t.Logf("pending on %s, not run: %s", pending, why)
		var out []corpusDevice
		for _, d := range sc.Devices {
			out = append(out, corpusDevice{story: name, device: d.Name, pending: pending, notRun: why,
				want: expectations(d.Expect), wantState: d.State})
		}
		return out
	}
	start := sc.ClockStart()
	clock := junossim.NewClock(start)
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{Clock: clock.Now, InventoryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	invFile := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(invFile); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(invFile)
	if err != nil {
		return notRun(fmt.Sprintf("inventory: %v", err))
	}
	st := openStore(t)
	hist, err := NewHistorian(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The inventory's maintenance windows, as the commands give them to
	// the historian.
	windows := map[string][]maintenance.Window{}
	for _, d := range inv.Devices {
		windows[d.Name] = d.Maintenance
	}
	hist.Maintenance = func(name string) []maintenance.Window { return windows[name] }
	a := &Auditor{Poller: &Poller{Now: clock.Now, Cursors: st}, Store: st, Historian: hist, Concurrency: 8}
	var last Result
	silenced := map[string]int{} // silences of each device already stored
	for _, at := range sc.Polls {
		clock.Set(start.Add(at))
		// An operator's "mastership silence" at the story's time: the
		// same store write the command makes (cmd/mastership/silence.go).
		for _, d := range sc.Devices {
			for i := silenced[d.Name]; i < len(d.Silences) && d.Silences[i].At <= at; i++ {
				sl := d.Silences[i]
				from := start.Add(sl.At)
				if err := st.AddMaintenanceWindows(t.Context(), []store.MaintenanceWindow{{Device: d.Name, From: from,
					Until: from.Add(sl.For), Reason: sl.Reason, Who: "corpus"}}); err != nil {
					t.Fatal(err)
				}
				silenced[d.Name] = i + 1
			}
		}
		if last, err = a.Audit(t.Context(), inv.Devices); err != nil {
			t.Fatalf("audit at %v: %v", at, err)
		}
	}
	polls := map[string]devices.Poll{}
	for _, p := range last.Polls {
		polls[p.Device] = p
	}

	var out []corpusDevice
	for _, d := range sc.Devices {
		r := corpusDevice{story: name, device: d.Name, pending: pending, wantState: d.State,
			want: expectations(d.Expect)}
		found := last.Findings[d.Name]
		for _, f := range found {
			r.got = append(r.got, findingText(f.RE, string(f.Cause), string(f.Severity), f.Maintenance))
			r.evidence = append(r.evidence, fmt.Sprintf("%s %s %s: %d transitions %s..%s, other causes %v, evidence %q",
				f.RE, f.Cause, f.Severity, f.Transitions, f.First.Format("15:04:05"), f.Last.Format("15:04:05"), f.OtherCauses, f.Evidence))
		}
		slices.Sort(r.got)
		r.findingsOK = slices.Equal(r.got, r.want)
		r.cells = confusionCells(d.Expect, found)
		p := polls[d.Name]
		open, err := hist.MaintenanceAt(t.Context(), []string{d.Name}, p.Started)
		if err != nil {
			t.Fatal(err)
		}
		r.gotState = devices.Assess(p, p.ExpectedREs, found).InMaintenance(open[d.Name]).State.String()
		r.stateOK = d.State == "" || d.State == r.gotState
		if r.wantState == "" {
			r.wantState = "-"
		}
		out = append(out, r)

		report := t.Errorf
		if pending != "" {
			report = t.Logf
		}
		if !r.findingsOK || !r.stateOK {
			prefix := ""
			if pending != "" {
				prefix = "pending on " + pending + ": "
			}
			report("%s%s: judged findings %q state %s, expected %q state %s", prefix, d.Name, r.got, r.gotState, r.want, r.wantState)
			for _, e := range r.evidence {
				t.Logf("  %s", e)
			}
			if p.Outcome != devices.OutcomeOK {
				t.Logf("  last poll %s: %s", p.Outcome, p.Error)
			}
		} else if pending != "" {
			t.Logf("pending on %s, but %s is already judged right: %q state %s", pending, d.Name, r.got, r.gotState)
		}
	}
	return out
}

// findingText is a finding as the corpus compares it: RE, cause,
// severity, and "(maintenance)" when it falls in a maintenance window.
func findingText(re, cause, severity string, inMaintenance bool) string {
	s := re + " " + cause + " " + severity
	if inMaintenance {
		s += " (maintenance)"
	}
	return s
}

func expectations(es []junossim.Expectation) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, findingText(e.RE, string(e.Cause), string(e.Severity), e.Maintenance))
	}
	slices.Sort(out)
	return out
}

// confusionCells pairs the expected and judged causes RE by RE.
func confusionCells(want []junossim.Expectation, got []devices.Finding) [][2]string {
	byRE := map[string]*[2]string{}
	var order []string
	cell := func(re string) *[2]string {
		if c, ok := byRE[re]; ok {
			return c
		}
		c := &[2]string{noFinding, noFinding}
		byRE[re] = c
		order = append(order, re)
		return c
	}
	for _, e := range want {
		cell(e.RE)[0] = string(e.Cause)
	}
	for _, f := range got {
		cell(f.RE)[1] = string(f.Cause)
	}
	if len(order) == 0 {
		return [][2]string{{noFinding, noFinding}}
	}
	out := make([][2]string, 0, len(order))
	for _, re := range order {
		out = append(out, *byRE[re])
	}
	return out
}

// corpusReport renders the confusion tables, the story list and the
// score, the stories that are not pending apart from the pending ones.
func corpusReport(results []corpusDevice) string {
	var b strings.Builder
	causes := []string{string(devices.CauseHardware), string(devices.CauseNetwork), string(devices.CauseSoftware),
		string(devices.CauseConfiguration), string(devices.CauseUnknown), noFinding}
	states := []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}
	for _, part := range []struct {
		title   string
		pending bool
	}{{"stories that are not pending", false}, {"pending stories", true}} {
		var rs []corpusDevice
		for _, r := range results {
			if (r.pending != "") == part.pending {
				rs = append(rs, r)
			}
		}
		right := 0
		for _, r := range rs {
			if r.ok() {
				right++
			}
		}
		fmt.Fprintf(&b, "== %s: %d routers, %d judged right", part.title, len(rs), right)
		if len(rs) > 0 {
			fmt.Fprintf(&b, " (%.0f%%)", 100*float64(right)/float64(len(rs)))
		}
		b.WriteString("\n\n")
		cause := map[[2]string]int{}
		state := map[[2]string]int{}
		for _, r := range rs {
			if r.notRun != "" {
				continue
			}
			for _, c := range r.cells {
				cause[c]++
			}
			if r.wantState != "-" {
				state[[2]string{r.wantState, r.gotState}]++
			}
		}
		writeMatrix(&b, "cause: expected \\ judged", causes, cause)
		b.WriteString("\n")
		writeMatrix(&b, "state: expected \\ judged", states, state)
		b.WriteString("\n")
		for _, r := range rs {
			mark := "ok  "
			if !r.ok() {
				mark = "MISS"
			}
			fmt.Fprintf(&b, "%s %s/%s: expected %s state %s", mark, r.story, r.device, list(r.want), r.wantState)
			switch {
			case r.notRun != "":
				fmt.Fprintf(&b, "; not run: %s", r.notRun)
			default:
				fmt.Fprintf(&b, "; judged %s state %s", list(r.got), r.gotState)
			}
			if r.pending != "" {
				fmt.Fprintf(&b, " [pending: %s]", r.pending)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func list(fs []string) string {
	if len(fs) == 0 {
		return noFinding
	}
	return strings.Join(fs, ", ")
}

// writeMatrix writes a table of counts with a row per expected and a
// column per judged value.
func writeMatrix(b *strings.Builder, corner string, labels []string, n map[[2]string]int) {
	w := len(corner)
	for _, l := range labels {
		w = max(w, len(l))
	}
	fmt.Fprintf(b, "%-*s", w, corner)
	for _, l := range labels {
		fmt.Fprintf(b, " %*s", max(len(l), 3), l)
	}
	b.WriteString("\n")
	for _, row := range labels {
		fmt.Fprintf(b, "%-*s", w, row)
		for _, col := range labels {
			c := "."
			if v := n[[2]string{row, col}]; v > 0 {
				c = fmt.Sprint(v)
			}
			fmt.Fprintf(b, " %*s", max(len(col), 3), c)
		}
		b.WriteString("\n")
	}
}
