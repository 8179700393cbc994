package correlate

import (
	"slices"
	"strings"
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

// FuzzWithBoots: the transitions keep their order and fields and only
// gain evidence; every line added is a boot of an RE of the table, read
// back by bootNote, within reach of the transition that carries it.
func FuzzWithBoots(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\x01\x00\x01\x02\x05\x01\x00\x01\x01\x00\x07\x02\x02"))
	f.Add([]byte("a backup rebooted by its watchdog between two polls"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, s := fuzzHistory(data)
		src := &bytesource{b: data}
		snap := fuzzSnapshot(src, day.Add(src.offset()))
		before := slices.Clone(h.Transitions)
		got := WithBoots(h.Transitions, snap, s)
		if len(got) != len(before) {
			t.Fatalf("%d transitions in, %d out", len(before), len(got))
		}
		reach := s.effective().FlapWindow + s.effective().EvidenceWindow
		for i, tr := range got {
			old := before[i]
			if !slices.Equal(h.Transitions[i].Evidence, old.Evidence) {
				t.Fatal("the input was modified")
			}
			if tr.RE != old.RE || !tr.Time.Equal(old.Time) || tr.From != old.From || tr.To != old.To || !slices.Equal(tr.Sources, old.Sources) {
				t.Fatalf("transition %d changed: %+v -> %+v", i, old, tr)
			}
			if len(tr.Evidence) < len(old.Evidence) {
				t.Fatalf("evidence lost: %q -> %q", old.Evidence, tr.Evidence)
			}
			for _, ev := range tr.Evidence {
				if slices.Contains(old.Evidence, ev) {
					continue
				}
				re, boot, reason, ok := bootNote(ev)
				if !ok || reason == "" || !slices.ContainsFunc(snap.RouteEngines, func(r devices.RouteEngine) bool { return r.Name == re }) {
					t.Fatalf("added %q: not a boot of the table (%v %q %q)", ev, ok, re, reason)
				}
				if d := tr.Time.Sub(boot); d < -reach || d > reach {
					t.Fatalf("boot %v is %v from the transition at %v", boot, d, tr.Time)
				}
			}
		}
	})
}

// FuzzBootNote: any line is read or refused without a panic, and a line
// WithBoots wrote is read back exactly.
func FuzzBootNote(f *testing.F) {
	f.Add(`re-table: re1 booted at 2026-03-14T10:02:00Z (up-time 3m at 2026-03-14T10:05:00Z); last reboot reason "0x2:watchdog"`, "re1", int64(180), "0x2:watchdog")
	f.Add(`re-table: re1 up-time 3m: booted at 2026-03-14T10:02:00Z; last reboot reason "x"`, "member0-re0", int64(-5), "")
	f.Fuzz(func(t *testing.T, line, name string, upSeconds int64, reason string) {
		bootNote(line)
		snap := &devices.Snapshot{DeviceTime: day.Add(10 * time.Hour)}
		up := time.Duration(upSeconds%(1<<31)) * time.Second
		snap.RouteEngines = []devices.RouteEngine{{Name: name, UpTime: &up, LastRebootReason: reason}}
		ts := WithBoots([]devices.Transition{{RE: name, Time: snap.DeviceTime.Add(-up)}}, snap, DefaultSettings())
		for _, ev := range ts[0].Evidence {
			re, boot, got, ok := bootNote(ev)
			if !ok {
				// Names and reasons that break the line's shape (spaces,
				// quotes) are refused, never misread.
				continue
			}
			if re != name || !boot.Equal(snap.DeviceTime.Add(-up)) || got != strings.TrimSpace(reason) {
				t.Fatalf("%q read as %q %v %q", ev, re, boot, got)
			}
		}
	})
}
