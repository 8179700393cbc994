package schedule

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
	"github.com/mastership/mastership/store/pgtest"
)

// TestSharedAgentsMatchOneAgent runs every labelled scenario with three
// agents sharing one store (AuditSlot, each device claimed per slot) and
// checks that what they store — polls, events, transitions, alarm records
// and findings — is exactly what one agent alone stores: sharing the work
// changes who polls a device, never what is concluded from it.
//
// Each slot starts with a different agent, which claims every router
// before the other two look, so a router's history is built by all three
// agents in turn: log cursors, the previous RE table and the alarm
// lifecycle all have to come through the store. Where a scenario has
// several routers the three agents also run at once, claiming against
// each other.
func TestSharedAgentsMatchOneAgent(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "devices", "junos", "junossim", "testdata", "scenarios", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("%d scenarios, want at least 20", len(files))
	}
	engines := []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "shared.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Schema(t) }},
	}
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			for _, file := range files {
				t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
					t.Parallel()
					one := auditScenario(t, file, []string{filepath.Join(t.TempDir(), "one.db")}, false)
					dsn := engine.dsn(t)
					for _, together := range []bool{false, true} {
						shared := auditScenario(t, file, []string{dsn, dsn, dsn}, together)
						if shared.text != one.text {
							t.Errorf("three agents (at once: %v) stored a different history than one:\n%s",
								together, diffLines(one.text, shared.text))
						}
						if !together && shared.agents != 3 {
							t.Errorf("%d of 3 agents polled: the slots did not rotate", shared.agents)
						}
						dsn = engine.dsn(t)
					}
				})
			}
		})
	}
}

type scenarioHistory struct {
	text   string // the stored history, one line per row, agent-neutral
	agents int    // how many agents polled at least one device
}

// auditScenario audits a scenario's routers at its poll times with one
// agent per DSN, each opening its own store. With several agents each
// audit is one shared slot: the agents run one after another, starting
// with a different one each slot, or all at once when together is set.
func auditScenario(t *testing.T, file string, dsns []string, together bool) scenarioHistory {
	t.Helper()
	f := startScenario(t, file)
	agents := make([]*Auditor, len(dsns))
	for i, dsn := range dsns {
		st, err := store.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		hist, err := NewHistorian(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		agents[i] = &Auditor{Poller: &Poller{Now: f.clock.Now, Cursors: st}, Store: st, Historian: hist, Concurrency: 2}
	}
	polled := make([]bool, len(agents))
	for n, at := range f.sc.Polls {
		slot := f.start.Add(at)
		f.clock.Set(slot)
		var wg sync.WaitGroup
		for k := range agents {
			i := (n + k) % len(agents)
			a := agents[i]
			wg.Go(func() {
				var s time.Time
				if len(agents) > 1 {
					s = slot
				}
				res, err := a.AuditSlot(t.Context(), s, f.devs)
				if err != nil {
					t.Errorf("agent %d, audit at %v: %v", i, at, err)
				}
				for _, p := range res.Polls {
					if p.Device != "" {
						polled[i] = true
						if p.Outcome != devices.OutcomeOK {
							t.Errorf("agent %d, audit at %v: %s: outcome %s: %s", i, at, p.Device, p.Outcome, p.Error)
						}
					}
				}
			})
			if !together {
				wg.Wait()
			}
		}
		wg.Wait()
	}
	n := 0
	for _, p := range polled {
		if p {
			n++
		}
	}
	return scenarioHistory{text: dumpHistory(t, agents[0].Store, f.devs), agents: n}
}

// dumpHistory renders everything stored about devs that does not depend
// on which agent stored it (row ids, run ids and durations do), one
// sorted line per row.
func dumpHistory(t *testing.T, st store.Store, devs []inventory.Device) string {
	t.Helper()
	var names []string
	for _, d := range devs {
		names = append(names, d.Name)
	}
	ctx := t.Context()
	f := store.Filter{Devices: names}
	var lines []string
	add := func(kind string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, kind+" "+string(b))
	}
	ex, ok := st.(store.ExportStore)
	if !ok {
		t.Fatalf("%T is not an ExportStore", st)
	}
	if err := ex.EachPoll(ctx, f, func(p *devices.Poll) error {
		add("poll", struct {
			Device, Outcome string
			Started         time.Time
			Snapshot        *devices.Snapshot
			ExpectedREs     int
		}{p.Device, string(p.Outcome), p.Started, p.Snapshot, p.ExpectedREs})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	evs, err := st.Events(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		add("event", e)
	}
	ts, err := st.Transitions(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		add("transition", tr)
	}
	recs, err := st.AlarmRecords(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		add("alarm", r)
	}
	fs, err := st.Findings(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fs {
		add("finding", fd)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// diffLines lists the lines one side has more often than the other.
func diffLines(want, got string) string {
	count := make(map[string]int)
	for _, l := range strings.Split(want, "\n") {
		count[l]--
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]++
	}
	var out []string
	for l, n := range count {
		switch {
		case n < 0:
			out = append(out, fmt.Sprintf("- %dx %s", -n, l))
		case n > 0:
			out = append(out, fmt.Sprintf("+ %dx %s", n, l))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}
