package correlate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossamples"
	"github.com/mastership/mastership/devices/junos/rules"
	"github.com/mastership/mastership/devices/junos/syslog"
)

// The classes of misses of issue 15 ("Judgement on real evidence"), each
// told with lines as the product reads them: parsed by syslog.ParseLine
// and classified by the built-in rules, then judged.

// classifyLines parses and classifies raw lines of one file, read from
// the log of RE loggedBy, on the device's clock of day.
func classifyLines(tb testing.TB, device, loggedBy, file string, raws ...string) []devices.Event {
	tb.Helper()
	rs, err := rules.BuiltinRules()
	if err != nil {
		tb.Fatal(err)
	}
	clock := syslog.DeviceClock{Now: day.Add(23 * time.Hour)}
	var out []devices.Event
	for _, raw := range raws {
		line := syslog.ParseLine(file, raw, clock)
		if ev, ok := rs.ClassifyFrom(device, loggedBy, line); ok {
			out = append(out, ev)
		}
	}
	return out
}

func dualRE() []devices.RouteEngine {
	return []devices.RouteEngine{re("re0", "master", "OK", -1, ""), re("re1", "backup", "OK", -1, "")}
}

// TestClassMastershipLogOnlyFlaps: a backup RE lost twice over an
// internal link, seen only in /var/log/mastership (keepalive loss, then
// E_NO_IPC … E_ORE_B) and em1 link lines in messages; no alive-set line.
//
// Line shapes: "failed to receive keepalives from other RE for the last
// 60 sec" is line 2 of the real logs/mastership-file.log. The event lines
// follow the documented "event = E_CMD_R, state = master, param = 0x0" of
// the same sample, with the codes of Table 1 of Juniper's "Determining Why
// Mastership Switched" (https://www.juniper.net/documentation/en_US/
// release-independent/junos/topics/task/verification/
// host-redundancy-mastership-switch-nog.html): "E_NO_IPC: Routing Engine
// connection was lost", "E_ORE_B: Other Routing Engine state was changed
// to backup". The em1 lines are the real "em0: Link is Down" of
// logs/internal-link.log (KB13389) on the other internal port.
func TestClassMastershipLogOnlyFlaps(t *testing.T) {
	mastership := classifyLines(t, "mx1", "re0", "mastership",
		"Mar 14 10:00:18 failed to receive keepalives from other RE for the last 60 sec",
		"Mar 14 10:00:21 event = E_NO_IPC, state = master, param = 0x0",
		"Mar 14 10:00:38 failed to receive keepalives from other RE for the last 80 sec",
		"Mar 14 10:02:30 event = E_ORE_B, state = master, param = 0x0",
		"Mar 14 10:02:30 new state = master",
		"Mar 14 10:20:18 failed to receive keepalives from other RE for the last 60 sec",
		"Mar 14 10:20:20 event = E_NO_IPC, state = master, param = 0x0",
		"Mar 14 10:22:41 event = E_ORE_B, state = master, param = 0x0",
	)
	messages := classifyLines(t, "mx1", "re0", "messages",
		"Mar 14 10:00:15 re0-mx1 /kernel: em1: Link is Down",
		"Mar 14 10:02:25 re0-mx1 /kernel: em1: Link is up 1000 Mbps Full Duplex",
		"Mar 14 10:20:14 re0-mx1 /kernel: em1: Link is Down",
		"Mar 14 10:22:36 re0-mx1 /kernel: em1: Link is up 1000 Mbps Full Duplex",
	)
	events := append(slices.Clone(mastership), messages...)
	ts := EventTransitionsFrom(dualRE(), events, dualRE())
	want := []string{
		"re1 backup→gone 10:00:18 [log:mastership]",
		"re1 gone→backup 10:02:30 [log:mastership]",
		"re1 backup→gone 10:20:18 [log:mastership]",
		"re1 gone→backup 10:22:41 [log:mastership]",
	}
	if got := briefs(ts); !slices.Equal(got, want) {
		t.Fatalf("transitions\n got %q\nwant %q", got, want)
	}

	// The RE table saw the second departure at the poll of 10:21, and the
	// same moment is in the log of the other RE: still one departure.
	again := []devices.Transition{
		{Device: "mx1", RE: "re1", Time: at("10:21:00"), From: "backup", To: "gone", Sources: []string{"re-table"}, Evidence: []string{"re-table: re1 backup→gone (status Failed)"}},
		{Device: "mx1", RE: "re1", Time: at("10:20:19"), From: "backup", To: "gone", Sources: []string{"log:messages"}, Evidence: []string{"other log"}},
	}
	merged := MergeTransitions(append(slices.Clone(ts), again...), DefaultSettings().MergeTolerance)
	if n := len(merged); n != 4 {
		t.Fatalf("merged %d transitions, want 4: %q", n, briefs(merged))
	}

	found := Findings("mx1", History{Transitions: ts, Events: events}, DefaultSettings())
	if len(found) != 1 {
		t.Fatalf("findings %+v, want one", found)
	}
	f := found[0]
	if f.RE != "re1" || f.Cause != devices.CauseNetwork || f.Transitions != 4 || f.Severity != devices.SeverityWarning {
		t.Errorf("finding %s %s %s %d transitions, want re1 network warning 4", f.RE, f.Cause, f.Severity, f.Transitions)
	}

	// The real sample: re0 loses re1's keepalives, then an operator's
	// release (E_CMD_R) fails and re0 keeps saying giveup. re1 left once;
	// giving up is no change of state yet.
	raws := readSampleLines(t, "mastership-file.log")
	sample := classifyLines(t, "mx1", "re0", "mastership", raws...)
	got := briefs(EventTransitionsFrom(dualRE(), sample, dualRE()))
	if want := []string{"re1 backup→gone 21:50:18 [log:mastership]"}; !slices.Equal(got, want) {
		t.Errorf("mastership-file.log: transitions\n got %q\nwant %q", got, want)
	}
}

func readSampleLines(tb testing.TB, name string) []string {
	tb.Helper()
	var out []string
	for _, l := range strings.Split(string(junossamples.Read(tb, "logs", name)), "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}
