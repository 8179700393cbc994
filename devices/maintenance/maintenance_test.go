package maintenance

import (
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr string // "" = valid
	}{
		{"0 2 * * 0", ""},
		{"30 0 2 * * 0", ""},
		{"@daily", ""},
		{"CRON_TZ=Europe/Paris 0 2 * * 0", ""},
		{"TZ=America/New_York  0 2 * * 0", ""},
		{"", "empty cron spec"},
		{"   ", "empty cron spec"},
		{"CRON_TZ=", "names no time zone"},
		{"CRON_TZ= 0 2 * * *", "names no time zone"},
		{"CRON_TZ=UTC", "no schedule after it"},
		{"CRON_TZ=UTC CRON_TZ=UTC 0 2 * * *", "more than one time zone"},
		{"CRON_TZ=Mars/Olympus 0 2 * * *", "unknown time zone"},
		{"0 2 * *", "4 fields"},
		{"61 2 * * *", "cron spec"},
		{"0 2 30 2 *", "never fires"},
		{"@every 1h", "@every has no fixed start times"},
		{"@fortnightly", "unknown descriptor"},
		{"@daily extra", "unknown descriptor"},
	}
	for _, tt := range tests {
		_, err := ParseSpec(tt.spec)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseSpec(%q): %v", tt.spec, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("ParseSpec(%q) succeeded, want an error containing %q", tt.spec, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("ParseSpec(%q) = %v, want it to contain %q", tt.spec, err, tt.wantErr)
		}
	}
}

func TestWindowContains(t *testing.T) {
	sunday2am, err := Recurring("0 2 * * 0", 2*time.Hour, "weekly")
	if err != nil {
		t.Fatal(err)
	}
	paris, err := Recurring("CRON_TZ=Europe/Paris 0 2 * * *", time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := Fixed(utc("2026-03-01T10:00:00Z"), utc("2026-03-01T12:00:00Z"), "RE swap")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-01 is a Sunday.
	tests := []struct {
		name      string
		w         Window
		at        string
		want      bool
		wantUntil string
	}{
		{"recurring: at the opening second", sunday2am, "2026-03-01T02:00:00Z", true, "2026-03-01T04:00:00Z"},
		{"recurring: inside", sunday2am, "2026-03-01T03:59:59Z", true, "2026-03-01T04:00:00Z"},
		{"recurring: the closing instant is outside", sunday2am, "2026-03-01T04:00:00Z", false, ""},
		{"recurring: just before", sunday2am, "2026-03-01T01:59:59Z", false, ""},
		{"recurring: another day", sunday2am, "2026-03-02T03:00:00Z", false, ""},
		{"recurring: UTC whatever the time's zone", sunday2am, "2026-03-01T04:30:00+01:00", true, "2026-03-01T04:00:00Z"},
		{"zone: 02:00 Paris is 01:00 UTC in winter", paris, "2026-03-01T01:30:00Z", true, "2026-03-01T02:00:00Z"},
		{"zone: 02:00 UTC is outside", paris, "2026-03-01T02:30:00Z", false, ""},
		{"fixed: from is inside", fixed, "2026-03-01T10:00:00Z", true, "2026-03-01T12:00:00Z"},
		{"fixed: until is outside", fixed, "2026-03-01T12:00:00Z", false, ""},
		{"fixed: before", fixed, "2026-03-01T09:59:59Z", false, ""},
		{"zero window contains nothing", Window{}, "2026-03-01T10:00:00Z", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			until, ok := tt.w.Contains(utc(tt.at))
			if ok != tt.want {
				t.Fatalf("Contains(%s) = %v, want %v", tt.at, ok, tt.want)
			}
			if ok && !until.Equal(utc(tt.wantUntil)) {
				t.Errorf("until = %s, want %s", until, tt.wantUntil)
			}
		})
	}
}

func TestWindowOverlap(t *testing.T) {
	sunday2am, err := Recurring("0 2 * * 0", 2*time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := Fixed(utc("2026-03-01T10:00:00Z"), utc("2026-03-01T12:00:00Z"), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		w           Window
		first, last string
		want        bool
	}{
		{"flap starts before the window and ends in it", sunday2am, "2026-03-01T01:50:00Z", "2026-03-01T02:05:00Z", true},
		{"flap spans the whole window", sunday2am, "2026-03-01T01:00:00Z", "2026-03-01T05:00:00Z", true},
		{"flap ends as the window opens", sunday2am, "2026-03-01T01:00:00Z", "2026-03-01T02:00:00Z", true},
		{"flap starts as the window closes", sunday2am, "2026-03-01T04:00:00Z", "2026-03-01T04:10:00Z", false},
		{"flap the day before", sunday2am, "2026-02-28T02:00:00Z", "2026-02-28T03:00:00Z", false},
		{"last before first is one instant", sunday2am, "2026-03-01T03:00:00Z", "2026-03-01T01:00:00Z", true},
		{"fixed: flap straddles from", fixed, "2026-03-01T09:55:00Z", "2026-03-01T10:01:00Z", true},
		{"fixed: flap before", fixed, "2026-03-01T09:00:00Z", "2026-03-01T09:59:59Z", false},
		{"fixed: flap after", fixed, "2026-03-01T12:00:00Z", "2026-03-01T12:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := tt.w.Overlap(utc(tt.first), utc(tt.last)); ok != tt.want {
				t.Errorf("Overlap(%s, %s) = %v, want %v", tt.first, tt.last, ok, tt.want)
			}
		})
	}
}

func TestRecurringAndFixedRefuseBadWindows(t *testing.T) {
	if _, err := Recurring("0 2 * * 0", 0, ""); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("zero duration: %v", err)
	}
	if _, err := Recurring("0 2 * * 0", -time.Hour, ""); err == nil {
		t.Error("negative duration accepted")
	}
	if _, err := Recurring("CRON_TZ=", time.Hour, ""); err == nil {
		t.Error("CRON_TZ= accepted")
	}
	from := utc("2026-03-01T10:00:00Z")
	if _, err := Fixed(from, from, ""); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Errorf("until == from: %v", err)
	}
	if _, err := Fixed(from, from.Add(-time.Hour), ""); err == nil {
		t.Error("until before from accepted")
	}
	if _, err := Fixed(time.Time{}, from, ""); err == nil {
		t.Error("zero from accepted")
	}
}

func TestMark(t *testing.T) {
	long, _ := Fixed(utc("2026-03-01T09:00:00Z"), utc("2026-03-01T18:00:00Z"), "upgrade")
	short, _ := Fixed(utc("2026-03-01T09:00:00Z"), utc("2026-03-01T11:00:00Z"), "RE swap")
	short.Who = "alice"
	fs := []devices.Finding{
		{RE: "re1", First: utc("2026-03-01T10:00:00Z"), Last: utc("2026-03-01T10:05:00Z"), Severity: devices.SeverityCritical},
		{RE: "re0", First: utc("2026-03-01T19:00:00Z"), Last: utc("2026-03-01T19:05:00Z"), Severity: devices.SeverityWarning},
	}
	got := Mark(fs, []Window{long, short})
	if !got[0].Maintenance || got[0].MaintenanceNote != "RE swap (by alice), until 2026-03-01T11:00:00Z" {
		t.Errorf("finding in both windows: maintenance %v, note %q", got[0].Maintenance, got[0].MaintenanceNote)
	}
	if got[0].Severity != devices.SeverityCritical {
		t.Errorf("Mark changed the severity to %s", got[0].Severity)
	}
	if got[1].Maintenance || got[1].MaintenanceNote != "" {
		t.Errorf("finding outside every window marked: %+v", got[1])
	}
	if fs[0].Maintenance {
		t.Error("Mark changed its argument")
	}
	if got := Mark(fs, nil); got[0].Maintenance {
		t.Error("no windows, yet marked")
	}
}

func TestActive(t *testing.T) {
	a, _ := Fixed(utc("2026-03-01T09:00:00Z"), utc("2026-03-01T11:00:00Z"), "a")
	b, _ := Fixed(utc("2026-03-01T10:00:00Z"), utc("2026-03-01T13:00:00Z"), "b")
	w, until, ok := Active([]Window{a, b}, utc("2026-03-01T10:30:00Z"))
	if !ok || w.Reason != "b" || !until.Equal(utc("2026-03-01T13:00:00Z")) {
		t.Errorf("Active = %v %s %v, want b until 13:00", w, until, ok)
	}
	if _, _, ok := Active([]Window{a, b}, utc("2026-03-01T14:00:00Z")); ok {
		t.Error("Active after every window")
	}
}

// FuzzParseSpec: no spec makes the parser panic, and a spec it accepts
// gives a window whose Contains agrees with Overlap.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"0 2 * * 0", "CRON_TZ=", "CRON_TZ=UTC", "TZ=Europe/Paris @daily", "@every 1h",
		"0 0 30 2 *", "*/5 * * * * *", "CRON_TZ=UTC\t0 2 * * *", "0-59/0 * * * *", "@hourly"} {
		f.Add(s)
	}
	at := utc("2026-03-01T03:00:00Z")
	f.Fuzz(func(t *testing.T, spec string) {
		w, err := Recurring(spec, time.Hour, "")
		if err != nil {
			return
		}
		until, in := w.Contains(at)
		_, u2, ov := w.Overlap(at, at)
		if in != ov || !until.Equal(u2) {
			t.Fatalf("%q: Contains %v %s, Overlap %v %s", spec, in, until, ov, u2)
		}
		if in && (!until.After(at) || until.Sub(at) > time.Hour) {
			t.Fatalf("%q: at %s inside an occurrence closing %s", spec, at, until)
		}
	})
}
