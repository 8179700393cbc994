package schedule

import (
	"testing"
	"time"
)

func TestSlotOf(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		spec, now, want string
	}{
		// Two agents started at different moments agree on the slot.
		{"@every 10s", "2026-11-24T10:00:20.004Z", "2026-11-24T10:00:20Z"},
		{"@every 10s", "2026-11-24T10:00:29.999Z", "2026-11-24T10:00:20Z"},
		{"@every 5m", "2026-11-24T10:07:00Z", "2026-11-24T10:05:00Z"},
		{"*/10 * * * *", "2026-11-24T10:20:00.300Z", "2026-11-24T10:20:00Z"},
		{"0 9,17 * * *", "2026-11-24T16:59:59Z", "2026-11-24T09:00:00Z"},
		{"0 9 * * 1", "2026-11-24T08:00:00Z", "2026-11-23T09:00:00Z"}, // Monday
		{"CRON_TZ=Europe/Amsterdam 30 2 * * *", "2026-11-24T01:30:00.5Z", "2026-11-24T01:30:00Z"},
	} {
		sched, err := ParseSpec(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := SlotOf(Aligned(sched), at(c.now)); !got.Equal(at(c.want)) {
			t.Errorf("SlotOf(%q, %s) = %s, want %s", c.spec, c.now, got, c.want)
		}
	}
	// Aligned @every fires at multiples of the interval, whenever asked.
	sched, _ := ParseSpec("@every 10s")
	if got := Aligned(sched).Next(at("2026-11-24T10:00:03.7Z")); !got.Equal(at("2026-11-24T10:00:10Z")) {
		t.Errorf("aligned Next = %s", got)
	}
}
