package report

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/readiness"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

func TestGather(t *testing.T) {
	st := fixtureStore(t)
	now := t0.Add(2 * time.Hour)
	f, err := Gather(context.Background(), st, GatherOptions{Now: now,
		Inventory: []inventory.Device{{Name: "new1", Host: "192.0.2.9", Site: "lon1"}, {Name: "mx1", Host: "mx1.example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Until.Equal(now) || !f.Since.Equal(now.Add(-DefaultWindow)) || !f.Generated.Equal(now) {
		t.Errorf("window %s..%s generated %s, want the last %s before %s", f.Since, f.Until, f.Generated, DefaultWindow, now)
	}
	var names []string
	for _, d := range f.Devices {
		names = append(names, d.Name)
	}
	if fmt.Sprint(names) != "[ex1 mx1 mx2 mx3 new1]" {
		t.Fatalf("devices %v, want the polled ones and the never-polled inventory device, sorted", names)
	}
	mx1, new1 := f.Devices[1], f.Devices[4]
	if new1.Latest != nil || new1.Site != "lon1" {
		t.Errorf("new1: latest %v site %q, want never polled at lon1", new1.Latest, new1.Site)
	}
	if len(mx1.Findings) != 1 || len(mx1.Transitions) != 3 || len(mx1.Alarms) != 2 || len(mx1.Events) != 3 {
		t.Errorf("mx1: %d findings, %d transitions, %d alarms, %d events; want 1, 3, 2, 3",
			len(mx1.Findings), len(mx1.Transitions), len(mx1.Alarms), len(mx1.Events))
	}
	if mx1.Latest == nil || mx1.Latest.Snapshot == nil || len(mx1.Latest.Snapshot.RouteEngines) != 2 {
		t.Errorf("mx1: latest poll not loaded with its snapshot")
	}
	// History is read only for devices with findings.
	if mx2 := f.Devices[2]; len(mx2.Transitions) != 0 {
		t.Errorf("mx2 has no finding but %d transitions were read", len(mx2.Transitions))
	}

	// A selection narrows everything; a window before the flap has no
	// findings.
	f, err = Gather(context.Background(), st, GatherOptions{Now: now, Query: Query{Devices: []string{"mx1"},
		Since: t0.Add(-time.Hour), Until: t0.Add(5 * time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Devices) != 1 || len(f.Devices[0].Findings) != 0 {
		t.Errorf("narrow window: %d devices, want mx1 alone without findings", len(f.Devices))
	}
	if _, err := Gather(context.Background(), st, GatherOptions{Now: now, Query: Query{Since: now, Until: now}}); err == nil {
		t.Error("Gather with an empty window did not fail")
	}
}

// TestGatherCapsEvents: a log storm keeps the newest MaxEventsPerDevice
// events, oldest first, and counts the rest.
func TestGatherCapsEvents(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "storm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = MaxEventsPerDevice*2 + 17
	var lines []devices.LogLine
	var events []devices.Event
	for i := range n {
		l := devices.LogLine{File: "messages", Time: t0.Add(time.Duration(i) * time.Second), Parsed: true,
			Raw: fmt.Sprintf("line %d", i)}
		lines = append(lines, l)
		events = append(events, devices.Event{Kind: devices.EventLinkFlap, Time: l.Time, Rule: "link", Line: l})
	}
	if _, err := st.SaveLogs(ctx, "mx1", lines, events, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceFindings(ctx, "mx1", time.Time{}, []devices.Finding{{Device: "mx1", RE: "re1",
		Cause: devices.CauseNetwork, Severity: devices.SeverityWarning, Transitions: 2, First: t0, Last: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	f, err := Gather(ctx, st, GatherOptions{Now: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	d := f.Devices[0]
	if len(d.Events) != MaxEventsPerDevice || d.EventsDropped != n-MaxEventsPerDevice {
		t.Fatalf("%d events kept, %d dropped; want %d and %d", len(d.Events), d.EventsDropped, MaxEventsPerDevice, n-MaxEventsPerDevice)
	}
	for i, e := range d.Events {
		if want := fmt.Sprintf("line %d", n-MaxEventsPerDevice+i); e.Line.Raw != want {
			t.Fatalf("event %d is %q, want %q (the newest, oldest first)", i, e.Line.Raw, want)
		}
	}
}

// TestReadinessInHTML: the stored readiness verdicts reach the HTML
// report: a column in the device tables, and a section listing the
// routers that would not survive a switchover, with their reasons; a
// ready router is counted, a not-applicable one shows nothing.
func TestReadinessInHTML(t *testing.T) {
	st := fixtureStore(t)
	f, err := Gather(context.Background(), st, GatherOptions{Now: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Device{}
	for _, d := range f.Devices {
		byName[d.Name] = d
	}
	if r := byName["mx1"].Readiness; r == nil || r.Verdict != readiness.NotReady {
		t.Fatalf("mx1 readiness %+v, want not-ready", r)
	}
	if _, ok := byName["mx204"]; ok {
		t.Error("a readiness verdict added a device the report does not otherwise have")
	}
	var b strings.Builder
	if err := RenderHTML(&b, f); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		`<h2>Switchover readiness <span class="count">(1 not ready or unknown, 1 ready)</span></h2>`,
		`<td>mx1</td><td>ams1</td><td><span class="ready-not-ready">not-ready</span></td>`,
		`backup runs 21.4R3-S5.4, master 22.2R3.15; nonstop-routing is not configured (routing-options nonstop-routing)`,
		`<span class="ready-ready">ready</span>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML report lacks %q", want)
		}
	}
}
