package report

import (
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/readiness"
)

// Fleet is what the HTML report shows: the fleet summary and, per device,
// its history inside one time window. Gather fills it from a store; the
// renderer is a pure function of it, so tests build one by hand.
type Fleet struct {
	// Generated is when the report was made (printed, never read from a
	// clock inside the renderer).
	Generated time.Time
	// Since and Until are the window the history covers; the timelines
	// share this one axis. Since is never zero; Until is never zero.
	Since, Until time.Time
	// Devices are sorted by name. A device that was never polled has a nil
	// Latest.
	Devices []Device
}

// Device is one router's state and history inside the window.
type Device struct {
	Name, Host, Site string
	// Latest is the device's latest poll, snapshot loaded; nil if never
	// polled.
	Latest *devices.Poll
	// Findings are the device's findings overlapping the window, oldest
	// first. A device with none is shown collapsed.
	Findings []devices.Finding
	// Transitions of the device's REs in the window, oldest first.
	Transitions []devices.Transition
	// Alarms whose life overlaps the window, oldest first.
	Alarms []devices.AlarmRecord
	// Events are the classified log lines in the window, oldest first,
	// at most MaxEventsPerDevice of them (the newest are kept).
	Events []devices.Event
	// EventsDropped counts the events left out by that cap.
	EventsDropped int
	// Switchovers are the device's changes of master in the window, from
	// its switchover ledger, oldest first: the timeline says of each
	// "became master" mark whether an operator asked for it.
	Switchovers []devices.Switchover
	// Readiness is the device's last switchover readiness verdict; nil
	// when none is stored (single-RE devices and SRX clusters have none).
	Readiness *readiness.Verdict
}

// MaxEventsPerDevice bounds the evidence marks one timeline carries, so a
// router that logs a storm cannot make the report unreadable or huge.
const MaxEventsPerDevice = 200
