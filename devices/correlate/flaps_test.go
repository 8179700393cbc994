package correlate

import (
	"slices"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func TestFlaps(t *testing.T) {
	s := DefaultSettings()
	tests := []struct {
		name string
		in   []devices.Transition
		want []string // "re first..last count"
	}{
		{name: "none"},
		{
			name: "one switchover is not a flap",
			in:   []devices.Transition{tr("10:00:00", "re0", "master", "backup"), tr("10:00:00", "re1", "backup", "master")},
		},
		{
			name: "leave and return inside the window",
			in:   []devices.Transition{tr("10:00:00", "re1", "backup", "gone"), tr("10:59:59", "re1", "gone", "backup")},
			want: []string{"re1 10:00:00..10:59:59 2"},
		},
		{
			name: "a gap of exactly the window still chains; one more second splits",
			in: []devices.Transition{
				tr("10:00:00", "re1", "backup", "gone"), tr("11:00:00", "re1", "gone", "backup"),
				tr("12:00:01", "re1", "backup", "gone"), tr("12:10:00", "re1", "gone", "backup"), tr("12:20:00", "re1", "backup", "gone"),
				tr("14:00:00", "re1", "gone", "backup"),
			},
			want: []string{"re1 10:00:00..11:00:00 2", "re1 12:00:01..12:20:00 3"},
		},
		{
			name: "runs per RE, sorted by first then RE",
			in: []devices.Transition{
				tr("10:10:00", "re0", "master", "gone"), tr("10:20:00", "re0", "gone", "backup"),
				tr("10:10:00", "re1", "backup", "master"), tr("10:20:00", "re1", "master", "backup"),
				tr("09:00:00", "re1", "backup", "gone"),
			},
			want: []string{"re0 10:10:00..10:20:00 2", "re1 10:10:00..10:20:00 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range flaps(tt.in, s) {
				got = append(got, f.re+" "+f.transitions[0].Time.Format("15:04:05")+".."+f.transitions[len(f.transitions)-1].Time.Format("15:04:05")+" "+string(rune('0'+len(f.transitions))))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("flaps:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	s.FlapMin = 3
	if got := flaps([]devices.Transition{tr("10:00:00", "re1", "backup", "gone"), tr("10:05:00", "re1", "gone", "backup")}, s); len(got) != 0 {
		t.Errorf("FlapMin 3: two transitions made a flap")
	}
	s.FlapWindow = time.Minute
	if got := flaps([]devices.Transition{tr("10:00:00", "re1", "backup", "gone"), tr("10:01:01", "re1", "gone", "backup"), tr("10:01:30", "re1", "backup", "gone")}, s); len(got) != 0 {
		t.Errorf("FlapWindow 1m: %d flaps, want 0", len(got))
	}
}
