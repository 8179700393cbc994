package correlate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// brief prints a transition as "re0 master→gone 10:00:00 [re-table]".
func brief(t devices.Transition) string {
	return fmt.Sprintf("%s %s→%s %s %v", t.RE, t.From, t.To, t.Time.Format("15:04:05"), t.Sources)
}

func briefs(ts []devices.Transition) []string {
	var out []string
	for _, t := range ts {
		out = append(out, brief(t))
	}
	return out
}

func TestTableTransitions(t *testing.T) {
	const up = 9*dayLen + 22*time.Hour
	// No up-time: these REs only change state; the reboot cases set it.
	r0m := re("re0", "master", "OK", -1, "0x1:power cycle/failure")
	r1b := re("re1", "backup", "OK", -1, "Router rebooted after a normal shutdown.")
	tests := []struct {
		name      string
		prev, cur *devices.Snapshot
		want      []string
		evidence  []string // substrings expected somewhere in the evidence
	}{
		{
			name: "first poll has no delta",
			prev: nil,
			cur:  snap("d", "10:00:00", r0m, r1b),
		},
		{
			name: "an empty table is no data, not every RE gone",
			prev: snap("d", "10:00:00", r0m, r1b),
			cur:  snap("d", "10:05:00"),
		},
		{
			name: "stable",
			prev: snap("d", "10:00:00", re("re0", "master", "OK", up, ""), re("re1", "backup", "OK", up, "")),
			cur:  snap("d", "10:05:00", re("re0", "master", "OK", up+5*time.Minute+20*time.Second, ""), re("re1", "backup", "OK", up+4*time.Minute, "")),
		},
		{
			name:     "backup missing from the table",
			prev:     snap("d", "10:00:00", r0m, r1b),
			cur:      snap("d", "10:05:00", r0m),
			want:     []string{"re1 backup→gone 10:05:00 [re-table]"},
			evidence: []string{"re-table: re1 backup→gone (missing from get-route-engine-information)"},
		},
		{
			name:     "backup powered off: state Present",
			prev:     snap("d", "10:00:00", r0m, r1b),
			cur:      snap("d", "10:05:00", r0m, re("re1", "Present", "OK", -1, "")),
			want:     []string{"re1 backup→gone 10:05:00 [re-table]"},
			evidence: []string{"(mastership-state Present)"},
		},
		{
			name:     "backup failed",
			prev:     snap("d", "10:00:00", r0m, r1b),
			cur:      snap("d", "10:05:00", r0m, re("re1", "backup", "Failed", -1, "")),
			want:     []string{"re1 backup→gone 10:05:00 [re-table]"},
			evidence: []string{"(status Failed)"},
		},
		{
			name: "departure timed by the symptom alarm raised since the last poll",
			prev: snap("d", "10:00:00", r0m, r1b),
			cur: func() *devices.Snapshot {
				s := snap("d", "10:05:00", r0m)
				s.Alarms = []devices.Alarm{
					alarm("09:00:00", "Minor", "Backup RE Active"), // stale: before the last poll
					alarm("10:02:40", "Minor", "Loss of communication with Backup RE"),
					alarm("10:02:30", "Major", "PEM 0 Not Powered"), // not a symptom
				}
				return s
			}(),
			want:     []string{"re1 backup→gone 10:02:40 [re-table alarm]"},
			evidence: []string{`alarm: Minor "Loss of communication with Backup RE" at 2026-03-14T10:02:40Z`},
		},
		{
			name:     "powered-on RE joins at its boot time (MX480 note: up 6m25s)",
			prev:     snap("d", "12:31:12", re("re0", "Present", "OK", -1, ""), r1b),
			cur:      snap("d", "12:39:14", re("re0", "backup", "OK", 6*time.Minute+25*time.Second, "0x1:power cycle/failure"), r1b),
			want:     []string{"re0 gone→backup 12:32:49 [re-table]"},
			evidence: []string{"re-table: re0 up-time 6m25s: booted at 2026-03-14T12:32:49Z; last reboot reason \"0x1:power cycle/failure\""},
		},
		{
			name: "an RE that was up all along but not alive joins at the poll",
			prev: snap("d", "10:00:00", r0m, re("re1", "backup", "Failed", up, "")),
			cur:  snap("d", "10:05:00", r0m, re("re1", "backup", "OK", up+5*time.Minute, "")),
			want: []string{"re1 gone→backup 10:05:00 [re-table]"},
		},
		{
			name: "planned switchover",
			prev: snap("d", "01:36:00", r0m, r1b),
			cur:  snap("d", "01:40:00", re("re0", "backup", "OK", -1, ""), re("re1", "master", "OK", -1, "")),
			want: []string{"re0 master→backup 01:40:00 [re-table]", "re1 backup→master 01:40:00 [re-table]"},
		},
		{
			name: "panic reboot of the master, seen only as up-time and reason (MX10003)",
			prev: snap("d", "10:00:00", re("re0", "master", "OK", 9*dayLen, "0x1:power cycle/failure"), re("re1", "backup", "OK", 326*dayLen, "")),
			cur:  snap("d", "10:05:00", re("re0", "backup", "OK", 3*time.Minute, "0x1000:reboot due to panic"), re("re1", "master", "OK", 326*dayLen+5*time.Minute, "")),
			want: []string{
				"re0 master→gone 10:02:00 [re-table]",
				"re0 gone→backup 10:02:00 [re-table]",
				"re1 backup→master 10:02:00 [re-table]",
			},
			evidence: []string{`re-table: re0 up-time fell from 9d to 3m (reboot; last reboot reason "0x1000:reboot due to panic")`},
		},
		{
			name: "MX960 crash: departure at Backup RE Active, return at boot",
			prev: snap("d", "08:20:00", re("re0", "master", "OK", 200*dayLen, ""), re("re1", "backup", "OK", 200*dayLen, "")),
			cur: func() *devices.Snapshot {
				s := snap("d", "08:40:00", re("re0", "backup", "OK", 10*time.Minute+42*time.Second, ""), re("re1", "master", "OK", 200*dayLen+20*time.Minute, ""))
				s.Alarms = []devices.Alarm{alarm("08:28:45", "Minor", "Backup RE Active")}
				return s
			}(),
			want: []string{
				"re0 master→gone 08:28:45 [re-table alarm]",
				"re1 backup→master 08:28:45 [re-table alarm]",
				"re0 gone→backup 08:29:18 [re-table]",
			},
		},
		{
			name: "reboot between polls with up-time that did not fall",
			prev: snap("d", "10:00:00", r0m, re("re1", "backup", "OK", 5*time.Minute, "")),
			cur:  snap("d", "11:00:00", r0m, re("re1", "backup", "OK", 8*time.Minute, "")),
			want: []string{
				"re1 backup→gone 10:52:00 [re-table]",
				"re1 gone→backup 10:52:00 [re-table]",
			},
			evidence: []string{"re-table: re1 up-time 8m where 1h5m was due (reboot)"},
		},
		{
			name: "reboot seen only as a new reboot reason",
			prev: snap("d", "10:00:00", r0m, re("re1", "backup", "OK", -1, "0x1:power cycle/failure")),
			cur:  snap("d", "10:05:00", r0m, re("re1", "backup", "OK", -1, "0x1000:reboot due to panic")),
			want: []string{
				"re1 backup→gone 10:05:00 [re-table]",
				"re1 gone→backup 10:05:00 [re-table]",
			},
			evidence: []string{`last reboot reason changed from "0x1:power cycle/failure" to "0x1000:reboot due to panic"`},
		},
		{
			name: "rebooted, still Testing: Testing counts as alive",
			prev: snap("d", "10:00:00", r0m, re("re1", "backup", "OK", time.Hour, "")),
			cur:  snap("d", "10:05:00", r0m, re("re1", "backup", "Testing", time.Minute, "")),
			want: []string{"re1 backup→gone 10:04:00 [re-table]", "re1 gone→backup 10:04:00 [re-table]"}, // Testing is alive
		},
		{
			name: "single RE without mastership-state is its own master",
			prev: snap("d", "10:00:00", re("re0", "", "", time.Hour, "")),
			cur:  snap("d", "10:05:00", re("re0", "", "", 2*time.Minute, "")),
			want: []string{"re0 master→gone 10:03:00 [re-table]", "re0 gone→master 10:03:00 [re-table]"},
		},
		{
			name: "SRX nodes without mastership-state are backups, no switchover invented",
			prev: snap("d", "10:00:00", re("node0", "", "OK", time.Hour, ""), re("node1", "", "OK", time.Hour, "")),
			cur:  snap("d", "10:05:00", re("node0", "", "OK", time.Hour+5*time.Minute, "")),
			want: []string{"node1 backup→gone 10:05:00 [re-table]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TableTransitions(tt.prev, tt.cur)
			if g := briefs(got); !slices.Equal(g, tt.want) {
				t.Fatalf("transitions:\n got %q\nwant %q", g, tt.want)
			}
			all := ""
			for _, tr := range got {
				if tr.Device != "d" {
					t.Errorf("device %q", tr.Device)
				}
				all += strings.Join(tr.Evidence, "\n") + "\n"
			}
			for _, w := range tt.evidence {
				if !strings.Contains(all, w) {
					t.Errorf("evidence lacks %q:\n%s", w, all)
				}
			}
		})
	}
}

func TestTableTransitionsFallsBackToPollTime(t *testing.T) {
	prev := snap("d", "10:00:00", re("re0", "master", "OK", -1, ""), re("re1", "backup", "OK", -1, ""))
	cur := snap("d", "10:05:00", re("re0", "master", "OK", -1, ""))
	cur.DeviceTime = time.Time{}
	got := TableTransitions(prev, cur)
	if len(got) != 1 || !got[0].Time.Equal(cur.PolledAt) {
		t.Fatalf("got %q, want one transition at the poll time %v", briefs(got), cur.PolledAt)
	}
}

// ev is a log event as the classifier makes it.
func ev(clock string, kind devices.EventKind, reName, change, host, raw string) devices.Event {
	file := "messages"
	if host == "" {
		file = "mastership"
	}
	return devices.Event{Device: "d", Kind: kind, Time: at(clock), RE: reName, Change: change, Rule: "test",
		Line: devices.LogLine{File: file, Host: host, Raw: raw, Time: at(clock)}}
}

func TestEventTransitions(t *testing.T) {
	dual := []devices.RouteEngine{re("re0", "master", "OK", -1, ""), re("re1", "backup", "OK", -1, "")}
	afterSwitch := []devices.RouteEngine{re("re0", "backup", "OK", -1, ""), re("re1", "master", "OK", -1, "")}
	vc := []devices.RouteEngine{
		re("member0-re0", "master", "OK", -1, ""), re("member0-re1", "backup", "OK", -1, ""),
		re("member1-re0", "master", "OK", -1, ""), re("member1-re1", "backup", "OK", -1, ""),
	}
	tests := []struct {
		name   string
		events []devices.Event
		res    []devices.RouteEngine
		want   []string
	}{
		{
			name: "other resolved from the syslog host",
			res:  afterSwitch, // the master now is re1, but the line says re0 wrote it
			events: []devices.Event{
				ev("10:00:00", devices.EventAliveSet, "other", "left", "re0-abc", "l1"),
				ev("10:03:00", devices.EventAliveSet, "other", "joined", "re0-abc", "l2"),
			},
			want: []string{"re1 backup→gone 10:00:00 [log:messages]", "re1 gone→backup 10:03:00 [log:messages]"},
		},
		{
			name: "other resolved as the master's peer when the host says nothing",
			res:  dual,
			events: []devices.Event{
				ev("10:00:00", devices.EventAliveSet, "", "left", "", "E_NO_ORE"),
				ev("10:03:00", devices.EventAliveSet, "other", "joined", "", "E_ORE_B"),
			},
			want: []string{"re1 backup→gone 10:00:00 [log:mastership]", "re1 gone→backup 10:03:00 [log:mastership]"},
		},
		{
			name:   "a named RE needs no resolving",
			res:    nil,
			events: []devices.Event{ev("10:00:00", devices.EventMastership, "member1-re1", "master", "", "x")},
			want:   []string{"member1-re1 backup→master 10:00:00 [log:mastership]"},
		},
		{
			name: "other cannot be resolved on a virtual chassis",
			res:  vc,
			events: []devices.Event{
				ev("10:00:00", devices.EventAliveSet, "other", "left", "", "x"),
				ev("10:00:01", devices.EventAliveSet, "other", "left", "re0-vc", "x"),
			},
		},
		{
			name: "other cannot be resolved without a master or a host",
			res:  []devices.RouteEngine{re("re0", "backup", "OK", -1, ""), re("re1", "backup", "OK", -1, "")},
			events: []devices.Event{
				ev("10:00:00", devices.EventAliveSet, "other", "left", "", "x"),
			},
		},
		{
			name: "self on mastership lines; the peer taking over means the one that left was master",
			res:  afterSwitch,
			events: []devices.Event{
				ev("08:28:40", devices.EventAliveSet, "other", "left", "re1-gw", "E_NO_ORE"),
				ev("08:28:45", devices.EventMastership, "", "master", "re1-gw", "new state = master"),
			},
			want: []string{"re0 master→gone 08:28:40 [log:messages]", "re1 backup→master 08:28:45 [log:messages]"},
		},
		{
			name: "lines that change nothing give nothing; unknown words are skipped",
			res:  dual,
			events: []devices.Event{
				ev("10:00:00", devices.EventAliveSet, "re1", "left", "", "a"),
				ev("10:00:20", devices.EventAliveSet, "re1", "left", "", "b"),
				ev("10:00:30", devices.EventAliveSet, "re1", "giveup", "", "c"),
				ev("10:00:40", devices.EventKeepaliveLoss, "re1", "left", "", "d"),
				{Kind: devices.EventAliveSet, RE: "re1", Change: "joined"}, // no time
			},
			want: []string{"re1 backup→gone 10:00:00 [log:mastership]"},
		},
		{
			name: "joined as master when its mastership line says so at the same second",
			res:  dual,
			events: []devices.Event{
				ev("10:00:00", devices.EventMastership, "re1", "master", "", "b"),
				ev("10:00:00", devices.EventAliveSet, "re1", "joined", "", "a"),
			},
			want: []string{"re1 gone→master 10:00:00 [log:mastership]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EventTransitions(tt.events, tt.res)
			if g := briefs(got); !slices.Equal(g, tt.want) {
				t.Fatalf("transitions:\n got %q\nwant %q", g, tt.want)
			}
			for _, tr := range got {
				if len(tr.Evidence) != 1 || tr.Evidence[0] == "" {
					t.Errorf("%s: evidence %q, want the log line", brief(tr), tr.Evidence)
				}
			}
		})
	}
}

func TestHostREAndPeer(t *testing.T) {
	hosts := map[string]string{"re0-abc": "re0", "RE1.vmx01": "re1", "re0": "re0", "SELLB-ER4": "", "re10-x": "", "rex": "", "re0x": "", "": ""}
	for in, want := range hosts {
		if got := hostRE(in); got != want {
			t.Errorf("hostRE(%q) = %q, want %q", in, got, want)
		}
	}
	peers := map[string]string{"re0": "re1", "re1": "re0", "member0-re1": "member0-re0", "node1": "node0", "re10": "", "re2": "", "": ""}
	for in, want := range peers {
		if got := peerOf(in); got != want {
			t.Errorf("peerOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func tr(clock, name, from, to string, sources ...string) devices.Transition {
	return devices.Transition{Device: "d", RE: name, Time: at(clock), From: from, To: to, Sources: sources, Evidence: []string{clock + " " + strings.Join(sources, ",")}}
}

func TestMergeTransitions(t *testing.T) {
	const tol = 2 * time.Minute
	tests := []struct {
		name string
		in   []devices.Transition
		want []string
	}{
		{
			name: "log and alarm-timed table within tolerance: log time, table From",
			in: []devices.Transition{
				tr("08:28:45", "re0", "master", "gone", "re-table", "alarm"),
				tr("08:28:40", "re0", "backup", "gone", "log:messages"),
			},
			want: []string{"re0 master→gone 08:28:40 [log:messages alarm re-table]"},
		},
		{
			name: "the table sees a switchover at the poll, minutes after the log",
			in: []devices.Transition{
				tr("10:05:00", "re1", "backup", "master", "re-table"),
				tr("10:00:12", "re1", "backup", "master", "log:mastership"),
				tr("10:05:00", "re0", "master", "backup", "re-table"),
			},
			want: []string{"re1 backup→master 10:00:12 [log:mastership re-table]", "re0 master→backup 10:05:00 [re-table]"},
		},
		{
			name: "table return at boot time, log line when the RE joined minutes later",
			in: []devices.Transition{
				tr("08:29:18", "re0", "gone", "backup", "re-table"),
				tr("08:33:02", "re0", "gone", "backup", "log:mastership"),
			},
			want: []string{"re0 gone→backup 08:33:02 [log:mastership re-table]"},
		},
		{
			name: "two log lines apart: two transitions (a join went unlogged between)",
			in: []devices.Transition{
				tr("10:00:00", "re1", "backup", "gone", "log:mastership"),
				tr("10:20:00", "re1", "backup", "gone", "log:mastership"),
			},
			want: []string{"re1 backup→gone 10:00:00 [log:mastership]", "re1 backup→gone 10:20:00 [log:mastership]"},
		},
		{
			name: "a transition between keeps same-state ones apart",
			in: []devices.Transition{
				tr("10:00:00", "re1", "backup", "gone", "log:mastership"),
				tr("10:00:30", "re1", "gone", "backup", "log:mastership"),
				tr("10:01:00", "re1", "backup", "gone", "log:mastership"),
			},
			want: []string{"re1 backup→gone 10:00:00 [log:mastership]", "re1 gone→backup 10:00:30 [log:mastership]", "re1 backup→gone 10:01:00 [log:mastership]"},
		},
		{
			name: "other REs and devices never merge",
			in: []devices.Transition{
				tr("10:00:00", "re1", "backup", "gone", "log:mastership"),
				tr("10:00:00", "re0", "backup", "gone", "re-table"),
				func() devices.Transition {
					x := tr("10:00:01", "re1", "backup", "gone", "re-table")
					x.Device = "e"
					return x
				}(),
			},
			want: []string{"re0 backup→gone 10:00:00 [re-table]", "re1 backup→gone 10:00:00 [log:mastership]", "re1 backup→gone 10:00:01 [re-table]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeTransitions(tt.in, tol)
			if g := briefs(got); !slices.Equal(g, tt.want) {
				t.Fatalf("merged:\n got %q\nwant %q", g, tt.want)
			}
			if again := MergeTransitions(got, tol); !reflect.DeepEqual(again, got) {
				t.Errorf("merging again changed it:\n%q\n%q", briefs(again), briefs(got))
			}
			for i := range 10 {
				in := slices.Clone(tt.in)
				rand.New(rand.NewPCG(uint64(i), 2)).Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
				if s := MergeTransitions(in, tol); !reflect.DeepEqual(s, got) {
					t.Fatalf("shuffled input merged differently:\n%q\n%q", briefs(s), briefs(got))
				}
			}
		})
	}
}

func TestMergeUnionsEvidenceInOrder(t *testing.T) {
	a := tr("10:00:00", "re1", "backup", "gone", "log:mastership")
	a.Evidence = []string{"line A", "shared"}
	b := tr("10:00:30", "re1", "backup", "gone", "re-table", "alarm")
	b.Evidence = []string{"shared", "line B"}
	got := MergeTransitions([]devices.Transition{b, a}, time.Minute)
	if len(got) != 1 || !slices.Equal(got[0].Evidence, []string{"line A", "shared", "line B"}) {
		t.Fatalf("got %+v", got)
	}
}

// TestEventTransitionsFromPreviousTable: Junos writes "new state = master"
// on every event of the mastership state machine; a master saying it again
// after the previous poll saw it master is no transition, while the backup
// saying it is a takeover.
func TestEventTransitionsFromPreviousTable(t *testing.T) {
	at := time.Date(2025, 3, 19, 10, 40, 0, 0, time.UTC)
	one := 1
	zero := 0
	before := []devices.RouteEngine{
		{Name: "re0", Slot: &zero, MastershipState: "master", Status: "OK"},
		{Name: "re1", Slot: &one, MastershipState: "backup", Status: "OK"},
	}
	line := func(host, text string) devices.LogLine {
		return devices.LogLine{File: "mastership", Host: host, Raw: "Mar 19 10:40:00 " + text, Time: at, Message: text, Parsed: true}
	}
	reassert := devices.Event{Kind: devices.EventMastership, Time: at, RE: "re0", Change: "master", Rule: "mastership-new-state", Line: line("", "new state = master")}
	if ts := EventTransitionsFrom(before, []devices.Event{reassert}, before); len(ts) != 0 {
		t.Errorf("a master repeating its state gave transitions %v", ts)
	}
	if ts := EventTransitions([]devices.Event{reassert}, before); len(ts) != 1 {
		t.Errorf("without a previous table the first line should still be inferred, got %v", ts)
	}
	takeover := devices.Event{Kind: devices.EventMastership, Time: at, RE: "re1", Change: "master", Rule: "mastership-new-state", Line: line("", "new state = master")}
	ts := EventTransitionsFrom(before, []devices.Event{takeover}, before)
	if len(ts) != 1 || ts[0].RE != "re1" || ts[0].From != devices.REBackup || ts[0].To != devices.REMaster {
		t.Errorf("the backup taking over gave %v, want re1 backup→master", ts)
	}
}
