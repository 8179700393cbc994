package devices

import (
	"strings"
	"testing"
	"time"
)

func intp(i int) *int { return &i }

func dualRE(re1 RouteEngine) []RouteEngine {
	return []RouteEngine{
		{Name: "re0", Slot: intp(0), MastershipState: "master", Status: "OK"},
		re1,
	}
}

func TestAssess(t *testing.T) {
	backupOK := RouteEngine{Name: "re1", Slot: intp(1), MastershipState: "backup", Status: "OK"}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		poll        Poll
		expected    int
		findings    []Finding
		want        State
		wantSummary string
	}{
		{
			name:        "healthy dual RE",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)}},
			expected:    2,
			want:        StateOK,
			wantSummary: "master re0, alive set re0,re1 (2/2)",
		},
		{
			name:        "backup RE missing from the table",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)[:1]}},
			expected:    2,
			want:        StateCritical,
			wantSummary: "1 of 2 REs alive (re0)",
		},
		{
			name:        "backup RE reported absent",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(RouteEngine{Name: "re1", Slot: intp(1), Status: "Absent"})}},
			expected:    0, // unknown: the table itself lists two REs
			want:        StateCritical,
			wantSummary: "1 of 2 REs alive (re0): re1 absent",
		},
		{
			name:        "backup RE present but powered off",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(RouteEngine{Name: "re1", MastershipState: "Present", Status: "OK"})}},
			expected:    2,
			want:        StateCritical,
			wantSummary: "re1 present",
		},
		{
			name: "major alarm",
			poll: Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK), Alarms: []Alarm{
				{Source: AlarmChassis, Class: "Major", Description: "PEM 0 Not Powered", Time: at},
				{Source: AlarmSystem, Class: "Major", Description: "PEM 0 Not Powered", Time: at}, // same alarm in both tables
			}}},
			expected:    2,
			want:        StateCritical,
			wantSummary: "1 Major alarm: PEM 0 Not Powered",
		},
		{
			name:        "minor alarm",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK), Alarms: []Alarm{{Class: "Minor", Description: "Rescue configuration is not set"}}}},
			expected:    2,
			want:        StateWarning,
			wantSummary: "1 Minor alarm: Rescue configuration is not set",
		},
		{
			name:        "unreachable",
			poll:        Poll{Device: "r1", Outcome: OutcomeRefused, ErrorKind: "refused", Error: "dial 127.0.0.1:1: connection refused"},
			expected:    2,
			want:        StateUnknown,
			wantSummary: "cannot poll r1 (refused): dial 127.0.0.1:1: connection refused",
		},
		{
			name:        "no master on a dual RE box",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: []RouteEngine{{Name: "re0", MastershipState: "backup", Status: "OK"}, backupOK}}},
			expected:    2,
			want:        StateCritical,
			wantSummary: "no RE reports mastership",
		},
		{
			name:        "SRX cluster nodes report no mastership state",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: []RouteEngine{{Name: "node0", Status: "OK"}, {Name: "node1", Status: "OK"}}}},
			expected:    2,
			want:        StateOK,
			wantSummary: "master none, alive set node0,node1 (2/2)",
		},
		{
			name:        "partial poll keeps what it got and warns",
			poll:        Poll{Outcome: OutcomePartial, Error: "get-alarm-information: rpc-error", Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)}},
			expected:    2,
			want:        StateWarning,
			wantSummary: "partial poll: get-alarm-information",
		},
		{
			name:        "a critical finding is CRITICAL even with every RE back",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)}},
			expected:    2,
			findings:    []Finding{{RE: "re1", Cause: CauseHardware, Severity: SeverityCritical, Transitions: 3}},
			want:        StateCritical,
			wantSummary: "re1 flapped 3 times (hardware, critical)",
		},
		{
			name:        "a warning finding is WARNING",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)}},
			expected:    2,
			findings:    []Finding{{RE: "re1", Cause: CauseNetwork, Severity: SeverityWarning, Transitions: 2}},
			want:        StateWarning,
			wantSummary: "re1 flapped 2 times (network, warning)",
		},
		// Maintenance (issue 15): the finding is still named, but the
		// state is what the rest of the poll says.
		{
			name:     "a critical finding in maintenance is OK and says so",
			poll:     Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)}},
			expected: 2,
			findings: []Finding{{RE: "re1", Cause: CauseHardware, Severity: SeverityCritical, Transitions: 3,
				Maintenance: true, MaintenanceNote: "RE swap (by alice), until 2026-11-24T12:00:00Z"}},
			want:        StateOK,
			wantSummary: "master re0, alive set re0,re1 (2/2); re1 flapped 3 times (hardware, critical) (in maintenance: RE swap (by alice), until 2026-11-24T12:00:00Z)",
		},
		{
			name:     "a finding outside maintenance still raises next to one inside",
			poll:     Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)}},
			expected: 2,
			findings: []Finding{
				{RE: "re1", Cause: CauseHardware, Severity: SeverityCritical, Transitions: 3, Maintenance: true, MaintenanceNote: "x"},
				{RE: "re0", Cause: CauseNetwork, Severity: SeverityWarning, Transitions: 2},
			},
			want:        StateWarning,
			wantSummary: "re0 flapped 2 times (network, warning); master re0",
		},
		{
			name:        "critical outranks warning and is named first",
			poll:        Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)[:1], Alarms: []Alarm{{Class: "Minor", Description: "x"}}}},
			expected:    2,
			want:        StateCritical,
			wantSummary: "1 of 2 REs alive (re0), 1 Minor alarm: x",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Assess(tt.poll, tt.expected, tt.findings)
			if got.State != tt.want {
				t.Errorf("state = %v, want %v (summary %q)", got.State, tt.want, got.Summary)
			}
			if !strings.Contains(got.Summary, tt.wantSummary) {
				t.Errorf("summary = %q, want it to contain %q", got.Summary, tt.wantSummary)
			}
		})
	}
}

func TestStateExitCodes(t *testing.T) {
	for s, code := range map[State]int{StateOK: 0, StateWarning: 1, StateCritical: 2, StateUnknown: 3} {
		if int(s) != code {
			t.Errorf("%v = %d, want %d", s, int(s), code)
		}
	}
}

func TestStateTextRoundTrip(t *testing.T) {
	for _, s := range []State{StateOK, StateWarning, StateCritical, StateUnknown} {
		b, _ := s.MarshalText()
		var got State
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("%v: round trip gave %v, %v", s, got, err)
		}
	}
	var s State
	if err := s.UnmarshalText([]byte("FINE")); err == nil {
		t.Error("UnmarshalText(FINE) succeeded")
	}
}

// TestAssessInMaintenance: a poll taken inside a maintenance window is OK
// and says why, except UNKNOWN, which no window can judge.
func TestAssessInMaintenance(t *testing.T) {
	backupOK := RouteEngine{Name: "re1", Slot: intp(1), MastershipState: "backup", Status: "OK"}
	crit := Assess(Poll{Outcome: OutcomeOK, Snapshot: &Snapshot{RouteEngines: dualRE(backupOK)[:1]}}, 2, nil)
	got := crit.InMaintenance("RE swap, until 2026-03-01T12:00:00Z")
	if got.State != StateOK || !strings.HasSuffix(got.Summary, "(in maintenance: RE swap, until 2026-03-01T12:00:00Z)") ||
		!strings.Contains(got.Summary, "1 of 2 REs alive") {
		t.Errorf("in maintenance: %v %q", got.State, got.Summary)
	}
	if got := crit.InMaintenance(""); got.State != StateCritical {
		t.Errorf("no window: %v", got.State)
	}
	unknown := Assess(Poll{Device: "r1", Outcome: OutcomeRefused, Error: "refused"}, 2, nil)
	if got := unknown.InMaintenance("x"); got.State != StateUnknown {
		t.Errorf("unknown in maintenance: %v", got.State)
	}
}
