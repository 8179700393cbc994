package correlate

import (
	"time"

	"github.com/mastership/mastership/devices"
)

// unplannedMasterChange reports whether the device's mastership changed
// inside [from, until] without an operator asking for it: a transition of
// any RE to or from master, from any source, with no switchover-command
// event at most lead before it (Settings.SwitchoverCommandWindow, the
// switchover ledger's). Severity grows with a change of master whichever
// RE's transitions carry it: the backup that took over from a crashed
// master makes the old master's flap critical.
//
// ts and events are one device's; their order does not matter.
func unplannedMasterChange(ts []devices.Transition, events []devices.Event, from, until time.Time, lead time.Duration) bool {
	for _, t := range ts {
		if t.Time.Before(from) || t.Time.After(until) {
			continue
		}
		if t.From != devices.REMaster && t.To != devices.REMaster {
			continue
		}
		if !commandBefore(events, t.Time, lead) {
			return true
		}
	}
	return false
}

// commandBefore reports whether a switchover command was logged at most
// lead before at.
func commandBefore(events []devices.Event, at time.Time, lead time.Duration) bool {
	for _, e := range events {
		if e.Kind != devices.EventSwitchoverCommand || e.Time.IsZero() {
			continue
		}
		if d := at.Sub(e.Time); d >= 0 && d <= lead {
			return true
		}
	}
	return false
}
