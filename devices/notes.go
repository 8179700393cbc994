package devices

import "fmt"

// Notes are what an operator should know about a poll that changes
// nothing in its verdict: facts about the platform, not failures, so they
// never raise the Nagios state. check prints them as NOTE lines, its JSON
// and the devices report carry them.
func Notes(p Poll) []string {
	s := p.Snapshot
	if s == nil {
		return nil
	}
	var out []string
	for _, f := range s.AbsentLogs {
		out = append(out, "log file /var/log/"+f+" does not exist on this device (the platform keeps none): not read, not an error")
	}
	// Issue 17: a big log costs the router its whole size at every change.
	for _, l := range s.LargeLogs {
		out = append(out, fmt.Sprintf("log file %s is %d bytes and is read whole whenever it changes: "+
			"point the inventory's logs: at a small filtered file (see mastership junos-config)", l.File, l.Size))
	}
	// Issue 19: a rotation whose archive could not be read.
	for _, g := range s.LogGaps {
		out = append(out, fmt.Sprintf("log file %s was turned over into %s, which could not be read (%s): "+
			"the lines written between the last poll and the rotation are not stored; nothing else is missing", g.File, g.Archive, g.Reason))
	}
	// Issue 19: a device clock that stepped is not a reboot, but times
	// the device stamped around the step are on two clocks.
	if s.ClockNote != "" {
		out = append(out, s.ClockNote)
	}
	return out
}
