package correlate

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// backupFlap is re1 leaving at 10:00 and coming back at 10:03.
func backupFlap() []devices.Transition {
	a := tr("10:00:00", "re1", "backup", "gone", "log:mastership")
	a.Evidence = []string{"E_NO_ORE re1"}
	b := tr("10:03:00", "re1", "gone", "backup", "log:mastership")
	b.Evidence = []string{"E_ORE_B re1"}
	return []devices.Transition{a, b}
}

func record(a devices.Alarm, cleared string) devices.AlarmRecord {
	r := devices.AlarmRecord{Device: "d", Alarm: a, FirstSeen: a.Time.Add(time.Minute), LastSeen: a.Time.Add(time.Minute)}
	if cleared != "" {
		r.ClearedAt = at(cleared)
	}
	return r
}

func logged(clock string, kind devices.EventKind, subject, raw string) devices.Event {
	e := ev(clock, kind, "", "", "re0-mx", raw)
	e.Subject = subject
	e.Line.Message = raw
	return e
}

func TestFindingsCause(t *testing.T) {
	commit := func(clock, user string) devices.Event {
		return logged(clock, devices.EventCommit, "", "UI_COMMIT: User '"+user+"' requested 'commit' operation (comment: hello)")
	}
	pemSet := logged("09:59:30", devices.EventAlarmSet, "PEM 0 Not Powered", "Alarm set: Pwr supply color=RED, class=CHASSIS, reason=PEM 0 Not Powered")
	pemSet.Class = "Major"
	tests := []struct {
		name     string
		h        History
		cause    devices.Cause
		others   []devices.Cause
		severity devices.Severity
		remedy   string
	}{
		{
			name:     "no evidence",
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
			remedy:   "No cause in the evidence window",
		},
		{
			name:     "PEM alarm row active in the window",
			h:        History{Alarms: []devices.AlarmRecord{record(alarm("09:59:30", "Major", "PEM 0 Not Powered"), "")}},
			cause:    devices.CauseHardware,
			severity: devices.SeverityCritical,
			remedy:   `Inspect and replace the FRU (hardware maintenance): PEM 0 ("PEM 0 Not Powered")`,
		},
		{
			name:     "Minor fan alarm: hardware, warning",
			h:        History{Alarms: []devices.AlarmRecord{record(alarm("09:59:30", "Minor", "PEM 1 Fan Failed"), "")}},
			cause:    devices.CauseHardware,
			severity: devices.SeverityWarning,
		},
		{
			name:     "alarm cleared before the window is not evidence",
			h:        History{Alarms: []devices.AlarmRecord{record(alarm("09:00:00", "Major", "PEM 0 Not Powered"), "09:40:00")}},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
		{
			name:     "alarm raised after the window is not evidence",
			h:        History{Alarms: []devices.AlarmRecord{record(alarm("10:08:01", "Major", "PEM 0 Not Powered"), "")}},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
		{
			name:     "symptom alarms alone are not a cause",
			h:        History{Alarms: []devices.AlarmRecord{record(alarm("10:00:02", "Minor", "Loss of communication with Backup RE"), "10:03:30"), record(alarm("10:00:02", "Minor", "Backup RE Active"), "")}},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
		{
			name:     "em0 link flaps: network",
			h:        History{Events: []devices.Event{logged("09:59:58", devices.EventInternalLink, "em0", "/kernel: em0: Link is Down")}},
			cause:    devices.CauseNetwork,
			severity: devices.SeverityWarning,
			remedy:   "Check internal links and redundancy paths (network optimisation): em0 (internal RE link)",
		},
		{
			name:     "SNMP link trap for em0 counts as internal; xe-0/0/0 does not",
			h:        History{Events: []devices.Event{logged("09:59:58", devices.EventLinkFlap, "em0", "SNMP_TRAP_LINK_DOWN: ifIndex 17, ifAdminStatus up(1), ifOperStatus down(2), ifName em0")}},
			cause:    devices.CauseNetwork,
			severity: devices.SeverityWarning,
		},
		{
			name:     "revenue port flaps are noise",
			h:        History{Events: []devices.Event{logged("09:59:58", devices.EventLinkFlap, "xe-0/0/0", "SNMP_TRAP_LINK_DOWN: ifIndex 502, ifAdminStatus down(2), ifOperStatus down(2), ifName xe-0/0/0")}},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
		{
			name:     "core dump: software",
			h:        History{Events: []devices.Event{logged("10:01:00", devices.EventCoreDump, "chassisd", "/kernel: pid 1760 (chassisd), uid 0: exited on signal 6 (core dumped)")}},
			cause:    devices.CauseSoftware,
			severity: devices.SeverityWarning,
			remedy:   "Match the Junos release against known problem reports; upgrade (software updates): core dump of chassisd",
		},
		{
			name:     "commit 4 minutes before: configuration, naming the user",
			h:        History{Events: []devices.Event{commit("09:56:00", "luke")}},
			cause:    devices.CauseConfiguration,
			severity: devices.SeverityWarning,
			remedy:   "Review the commit and standardise the configuration: commit by luke at 2026-03-14T09:56:00Z",
		},
		{
			name:     "commit 2 hours before: not evidence",
			h:        History{Events: []devices.Event{commit("08:00:00", "luke")}},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
		{
			name:     "commit after the first transition: not a cause",
			h:        History{Events: []devices.Event{commit("10:01:00", "luke")}},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
		{
			name:     "drift only",
			h:        History{ConfigDrift: []string{"graceful-switchover: off (fleet majority: on, 12 of 14 devices)"}},
			cause:    devices.CauseConfiguration,
			severity: devices.SeverityWarning,
			remedy:   "Review the commit and standardise the configuration: graceful-switchover: off (fleet majority: on, 12 of 14 devices)",
		},
		{
			name: "everything at once: hardware, the rest in rank order",
			h: History{
				Events: []devices.Event{
					commit("09:55:00", "luke"), pemSet,
					logged("09:59:58", devices.EventKeepaliveLoss, "", "failed to receive keepalives from other RE for the last 60 sec"),
					logged("10:02:00", devices.EventPanic, "", "savecore: reboot after panic: page fault"),
				},
			},
			cause:    devices.CauseHardware,
			others:   []devices.Cause{devices.CauseSoftware, devices.CauseNetwork, devices.CauseConfiguration},
			severity: devices.SeverityCritical,
		},
		{
			name:     "panic beats keepalive loss",
			h:        History{Events: []devices.Event{logged("10:02:00", devices.EventPanic, "", "savecore: reboot after panic"), logged("09:59:58", devices.EventIPCLoss, "", "event = E_NO_IPC, state = master, param = 0x0")}},
			cause:    devices.CauseSoftware,
			others:   []devices.Cause{devices.CauseNetwork},
			severity: devices.SeverityWarning,
		},
		{
			name: "another device's evidence is ignored",
			h: History{Events: func() []devices.Event {
				e := logged("09:59:58", devices.EventInternalLink, "em0", "x")
				e.Device = "other"
				return []devices.Event{e}
			}()},
			cause:    devices.CauseUnknown,
			severity: devices.SeverityWarning,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.h.Transitions = backupFlap()
			got := Findings("d", tt.h, DefaultSettings())
			if len(got) != 1 {
				t.Fatalf("%d findings, want 1: %+v", len(got), got)
			}
			f := got[0]
			if f.Cause != tt.cause || !slices.Equal(f.OtherCauses, tt.others) || f.Severity != tt.severity {
				t.Errorf("cause %s others %v severity %s, want %s %v %s", f.Cause, f.OtherCauses, f.Severity, tt.cause, tt.others, tt.severity)
			}
			if !strings.HasPrefix(f.Remedy, tt.remedy) {
				t.Errorf("remedy %q, want it to start %q", f.Remedy, tt.remedy)
			}
			if f.Device != "d" || f.RE != "re1" || f.Transitions != 2 || f.First != at("10:00:00") || f.Last != at("10:03:00") {
				t.Errorf("finding %+v", f)
			}
		})
	}
}

func TestFindingsSeverity(t *testing.T) {
	masterFlap := []devices.Transition{tr("10:00:00", "re0", "master", "gone", "re-table"), tr("10:02:00", "re0", "gone", "backup", "re-table")}
	if f := Findings("d", History{Transitions: masterFlap}, DefaultSettings()); len(f) != 1 || f[0].Severity != devices.SeverityCritical {
		t.Errorf("a master change: %+v, want critical", f)
	}
	var many []devices.Transition
	for i := range 6 {
		from, to := "backup", "gone"
		if i%2 == 1 {
			from, to = to, from
		}
		many = append(many, tr(at("10:00:00").Add(time.Duration(i)*5*time.Minute).Format("15:04:05"), "re1", from, to, "log:mastership"))
	}
	if f := Findings("d", History{Transitions: many[:5]}, DefaultSettings()); len(f) != 1 || f[0].Severity != devices.SeverityWarning {
		t.Errorf("5 backup transitions: %+v, want warning", f)
	}
	if f := Findings("d", History{Transitions: many}, DefaultSettings()); len(f) != 1 || f[0].Severity != devices.SeverityCritical {
		t.Errorf("6 transitions = 3 × FlapMin: %+v, want critical", f)
	}
}

func TestFindingsEvidence(t *testing.T) {
	h := History{
		Transitions: backupFlap(),
		Events: []devices.Event{
			logged("10:08:01", devices.EventInternalLink, "em0", "after the window"),
			logged("10:01:00", devices.EventInternalLink, "em0", "em0: Link is Down"),
			logged("09:55:00", devices.EventInternalLink, "em0", "em0: Link is up 100 Mbps Half Duplex"),
			logged("09:54:59", devices.EventInternalLink, "em0", "before the window"),
			logged("09:51:00", devices.EventCommit, "", "UI_COMMIT: User 'luke' requested 'commit' operation"),
			logged("09:49:59", devices.EventCommit, "", "UI_COMMIT: User 'leia' requested 'commit' operation"),
			logged("10:01:00", devices.EventLinkFlap, "xe-0/0/0", "SNMP_TRAP_LINK_DOWN xe-0/0/0"),
			logged("10:01:00", devices.EventInternalLink, "em0", "em0: Link is Down"), // read twice
		},
		Alarms: []devices.AlarmRecord{
			record(alarm("10:00:02", "Minor", "Loss of communication with Backup RE"), "10:04:00"),
			record(alarm("09:00:00", "Minor", "Backup RE Active"), ""),
			record(alarm("08:00:00", "Minor", "CB 2 Removed"), "08:30:00"),
		},
		ConfigDrift: []string{"nonstop-routing: off (fleet majority: on, 3 of 4 devices)"},
	}
	f := Findings("d", h, DefaultSettings())
	if len(f) != 1 {
		t.Fatalf("%d findings", len(f))
	}
	wantEvidence := []string{
		"UI_COMMIT: User 'luke' requested 'commit' operation",
		"em0: Link is up 100 Mbps Half Duplex",
		"E_NO_ORE re1",
		"em0: Link is Down",
		"E_ORE_B re1",
		"config: nonstop-routing: off (fleet majority: on, 3 of 4 devices)",
	}
	if !slices.Equal(f[0].Evidence, wantEvidence) {
		t.Errorf("evidence:\n got %q\nwant %q", f[0].Evidence, wantEvidence)
	}
	var alarms []string
	for _, a := range f[0].Alarms {
		alarms = append(alarms, a.Description)
	}
	if want := []string{"Backup RE Active", "Loss of communication with Backup RE"}; !slices.Equal(alarms, want) {
		t.Errorf("alarms %q, want %q", alarms, want)
	}
	if f[0].Cause != devices.CauseNetwork || !slices.Equal(f[0].OtherCauses, []devices.Cause{devices.CauseConfiguration}) {
		t.Errorf("cause %s %v", f[0].Cause, f[0].OtherCauses)
	}
}

func TestFindingsMergesAndSorts(t *testing.T) {
	h := History{Transitions: []devices.Transition{
		// re0's table and log views of one reboot, and re1 flapping earlier.
		tr("10:30:00", "re0", "master", "gone", "re-table", "alarm"),
		tr("10:29:58", "re0", "backup", "gone", "log:mastership"),
		tr("10:31:00", "re0", "gone", "backup", "re-table"),
		tr("10:35:00", "re0", "gone", "backup", "log:mastership"),
		tr("09:00:00", "re1", "backup", "gone", "log:mastership"),
		tr("09:10:00", "re1", "gone", "backup", "log:mastership"),
	}}
	got := Findings("d", h, DefaultSettings())
	if len(got) != 2 || got[0].RE != "re1" || got[1].RE != "re0" {
		t.Fatalf("findings %+v", got)
	}
	if got[1].Transitions != 2 || got[1].First != at("10:29:58") || got[1].Last != at("10:35:00") || got[1].Severity != devices.SeverityCritical {
		t.Errorf("re0 finding %+v", got[1])
	}
}

func TestFindingsDeterministic(t *testing.T) {
	h := History{
		Transitions: append(backupFlap(),
			tr("10:01:00", "re0", "master", "backup", "re-table"),
			tr("10:02:00", "re0", "backup", "master", "re-table"),
			tr("10:02:00", "re0", "backup", "master", "log:messages")),
		Events: []devices.Event{
			logged("09:59:58", devices.EventInternalLink, "em0", "em0: Link is Down"),
			logged("09:59:58", devices.EventKeepaliveLoss, "", "failed to receive keepalives"),
			logged("09:59:58", devices.EventAlarmSet, "PEM 0 Not Powered", "Alarm set: PEM 0 Not Powered"),
			logged("09:59:00", devices.EventCommit, "", "UI_COMMIT: User 'luke'"),
			logged("10:00:30", devices.EventCoreDump, "rpd", "core"),
		},
		Alarms: []devices.AlarmRecord{
			record(alarm("09:59:58", "Major", "PEM 0 Not Powered"), ""),
			record(alarm("09:59:58", "Minor", "Backup RE Active"), ""),
			record(alarm("09:59:58", "Minor", "Loss of communication with Backup RE"), "10:04:00"),
		},
	}
	want := Findings("d", h, DefaultSettings())
	if len(want) != 2 {
		t.Fatalf("%d findings", len(want))
	}
	for i := range 50 {
		r := rand.New(rand.NewPCG(uint64(i), 3))
		g := History{Transitions: slices.Clone(h.Transitions), Events: slices.Clone(h.Events), Alarms: slices.Clone(h.Alarms)}
		r.Shuffle(len(g.Transitions), func(a, b int) { g.Transitions[a], g.Transitions[b] = g.Transitions[b], g.Transitions[a] })
		r.Shuffle(len(g.Events), func(a, b int) { g.Events[a], g.Events[b] = g.Events[b], g.Events[a] })
		r.Shuffle(len(g.Alarms), func(a, b int) { g.Alarms[a], g.Alarms[b] = g.Alarms[b], g.Alarms[a] })
		if got := Findings("d", g, DefaultSettings()); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestCommitNotes: the demo's remedy said "commit by commit complete":
// the UI_COMMIT_COMPLETED line names no user, and its subject is not one.
func TestCommitNotes(t *testing.T) {
	at := time.Date(2025, 3, 19, 10, 10, 0, 0, time.UTC)
	requested := devices.Event{Kind: devices.EventCommit, Time: at, Subject: "commit by ops",
		Line: devices.LogLine{Message: "UI_COMMIT: User 'ops' requested 'commit' operation (comment: ntp servers)"}}
	completed := devices.Event{Kind: devices.EventCommit, Time: at.Add(3 * time.Second), Subject: "commit complete",
		Line: devices.LogLine{Message: "UI_COMMIT_COMPLETED: commit complete"}}
	byRule := devices.Event{Kind: devices.EventCommit, Time: at, Subject: "rollback 1 by luke"}
	for _, tc := range []struct {
		name    string
		commits []devices.Event
		want    string
	}{
		{"requested and completed", []devices.Event{requested, completed}, "commit by ops at "},
		{"completed only", []devices.Event{completed}, "commit at "},
		{"user from a rule's subject", []devices.Event{byRule}, "commit by luke at "},
	} {
		got := commitNotes(tc.commits)
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
			t.Errorf("%s: %q, want one note starting %q", tc.name, got, tc.want)
		}
	}
}
