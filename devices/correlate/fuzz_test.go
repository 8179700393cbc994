package correlate

import (
	"cmp"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
)

// bytesource hands out small choices from fuzz input; past the end it
// gives zeros, so every input decodes to something.
type bytesource struct{ b []byte }

func (s *bytesource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *bytesource) pick(n int) int { return int(s.next()) % n }

// offset is a time within a few hours of day, to the second.
func (s *bytesource) offset() time.Duration {
	return time.Duration(int(s.next())<<8|int(s.next())) * time.Second / 4
}

var fuzzREs = [...]string{"re0", "re1", "member0-re1", "node0"}

func fuzzHistory(data []byte) (History, Settings) {
	src := &bytesource{b: data}
	states := []string{devices.REMaster, devices.REBackup, devices.REGone, "present", ""}
	sources := []string{"re-table", "alarm", "log:mastership", "log:messages"}
	kinds := []devices.EventKind{
		devices.EventAliveSet, devices.EventMastership, devices.EventKeepaliveLoss, devices.EventIPCLoss,
		devices.EventAlarmSet, devices.EventAlarmCleared, devices.EventFRU, devices.EventInternalLink,
		devices.EventLinkFlap, devices.EventCommit, devices.EventCoreDump, devices.EventPanic, "weather",
	}
	texts := []string{"PEM 0 Not Powered", "Backup RE Active", "em0", "xe-0/0/0", "User 'luke' requested 'commit'", "", "FPC 1 Major Errors", "re-table: re0 up-time fell (reboot; last reboot reason \"0x1000:reboot due to panic\")"}
	s := Settings{
		FlapMin:        src.pick(5),
		FlapWindow:     time.Duration(src.pick(8)) * 15 * time.Minute,
		EvidenceWindow: time.Duration(src.pick(8)-1) * time.Minute,
		CommitLookback: time.Duration(src.pick(20)) * time.Minute,
		MergeTolerance: time.Duration(src.pick(5)) * time.Minute,
	}
	var h History
	for n := src.pick(24); n > 0; n-- {
		t := devices.Transition{
			Device: []string{"d", "", "e"}[src.pick(3)],
			RE:     fuzzREs[src.pick(len(fuzzREs))],
			Time:   day.Add(src.offset()),
			From:   states[src.pick(len(states))],
			To:     states[src.pick(len(states))],
		}
		for k := src.pick(3); k > 0; k-- {
			t.Sources = append(t.Sources, sources[src.pick(len(sources))])
		}
		for k := src.pick(3); k > 0; k-- {
			t.Evidence = append(t.Evidence, texts[src.pick(len(texts))])
		}
		h.Transitions = append(h.Transitions, t)
	}
	for n := src.pick(16); n > 0; n-- {
		e := devices.Event{
			Device:  []string{"d", "", "e"}[src.pick(3)],
			Kind:    kinds[src.pick(len(kinds))],
			Time:    day.Add(src.offset()),
			RE:      []string{"", "other", "self", "re1"}[src.pick(4)],
			Change:  []string{"left", "joined", "master", "backup", ""}[src.pick(5)],
			Subject: texts[src.pick(len(texts))],
			Class:   []string{"Major", "Minor", ""}[src.pick(3)],
		}
		e.Line = devices.LogLine{Raw: texts[src.pick(len(texts))], Message: texts[src.pick(len(texts))], Host: []string{"", "re0-x", "re1.y"}[src.pick(3)]}
		if src.pick(8) == 0 {
			e.Time = time.Time{}
		}
		h.Events = append(h.Events, e)
	}
	for n := src.pick(6); n > 0; n-- {
		a := devices.Alarm{Time: day.Add(src.offset()), Class: []string{"Major", "Minor"}[src.pick(2)], Type: "Chassis", Description: texts[src.pick(len(texts))]}
		r := devices.AlarmRecord{Device: "d", Alarm: a, FirstSeen: a.Time.Add(time.Minute), LastSeen: a.Time.Add(time.Minute)}
		if src.pick(2) == 0 {
			r.ClearedAt = a.Time.Add(time.Duration(src.pick(60)) * time.Minute)
		}
		if src.pick(6) == 0 {
			r.Alarm.Time = time.Time{}
		}
		h.Alarms = append(h.Alarms, r)
	}
	if src.pick(4) == 0 {
		h.ConfigDrift = []string{"graceful-switchover: off (fleet majority: on, 3 of 4 devices)"}
	}
	return h, s
}

func FuzzFindings(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x04\x05\x0a\x02\x08\x01\x00\x10\x00\x01\x02\x01\x00\x01\x01\x00\x20\x02\x00\x02\x01\x01\x05\x00\x00\x03"))
	f.Add([]byte("flapping re1 with a PEM alarm and a commit before it, then em0 down"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, s := fuzzHistory(data)
		got := Findings("d", h, s)
		eff := s.effective()
		for i, fd := range got {
			if fd.Transitions < eff.FlapMin {
				t.Fatalf("finding %d has %d transitions, FlapMin %d", i, fd.Transitions, eff.FlapMin)
			}
			if fd.First.After(fd.Last) {
				t.Fatalf("finding %d: first %v after last %v", i, fd.First, fd.Last)
			}
			if fd.Device != "d" || fd.Remedy == "" || fd.Cause == "" || (fd.Severity != devices.SeverityCritical && fd.Severity != devices.SeverityWarning) {
				t.Fatalf("finding %d: %+v", i, fd)
			}
			if slices.Contains(fd.OtherCauses, fd.Cause) {
				t.Fatalf("finding %d: cause %s also among the others %v", i, fd.Cause, fd.OtherCauses)
			}
			if i > 0 && cmp.Or(got[i-1].First.Compare(fd.First), cmp.Compare(got[i-1].RE, fd.RE)) > 0 {
				t.Fatalf("findings out of order at %d", i)
			}
		}
		if again := Findings("d", h, s); !reflect.DeepEqual(again, got) {
			t.Fatalf("not deterministic")
		}
		rev := History{Transitions: slices.Clone(h.Transitions), Events: slices.Clone(h.Events), Alarms: slices.Clone(h.Alarms), ConfigDrift: h.ConfigDrift}
		slices.Reverse(rev.Transitions)
		slices.Reverse(rev.Events)
		slices.Reverse(rev.Alarms)
		if again := Findings("d", rev, s); !reflect.DeepEqual(again, got) {
			t.Fatalf("input order changed the findings:\n%+v\n%+v", again, got)
		}

		merged := MergeTransitions(h.Transitions, eff.MergeTolerance)
		if again := MergeTransitions(merged, eff.MergeTolerance); !reflect.DeepEqual(again, merged) {
			t.Fatalf("merging twice changed the result:\n%q\n%q", briefs(again), briefs(merged))
		}
		if !slices.IsSortedFunc(merged, compareTransitions) {
			t.Fatalf("merged transitions not sorted")
		}
		if rm := MergeTransitions(rev.Transitions, eff.MergeTolerance); !reflect.DeepEqual(rm, merged) {
			t.Fatalf("input order changed the merge")
		}
		if evs := EventTransitions(h.Events, nil); !reflect.DeepEqual(evs, EventTransitions(rev.Events, nil)) {
			t.Fatalf("input order changed EventTransitions")
		}
	})
}

func fuzzSnapshot(src *bytesource, at time.Time) *devices.Snapshot {
	s := &devices.Snapshot{Device: "d", PolledAt: at.Add(2 * time.Second), DeviceTime: at}
	if src.pick(6) == 0 {
		s.DeviceTime = time.Time{}
	}
	states := []string{"master", "backup", "", "Present", "Master"}
	statuses := []string{"OK", "", "Failed", "Absent", "Testing"}
	reasons := []string{"", "0x1:power cycle/failure", "0x1000:reboot due to panic"}
	for n := src.pick(5); n > 0; n-- {
		re := devices.RouteEngine{
			Name:             fuzzREs[src.pick(len(fuzzREs))],
			MastershipState:  states[src.pick(len(states))],
			Status:           statuses[src.pick(len(statuses))],
			LastRebootReason: reasons[src.pick(len(reasons))],
		}
		if src.pick(4) != 0 {
			up := time.Duration(src.pick(256)) * time.Duration(1+src.pick(3)) * 37 * time.Second
			if src.pick(16) == 0 {
				up = -up
			}
			re.UpTime = &up
		}
		s.RouteEngines = append(s.RouteEngines, re)
	}
	for n := src.pick(3); n > 0; n-- {
		s.Alarms = append(s.Alarms, devices.Alarm{
			Time:        at.Add(-time.Duration(src.pick(40)) * 30 * time.Second),
			Class:       "Minor",
			Description: []string{"Loss of communication with Backup RE", "Backup RE Active", "PEM 0 Not Powered"}[src.pick(3)],
		})
	}
	return s
}

func FuzzTableTransitions(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x01\x00\x01\x05\x01\x00\x01\x01\x00\x01\x03\x02\x01\x02\x02\x00\x00\x01\x00\x00\x01"))
	f.Add([]byte("a switchover, a reboot and a powered-off backup"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &bytesource{b: data}
		start := day.Add(10 * time.Hour)
		prev := fuzzSnapshot(src, start)
		cur := fuzzSnapshot(src, start.Add(time.Duration(1+src.pick(120))*time.Minute))
		got := TableTransitions(prev, cur)
		if !slices.IsSortedFunc(got, compareTransitions) {
			t.Fatalf("not sorted: %q", briefs(got))
		}
		// Per RE, the transitions walk from its state in prev to its state
		// in cur, one step at a time.
		lone := len(uniqueNames(prev, cur)) == 1
		walked := make(map[string]string)
		for _, tr := range got {
			ok := map[string]bool{devices.REMaster: true, devices.REBackup: true, devices.REGone: true}
			if !ok[tr.From] || !ok[tr.To] || tr.From == tr.To {
				t.Fatalf("bad transition %s", brief(tr))
			}
			if tr.Time.IsZero() || tr.Device != "d" || !slices.Contains(tr.Sources, sourceTable) || len(tr.Evidence) == 0 {
				t.Fatalf("bad transition %+v", tr)
			}
			from, seen := walked[tr.RE]
			if !seen {
				p, in := indexREs(prev.RouteEngines)[tr.RE]
				from, _ = tableState(p, in, lone)
			}
			if tr.From != from {
				t.Fatalf("%s: walk broken, RE was %s: %q", brief(tr), from, briefs(got))
			}
			walked[tr.RE] = tr.To
		}
		for name, state := range walked {
			c, in := indexREs(cur.RouteEngines)[name]
			if want, _ := tableState(c, in, lone); state != want {
				t.Fatalf("%s ends %s, the table says %s: %q", name, state, want, briefs(got))
			}
		}
		if again := TableTransitions(prev, cur); !reflect.DeepEqual(again, got) {
			t.Fatalf("not deterministic")
		}
		// A step of the device's clock between the polls moves times,
		// never what happened: no reboot comes or goes (issue 19).
		if step := time.Duration(src.pick(5)-2) * time.Hour; !cur.DeviceTime.IsZero() && step != 0 {
			c := *cur
			c.DeviceTime = c.DeviceTime.Add(step)
			what := func(ts []devices.Transition) []string {
				var out []string
				for _, tr := range ts {
					out = append(out, tr.RE+" "+tr.From+"→"+tr.To)
				}
				slices.Sort(out)
				return out
			}
			if a, b := what(got), what(TableTransitions(prev, &c)); !slices.Equal(a, b) {
				t.Fatalf("a %v step of the device clock changed the transitions: %q, then %q", step, a, b)
			}
			if st, ok := DetectClockStep(prev, &c); ok && st.By > -rebootSlack && st.By < rebootSlack {
				t.Fatalf("a step within the slack reported: %+v", st)
			}
		}
		if len(uniqueNames(prev)) == len(prev.RouteEngines) && len(uniqueNames(cur)) == len(cur.RouteEngines) {
			p, c := *prev, *cur
			p.RouteEngines, c.RouteEngines = slices.Clone(p.RouteEngines), slices.Clone(c.RouteEngines)
			slices.Reverse(p.RouteEngines)
			slices.Reverse(c.RouteEngines)
			if again := TableTransitions(&p, &c); !reflect.DeepEqual(again, got) {
				t.Fatalf("RE order changed the transitions")
			}
		}
		if TableTransitions(nil, cur) != nil {
			t.Fatalf("the first poll gave transitions")
		}
	})
}

func uniqueNames(snaps ...*devices.Snapshot) map[string]bool {
	m := make(map[string]bool)
	for _, s := range snaps {
		for _, re := range s.RouteEngines {
			m[re.Name] = true
		}
	}
	return m
}
