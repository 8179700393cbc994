package correlate

import (
	"time"

	"github.com/mastership/mastership/devices"
)

// day is the date the unit tests happen on.
var day = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// at is a time of day on day, "15:04:05".
func at(clock string) time.Time {
	t, err := time.Parse("15:04:05", clock)
	if err != nil {
		panic(err)
	}
	return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second)
}

func durp(d time.Duration) *time.Duration { return &d }

// re builds an RE row; up < 0 means no up-time reported.
func re(name, state, status string, up time.Duration, reason string) devices.RouteEngine {
	r := devices.RouteEngine{Name: name, MastershipState: state, Status: status, LastRebootReason: reason}
	if up >= 0 {
		r.UpTime = durp(up)
	}
	return r
}

func snap(device string, clock string, res ...devices.RouteEngine) *devices.Snapshot {
	t := at(clock)
	return &devices.Snapshot{Device: device, PolledAt: t.Add(3 * time.Second), DeviceTime: t, RouteEngines: res}
}

const dayLen = 24 * time.Hour
