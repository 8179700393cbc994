package devices

import (
	"reflect"
	"testing"
)

func TestNotes(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Poll
		want []string
	}{
		{"failed poll", Poll{Outcome: OutcomeTimeout}, nil},
		{"nothing to note", Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{}}, nil},
		{"absent mastership log", Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{AbsentLogs: []string{"mastership"}}},
			[]string{"log file /var/log/mastership does not exist on this device (the platform keeps none): not read, not an error"}},
		{"unreadable archive", Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{LogGaps: []LogGap{{File: "/var/log/messages", Archive: "/var/log/messages.0.gz", Reason: "Permission denied"}}}},
			[]string{"log file /var/log/messages was turned over into /var/log/messages.0.gz, which could not be read (Permission denied): " +
				"the lines written between the last poll and the rotation are not stored; nothing else is missing"}},
		{"clock step", Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{ClockNote: "device clock stepped +1h between polls (x)"}},
			[]string{"device clock stepped +1h between polls (x)"}},
	} {
		if got := Notes(tt.p); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Notes = %q, want %q", tt.name, got, tt.want)
		}
	}
}
