package syslog

import (
	"strings"
	"testing"
	"time"
)

func TestParseNewLinesAcrossZoneChange(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	cet := time.FixedZone("CET", 3600)
	day := func(h, m int) time.Time { return time.Date(2026, 3, 19, h, m, 0, 0, time.UTC) }
	const body = "  r1 rpd[2902]: RPD_ISIS_ADJUP: x"
	for _, tt := range []struct {
		name     string
		lastRead string
		lastTime time.Time
		lines    []string
		clock    DeviceClock
		want     []time.Time
	}{
		{"no zone change", "Mar 19 09:05:00" + body, day(9, 5),
			[]string{"Mar 19 09:08:00" + body, "Mar 19 09:12:00" + body},
			DeviceClock{Now: day(9, 15)}, []time.Time{day(9, 8), day(9, 12)}},
		{"UTC to Los Angeles between the lines", "Mar 19 09:05:00" + body, day(9, 5),
			[]string{"Mar 19 09:08:00" + body, "Mar 19 02:12:00" + body},
			DeviceClock{Now: day(9, 15), Location: la}, []time.Time{day(9, 8), day(9, 12)}},
		{"UTC to Los Angeles before every new line", "Mar 19 09:05:00" + body, day(9, 5),
			[]string{"Mar 19 02:08:00" + body, "Mar 19 02:12:00" + body},
			DeviceClock{Now: day(9, 15), Location: la}, []time.Time{day(9, 8), day(9, 12)}},
		{"UTC to Los Angeles after every new line", "Mar 19 09:05:00" + body, day(9, 5),
			[]string{"Mar 19 09:08:00" + body, "Mar 19 09:12:00" + body},
			DeviceClock{Now: day(9, 15), Location: la}, []time.Time{day(9, 8), day(9, 12)}},
		{"CET to UTC: the wall clock goes back", "Mar 19 10:05:00" + body, day(9, 5),
			[]string{"Mar 19 10:08:00" + body, "Mar 19 09:12:00" + body},
			DeviceClock{Now: day(9, 15)}, []time.Time{day(9, 8), day(9, 12)}},
		{"UTC to CET across midnight", "Mar 18 23:50:00" + body, day(0, 0).Add(-10 * time.Minute),
			[]string{"Mar 18 23:55:00" + body, "Mar 19 01:05:00" + body},
			DeviceClock{Now: day(0, 10), Location: cet}, []time.Time{day(0, 0).Add(-5 * time.Minute), day(0, 5)}},
		// The device's zone is the fixed offset its current-time shows:
		// summer time beginning is a change of it, like any other.
		{"summer time begins", "Mar 19 01:55:00" + body, day(0, 55),
			[]string{"Mar 19 01:58:00" + body, "Mar 19 03:02:00" + body},
			DeviceClock{Now: day(1, 5), Location: time.FixedZone("CEST", 2*3600)}, []time.Time{day(0, 58), day(1, 2)}},
		{"undated lines go with their neighbours", "Mar 19 09:05:00" + body, day(9, 5),
			[]string{"Mar 19 09:08:00" + body, "not a syslog line", "Mar 19 02:12:00" + body},
			DeviceClock{Now: day(9, 15), Location: la}, []time.Time{day(9, 8), {}, day(9, 12)}},
		{"first read: nothing to compare", "", time.Time{},
			[]string{"Mar 19 02:12:00" + body},
			DeviceClock{Now: day(9, 15), Location: la}, []time.Time{day(9, 12)}},
		{"a shift that is no zone's is left alone", "Mar 19 09:05:07" + body, day(9, 5),
			[]string{"Mar 19 09:08:00" + body},
			DeviceClock{Now: day(9, 15)}, []time.Time{day(9, 8)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseNewLines("messages", tt.lines, tt.lastRead, tt.lastTime, tt.clock)
			if len(got) != len(tt.lines) {
				t.Fatalf("%d lines back for %d", len(got), len(tt.lines))
			}
			for i, l := range got {
				if l.Raw != tt.lines[i] {
					t.Errorf("line %d raw %q, want it unchanged", i, l.Raw)
				}
				if !l.Time.Equal(tt.want[i]) {
					t.Errorf("line %d (%q) at %v, want %v", i, strings.Fields(l.Raw)[2], l.Time, tt.want[i])
				}
			}
		})
	}
}

// FuzzParseNewLines: any lines, any previous line and time, any clock:
// no panic, every line back with its text, each dated as ParseLine dates
// it in the device's zone or in one zone that differs from it by the
// offset the previous line shows.
func FuzzParseNewLines(f *testing.F) {
	f.Add("Mar 19 09:05:00  r1 rpd[1]: A: x", int64(0), "Mar 19 09:08:00  r1 rpd[1]: A: y\nMar 19 02:12:00  r1 rpd[1]: A: z", int64(-7*3600))
	f.Add("", int64(5), "Jan  1 00:00:00  r1 mgd[1]: UI_COMMIT: x", int64(3600))
	f.Add("Dec 31 23:59:00 new state = master", int64(-60), "Jan  1 00:00:01 new state = master", int64(0))
	now := time.Date(2027, 1, 1, 0, 5, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, lastRead string, lastOffset int64, text string, zone int64) {
		if zone > 14*3600 || zone < -12*3600 || lastOffset > 48*3600 || lastOffset < -48*3600 {
			return
		}
		clock := DeviceClock{Now: now, Location: time.FixedZone("Z", int(zone))}
		lines := strings.Split(text, "\n")
		got := ParseNewLines("messages", lines, lastRead, now.Add(time.Duration(lastOffset)*time.Second), clock)
		if len(got) != len(lines) {
			t.Fatalf("%d lines back for %d", len(got), len(lines))
		}
		var shift time.Duration
		for i, l := range got {
			plain := ParseLine("messages", lines[i], clock)
			if l.Raw != lines[i] || l.Parsed != plain.Parsed {
				t.Fatalf("line %d changed: %+v", i, l)
			}
			d := l.Time.Sub(plain.Time)
			if d == 0 {
				continue
			}
			if shift != 0 && d != shift && plain.Time.Year() == l.Time.Year() {
				t.Fatalf("line %d moved %v, another %v: two zones other than the device's", i, d, shift)
			}
			shift = d
		}
	})
}
