package devices

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
	return out
}
