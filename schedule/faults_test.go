package schedule

// One test per fault the simulator injects (junossim.Faults). A fleet with
// one router per fault, each named after its fault, is audited once over
// real SSH on 127.0.0.1 through the Auditor and Poller; each test then
// checks its router's poll: the outcome the agent classified, that exactly
// that poll was stored, and that it ended within its deadline. All polls
// run at once, so the file takes about one poll timeout (2 s), plus the
// second the Auditor waits for a poll that overruns (lose-close-156).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mastership/mastership/devices/inventory"

	"github.com/mastership/mastership/devices"
	"github.com/mastership/mastership/devices/junos/junossim"
	"github.com/mastership/mastership/store"
)

const (
	// faultPollTimeout is every poll's deadline here. A healthy poll
	// (about ten RPCs) takes some 100 ms, and 0.5 to 0.7 s under -race
	// with all these polls at once on two busy CPUs; the timeouts cost
	// the file one deadline, as all polls run at once.
	faultPollTimeout = 2 * time.Second
	// faultMargin is how long past its deadline a poll may end: polls end
	// within a few ms of it, but on a loaded two-CPU machine under -race
	// one was seen 0.9 s late. A poll the Auditor abandoned (one second,
	// hardDeadlineSlack, past its deadline) is caught by its error text,
	// not by this margin.
	faultMargin = 1500 * time.Millisecond
	// faultMaxReply is the poller's reply limit, far under huge_reply's
	// 200 MB and far over any other reply here.
	faultMaxReply = 1 << 20
)

// faultScenario has one router per fault, named after it (yaml keys with
// '-' for '_'), and a healthy one. loss-half is polled in a second fleet
// of the same seed too, to show its losses are reproducible. The name
// lose-close-156 was picked because with seed 7 and loss 0.2 its first
// session loses only its tenth reply, the one to <close-session/> (nine RPCs since the file listing of issue 17).
const faultScenario = `
seed: 7
defaults: {topology: dual}
devices:
  - {name: healthy}
  - {name: refuse, faults: {refuse: true}}
  - {name: silent-after-accept, faults: {silent_after_accept: true}}
  - {name: stall-after-handshake, faults: {stall_after_handshake: true}}
  - {name: hang-after-hello, faults: {hang_after_hello: true}}
  - {name: stall-mid-reply, faults: {stall_mid_reply: true}}
  - {name: drip, faults: {drip: 1s}}
  - {name: reset-mid-reply, faults: {reset_mid_reply: true}}
  - {name: malformed-xml, faults: {malformed_xml: true}}
  - {name: invalid-utf8, faults: {invalid_utf8: true}}
  - {name: huge-reply, faults: {huge_reply: 200MB}}
  - {name: huge-reply-base11, framing: "1.1", faults: {huge_reply: true}}
  - {name: wrong-message-id, faults: {wrong_message_id: true}}
  - {name: split-delimiter, faults: {split_delimiter: true}}
  - {name: split-delimiter-base11, framing: "1.1", faults: {split_delimiter: true}}
  - {name: latency, faults: {latency: 50ms}}
  - {name: loss, faults: {loss: 1}}
  - {name: loss-half, faults: {loss: 0.5}}
  - {name: lose-close-156, faults: {loss: 0.2, latency: 140ms}}
  - {name: wrong-host-key, faults: {wrong_host_key: true}}
  - {name: reject-auth, faults: {reject_auth: true}}
  - {name: rpc-error-on, faults: {rpc_error_on: get-alarm-information}}
  - {name: backup-aborted-output, topology: mx-vc, faults: {backup_aborted: true}}
  - {name: backup-aborted-xnm-error, topology: srx-cluster, faults: {backup_aborted: xnm-error}}
`

// faultResult is the shared audit: every router's poll as stored.
type faultResult struct {
	polls map[string]devices.Poll // by device; the snapshot is the poller's own
	again devices.Poll            // loss-half, polled in a second fleet
	took  time.Duration           // the whole audit
	err   error
}

var (
	faultOnce   sync.Once
	faultShared faultResult
)

// faultPolls runs the shared audit the first time it is called and
// returns its polls.
func faultPolls(t *testing.T) map[string]devices.Poll {
	t.Helper()
	faultOnce.Do(func() { faultShared = runFaultAudit() })
	r := faultShared
	if r.err != nil {
		t.Fatal(r.err)
	}
	if limit := faultPollTimeout + faultMargin; r.took > limit {
		t.Errorf("the audit took %v, want at most %v (poll timeout %v)", r.took.Round(time.Millisecond), limit, faultPollTimeout)
	}
	return r.polls
}

// runFaultAudit starts the fault fleet and, beside it, a second fleet of
// loss-half alone, audits both at once, and reads back the stored polls.
// It outlives the test that first calls it, so it uses no testing.T.
func runFaultAudit() (res faultResult) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sc, err := junossim.ParseScenario([]byte(faultScenario), "faultScenario")
	if err != nil {
		return faultResult{err: err}
	}
	lossOnly := sc
	lossOnly.Devices = slices.DeleteFunc(slices.Clone(sc.Devices), func(d junossim.Device) bool { return d.Name != "loss-half" })
	dir, err := os.MkdirTemp("", "faults-test-")
	if err != nil {
		return faultResult{err: err}
	}
	defer os.RemoveAll(dir)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		polls = map[string][]devices.Poll{}
		errs  []error
		took  time.Duration
	)
	for i, sc := range []junossim.Scenario{sc, lossOnly} {
		wg.Go(func() {
			ps, d, err := auditFleet(ctx, sc, filepath.Join(dir, fmt.Sprint(i)))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			for _, p := range ps {
				polls[p.Device] = append(polls[p.Device], p)
			}
			if i == 0 {
				took = d
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return faultResult{err: errs[0]}
	}
	res = faultResult{polls: map[string]devices.Poll{}, took: took}
	for name, ps := range polls {
		res.polls[name] = ps[0]
	}
	if ps := polls["loss-half"]; len(ps) == 2 {
		res.again = ps[1]
		if ps[1].Started.Before(ps[0].Started) {
			res.polls["loss-half"], res.again = ps[1], ps[0]
		}
	}
	return res
}

// auditFleet runs sc on loopback, audits it once with the fault poller
// settings, and returns the polls as stored, after checking that each
// device has exactly one, equal to what the audit returned.
func auditFleet(ctx context.Context, sc junossim.Scenario, dir string) ([]devices.Poll, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, err
	}
	fleet, err := junossim.Start(ctx, sc, junossim.Options{InventoryTimeout: faultPollTimeout})
	if err != nil {
		return nil, 0, err
	}
	defer fleet.Close()
	path := filepath.Join(dir, "devices.yaml")
	if err := fleet.WriteInventory(path); err != nil {
		return nil, 0, err
	}
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := store.Open(ctx, filepath.Join(dir, "m.db"))
	if err != nil {
		return nil, 0, err
	}
	defer st.Close()
	a := &Auditor{
		Poller:      &Poller{Now: time.Now, Timeout: faultPollTimeout, MaxReplyBytes: faultMaxReply},
		Store:       st,
		Concurrency: len(inv.Devices),
	}
	start := time.Now()
	res, err := a.Audit(ctx, inv.Devices)
	took := time.Since(start)
	if err != nil {
		return nil, 0, err
	}
	stored := map[string][]devices.Poll{}
	err = st.EachPoll(ctx, store.Filter{}, func(p *devices.Poll) error {
		stored[p.Device] = append(stored[p.Device], *p)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if len(res.Polls) != len(inv.Devices) {
		return nil, 0, fmt.Errorf("%d polls for %d devices", len(res.Polls), len(inv.Devices))
	}
	var out []devices.Poll
	for _, p := range res.Polls {
		s := stored[p.Device]
		if len(s) != 1 {
			return nil, 0, fmt.Errorf("%s: %d polls stored, want 1", p.Device, len(s))
		}
		got := s[0]
		if got.RunID != res.Run.ID || got.ID != p.ID || got.Outcome != p.Outcome || got.ErrorKind != p.ErrorKind || got.Error != p.Error ||
			(got.Snapshot == nil) != (p.Snapshot == nil) ||
			(p.Snapshot != nil && len(got.Snapshot.RouteEngines) != len(p.Snapshot.RouteEngines)) {
			return nil, 0, fmt.Errorf("%s: stored poll %+v differs from the audit's %+v", p.Device, got, p)
		}
		// The stored snapshot holds less (no logs, no cursors): keep the
		// poller's.
		got.Snapshot = p.Snapshot
		out = append(out, got)
	}
	return out, took, nil
}

// pollOf returns the poll of the router named for the fault and checks
// that it ended within its deadline, as the poller classified it.
func pollOf(t *testing.T, name string) devices.Poll {
	t.Helper()
	p, ok := faultPolls(t)[name]
	if !ok {
		t.Fatalf("no poll of %s", name)
	}
	if strings.Contains(p.Error, "exceeded its") {
		t.Errorf("%s: the poll overran its deadline and was abandoned: %s", name, p.Error)
	}
	if d := p.Finished.Sub(p.Started); d > faultPollTimeout+faultMargin || d < 0 {
		t.Errorf("%s: the poll ran %v, want at most %v", name, d, faultPollTimeout+faultMargin)
	}
	return p
}

// took is how long a poll ran.
func took(p devices.Poll) time.Duration { return p.Finished.Sub(p.Started) }

// wantOutcome checks the outcome and, for a failed poll, the error kind
// and the words its message must contain.
func wantOutcome(t *testing.T, p devices.Poll, outcome, kind devices.Outcome, words ...string) {
	t.Helper()
	if p.Outcome != outcome || p.ErrorKind != string(kind) {
		t.Fatalf("%s: outcome %s, kind %q, error %q; want %s, kind %q", p.Device, p.Outcome, p.ErrorKind, p.Error, outcome, kind)
	}
	for _, w := range words {
		if !strings.Contains(p.Error, w) {
			t.Errorf("%s: error %q does not say %q", p.Device, p.Error, w)
		}
	}
}

// wantWaited checks that a timeout took the poll's deadline, not less: a
// poll that failed early for another reason would not.
func wantWaited(t *testing.T, took time.Duration) {
	t.Helper()
	if took < faultPollTimeout*9/10 {
		t.Errorf("timed out after %v, before the %v deadline", took, faultPollTimeout)
	}
}

// wantFull checks a snapshot of a healthy dual-RE router read in full.
func wantFull(t *testing.T, p devices.Poll) {
	t.Helper()
	s := p.Snapshot
	if s == nil || len(s.RouteEngines) != 2 || len(s.Software) == 0 || s.Config == nil || !s.AlarmsRead ||
		s.DeviceTime.IsZero() || len(s.LogCursors) != 2 {
		t.Fatalf("%s: snapshot not read in full: %+v", p.Device, s)
	}
}

// refused: nothing listens, the kernel answers the SYN with RST.
func TestFaultRefuse(t *testing.T) {
	p := pollOf(t, "refuse")
	wantOutcome(t, p, devices.OutcomeRefused, devices.OutcomeRefused, "connection refused")
}

// timeout: TCP is accepted and SSH never starts; the deadline on the
// connection ends the SSH handshake.
func TestFaultSilentAfterAccept(t *testing.T) {
	p := pollOf(t, "silent-after-accept")
	wantOutcome(t, p, devices.OutcomeTimeout, devices.OutcomeTimeout, "ssh handshake")
	wantWaited(t, took(p))
}

// timeout: SSH, authentication and the subsystem request succeed, and the
// hello never comes; Dial's deadline covers the hello.
func TestFaultStallAfterHandshake(t *testing.T) {
	p := pollOf(t, "stall-after-handshake")
	wantOutcome(t, p, devices.OutcomeTimeout, devices.OutcomeTimeout, "netconf hello")
	wantWaited(t, took(p))
}

// timeout: the session opens, the first RPC is never answered.
func TestFaultHangAfterHello(t *testing.T) {
	p := pollOf(t, "hang-after-hello")
	wantOutcome(t, p, devices.OutcomeTimeout, devices.OutcomeTimeout, "get-system-uptime-information")
	wantWaited(t, took(p))
}

// timeout: half a reply and then nothing; the framing reader waits for
// the rest until the deadline.
func TestFaultStallMidReply(t *testing.T) {
	p := pollOf(t, "stall-mid-reply")
	wantOutcome(t, p, devices.OutcomeTimeout, devices.OutcomeTimeout, "get-system-uptime-information")
	wantWaited(t, took(p))
}

// timeout: a reply of a few KB at one byte per second cannot arrive in
// time. The deadline is the whole poll's, so bytes that keep trickling in
// do not keep the poll alive.
func TestFaultDrip(t *testing.T) {
	p := pollOf(t, "drip")
	wantOutcome(t, p, devices.OutcomeTimeout, devices.OutcomeTimeout, "get-system-uptime-information")
	wantWaited(t, took(p))
}

// protocol: half a reply, then RST. x/crypto turns the reset into the end
// of the SSH channel, so the client sees its stream end inside a message,
// a protocol error (ProtocolError: "a stream that ends mid-message"); it
// never sees ECONNRESET, which Classify would call refused.
func TestFaultResetMidReply(t *testing.T) {
	p := pollOf(t, "reset-mid-reply")
	wantOutcome(t, p, devices.OutcomeProtocol, devices.OutcomeProtocol, "get-system-uptime-information")
	if p.Snapshot != nil {
		t.Errorf("snapshot from a session reset on its first reply: %+v", p.Snapshot)
	}
}

// protocol: a reply that is not XML puts the session out of step; the
// first RPC fails and nothing more is asked on it.
func TestFaultMalformedXML(t *testing.T) {
	p := pollOf(t, "malformed-xml")
	wantOutcome(t, p, devices.OutcomeProtocol, devices.OutcomeProtocol, "get-system-uptime-information", "parse reply")
}

// protocol: bytes that are not UTF-8 make a reply that is not well-formed
// XML (XML 1.0 section 2.2), and encoding/xml says so.
func TestFaultInvalidUTF8(t *testing.T) {
	p := pollOf(t, "invalid-utf8")
	wantOutcome(t, p, devices.OutcomeProtocol, devices.OutcomeProtocol, "get-system-uptime-information", "invalid UTF-8")
}

// too-large: a 200 MB reply against the poller's 1 MiB limit, in both
// framings. The reader stops at the limit (the client never holds more),
// the session is closed, and the simulator, which generates the reply as
// it writes it, stops when its writes fail.
func TestFaultHugeReply(t *testing.T) {
	for _, name := range []string{"huge-reply", "huge-reply-base11"} {
		p := pollOf(t, name)
		wantOutcome(t, p, devices.OutcomeTooLarge, devices.OutcomeTooLarge, "get-system-uptime-information", "1048576-byte limit")
	}
}

// protocol: a reply whose message-id is not the request's answers some
// other request; Session.RPC checks it and drops the session.
func TestFaultWrongMessageID(t *testing.T) {
	p := pollOf(t, "wrong-message-id")
	wantOutcome(t, p, devices.OutcomeProtocol, devices.OutcomeProtocol, "get-system-uptime-information", "message-id")
}

// ok: replies in writes of 1 to 3 bytes, the delimiters split across SSH
// packets, in both framings (base:1.1 in 61-byte chunks): the framing
// reader reassembles them and everything is read.
func TestFaultSplitDelimiter(t *testing.T) {
	for _, name := range []string{"split-delimiter", "split-delimiter-base11"} {
		p := pollOf(t, name)
		wantOutcome(t, p, devices.OutcomeOK, "")
		wantFull(t, p)
	}
}

// ok: latency below the deadline only makes the poll slower.
func TestFaultLatency(t *testing.T) {
	const latency = 50 * time.Millisecond
	p := pollOf(t, "latency")
	wantOutcome(t, p, devices.OutcomeOK, "")
	wantFull(t, p)
	// Six RPCs and two log reads, each reply delayed (close-session's
	// too, but the poll may be stamped before it).
	if took(p) < 8*latency {
		t.Errorf("poll took %v; with %v per reply it cannot be under %v", took(p), latency, 8*latency)
	}
}

// timeout: a lost reply is waited for until the deadline. With loss 1 the
// first reply is lost. With loss 0.5 the losses follow the seed and the
// device name, so a second fleet of the same scenario loses the same
// replies; this seed answers the first RPC and loses the second's reply:
// a partial poll whose failure is a timeout.
func TestFaultLoss(t *testing.T) {
	p := pollOf(t, "loss")
	wantOutcome(t, p, devices.OutcomeTimeout, devices.OutcomeTimeout, "get-system-uptime-information")
	wantWaited(t, took(p))

	half := pollOf(t, "loss-half")
	again := faultShared.again
	// The first failure is the lost reply's. Another may follow: when the
	// connection's deadline fires a moment before the context's timer,
	// the poller does not yet see its context done and tries one more RPC
	// on the dead session (ErrSessionClosed).
	firstFailed := func(p devices.Poll) string {
		name, _, _ := strings.Cut(p.Error, ":")
		return name
	}
	if half.Outcome != again.Outcome || firstFailed(half) != firstFailed(again) {
		t.Errorf("same seed, different losses: %s %q vs %s %q", half.Outcome, half.Error, again.Outcome, again.Error)
	}
	wantOutcome(t, half, devices.OutcomePartial, devices.OutcomeTimeout)
	if f := firstFailed(half); f != "get-route-engine-information" {
		t.Errorf("first failed RPC %s, want get-route-engine-information, whose reply is lost", f)
	}
	if s := half.Snapshot; s == nil || s.DeviceTime.IsZero() {
		t.Errorf("the reply before the lost one was not kept: %+v", s)
	}
	wantWaited(t, took(half))
}

// ok: all nine RPCs are answered, then the reply to <close-session/> is
// lost. The poll has everything; a router that does not confirm the end
// of the session has nothing to do with its health. close-session's wait
// is bounded so the poll still returns inside the audit's hard deadline
// (it once waited 2 s of its own, and the audit threw the poll away).
func TestFaultLossCloseSessionReply(t *testing.T) {
	p, ok := faultPolls(t)["lose-close-156"]
	if !ok {
		t.Fatal("no poll of lose-close-156")
	}
	wantOutcome(t, p, devices.OutcomeOK, "")
	wantFull(t, p)
}

// hostkey: known_hosts holds another key for the address.
func TestFaultWrongHostKey(t *testing.T) {
	p := pollOf(t, "wrong-host-key")
	wantOutcome(t, p, devices.OutcomeHostKey, devices.OutcomeHostKey)
}

// auth: the password is rejected.
func TestFaultRejectAuth(t *testing.T) {
	p := pollOf(t, "reject-auth")
	wantOutcome(t, p, devices.OutcomeAuth, devices.OutcomeAuth, "unable to authenticate")
}

// partial: one RPC answers <rpc-error>; the poll names it, keeps what the
// others returned, and does not claim the alarms were read.
func TestFaultRPCErrorOne(t *testing.T) {
	p := pollOf(t, "rpc-error-on")
	wantOutcome(t, p, devices.OutcomePartial, devices.OutcomeRPCError, "get-alarm-information", "rpc_error_on")
	if n := strings.Count(p.Error, "; ") + 1; n != 1 {
		t.Errorf("%d RPCs failed, want only get-alarm-information: %s", n, p.Error)
	}
	s := p.Snapshot
	if s == nil || len(s.RouteEngines) != 2 || len(s.Software) == 0 || s.Config == nil || s.DeviceTime.IsZero() || len(s.LogCursors) != 2 {
		t.Fatalf("the RPCs that worked were not kept: %+v", s)
	}
	if s.AlarmsRead {
		t.Error("AlarmsRead with the chassis alarm table unread")
	}
}

// The backup member of a multi-member router does not answer: the reply
// carries the first member's data and, for the other, an error. Either
// shape gives a partial poll that keeps the members that answered and
// names the one that did not, so the verdict says why REs are missing
// instead of silently reading them as gone.
func TestFaultBackupAborted(t *testing.T) {
	t.Run("output", func(t *testing.T) {
		p := pollOf(t, "backup-aborted-output")
		wantOutcome(t, p, devices.OutcomePartial, devices.OutcomeRPCError,
			"get-route-engine-information", "no data from member1", "Aborted!")
		s := p.Snapshot
		var names []string
		for _, re := range s.RouteEngines {
			names = append(names, re.Name)
		}
		if !slices.Equal(names, []string{"member0-re0", "member0-re1"}) || len(s.Masters()) != 1 {
			t.Fatalf("REs %v, masters %v; want the master member's two, one of them master", names, s.Masters())
		}
		if s.AlarmsRead {
			t.Error("AlarmsRead with member1's alarm tables unread")
		}
		// The unreachable member's REs are not counted alive (never a
		// wrong OK), and the verdict says the poll was partial and why.
		a := devices.Assess(p, 4, nil)
		if a.State != devices.StateCritical || !strings.Contains(a.Summary, "partial poll") || !strings.Contains(a.Summary, "member1") {
			t.Errorf("Assess = %s %q; want CRITICAL naming the partial poll and member1", a.State, a.Summary)
		}
	})
	t.Run("xnm-error", func(t *testing.T) {
		p := pollOf(t, "backup-aborted-xnm-error")
		wantOutcome(t, p, devices.OutcomePartial, devices.OutcomeRPCError,
			"get-route-engine-information", "get-system-uptime-information", "routing engine not responding")
		if p.Snapshot == nil || p.Snapshot.Config == nil {
			t.Fatalf("the RPCs without members were not kept: %+v", p.Snapshot)
		}
		if len(p.Snapshot.RouteEngines) == 0 {
			t.Error("node0's RE came back in the reply with node1's error and was thrown away")
		}
	})
}

// A healthy router beside the faulty ones is read in full.
func TestFaultNoneBeside(t *testing.T) {
	p := pollOf(t, "healthy")
	wantOutcome(t, p, devices.OutcomeOK, "")
	wantFull(t, p)
}

// Session and RPC faults switch at run time with Fleet.SetFaults, for the
// next connection or request.
func TestFaultsSwitchAtRunTime(t *testing.T) {
	t.Parallel()
	sc := junossim.Scenario{Seed: 7, Devices: []junossim.Device{{Name: "r", Topology: junossim.TopologyDual}}}
	fleet, err := junossim.Start(t.Context(), sc, junossim.Options{InventoryTimeout: faultPollTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	path := filepath.Join(t.TempDir(), "devices.yaml")
	if err := fleet.WriteInventory(path); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadInventory(path)
	if err != nil {
		t.Fatal(err)
	}
	a := &Auditor{Poller: &Poller{Now: time.Now, Timeout: faultPollTimeout}, Store: openStore(t)}
	for _, step := range []struct {
		faults  junossim.Faults
		outcome devices.Outcome
		kind    devices.Outcome
	}{
		{junossim.Faults{}, devices.OutcomeOK, ""},
		{junossim.Faults{MalformedXML: true}, devices.OutcomeProtocol, devices.OutcomeProtocol},
		{junossim.Faults{RPCErrorOn: "get-software-information"}, devices.OutcomePartial, devices.OutcomeRPCError},
		{junossim.Faults{WrongMessageID: true}, devices.OutcomeProtocol, devices.OutcomeProtocol},
		{junossim.Faults{}, devices.OutcomeOK, ""},
	} {
		if err := fleet.SetFaults("r", step.faults); err != nil {
			t.Fatal(err)
		}
		res, err := a.Audit(t.Context(), inv.Devices)
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, res.Polls[0], step.outcome, step.kind)
	}
	if err := fleet.SetFaults("r", junossim.Faults{Loss: 2}); err == nil {
		t.Error("loss 2 accepted")
	}
	if err := fleet.SetFaults("r", junossim.Faults{BackupAborted: junossim.AbortOutput}); err == nil {
		t.Error("backup_aborted accepted on a dual-RE router, which answers without members")
	}
}
