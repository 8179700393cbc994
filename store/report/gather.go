package report

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/store"
)

// DefaultWindow is the history an HTML report shows when the caller gives
// no --since: the last day, what a daily review of the fleet reads.
const DefaultWindow = 24 * time.Hour

// GatherOptions says what the HTML report covers.
type GatherOptions struct {
	Query
	// Now is when the report is made; Until defaults to it and Since to
	// Until minus DefaultWindow.
	Now time.Time
	// Inventory, when given, adds its devices that were never polled (so
	// the summary counts them) and gives each device its inventory host
	// and site. A device outside q.Devices is left out as usual.
	Inventory []inventory.Device
}

// Gather reads from src what the HTML report shows: every selected
// device's latest poll and, for each device with a finding in the window,
// its transitions, alarms and (the newest MaxEventsPerDevice) events in
// the window. Only devices with findings have their history read, so a
// 2,000-device fleet costs a handful of queries.
func Gather(ctx context.Context, src Source, o GatherOptions) (Fleet, error) {
	f := Fleet{Generated: o.Now.UTC(), Until: o.Until, Since: o.Since}
	if f.Until.IsZero() {
		f.Until = f.Generated
	}
	if f.Since.IsZero() {
		f.Since = f.Until.Add(-DefaultWindow)
	}
	if !f.Since.Before(f.Until) {
		return Fleet{}, fmt.Errorf("empty report window: since %s is not before until %s",
			f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	f.Since, f.Until = f.Since.UTC(), f.Until.UTC()
	q := o.Query
	q.Since, q.Until = f.Since, f.Until

	byName := map[string]*Device{}
	add := func(name, host, site string) *Device {
		d := byName[name]
		if d == nil {
			d = &Device{Name: name, Host: host, Site: site}
			byName[name] = d
		}
		return d
	}
	for _, inv := range o.Inventory {
		if q.wants(inv.Name) {
			add(inv.Name, inv.Host, inv.Site)
		}
	}
	polls, err := src.LatestPolls(ctx)
	if err != nil {
		return Fleet{}, fmt.Errorf("gather report: %w", err)
	}
	for i := range polls {
		p := &polls[i]
		if !q.wants(p.Device) {
			continue
		}
		d := add(p.Device, p.Host, p.Site)
		d.Latest = p
	}

	rs, err := src.Readinesses(ctx, q.filter())
	if err != nil {
		return Fleet{}, fmt.Errorf("gather report: %w", err)
	}
	for i := range rs {
		// A verdict belongs to a device the report already has (polled
		// or in the inventory); it adds none of its own.
		if d := byName[rs[i].Device]; d != nil {
			d.Readiness = &rs[i].Verdict
		}
	}

	// Findings first: they decide whose history is read.
	err = src.EachFinding(ctx, q.filter(), func(fd *devices.Finding) error {
		d := add(fd.Device, "", "")
		d.Findings = append(d.Findings, *fd)
		return nil
	})
	if err != nil {
		return Fleet{}, fmt.Errorf("gather report: %w", err)
	}
	var flagged []string
	for name, d := range byName {
		if len(d.Findings) > 0 {
			flagged = append(flagged, name)
		}
	}
	slices.Sort(flagged)
	if len(flagged) > 0 {
		if err := gatherHistory(ctx, src, q, flagged, byName); err != nil {
			return Fleet{}, fmt.Errorf("gather report: %w", err)
		}
	}

	f.Devices = make([]Device, 0, len(byName))
	for _, d := range byName {
		f.Devices = append(f.Devices, *d)
	}
	slices.SortFunc(f.Devices, func(a, b Device) int { return strings.Compare(a.Name, b.Name) })
	return f, nil
}

// gatherHistory reads the transitions, alarms and events of the flagged
// devices inside q's window.
func gatherHistory(ctx context.Context, src Source, q Query, flagged []string, byName map[string]*Device) error {
	hf := store.Filter{Devices: flagged, Since: q.Since, Until: q.Until}
	if err := src.EachTransition(ctx, hf, func(t *devices.Transition) error {
		d := byName[t.Device]
		d.Transitions = append(d.Transitions, *t)
		return nil
	}); err != nil {
		return err
	}
	if err := src.EachSwitchover(ctx, hf, func(sw *devices.Switchover) error {
		d := byName[sw.Device]
		d.Switchovers = append(d.Switchovers, *sw)
		return nil
	}); err != nil {
		return err
	}
	if err := src.EachAlarmRecord(ctx, hf, func(r *devices.AlarmRecord) error {
		d := byName[r.Device]
		d.Alarms = append(d.Alarms, *r)
		return nil
	}); err != nil {
		return err
	}
	// Events arrive oldest first; each device keeps its newest
	// MaxEventsPerDevice in a ring, so a log storm cannot swell the report.
	head := map[string]int{} // where the oldest kept event is, once full
	if err := src.EachEvent(ctx, hf, func(e *devices.Event) error {
		d := byName[e.Device]
		if len(d.Events) < MaxEventsPerDevice {
			d.Events = append(d.Events, *e)
			return nil
		}
		h := head[e.Device]
		d.Events[h] = *e
		head[e.Device] = (h + 1) % MaxEventsPerDevice
		d.EventsDropped++
		return nil
	}); err != nil {
		return err
	}
	for name, h := range head {
		d := byName[name]
		d.Events = slices.Concat(d.Events[h:], d.Events[:h])
	}
	return nil
}

// WriteHTML gathers the fleet from src and writes the HTML report to w.
func WriteHTML(ctx context.Context, src Source, w io.Writer, o GatherOptions) error {
	f, err := Gather(ctx, src, o)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := RenderHTML(bw, f); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return bw.Flush()
}
