package correlate

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

func swTr(reName, clock, from, to string, sources ...string) devices.Transition {
	return devices.Transition{Device: "d", RE: reName, Time: at(clock), From: from, To: to, Sources: sources,
		Evidence: []string{clock + " " + reName + " " + from + "->" + to}}
}

// Command lines in the shapes the switchover-command rules match: the
// real "event = E_CMD_R, state = master, param = 0x0" line of
// logs/mastership-file.log, and the UI_CMDLINE_READ_LINE shape with the
// words of Juniper's "request chassis routing-engine master" page.
func eCmd(clock, code string) devices.Event {
	raw := "Mar 14 " + clock + " event = " + code + ", state = master, param = 0x0"
	return devices.Event{Device: "d", Kind: devices.EventSwitchoverCommand, Time: at(clock), RE: "re0",
		Subject: code + ": mastership command", Rule: "switchover-command-mastership-log",
		Line: devices.LogLine{File: "mastership", Raw: raw, Time: at(clock), Message: raw[16:], Parsed: true}}
}

func cliCmd(clock, words, user string) devices.Event {
	msg := "User '" + user + "', command '" + words + " '"
	raw := "Mar 14 " + clock + " re0-mx1 mgd[4711]: UI_CMDLINE_READ_LINE: " + msg
	return devices.Event{Device: "d", Kind: devices.EventSwitchoverCommand, Time: at(clock), RE: "re0",
		Subject: words + " by " + user, Rule: "switchover-command-cli",
		Line: devices.LogLine{File: "messages", Raw: raw, Time: at(clock), Host: "re0-mx1", Process: "mgd", PID: 4711,
			Tag: "UI_CMDLINE_READ_LINE", Message: msg, Parsed: true}}
}

// brief is a switchover as one comparable line.
func swBrief(sw devices.Switchover) string {
	s := sw.Time.Format("15:04:05") + " " + sw.OldMaster + "->" + sw.NewMaster
	if sw.Planned {
		s += " planned (" + sw.Command + ")"
	} else {
		s += " unplanned"
	}
	if sw.Cause != "" {
		s += " cause " + string(sw.Cause)
	}
	return s
}

func TestSwitchovers(t *testing.T) {
	M, B, G := devices.REMaster, devices.REBackup, devices.REGone
	tests := []struct {
		name   string
		ts     []devices.Transition
		events []devices.Event
		want   []string
	}{
		{"none", nil, nil, nil},
		{"GRES switch by command, RE table and log", []devices.Transition{
			swTr("re0", "10:00:05", M, B, "log:mastership"), swTr("re1", "10:00:05", B, M, "log:mastership"),
			swTr("re0", "10:01:00", M, B, "re-table"), swTr("re1", "10:01:00", B, M, "re-table"),
		}, []devices.Event{cliCmd("09:59:58", "request chassis routing-engine master switch", "lab")},
			[]string{"10:00:05 re0->re1 planned (request chassis routing-engine master switch by lab)"}},
		{"E_CMD_R in the mastership log plans it", []devices.Transition{
			swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M),
		}, []devices.Event{eCmd("10:00:05", "E_CMD_R")},
			[]string{"10:00:05 re0->re1 planned (E_CMD_R: mastership command)"}},
		{"the typed command is named before E_CMD", []devices.Transition{
			swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M),
		}, []devices.Event{eCmd("10:00:04", "E_CMD_S"), cliCmd("10:00:01", "request chassis routing-engine master switch no-confirm", "noc")},
			[]string{"10:00:05 re0->re1 planned (request chassis routing-engine master switch no-confirm by noc)"}},
		{"master crash: unplanned", []devices.Transition{
			swTr("re0", "10:00:00", M, G), swTr("re1", "10:00:01", B, M), swTr("re0", "10:04:00", G, B),
		}, nil, []string{"10:00:01 re0->re1 unplanned"}},
		{"no command line: unplanned, never an error", []devices.Transition{
			swTr("re1", "10:00:00", M, B), swTr("re0", "10:00:00", B, M),
		}, nil, []string{"10:00:00 re1->re0 unplanned"}},
		{"a command too long before is not it", []devices.Transition{
			swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M),
		}, []devices.Event{cliCmd("09:55:04", "request chassis routing-engine master switch", "lab")},
			[]string{"10:00:05 re0->re1 unplanned"}},
		{"a command after the change is not it", []devices.Transition{
			swTr("re0", "10:00:05", M, G), swTr("re1", "10:00:05", B, M),
		}, []devices.Event{cliCmd("10:00:06", "request chassis routing-engine master switch", "lab")},
			[]string{"10:00:05 re0->re1 unplanned"}},
		{"a command with no change of master is nothing", nil,
			[]devices.Event{eCmd("10:00:00", "E_CMD_R")}, nil},
		{"an RE turning master with no master leaving is no switchover", []devices.Transition{
			swTr("re0", "10:00:00", G, M),
		}, nil, nil},
		{"a departure too far away is not paired", []devices.Transition{
			swTr("re0", "10:00:00", M, G), swTr("re1", "10:02:01", B, M),
		}, nil, nil},
		{"switch and switch back: one command each", []devices.Transition{
			swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M),
			swTr("re1", "10:10:05", M, B), swTr("re0", "10:10:05", B, M),
		}, []devices.Event{
			cliCmd("10:00:00", "request chassis routing-engine master switch", "lab"),
			cliCmd("10:10:00", "request chassis routing-engine master switch", "lab"),
		}, []string{
			"10:00:05 re0->re1 planned (request chassis routing-engine master switch by lab)",
			"10:10:05 re1->re0 planned (request chassis routing-engine master switch by lab)",
		}},
		{"one command plans one switchover", []devices.Transition{
			swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M),
			swTr("re1", "10:03:00", M, G), swTr("re0", "10:03:00", B, M),
		}, []devices.Event{cliCmd("10:00:00", "request chassis routing-engine master switch", "lab")},
			[]string{
				"10:00:05 re0->re1 planned (request chassis routing-engine master switch by lab)",
				"10:03:00 re1->re0 unplanned",
			}},
		{"other devices' rows are not this device's", []devices.Transition{
			{Device: "e", RE: "re0", Time: at("10:00:00"), From: M, To: B}, {Device: "e", RE: "re1", Time: at("10:00:00"), From: B, To: M},
		}, []devices.Event{{Device: "e", Kind: devices.EventSwitchoverCommand, Time: at("09:59:00")}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Switchovers("d", tt.ts, tt.events, DefaultSettings())
			var briefs []string
			for _, sw := range got {
				briefs = append(briefs, swBrief(sw))
				if sw.Device != "d" || len(sw.Evidence) == 0 {
					t.Errorf("switchover %+v: device or evidence missing", sw)
				}
			}
			if !slices.Equal(briefs, tt.want) {
				t.Errorf("got  %q\nwant %q", briefs, tt.want)
			}
		})
	}
}

func TestSwitchoverEvidence(t *testing.T) {
	M, B := devices.REMaster, devices.REBackup
	cmd := cliCmd("09:59:58", "request chassis routing-engine master switch", "lab")
	got := Switchovers("d", []devices.Transition{swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M)},
		[]devices.Event{cmd}, DefaultSettings())
	want := []string{cmd.Line.Raw, "10:00:05 re0 master->backup", "10:00:05 re1 backup->master"}
	if len(got) != 1 || !slices.Equal(got[0].Evidence, want) {
		t.Fatalf("got %+v\nwant evidence %q", got, want)
	}
}

func TestSwitchoverCommandWindowSetting(t *testing.T) {
	M, B := devices.REMaster, devices.REBackup
	ts := []devices.Transition{swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M)}
	events := []devices.Event{cliCmd("09:58:05", "request chassis routing-engine master switch", "lab")}
	s := DefaultSettings()
	s.SwitchoverCommandWindow = time.Minute
	if got := Switchovers("d", ts, events, s); len(got) != 1 || got[0].Planned {
		t.Errorf("window 1m, command 2m before: %+v, want unplanned", got)
	}
	s.SwitchoverCommandWindow = 2 * time.Minute
	if got := Switchovers("d", ts, events, s); len(got) != 1 || !got[0].Planned {
		t.Errorf("window 2m, command 2m before: %+v, want planned", got)
	}
}

func TestSwitchoverCauses(t *testing.T) {
	sws := []devices.Switchover{
		{Device: "d", Time: at("10:00:00"), OldMaster: "re0", NewMaster: "re1"},
		{Device: "d", Time: at("11:00:00"), OldMaster: "re1", NewMaster: "re0", Planned: true},
		{Device: "d", Time: at("12:00:00"), OldMaster: "re0", NewMaster: "re1"},
	}
	fs := []devices.Finding{
		{Device: "d", RE: "re0", First: at("10:03:00"), Last: at("10:20:00"), Cause: devices.CauseSoftware},
		{Device: "d", RE: "re1", First: at("10:55:00"), Last: at("11:10:00"), Cause: devices.CauseHardware},
	}
	var got []string
	for _, sw := range SwitchoverCauses(sws, fs, DefaultSettings()) {
		got = append(got, swBrief(sw))
	}
	want := []string{
		"10:00:00 re0->re1 unplanned cause software", // 3m before the flap: in its evidence window
		"11:00:00 re1->re0 planned ()",               // planned: the operator is the cause
		"12:00:00 re0->re1 unplanned",                // no finding covers it
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestPlannedSwitchoverMakesNoFinding: switching over and back by command
// is a flap of each RE, and the operator's doing; the same without the
// commands, or with the backup gone after it, is judged.
func TestPlannedSwitchoverMakesNoFinding(t *testing.T) {
	M, B, G := devices.REMaster, devices.REBackup, devices.REGone
	there := []devices.Transition{
		swTr("re0", "10:00:05", M, B), swTr("re1", "10:00:05", B, M),
		swTr("re1", "10:10:05", M, B), swTr("re0", "10:10:05", B, M),
	}
	cmds := []devices.Event{
		cliCmd("10:00:00", "request chassis routing-engine master switch", "lab"),
		eCmd("10:10:04", "E_CMD_S"),
	}
	if got := Findings("d", History{Transitions: there, Events: cmds}, DefaultSettings()); len(got) != 0 {
		t.Errorf("planned switch and back: %d findings, want none: %+v", len(got), got)
	}
	if got := Findings("d", History{Transitions: there}, DefaultSettings()); len(got) != 2 {
		t.Errorf("the same without commands: %d findings, want 2 (one per RE)", len(got))
	}
	// Planned, but the old master then leaves the alive set: its flap has
	// a transition no command explains, and is judged as usual.
	short := append(slices.Clone(there[:2]), swTr("re0", "10:06:00", B, G))
	got := Findings("d", History{Transitions: short, Events: cmds[:1]}, DefaultSettings())
	if len(got) != 1 || got[0].RE != "re0" {
		t.Errorf("planned, then the backup gone: %+v, want one finding of re0", got)
	}
}

func FuzzSwitchovers(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x04\x05\x0a\x02\x08\x01\x00\x10\x00\x01\x02\x01\x00\x01\x01\x00\x20\x02\x00\x02\x01\x01\x05\x00\x00\x03"))
	f.Add([]byte("a planned switch, and a crash of the master ten minutes after"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, s := fuzzHistory(data)
		// fuzzHistory's unknown kind stands for the operator's commands.
		for i := range h.Events {
			if h.Events[i].Kind == "weather" {
				h.Events[i].Kind = devices.EventSwitchoverCommand
			}
		}
		got := Switchovers("d", h.Transitions, h.Events, s)
		for i, sw := range got {
			if sw.Device != "d" || sw.OldMaster == "" || sw.NewMaster == "" || sw.OldMaster == sw.NewMaster {
				t.Fatalf("switchover %d: %+v", i, sw)
			}
			if !sw.Planned && sw.Command != "" {
				t.Fatalf("switchover %d: planned %v with command %q", i, sw.Planned, sw.Command)
			}
			if i > 0 && got[i-1].Time.After(sw.Time) {
				t.Fatalf("switchovers out of order at %d", i)
			}
		}
		rt, re := slices.Clone(h.Transitions), slices.Clone(h.Events)
		slices.Reverse(rt)
		slices.Reverse(re)
		if again := Switchovers("d", rt, re, s); !reflect.DeepEqual(again, got) {
			t.Fatalf("input order changed the ledger:\n%+v\n%+v", again, got)
		}
		SwitchoverCauses(got, Findings("d", h, s), s)
	})
}
