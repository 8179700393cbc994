package correlate

import (
	"slices"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// Fuzz targets of the pure functions added for issue 15, classes 1–4.

// FuzzUnplannedMasterChange: order never matters, a command can only make
// a change planned (never the reverse), and without any command the
// answer is whether a transition to or from master is in the window.
func FuzzUnplannedMasterChange(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a takeover, a command three minutes before it, a flap after"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, _ := fuzzHistory(data)
		src := &bytesource{b: data}
		from := day.Add(src.offset())
		until := from.Add(time.Duration(src.pick(90)) * time.Minute)
		for n := src.pick(4); n > 0; n-- {
			h.Events = append(h.Events, devices.Event{Kind: devices.EventSwitchoverCommand, Time: day.Add(src.offset())})
		}
		got := unplannedMasterChange(h.Transitions, h.Events, from, until, 5*time.Minute)
		ts, evs := slices.Clone(h.Transitions), slices.Clone(h.Events)
		slices.Reverse(ts)
		slices.Reverse(evs)
		if unplannedMasterChange(ts, evs, from, until, 5*time.Minute) != got {
			t.Fatal("order changed the answer")
		}
		any := slices.ContainsFunc(h.Transitions, func(tr devices.Transition) bool {
			return !tr.Time.Before(from) && !tr.Time.After(until) && (tr.From == devices.REMaster || tr.To == devices.REMaster)
		})
		if unplannedMasterChange(h.Transitions, nil, from, until, 5*time.Minute) != any {
			t.Fatal("without commands, not every change of master in the window counts")
		}
		if got && !any {
			t.Fatal("unplanned without a change of master")
		}
	})
}
