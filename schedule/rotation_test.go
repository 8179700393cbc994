package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/inventory"
	"github.com/mastership/mastership/devices/junos/junossim"
)

// Issue 19, rotation and truncation, end to end over SSH against the
// simulator with a real store: every line the router wrote is taken
// exactly once, across a rotation between two polls, a clear-log and a
// file replaced by a shorter copy; an archive the login may not read is a
// gap note and costs no other line.

// rotationRig is one simulated router polled by the daemon's poller.
type rotationRig struct {
	t      *testing.T
	start  time.Time
	clock  *junossim.Clock
	fleet  *junossim.Fleet
	router *junossim.Router
	devs   []inventory.Device
	a      *Auditor
	taken  []devices.LogLine // every messages line the polls took, in order
	ops    map[string]int    // the RPCs the last poll sent, by operation
}

// newRotationRig starts the router; logs, when not nil, is the
// inventory's logs: list (nil: the default messages and mastership, which
// one listing of /var/log/m* describes, archives included).
func newRotationRig(t *testing.T, dev junossim.Device, logs []string) *rotationRig {
	start := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	clock := junossim.NewClock(start)
	dev.Name, dev.Model, dev.Topology = "ams1-mx960-1", "mx960", junossim.TopologyDual
	fleet, devs, a := refreshFleet(t, dev, clock)
	if logs != nil {
		devs[0].Logs = logs
	}
	return &rotationRig{t: t, start: start, clock: clock, fleet: fleet, router: fleet.Router(dev.Name), devs: devs, a: a}
}

// poll audits the router at the offset and returns the poll, the
// messages lines it took and how many get-log RPCs it sent.
func (r *rotationRig) poll(at time.Duration) (devices.Poll, []string, int) {
	r.t.Helper()
	name := r.devs[0].Name
	before := len(r.fleet.Sessions(name))
	r.clock.Set(r.start.Add(at))
	res, err := r.a.Audit(r.t.Context(), r.devs)
	if err != nil || len(res.Polls) != 1 || res.Polls[0].Outcome != devices.OutcomeOK || res.Polls[0].Snapshot == nil {
		r.t.Fatalf("audit at %v: %v %+v", at, err, res.Polls)
	}
	r.ops = map[string]int{}
	for _, s := range r.fleet.Sessions(name)[before:] {
		for op, n := range s.Operations {
			r.ops[op] += n
		}
	}
	getLogs := r.ops["get-log"] + r.ops["file-show"]
	p := res.Polls[0]
	var got []string
	for _, l := range p.Snapshot.Logs {
		if l.File == junossim.LogMessages {
			got = append(got, l.Raw)
			r.taken = append(r.taken, l)
		}
	}
	return p, got, getLogs
}

// log writes n messages lines, 100 ms apart from the offset.
func (r *rotationRig) log(at time.Duration, n int, what string) {
	r.t.Helper()
	for i := range n {
		r.clock.Set(r.start.Add(at + time.Duration(i)*100*time.Millisecond))
		text := "mgd[4242]: UI_CMDLINE_READ_LINE: User 'ops', command 'show " + what + " " + strings.Repeat("x", i%5) + "'"
		if err := r.router.Apply(junossim.Event{Kind: junossim.EventLog, Text: text}); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rotationRig) apply(at time.Duration, ev junossim.Event) {
	r.t.Helper()
	r.clock.Set(r.start.Add(at))
	if err := r.router.Apply(ev); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rotationRig) lines(file string) []string {
	r.t.Helper()
	l, ok := r.router.Log(file)
	if !ok {
		r.t.Fatalf("the router has no %s", file)
	}
	return l
}

// storedOnce checks that every line the polls took is in the store: saving
// them all again stores nothing new. With the taken lists compared to the
// router's files line by line, that is each line stored exactly once.
func (r *rotationRig) storedOnce() {
	r.t.Helper()
	n, err := r.a.Store.SaveLogs(r.t.Context(), r.devs[0].Name, r.taken, nil, nil)
	if err != nil || n != 0 {
		r.t.Errorf("saving the taken lines again stored %d new (%v): a line was not stored", n, err)
	}
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	g, w := "(end)", "(end)"
	if i < len(got) {
		g = got[i]
	}
	if i < len(want) {
		w = want[i]
	}
	t.Errorf("%s: took %d lines, want %d; first difference at line %d:\n got %q\nwant %q", what, len(got), len(want), i, g, w)
}

// inventories are the two ways the poll learns about messages.0.gz: the
// listing of /var/log/m* (messages and mastership), or, with messages
// alone, get-log of the archive itself.
var inventories = []struct {
	name string
	logs []string
}{{"messages and mastership", nil}, {"messages only", []string{"messages"}}}

// TestRotationBetweenTwoPollsLosesNoLine is issue 17's acceptance and
// issue 19's rotation case: lines written after one poll and before the
// rotation are read from messages.0.gz, then the new file's, each once;
// the next steady poll reads no log at all.
func TestRotationBetweenTwoPollsLosesNoLine(t *testing.T) {
	for _, inv := range inventories {
		t.Run(inv.name, func(t *testing.T) {
			r := newRotationRig(t, junossim.Device{SyslogArchive: junossim.ArchiveWorldReadable}, inv.logs)
			_, first, _ := r.poll(0)
			sameLines(t, "first poll", first, r.lines("messages"))
			r.log(time.Minute, 30, "before the rotation")
			r.apply(2*time.Minute, junossim.Event{Kind: junossim.EventRotateLogs, File: junossim.LogMessages})
			r.log(3*time.Minute, 20, "after the rotation")
			archive, fresh := r.lines("messages.0.gz"), r.lines("messages")
			p, second, rotReads := r.poll(4 * time.Minute)
			sameLines(t, "poll after the rotation", second, append(archive[len(first):], fresh...))
			// The rotation costs one read more: messages and messages.0.gz
			// (mastership did not change).
			if rotReads != 2 {
				t.Errorf("the poll after the rotation sent %d log reads, want 2", rotReads)
			}
			if len(p.Snapshot.LogGaps) != 0 || len(devices.Notes(p)) != 0 {
				t.Errorf("gap noted although the archive was read: %q", devices.Notes(p))
			}
			p, third, getLogs := r.poll(5 * time.Minute)
			if len(third) != 0 || getLogs != 0 {
				t.Errorf("a steady poll took %d lines with %d log reads, want none", len(third), getLogs)
			}
			r.log(6*time.Minute, 3, "in the new file")
			_, fourth, reads := r.poll(7 * time.Minute)
			sameLines(t, "poll after more lines", fourth, r.lines("messages")[len(fresh):])
			if reads != 1 {
				t.Errorf("a poll after appended lines sent %d log reads, want 1: the archive is read only across a rotation", reads)
			}
			r.storedOnce()
		})
	}
}

// TestRotationArchiveUnreadable: Junos's default no-world-readable keeps
// messages.0.gz from a login without the maintenance permission. The
// poll notes the gap, naming the archive and the device's reason, takes
// every line of the new file and the mastership log, and stays ok.
//
// No public capture shows how Junos words the refusal, so both plausible
// answers are tried: an access-denied rpc-error, and the missing file's
// "could not resolve file", which the file listing tells from a missing
// archive.
func TestRotationArchiveUnreadable(t *testing.T) {
	for _, refusal := range []struct{ name, reason string }{
		{junossim.RefuseAccessDenied, "Permission denied"},
		{junossim.RefuseCouldNotResolve, "the device lists it but get-log answered: could not resolve file"},
	} {
		for _, inv := range inventories {
			t.Run(refusal.name+"/"+inv.name, func(t *testing.T) {
				// Only "could not resolve file" without the poll's listing
				// of the archive costs a file-list of it.
				lists := 1
				if refusal.name == junossim.RefuseCouldNotResolve && inv.logs != nil {
					lists = 2
				}
				testArchiveUnreadable(t, junossim.Device{ArchiveRefusal: refusal.name}, inv.logs, refusal.reason, lists)
			})
		}
	}
}

func testArchiveUnreadable(t *testing.T, dev junossim.Device, logs []string, reason string, lists int) {
	r := newRotationRig(t, dev, logs)
	r.poll(0)
	r.log(time.Minute, 10, "before the rotation")
	r.apply(2*time.Minute, junossim.Event{Kind: junossim.EventRotateLogs, File: junossim.LogMessages})
	r.apply(150*time.Second, junossim.Event{Kind: junossim.EventIPCLoss})
	r.log(3*time.Minute, 10, "after the rotation")
	mastership, _ := r.router.Log(junossim.LogMastership)
	p, got, _ := r.poll(4 * time.Minute)
	sameLines(t, "poll after the rotation", got, r.lines("messages"))
	if r.ops["file-list"] != lists {
		t.Errorf("the poll after the rotation sent %d file-list RPCs, want %d", r.ops["file-list"], lists)
	}
	gaps := p.Snapshot.LogGaps
	if len(gaps) != 1 || gaps[0].File != "/var/log/messages" || gaps[0].Archive != "/var/log/messages.0.gz" ||
		!strings.Contains(gaps[0].Reason, reason) {
		t.Fatalf("gaps %+v, want one for messages.0.gz saying %q", gaps, reason)
	}
	notes := devices.Notes(p)
	if len(notes) != 1 || !strings.Contains(notes[0], "/var/log/messages.0.gz") {
		t.Errorf("notes %q", notes)
	}
	if logs == nil {
		var ms []string
		for _, l := range p.Snapshot.Logs {
			if l.File == junossim.LogMastership {
				ms = append(ms, l.Raw)
			}
		}
		if len(ms) == 0 || !slices.Contains(ms, mastership[len(mastership)-1]) {
			t.Errorf("mastership lines not taken beside the gap: %q", ms)
		}
	}
	// The note is stored with the poll, for reports.
	stored, err := r.a.Store.LatestPoll(t.Context(), r.devs[0].Name)
	if err != nil || stored == nil || stored.Snapshot == nil || !slices.Equal(stored.Snapshot.LogGaps, gaps) {
		t.Errorf("stored poll: %+v, %v; want its gaps %+v", stored, err, gaps)
	}
	// The gap is this poll's only: the next sees the new file as usual.
	r.log(5*time.Minute, 2, "later")
	p, next, _ := r.poll(6 * time.Minute)
	if len(next) != 2 || len(p.Snapshot.LogGaps) != 0 {
		t.Errorf("next poll took %q with gaps %+v", next, p.Snapshot.LogGaps)
	}
	r.storedOnce()
}

// TestTruncatedLogLosesAndRepeatsNothing: clear-log empties messages after
// an earlier rotation whose archive is still there. Everything the file
// holds after the clear is taken once; the old archive is not taken
// again.
func TestTruncatedLogLosesAndRepeatsNothing(t *testing.T) {
	for _, inv := range inventories {
		t.Run(inv.name, func(t *testing.T) {
			r := newRotationRig(t, junossim.Device{SyslogArchive: junossim.ArchiveWorldReadable}, inv.logs)
			r.log(0, 5, "early")
			r.apply(time.Minute, junossim.Event{Kind: junossim.EventRotateLogs, File: junossim.LogMessages})
			r.log(2*time.Minute, 5, "in the new file")
			r.poll(3 * time.Minute)
			r.apply(4*time.Minute, junossim.Event{Kind: junossim.EventClearLog, File: junossim.LogMessages})
			r.log(5*time.Minute, 7, "after the clear")
			p, got, _ := r.poll(6 * time.Minute)
			cleared := r.lines("messages")
			if !strings.Contains(cleared[0], "clear-log[") {
				t.Fatalf("messages does not start with clear-log's line: %q", cleared[0])
			}
			sameLines(t, "poll after clear-log", got, cleared)
			if len(p.Snapshot.LogGaps) != 0 {
				t.Errorf("gap noted for a clear-log: %+v", p.Snapshot.LogGaps)
			}
			if _, again, _ := r.poll(7 * time.Minute); len(again) != 0 {
				t.Errorf("steady poll after clear-log took %q", again)
			}
			r.storedOnce()
		})
	}
}

// TestShorterReplacementLosesAndRepeatsNothing: messages is replaced by
// an older, shorter copy of itself, which starts with the same line; only
// the lines written after the replacement are new. No archive exists, so
// with messages alone get-log answers "could not resolve file" and the
// listing confirms it: no gap.
func TestShorterReplacementLosesAndRepeatsNothing(t *testing.T) {
	for _, inv := range inventories {
		t.Run(inv.name, func(t *testing.T) {
			r := newRotationRig(t, junossim.Device{LogFillBytes: 20_000}, inv.logs)
			r.poll(0)
			r.apply(time.Minute, junossim.Event{Kind: junossim.EventReplaceLog, File: junossim.LogMessages, Keep: 40})
			r.log(2*time.Minute, 6, "after the replacement")
			p, got, _ := r.poll(3 * time.Minute)
			lines := r.lines("messages")
			if len(lines) != 46 {
				t.Fatalf("messages holds %d lines after the replacement, want 40+6", len(lines))
			}
			sameLines(t, "poll after the replacement", got, lines[40:])
			if len(p.Snapshot.LogGaps) != 0 {
				t.Errorf("gap noted for a replaced file without archive: %+v", p.Snapshot.LogGaps)
			}
			r.log(4*time.Minute, 2, "later")
			_, next, _ := r.poll(5 * time.Minute)
			sameLines(t, "next poll", next, r.lines("messages")[46:])
			r.storedOnce()
		})
	}
}
