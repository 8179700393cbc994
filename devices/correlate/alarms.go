package correlate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/mastership/mastership/devices"
)

// alarmKey is an alarm's identity across polls: the member that reported
// it, its description and its alarm-time. A re-raised alarm gets a new
// alarm-time and so a new record.
type alarmKey struct {
	member, description string
	time                int64
}

func keyOf(a devices.Alarm) alarmKey {
	return alarmKey{a.Member, a.Description, a.Time.Unix()}
}

// compareAlarms orders alarm rows by time, then by every field, so that
// duplicates from the chassis and system tables dedupe the same way in
// any input order (chassis before system).
func compareAlarms(a, b devices.Alarm) int {
	return cmp.Or(
		a.Time.Compare(b.Time),
		cmp.Compare(a.Member, b.Member),
		cmp.Compare(a.Description, b.Description),
		cmp.Compare(a.Source, b.Source),
		cmp.Compare(a.Class, b.Class),
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.ShortDescription, b.ShortDescription),
	)
}

func compareRecords(a, b devices.AlarmRecord) int {
	return cmp.Or(
		a.FirstSeen.Compare(b.FirstSeen),
		compareAlarms(a.Alarm, b.Alarm),
		a.LastSeen.Compare(b.LastSeen),
		a.ClearedAt.Compare(b.ClearedAt),
		cmp.Compare(a.Device, b.Device),
	)
}

// UpdateAlarms follows alarms across one more poll. prev is what the
// agent knew before (any order), seen the alarm rows of this poll (chassis
// and system tables together; an alarm in both counts once), pollTime the
// agent's time of the poll, events the log lines read at this poll.
//
//   - A new alarm gets FirstSeen = LastSeen = pollTime: these are the
//     agent's times; the device's alarm-time stays in Alarm.Time.
//   - An alarm still in the table gets LastSeen = pollTime.
//   - An active record no longer in the table is cleared at pollTime, or
//     at the time of the alarmd/craftd "cleared" line for it when that is
//     earlier (the first such line at or after its alarm-time).
//   - Records already cleared stay as they are, with one exception: if the
//     very same alarm (same member, text and alarm-time) is in the table
//     again, it never cleared — the poll that missed it was wrong — so the
//     record is reopened instead of a twin being created.
//
// Call it only for polls whose alarm RPCs answered: an empty seen means
// "no alarms", and clears everything. Records keep their Device; new ones
// take it from prev (UpdateAlarms has no device of its own), so on a
// device's first poll the caller fills Device in. The result is sorted by
// FirstSeen, then by the alarm.
func UpdateAlarms(prev []devices.AlarmRecord, seen []devices.Alarm, pollTime time.Time, events []devices.Event) []devices.AlarmRecord {
	rows := slices.Clone(seen)
	slices.SortFunc(rows, compareAlarms)
	rows = devices.DedupeAlarms(rows)
	inTable := make(map[alarmKey]devices.Alarm, len(rows))
	for _, a := range rows {
		inTable[keyOf(a)] = a
	}

	records := slices.Clone(prev)
	slices.SortFunc(records, compareRecords)
	device := ""
	active := make(map[alarmKey]bool)
	for _, r := range records {
		if device == "" {
			device = r.Device
		}
		if r.ClearedAt.IsZero() {
			active[keyOf(r.Alarm)] = true
		}
	}
	// The latest cleared record of an alarm that is back in the table
	// with no active record is the one to reopen.
	reopen := make(map[alarmKey]int)
	for i, r := range records {
		k := keyOf(r.Alarm)
		if _, ok := inTable[k]; !ok || active[k] || r.ClearedAt.IsZero() {
			continue
		}
		if j, ok := reopen[k]; !ok || !records[j].ClearedAt.After(r.ClearedAt) {
			reopen[k] = i
		}
	}

	kept := make(map[alarmKey]bool, len(inTable))
	for i := range records {
		r := &records[i]
		k := keyOf(r.Alarm)
		_, there := inTable[k]
		switch {
		case r.ClearedAt.IsZero() && there:
			r.LastSeen = laterOf(r.LastSeen, pollTime)
			kept[k] = true
		case r.ClearedAt.IsZero():
			r.ClearedAt = clearedAt(*r, pollTime, events)
		case reopen[k] == i && there:
			r.ClearedAt = time.Time{}
			r.LastSeen = laterOf(r.LastSeen, pollTime)
			kept[k] = true
		}
	}
	for _, a := range rows {
		if kept[keyOf(a)] {
			continue
		}
		records = append(records, devices.AlarmRecord{Device: device, Alarm: a, FirstSeen: pollTime, LastSeen: pollTime})
	}
	slices.SortFunc(records, compareRecords)
	return records
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// clearedAt is when an alarm that left the table cleared: the first
// alarm-cleared line about it at or after its alarm-time (the line of an
// earlier raising of the same text is older than that) and before the
// poll, else the poll.
func clearedAt(r devices.AlarmRecord, pollTime time.Time, events []devices.Event) time.Time {
	want := fold(r.Alarm.Description)
	best := pollTime
	for _, e := range events {
		if e.Kind != devices.EventAlarmCleared || e.Time.IsZero() || !e.Time.Before(best) {
			continue
		}
		if e.Device != "" && r.Device != "" && e.Device != r.Device {
			continue
		}
		if !r.Alarm.Time.IsZero() && e.Time.Before(r.Alarm.Time) {
			continue
		}
		if !aboutAlarm(e, want) {
			continue
		}
		best = e.Time
	}
	return best
}

// aboutAlarm reports whether an alarm event names the alarm whose folded
// description is want: by its Subject, or, when the rule left Subject
// empty, by the end of the message ("... reason=CB 2 Removed").
func aboutAlarm(e devices.Event, want string) bool {
	if want == "" {
		return false
	}
	if e.Subject != "" {
		return fold(e.Subject) == want
	}
	return strings.HasSuffix(fold(e.Line.Message), want)
}

// alarmRole is what an alarm means to a finding.
type alarmRole int

const (
	// roleOther: neither a cause nor a symptom (licences, rescue
	// configuration, partition usage, management port links).
	roleOther alarmRole = iota
	// roleSymptom: a consequence of the alive-set change itself; it
	// confirms the transition but is never its cause.
	roleSymptom
	// roleHardware: about a FRU; evidence for the hardware cause.
	roleHardware
)

// classifyAlarm says whether an alarm (type and description, from the
// alarm table or an alarmd/craftd line) is a symptom, FRU evidence or
// neither. Symptoms are decided first: they are the alarms about the
// other RE's presence or communication — "Loss of communication with
// Backup RE", "Backup RE Active", "Host 1 Absent", "RE 1 Removed" —
// which the master raises because the alive set changed. An RE alarm
// about anything else ("RE 0 Over Temperature") is hardware.
func classifyAlarm(typ, description string) alarmRole {
	text := fold(description)
	if text == "" {
		return roleOther
	}
	if strings.Contains(text, "loss of communication") ||
		strings.Contains(text, "backup re active") ||
		strings.Contains(text, "backup routing engine active") {
		return roleSymptom
	}
	ws := words(text)
	if aboutREPresence(ws) {
		return roleSymptom
	}
	switch fold(typ) {
	case "license", "configuration", "autorecovery":
		return roleOther
	}
	for _, noise := range []string{"license", "licence", "rescue configuration", "autorecovery", "partition usage", "ethernet link down"} {
		if strings.Contains(text, noise) {
			return roleOther
		}
	}
	if fruName(description) != "" {
		return roleHardware
	}
	return roleOther
}

// aboutREPresence reports whether folded words say an RE or host is
// absent, removed, offline, missing or not online/present/responding.
func aboutREPresence(ws []string) bool {
	subject := false
	switch {
	case len(ws) >= 2 && (ws[0] == "re" || ws[0] == "host") && isNumber(ws[1]):
		subject = true
	case len(ws) >= 3 && ws[0] == "routing" && ws[1] == "engine" && isNumber(ws[2]):
		subject = true
	}
	if !subject {
		return false
	}
	for i, w := range ws {
		switch w {
		case "absent", "removed", "offline", "missing":
			return true
		case "not":
			if i+1 < len(ws) && (ws[i+1] == "online" || ws[i+1] == "present" || ws[i+1] == "responding") {
				return true
			}
		}
	}
	return false
}

// fruName names the FRU a text is about, in the device's own spelling:
// "PEM 0", "FPC 1", "Fan Tray 2", "Routing Engine 1", or a bare word
// ("fan", "temperature") when no unit number follows; "" when the text
// names no FRU.
func fruName(text string) string {
	// "FPC0: PEM 0 Not Powered": a virtual-chassis member prefix says
	// where, the rest says what failed.
	if i := strings.Index(text, ":"); i > 0 && !strings.ContainsAny(strings.TrimSpace(text[:i]), " \t") {
		if name := fruIn(text[i+1:]); name != "" {
			return name
		}
	}
	return fruIn(text)
}

func fruIn(text string) string {
	ws := words(text)
	lower := make([]string, len(ws))
	for i, w := range ws {
		lower[i] = strings.ToLower(w)
	}
	// Two-word units first, so "Fan Tray 0" is not just "fan".
	for i := 0; i+2 < len(ws); i++ {
		pair := lower[i] + " " + lower[i+1]
		switch pair {
		case "fan tray", "power supply", "routing engine", "control board", "switch fabric":
			if isNumber(ws[i+2]) {
				return ws[i] + " " + ws[i+1] + " " + ws[i+2]
			}
		}
	}
	for i := 0; i+1 < len(ws); i++ {
		switch lower[i] {
		case "pem", "psu", "fpc", "pic", "mic", "cb", "scb", "sib", "sfb", "re", "fan", "disk", "ssd":
			if isNumber(ws[i+1]) {
				return ws[i] + " " + ws[i+1]
			}
		}
	}
	for i, w := range lower {
		switch w {
		case "pem", "psu", "power", "pwr", "fan", "fans", "temperature", "temp", "hot", "overheat",
			"fpc", "pic", "mic", "cb", "scb", "sib", "sfb", "disk", "ssd", "flash", "memory", "dram",
			"ecc", "fabric", "plane", "clock", "midplane", "voltage", "craft", "asic":
			return ws[i]
		}
	}
	return ""
}
