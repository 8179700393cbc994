package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// maintenanceSuite is the contract of MaintenanceStore and of the
// maintenance mark on stored findings.
func maintenanceSuite() []suiteTest {
	return []suiteTest{
		{"MaintenanceWindowsRoundTrip", suiteMaintenanceWindows},
		{"MaintenanceWindowsRejected", suiteMaintenanceWindowsRejected},
		{"FindingMaintenanceRoundTrip", suiteFindingMaintenance},
	}
}

func suiteMaintenanceWindows(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	ws := []MaintenanceWindow{
		{Device: "mx1", From: base, Until: base.Add(2 * time.Hour), Reason: "RE swap", Who: "alice", Created: base},
		{Device: "mx2", From: base, Until: base.Add(2 * time.Hour), Reason: "RE swap", Who: "alice", Created: base},
		{Device: "mx1", From: base.Add(5 * time.Hour), Until: base.Add(6 * time.Hour), Reason: "", Who: "unknown", Created: base.Add(time.Minute)},
	}
	if err := st.AddMaintenanceWindows(ctx, ws); err != nil {
		t.Fatal(err)
	}
	if ws[0].ID == 0 || ws[1].ID == ws[0].ID {
		t.Fatalf("IDs not set: %+v", ws)
	}
	get := func(f Filter) []MaintenanceWindow {
		t.Helper()
		got, err := st.MaintenanceWindows(ctx, f)
		if err != nil {
			t.Fatalf("MaintenanceWindows(%+v): %v", f, err)
		}
		return got
	}
	if got := get(Filter{}); !reflect.DeepEqual(got, ws) {
		t.Fatalf("all windows\n got %+v\nwant %+v", got, ws)
	}
	at := func(t time.Time) Filter {
		return Filter{Devices: []string{"mx1"}, Since: t, Until: t.Add(time.Microsecond)}
	}
	tests := []struct {
		name string
		f    Filter
		want []MaintenanceWindow
	}{
		{"open at from", at(base), ws[:1]},
		{"open just before until", at(base.Add(2*time.Hour - time.Microsecond)), ws[:1]},
		{"closed at until", at(base.Add(2 * time.Hour)), nil},
		{"before from", at(base.Add(-time.Microsecond)), nil},
		{"the second window", at(base.Add(5*time.Hour + 30*time.Minute)), ws[2:]},
		{"a span over both", Filter{Devices: []string{"mx1"}, Since: base.Add(time.Hour), Until: base.Add(10 * time.Hour)}, []MaintenanceWindow{ws[0], ws[2]}},
		{"another device", Filter{Devices: []string{"mx9"}}, nil},
		{"still open from now on", Filter{Since: base.Add(3 * time.Hour)}, ws[2:]},
		{"limit", Filter{Limit: 1}, ws[:1]},
	}
	for _, tt := range tests {
		if got := get(tt.f); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
	// Created zero is the store's now.
	later := []MaintenanceWindow{{Device: "mx3", From: base, Until: base.Add(time.Hour)}}
	if err := st.AddMaintenanceWindows(ctx, later); err != nil {
		t.Fatal(err)
	}
	if got := get(Filter{Devices: []string{"mx3"}}); len(got) != 1 || later[0].Created.IsZero() ||
		got[0].Created.Sub(later[0].Created).Abs() >= time.Microsecond {
		t.Errorf("created: returned %s, stored %+v", later[0].Created, got)
	}
	w, err := ws[0].Window()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Contains(base.Add(time.Hour)); !ok || w.Who != "alice" || w.Reason != "RE swap" {
		t.Errorf("Window() = %+v", w)
	}
}

func suiteMaintenanceWindowsRejected(t *testing.T, open opener) {
	st := open(t)
	ctx := context.Background()
	good := MaintenanceWindow{Device: "mx1", From: base, Until: base.Add(time.Hour)}
	for name, w := range map[string]MaintenanceWindow{
		"no device":         {From: base, Until: base.Add(time.Hour)},
		"until before from": {Device: "mx1", From: base, Until: base.Add(-time.Hour)},
		"until equals from": {Device: "mx1", From: base, Until: base},
		"no until":          {Device: "mx1", From: base},
	} {
		// All or none: the good window in the same call is not stored.
		if err := st.AddMaintenanceWindows(ctx, []MaintenanceWindow{good, w}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got, err := st.MaintenanceWindows(ctx, Filter{}); err != nil || len(got) != 0 {
		t.Errorf("after refused adds: %+v, %v", got, err)
	}
}

// suiteFindingMaintenance: the mark and its note round-trip, and a
// recomputation that drops the mark (the window was wrong) stores that.
func suiteFindingMaintenance(t *testing.T, open opener) {
	st := open(t)
	fs := findingsOf("mx1")
	fs[0].Maintenance, fs[0].MaintenanceNote = true, "RE swap (by alice), until 2026-03-14T12:00:00Z"
	mustReplaceFindings(t, st, "mx1", fs)
	if got := mustFindings(t, st, Filter{}); !reflect.DeepEqual(got, fs) {
		t.Fatalf("Findings\n got %+v\nwant %+v", got, fs)
	}
	cleared := findingsOf("mx1")
	mustReplaceFindings(t, st, "mx1", cleared)
	if got := mustFindings(t, st, Filter{}); !reflect.DeepEqual(got, cleared) || got[0].Maintenance {
		t.Fatalf("after the mark was dropped\n got %+v\nwant %+v", got, cleared)
	}
}
